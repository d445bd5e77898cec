import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The GCP data-store, database and key policies (policies/security-data.ts, security-databases.ts,
 * security-kms.ts) over gcp-prod's real plan, broken one way at a time, each case asserting the
 * whole list of violations (message and fix). gcp-prod has a Memorystore Redis instance, the tracking
 * Cloud SQL PostgreSQL, a BigQuery dataset with two IAM members, two GCS buckets with IAM members,
 * and two CryptoKeys with one grant each; the shapes it has not (a Memorystore Cluster, bindings,
 * DatasetAccess, key-ring grants, AWS keys) are added by hand next to the real plan.
 */

const REDIS = "gcp:redis/instance:Instance";
const REDIS_CLUSTER = "gcp:redis/cluster:Cluster";
const SQL = "gcp:sql/databaseInstance:DatabaseInstance";
const DATASET = "gcp:bigquery/dataset:Dataset";
const DATASET_MEMBER = "gcp:bigquery/datasetIamMember:DatasetIamMember";
const BUCKET = "gcp:storage/bucket:Bucket";
const BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember";
const CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey";
const KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember";

const resources = realPlan("gcp-prod");

const run = (policyName: string, all: PlanResource[]): Found => violationsOf(all, "gcp-prod", policyName);
const broken = (type: string, change: (r: Props) => void, name?: string) =>
  withBreakage(resources, { type, change, match: name === undefined ? undefined : (r) => r.name === name });
const plus = (...extra: PlanResource[]) => [...resources, ...extra];
const v = (message: string, fix: string) => ({ message, fix });
const set = (fields: Props) => (r: Props) => {
  Object.assign(r, fields);
};
const unset =
  (...keys: string[]) =>
  (r: Props) => {
    for (const key of keys) delete r[key];
  };

describe("memorystore-auth-and-tls on gcp-prod's online store and a Memorystore Cluster", () => {
  const check = (all: PlanResource[]) => run("memorystore-auth-and-tls", all);
  const INSTANCE = 'Memorystore instance "mlops-gcp-online-redis"';
  const AUTH_OFF = v(
    `${INSTANCE}: AUTH is off: any client on the VPC can read every feature.`,
    "set authEnabled: true and pass the AUTH string to the services as a Secret",
  );
  const tlsOff = (mode: string) =>
    v(`${INSTANCE}: transitEncryptionMode is ${mode}.`, 'set transitEncryptionMode: "SERVER_AUTHENTICATION" and connect with rediss://');

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("AUTH off, or left unset (the default is off)", () => {
    expect(check(broken(REDIS, set({ authEnabled: false })))).toEqual([AUTH_OFF]);
    expect(check(broken(REDIS, unset("authEnabled")))).toEqual([AUTH_OFF]);
  });

  it("TLS DISABLED, or left unset (DISABLED is the default)", () => {
    expect(check(broken(REDIS, set({ transitEncryptionMode: "DISABLED" })))).toEqual([tlsOff("DISABLED")]);
    expect(check(broken(REDIS, unset("transitEncryptionMode")))).toEqual([tlsOff("unset (DISABLED)")]);
  });

  it("both off: AUTH first, then TLS", () => {
    expect(check(broken(REDIS, unset("authEnabled", "transitEncryptionMode")))).toEqual([AUTH_OFF, tlsOff("unset (DISABLED)")]);
  });

  const cluster = (inputs: Props) =>
    check(plus(resource(REDIS_CLUSTER, "online-shards", { shardCount: 3, pscConfigs: [{ network: "vpc" }], ...inputs })));
  const CLUSTER = 'Memorystore cluster "online-shards"';
  const IAM_OFF = v(`${CLUSTER}: IAM authentication is off.`, 'set authorizationMode: "AUTH_MODE_IAM_AUTH"');
  const CLUSTER_TLS_OFF = v(
    `${CLUSTER}: in-transit encryption is off.`,
    'set transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION"',
  );

  it("a cluster with IAM auth and server-authenticated TLS passes", () => {
    expect(
      cluster({ authorizationMode: "AUTH_MODE_IAM_AUTH", transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION" }),
    ).toEqual([]);
  });

  it("a cluster with auth disabled, or TLS disabled", () => {
    expect(
      cluster({ authorizationMode: "AUTH_MODE_DISABLED", transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION" }),
    ).toEqual([IAM_OFF]);
    expect(cluster({ authorizationMode: "AUTH_MODE_IAM_AUTH", transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_DISABLED" })).toEqual([
      CLUSTER_TLS_OFF,
    ]);
  });

  it("a cluster that leaves both to the defaults (disabled) is reported twice, in order", () => {
    expect(cluster({})).toEqual([IAM_OFF, CLUSTER_TLS_OFF]);
  });
});

describe("cloudsql-private-tls on gcp-prod's tracking database", () => {
  const check = (all: PlanResource[]) => run("cloudsql-private-tls", all);
  const DB = 'Cloud SQL instance "mlops-gcp-tracking-postgres"';
  const PUBLIC_IP = v(
    `${DB}: has a public IPv4 address (ipv4Enabled defaults to true).`,
    "set settings.ipConfiguration.ipv4Enabled: false",
  );
  const NOT_PRIVATE = v(
    `${DB}: is not on the private network.`,
    "set settings.ipConfiguration.privateNetwork to the VPC's id (private services access)",
  );
  const plainText = (mode: string) =>
    v(`${DB}: accepts unencrypted connections (sslMode ${mode}).`, 'set settings.ipConfiguration.sslMode: "ENCRYPTED_ONLY"');
  const ip = (change: (ipConfiguration: Props) => void) => broken(SQL, (r) => change(r.settings.ipConfiguration));

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a public IPv4 address, set or left to the default", () => {
    expect(check(ip(set({ ipv4Enabled: true })))).toEqual([PUBLIC_IP]);
    expect(check(ip(unset("ipv4Enabled")))).toEqual([PUBLIC_IP]);
  });

  it("no private network", () => {
    expect(check(ip(unset("privateNetwork")))).toEqual([NOT_PRIVATE]);
    expect(check(ip(set({ privateNetwork: "" })))).toEqual([NOT_PRIVATE]);
  });

  it("sslMode that allows plain text, or none, is reported with the mode", () => {
    expect(check(ip(set({ sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED" })))).toEqual([plainText("ALLOW_UNENCRYPTED_AND_ENCRYPTED")]);
    expect(check(ip(unset("sslMode")))).toEqual([plainText("unset")]);
  });

  it("client certificates required is encrypted too", () => {
    expect(check(ip(set({ sslMode: "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" })))).toEqual([]);
  });

  it("an authorized network of 0.0.0.0/0 is reported once per entry; a private range is not", () => {
    const OPEN = v(`${DB}: authorizes 0.0.0.0/0.`, "remove the 0.0.0.0/0 authorized network");
    expect(check(ip(set({ authorizedNetworks: [{ name: "office", value: "10.20.0.0/16" }] })))).toEqual([]);
    expect(
      check(
        ip(
          set({
            authorizedNetworks: [
              { name: "anyone", value: "0.0.0.0/0" },
              { name: "office", value: "10.20.0.0/16" },
            ],
          }),
        ),
      ),
    ).toEqual([OPEN]);
  });

  it("no ipConfiguration at all: public, not private and plain text, in order", () => {
    expect(check(broken(SQL, (r) => delete r.settings.ipConfiguration))).toEqual([PUBLIC_IP, NOT_PRIVATE, plainText("unset")]);
    expect(check(broken(SQL, unset("settings")))).toEqual([PUBLIC_IP, NOT_PRIVATE, plainText("unset")]);
  });
});

describe("cloudsql-audit-and-recovery on gcp-prod's tracking database", () => {
  const check = (all: PlanResource[]) => run("cloudsql-audit-and-recovery", all);
  const DB = 'Cloud SQL instance "mlops-gcp-tracking-postgres"';
  const flags = (change: (flags: Props[]) => Props[]) =>
    broken(SQL, (r) => {
      r.settings.databaseFlags = change(r.settings.databaseFlags);
    });
  const without = (name: string) => (all: Props[]) => all.filter((f) => f.name !== name);
  const withValue = (name: string, value: string) => (all: Props[]) => all.map((f) => (f.name === name ? { name, value } : f));
  const NO_PITR = v(
    `${DB}: point-in-time recovery is off.`,
    "set settings.backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true }",
  );

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("each wrong or missing flag is named with its value, in the table's order, and the fix gives the first accepted value", () => {
    expect(check(flags((all) => withValue("log_statement", "none")(without("log_hostname")(all))))).toEqual([
      v(`${DB}: flags log_hostname=(unset), log_statement=none.`, "set settings.databaseFlags log_hostname=on, log_statement=ddl"),
    ]);
  });

  it("log_min_error_statement accepts error and more severe levels, not warning", () => {
    expect(check(flags(withValue("log_min_error_statement", "fatal")))).toEqual([]);
    expect(check(flags(withValue("log_min_error_statement", "warning")))).toEqual([
      v(`${DB}: flags log_min_error_statement=warning.`, "set settings.databaseFlags log_min_error_statement=error"),
    ]);
  });

  it("log_statement all is accepted", () => {
    expect(check(flags(withValue("log_statement", "all")))).toEqual([]);
  });

  it("no flags at all names all nine", () => {
    const found = check(flags(() => []));
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toBe(
      `${DB}: flags log_connections=(unset), log_disconnections=(unset), log_checkpoints=(unset), log_lock_waits=(unset), log_hostname=(unset), log_min_error_statement=(unset), log_statement=(unset), cloudsql.enable_pgaudit=(unset), cloudsql.iam_authentication=(unset).`,
    );
  });

  it("point-in-time recovery off, or no backup configuration", () => {
    expect(
      check(
        broken(SQL, (r) => {
          r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
        }),
      ),
    ).toEqual([NO_PITR]);
    expect(check(broken(SQL, (r) => delete r.settings.backupConfiguration))).toEqual([NO_PITR]);
  });

  it("flags and recovery both wrong: the flags first", () => {
    const found = check(
      broken(SQL, (r) => {
        r.settings.databaseFlags = without("log_lock_waits")(r.settings.databaseFlags);
        r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
      }),
    );
    expect(found).toEqual([v(`${DB}: flags log_lock_waits=(unset).`, "set settings.databaseFlags log_lock_waits=on"), NO_PITR]);
  });

  it("a MySQL instance, or one without a databaseVersion, is not checked (the flags are PostgreSQL's)", () => {
    expect(
      check(
        broken(SQL, (r) => {
          r.databaseVersion = "MYSQL_8_0";
          delete r.settings.backupConfiguration;
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        broken(SQL, (r) => {
          delete r.databaseVersion;
          delete r.settings.backupConfiguration;
        }),
      ),
    ).toEqual([]);
  });
});

describe("bigquery-dataset-private on gcp-prod's offline store", () => {
  const check = (all: PlanResource[]) => run("bigquery-dataset-private", all);
  const FIX = "grant roles to named service accounts or groups only";

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("dataset accesses to allAuthenticatedUsers (special group) and allUsers (IAM member), each reported", () => {
    const found = check(
      broken(
        DATASET,
        set({
          accesses: [
            { role: "OWNER", userByEmail: "owner@mlops-prod-7730.iam.gserviceaccount.com" },
            { role: "READER", specialGroup: "allAuthenticatedUsers" },
            { role: "READER", iamMember: "allUsers" },
            { role: "READER", specialGroup: "projectReaders" },
          ],
        }),
      ),
    );
    expect(found).toEqual([
      v('BigQuery dataset "mlops-gcp-offline-dataset": grants access to allAuthenticatedUsers.', FIX),
      v('BigQuery dataset "mlops-gcp-offline-dataset": grants access to allUsers.', FIX),
    ]);
  });

  it("a dataset IAM member for allUsers", () => {
    expect(check(broken(DATASET_MEMBER, set({ member: "allUsers" }), "mlops-gcp-identity-training-dataset-0"))).toEqual([
      v('BigQuery dataset IAM member "mlops-gcp-identity-training-dataset-0": grants access to allUsers.', FIX),
    ]);
  });

  it("a dataset IAM binding naming allAuthenticatedUsers among service accounts", () => {
    const binding = resource("gcp:bigquery/datasetIamBinding:DatasetIamBinding", "readers", {
      datasetId: "features",
      role: "roles/bigquery.dataViewer",
      members: ["serviceAccount:a@p.iam.gserviceaccount.com", "allAuthenticatedUsers"],
    });
    expect(check(plus(binding))).toEqual([v('BigQuery dataset IAM binding "readers": grants access to allAuthenticatedUsers.', FIX)]);
  });

  it("a DatasetAccess for a special group or an IAM member", () => {
    const access = (inputs: Props) =>
      check(plus(resource("gcp:bigquery/datasetAccess:DatasetAccess", "extra", { datasetId: "features", role: "READER", ...inputs })));
    const SAYS = (who: string) => v(`BigQuery dataset access "extra": grants access to ${who}.`, FIX);
    expect(access({ specialGroup: "allAuthenticatedUsers" })).toEqual([SAYS("allAuthenticatedUsers")]);
    expect(access({ iamMember: "allUsers" })).toEqual([SAYS("allUsers")]);
    expect(access({ iamMember: "group:ml-readers@example.com" })).toEqual([]);
  });
});

describe("gcs-bucket-private and gcs-bucket-versioned on gcp-prod's buckets", () => {
  const priv = (all: PlanResource[]) => run("gcs-bucket-private", all);
  const versioned = (all: PlanResource[]) => run("gcs-bucket-versioned", all);
  const ARTIFACTS = "mlops-gcp-artifacts-bucket";
  const bucket = (change: (r: Props) => void) => broken(BUCKET, change, ARTIFACTS);
  const ACLS = v(`GCS bucket "${ARTIFACTS}": uses per-object ACLs.`, "set uniformBucketLevelAccess: true");
  const PAP = v(`GCS bucket "${ARTIFACTS}": does not enforce public access prevention.`, 'set publicAccessPrevention: "enforced"');
  const UNVERSIONED = v(
    `GCS bucket "${ARTIFACTS}": object versioning is off.`,
    "set versioning: { enabled: true } (with a lifecycle rule to expire old versions)",
  );
  const FIX = "grant roles to named service accounts or groups only";

  it("passes the real output", () => {
    expect(priv(resources)).toEqual([]);
    expect(versioned(resources)).toEqual([]);
  });

  it("per-object ACLs, set or left to the default", () => {
    expect(priv(bucket(set({ uniformBucketLevelAccess: false })))).toEqual([ACLS]);
    expect(priv(bucket(unset("uniformBucketLevelAccess")))).toEqual([ACLS]);
  });

  it("public access prevention inherited, or left unset", () => {
    expect(priv(bucket(set({ publicAccessPrevention: "inherited" })))).toEqual([PAP]);
    expect(priv(bucket(unset("publicAccessPrevention", "uniformBucketLevelAccess")))).toEqual([ACLS, PAP]);
  });

  it("bucket IAM members and bindings for allUsers or allAuthenticatedUsers", () => {
    expect(priv(broken(BUCKET_MEMBER, set({ member: "allUsers" }), "mlops-gcp-identity-drift-bucket-0"))).toEqual([
      v('GCS bucket IAM member "mlops-gcp-identity-drift-bucket-0": grants access to allUsers.', FIX),
    ]);
    const binding = resource("gcp:storage/bucketIAMBinding:BucketIAMBinding", "public-read", {
      bucket: "mlops-gcp-artifacts-bucket-dbba163",
      role: "roles/storage.objectViewer",
      members: ["allUsers", "allAuthenticatedUsers"],
    });
    expect(priv(plus(binding))).toEqual([
      v('GCS bucket IAM binding "public-read": grants access to allUsers.', FIX),
      v('GCS bucket IAM binding "public-read": grants access to allAuthenticatedUsers.', FIX),
    ]);
  });

  it("versioning off, or no versioning block", () => {
    expect(versioned(bucket(set({ versioning: { enabled: false } })))).toEqual([UNVERSIONED]);
    expect(versioned(bucket(unset("versioning")))).toEqual([UNVERSIONED]);
  });
});

describe("kms-keys-rotated on gcp-prod's CryptoKeys", () => {
  const check = (all: PlanResource[]) => run("kms-keys-rotated", all);
  const KEY = "mlops-gcp-offline-cmek-key";
  const FIX = 'set rotationPeriod: "7776000s" (90 days) or less';
  const rotation = (change: (r: Props) => void) => check(broken(CRYPTO_KEY, change, KEY));
  const NONE = v(`CryptoKey "${KEY}": has no rotationPeriod.`, FIX);

  it("passes the real output (exactly 90 days)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a second over 90 days is too long, and the message rounds to days", () => {
    expect(rotation(set({ rotationPeriod: "7776001s" }))).toEqual([v(`CryptoKey "${KEY}": rotates every 90 days.`, FIX)]);
    expect(rotation(set({ rotationPeriod: "31536000s" }))).toEqual([v(`CryptoKey "${KEY}": rotates every 365 days.`, FIX)]);
  });

  it("a shorter period, with a fraction of a second, passes", () => {
    expect(rotation(set({ rotationPeriod: "86400.5s" }))).toEqual([]);
    expect(rotation(set({ rotationPeriod: "86400.25s" }))).toEqual([]);
  });

  it("no rotationPeriod, or one that is not a duration in seconds", () => {
    expect(rotation(unset("rotationPeriod"))).toEqual([NONE]);
    for (const malformed of ["90d", "x86400s", "86400s0", "86400.s", "", "s"])
      expect(rotation(set({ rotationPeriod: malformed })), malformed).toEqual([NONE]);
    expect(rotation(set({ rotationPeriod: 86400 }))).toEqual([NONE]);
  });

  it("a key without a purpose is ENCRYPT_DECRYPT (the default) and must rotate; signing and MAC keys need not", () => {
    expect(rotation(unset("purpose", "rotationPeriod"))).toEqual([NONE]);
    expect(
      rotation((r) => {
        r.purpose = "ASYMMETRIC_SIGN";
        delete r.rotationPeriod;
      }),
    ).toEqual([]);
    expect(
      rotation((r) => {
        r.purpose = "MAC";
        delete r.rotationPeriod;
      }),
    ).toEqual([]);
  });

  it("as many AWS keys as CryptoKeys: both clouds' keys are checked", () => {
    const awsKey = (name: string) => resource("aws:kms/key:Key", name, { enableKeyRotation: false });
    expect(check(plus(awsKey("a"), awsKey("b")))).toEqual([
      v('KMS key "a": does not rotate its key material.', "set enableKeyRotation: true"),
      v('KMS key "b": does not rotate its key material.', "set enableKeyRotation: true"),
    ]);
  });
});

describe("kms-key-policies-scoped on gcp-prod's key grants", () => {
  const check = (all: PlanResource[]) => run("kms-key-policies-scoped", all);
  const FIX = "grant the role to the service agent or service account that uses the key";
  const GRANT = "mlops-gcp-offline-cmek-use-0";

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a key grant to allAuthenticatedUsers names the role", () => {
    expect(check(broken(KEY_MEMBER, set({ member: "allAuthenticatedUsers" }), GRANT))).toEqual([
      v(`key grant "${GRANT}": grants roles/cloudkms.cryptoKeyEncrypterDecrypter to allAuthenticatedUsers.`, FIX),
    ]);
  });

  it("bindings on a key and on a key ring list every public member, once per grant", () => {
    const binding = (type: string, name: string, members: unknown) =>
      resource(type, name, { role: "roles/cloudkms.cryptoKeyDecrypter", members });
    const found = check(
      plus(
        binding("gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding", "key-readers", [
          "serviceAccount:a@p.iam.gserviceaccount.com",
          "allUsers",
          "allAuthenticatedUsers",
        ]),
        binding("gcp:kms/keyRingIAMBinding:KeyRingIAMBinding", "ring-readers", ["allUsers"]),
        binding("gcp:kms/keyRingIAMBinding:KeyRingIAMBinding", "ring-named", ["group:ml@example.com"]),
        binding("gcp:kms/keyRingIAMBinding:KeyRingIAMBinding", "ring-unknown", "allUsers"),
      ),
    );
    expect(found).toEqual([
      v('key grant "key-readers": grants roles/cloudkms.cryptoKeyDecrypter to allUsers, allAuthenticatedUsers.', FIX),
      v('key grant "ring-readers": grants roles/cloudkms.cryptoKeyDecrypter to allUsers.', FIX),
    ]);
  });

  it("a key-ring member grant for allUsers", () => {
    const ring = resource("gcp:kms/keyRingIAMMember:KeyRingIAMMember", "ring-public", {
      role: "roles/cloudkms.viewer",
      member: "allUsers",
    });
    expect(check(plus(ring))).toEqual([v('key grant "ring-public": grants roles/cloudkms.viewer to allUsers.', FIX)]);
  });

  it("as many AWS keys as key grants: both clouds are checked", () => {
    const awsKey = (name: string) => resource("aws:kms/key:Key", name, {});
    const noPolicy = (name: string) =>
      v(
        `KMS key "${name}": has no key policy, so AWS applies its default (any IAM principal of the account with kms:* in its policy).`,
        "pass policy: the account-through-IAM statement plus the service principals that use the key (components/aws/kms.ts)",
      );
    expect(check(plus(awsKey("a"), awsKey("b")))).toEqual([noPolicy("a"), noPolicy("b")]);
  });

  it("IAM policies on a key or a key ring (policyData) name each binding's public members with its role", () => {
    const policyData = JSON.stringify({
      bindings: [
        { role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", members: ["serviceAccount:a@p.iam.gserviceaccount.com"] },
        { role: "roles/cloudkms.cryptoKeyDecrypter", members: ["allUsers", "group:ml@example.com"] },
      ],
    });
    const found = check(
      plus(
        resource("gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy", "key-policy", { cryptoKeyId: "k", policyData }),
        resource("gcp:kms/keyRingIAMPolicy:KeyRingIAMPolicy", "ring-policy", { keyRingId: "r", policyData: "{}" }),
      ),
    );
    expect(found).toEqual([v('key grant "key-policy": grants roles/cloudkms.cryptoKeyDecrypter to allUsers.', FIX)]);
  });
});

describe("IAM policies (policyData) and table grants on data stores", () => {
  const FIX = "grant roles to named service accounts or groups only";
  const policyData = (members: string[]) => JSON.stringify({ bindings: [{ role: "roles/bigquery.dataViewer", members }] });

  it("a dataset IAM policy, a table IAM policy/member/binding granting allUsers or allAuthenticatedUsers", () => {
    const found = run(
      "bigquery-dataset-private",
      plus(
        resource("gcp:bigquery/datasetIamPolicy:DatasetIamPolicy", "dataset-policy", {
          datasetId: "features",
          policyData: policyData(["allAuthenticatedUsers"]),
        }),
        resource("gcp:bigquery/iamPolicy:IamPolicy", "table-policy", {
          tableId: "card_stats",
          policyData: policyData(["group:ml@example.com"]),
        }),
        resource("gcp:bigquery/iamMember:IamMember", "table-member", {
          tableId: "card_stats",
          role: "roles/bigquery.dataViewer",
          member: "allUsers",
        }),
        resource("gcp:bigquery/iamBinding:IamBinding", "table-binding", {
          tableId: "card_stats",
          role: "roles/bigquery.dataViewer",
          members: ["allAuthenticatedUsers"],
        }),
      ),
    );
    expect(found).toEqual([
      v('BigQuery dataset IAM policy "dataset-policy": grants access to allAuthenticatedUsers.', FIX),
      v('BigQuery table IAM member "table-member": grants access to allUsers.', FIX),
      v('BigQuery table IAM binding "table-binding": grants access to allAuthenticatedUsers.', FIX),
    ]);
  });

  it("a bucket IAM policy granting allUsers; malformed policyData grants nothing", () => {
    const found = run(
      "gcs-bucket-private",
      plus(
        resource("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "bucket-policy", { bucket: "b", policyData: policyData(["allUsers"]) }),
        resource("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "bucket-policy-bad", { bucket: "b", policyData: "not json" }),
      ),
    );
    expect(found).toEqual([v('GCS bucket IAM policy "bucket-policy": grants access to allUsers.', FIX)]);
  });
});
