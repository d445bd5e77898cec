import * as pulumi from "@pulumi/pulumi";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { GcpFoundation, GcsArtifactStore } from "../../../components/gcp";
import type { PlanResource } from "../../../components/plan-resource";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import { EXPECTED } from "./expected";
import { type BuiltFoundation, buildGcpFoundations, GCP_STACKS, type GcpStackName, loadGcpStack } from "./fixture";

const KMS_KEY = "projects/mlops-prod-7730/locations/europe-west4/keyRings/data/cryptoKeys/artifacts";
let built: Record<GcpStackName, BuiltFoundation>;
let cmek: { store: GcsArtifactStore; resources: PlanResource[] };
let untracked: { foundation: GcpFoundation; resources: PlanResource[] };
beforeAll(async () => {
  const mocks = await useMocks("gcp-data", { region: "us-central1", gcpProject: "mlops-dev-4821" });
  const store = new GcsArtifactStore("cmek", { stack: loadGcpStack("gcp-prod").stack, kmsKeyName: KMS_KEY });
  const dev = loadGcpStack("gcp-dev");
  const foundation = new GcpFoundation("untracked", {
    stack: { ...dev.stack, tracking: { ...dev.stack.tracking, enabled: false } },
    catalog: dev.catalog,
  });
  built = await buildGcpFoundations(mocks);
  untracked = { foundation, resources: mocks.resources.filter((r) => r.name.startsWith("untracked")) };
  cmek = { store, resources: mocks.resources.filter((r) => r.name.startsWith("cmek")) };
  expect(mocks.unknownInvokes).toEqual([]);
});

// biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
type Inputs = Record<string, any>;
const REDIS = "gcp:redis/instance:Instance";
const DATASET = "gcp:bigquery/dataset:Dataset";
const TABLE = "gcp:bigquery/table:Table";
const BUCKET = "gcp:storage/bucket:Bucket";
const SQL = "gcp:sql/databaseInstance:DatabaseInstance";

/** Offline tables as catalog/features/*.yaml declares them, read here without the spec loader. */
const CATALOG_VIEWS = readdirSync("catalog/features")
  .filter((f) => f.endsWith(".yaml"))
  .flatMap(
    (f) =>
      (parse(readFileSync(join("catalog/features", f), "utf8")).featureViews ?? []) as {
        name: string;
        offline?: boolean;
        source: { table?: string };
      }[],
  )
  .filter((v) => v.offline !== false);

/** The columns each offline table must have, written out from catalog/features/fraud.yaml and support.yaml. */
const EXPECTED_COLUMNS: Record<string, [string, string, string][]> = {
  // An aggregated view's table holds its raw events (table transactions), not the aggregates.
  card_stats: [
    ["card_id", "INT64", "REQUIRED"],
    ["event_timestamp", "TIMESTAMP", "REQUIRED"],
    ["amount", "FLOAT64", "NULLABLE"],
    ["merchant_id", "INT64", "NULLABLE"],
  ],
  card_profile: [
    ["card_id", "INT64", "REQUIRED"],
    ["event_timestamp", "TIMESTAMP", "REQUIRED"],
    ["created_timestamp", "TIMESTAMP", "NULLABLE"],
    ["days_since_first_txn", "INT64", "NULLABLE"],
    ["home_country", "STRING", "NULLABLE"],
  ],
  merchant_stats: [
    ["merchant_id", "INT64", "REQUIRED"],
    ["event_timestamp", "TIMESTAMP", "REQUIRED"],
    ["created_timestamp", "TIMESTAMP", "NULLABLE"],
    ["merchant_risk", "FLOAT64", "NULLABLE"],
    ["chargeback_rate_30d", "FLOAT64", "NULLABLE"],
    ["category", "STRING", "NULLABLE"],
  ],
  card_realtime: [
    ["card_id", "INT64", "REQUIRED"],
    ["event_timestamp", "TIMESTAMP", "REQUIRED"],
    ["last_amount", "FLOAT64", "NULLABLE"],
    ["is_foreign", "BOOL", "NULLABLE"],
  ],
  customer_profile: [
    ["customer_id", "STRING", "REQUIRED"],
    ["event_timestamp", "TIMESTAMP", "REQUIRED"],
    ["tenure_days", "INT64", "NULLABLE"],
    ["open_tickets", "INT64", "NULLABLE"],
    ["monthly_spend", "FLOAT64", "NULLABLE"],
    ["plan", "STRING", "NULLABLE"],
    ["nps_scores", "INT64", "REPEATED"],
  ],
};

describe.each(GCP_STACKS)("GCP data layer of %s", (stackName) => {
  const want = EXPECTED[stackName];
  const redis = () => built[stackName].one(REDIS, "-online-redis");
  const sql = () => built[stackName].one(SQL, "-tracking-postgres");
  const networkId = () => built[stackName].one("gcp:compute/network:Network", "-vpc").outputs.id;
  const peeringUrn = () => built[stackName].one("gcp:servicenetworking/connection:Connection", "-private-services").urn;

  it(`runs Memorystore as ${want.redisTier} with AUTH, TLS and private service access only`, () => {
    const r = redis().inputs as Inputs;
    expect(r).toMatchObject({
      project: want.project,
      region: want.region,
      tier: want.redisTier,
      memorySizeGb: want.redisMemoryGb,
      redisVersion: "REDIS_7_2",
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      connectMode: "PRIVATE_SERVICE_ACCESS",
      authorizedNetwork: networkId(),
      deletionProtection: want.prod,
      labels: want.labels,
    });
    expect(r.persistenceConfig.persistenceMode).toBe(want.prod ? "RDB" : "DISABLED");
    expect(redis().options.dependsOn).toContain(peeringUrn());
  });

  it("hands the online store over as a rediss:// URL with the AUTH string as a secret password", async () => {
    const online = built[stackName].foundation.online;
    const out = redis().outputs as Inputs;
    expect(online.kind).toBe("redis");
    expect(await outputValue(online.url)).toBe(`rediss://${out.host}:6378`);
    expect(online.password).toBeDefined();
    const password = online.password!;
    expect(await outputValue(password)).toBe(out.authString);
    expect(await pulumi.isSecret(password)).toBe(true);
    expect(await outputValue(online.serviceAccountAnnotations)).toEqual({});
    expect(await outputValue(built[stackName].foundation.onlineStore.caCertificate)).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("creates the BigQuery dataset in the stack's region with labels, no expiration and no public access", () => {
    const ds = built[stackName].one(DATASET, "-offline-dataset").inputs as Inputs;
    expect(ds).toMatchObject({
      project: want.project,
      datasetId: "features",
      location: want.region,
      labels: want.labels,
      deleteContentsOnDestroy: false,
    });
    expect(ds.defaultTableExpirationMs).toBeUndefined();
    expect(ds.defaultPartitionExpirationMs).toBeUndefined();
    const entries = [
      ...(ds.accesses ?? []),
      ...built[stackName].ofType("gcp:bigquery/datasetIamMember:DatasetIamMember").map((r) => r.inputs),
    ];
    expect(JSON.stringify(entries)).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it("creates one table per offline feature view in catalog/features, named after its source table", () => {
    const tables = built[stackName].ofType(TABLE);
    expect(CATALOG_VIEWS.length).toBe(5);
    expect(tables.map((t) => t.inputs.tableId).sort()).toEqual(CATALOG_VIEWS.map((v) => v.source.table).sort());
    const datasetId = built[stackName].one(DATASET, "-offline-dataset").outputs.datasetId;
    for (const t of tables) expect(t.inputs.datasetId).toBe(datasetId);
  });

  it.each(Object.keys(EXPECTED_COLUMNS))("gives table %s the columns and types of its feature view", (view) => {
    const table = built[stackName].one(TABLE, `-offline-${view}`).inputs as Inputs;
    const columns = (JSON.parse(table.schema) as { name: string; type: string; mode: string }[]).map((c) => [c.name, c.type, c.mode]);
    expect(columns).toEqual(EXPECTED_COLUMNS[view]);
  });

  it("partitions each table by day on its event timestamp and clusters it by join key", () => {
    const clusteringOf: Record<string, string[]> = {
      card_stats: ["card_id"],
      card_profile: ["card_id"],
      merchant_stats: ["merchant_id"],
      card_realtime: ["card_id"],
      customer_profile: ["customer_id"],
    };
    for (const [view, keys] of Object.entries(clusteringOf)) {
      const t = built[stackName].one(TABLE, `-offline-${view}`).inputs as Inputs;
      expect(t.timePartitioning).toEqual({ type: "DAY", field: "event_timestamp" });
      expect(t.clusterings).toEqual(keys);
      expect(t.deletionProtection).toBe(want.prod);
      expect(t.labels).toMatchObject(want.labels);
    }
  });

  it("hands the offline store over as bigquery://<project>/<dataset> with the features identity", async () => {
    const offline = built[stackName].foundation.offline;
    expect(offline.kind).toBe("bigquery");
    expect(await outputValue(offline.url)).toBe(`bigquery://${want.project}/features`);
    expect(await outputValue(offline.serviceAccountAnnotations)).toEqual({
      "iam.gke.io/gcp-service-account": `mlops-${stackName}-features@${want.project}.iam.gserviceaccount.com`,
    });
  });

  it("keeps the artifact bucket private: uniform access, public access prevention enforced, versioned", () => {
    const bucket = built[stackName].one(BUCKET, "-artifacts-bucket").inputs as Inputs;
    expect(bucket).toMatchObject({
      project: want.project,
      location: want.region.toUpperCase(),
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      forceDestroy: !want.prod,
      labels: want.labels,
    });
    expect(bucket.lifecycleRules).toEqual([
      { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30 } },
      { action: { type: "Delete" }, condition: { age: want.prod ? 90 : 30, matchesPrefixes: ["predictions/"] } },
      // Sharded materialization exports are read once by their writers, then only take space.
      { action: { type: "Delete" }, condition: { age: 7, matchesPrefixes: ["materialization/"] } },
      { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 7 } },
    ]);
    // No CMEK unless asked for: Google-managed encryption.
    expect(bucket.encryption).toBeUndefined();
  });

  it("logs every request to the artifact bucket into a private, versioned log bucket that Google's log writer may fill", () => {
    const bucket = built[stackName].one(BUCKET, "-artifacts-bucket");
    const logs = built[stackName].one(BUCKET, "-artifacts-logs");
    expect(bucket.inputs.logging).toEqual({ logBucket: logs.outputs.name, logObjectPrefix: "artifacts" });
    expect(logs.inputs).toMatchObject({
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      labels: want.labels,
      lifecycleRules: [
        { action: { type: "Delete" }, condition: { age: want.prod ? 365 : 90 } },
        { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 7 } },
      ],
    });
    expect(logs.inputs.logging).toBeUndefined();
    const writer = built[stackName].one("gcp:storage/bucketIAMMember:BucketIAMMember", "-artifacts-logs-writer");
    expect(writer.inputs).toEqual({
      bucket: logs.outputs.name,
      role: "roles/storage.objectCreator",
      member: "group:cloud-storage-analytics@google.com",
    });
    expect(bucket.options.dependsOn).toContain(writer.urn);
  });

  it("encrypts the dataset and every table with its own rotating key, which BigQuery's service agent may use", () => {
    const key = built[stackName].one("gcp:kms/cryptoKey:CryptoKey", "-offline-cmek-key");
    const ring = built[stackName].one("gcp:kms/keyRing:KeyRing", "-offline-cmek-ring");
    expect(ring.inputs.location).toBe(want.region);
    expect(key.inputs.rotationPeriod).toBe("7776000s");
    const grant = built[stackName].one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "-offline-cmek-use-0");
    expect(grant.inputs).toEqual({
      cryptoKeyId: key.outputs.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: "serviceAccount:bq-123456789012@bigquery-encryption.iam.gserviceaccount.com",
    });
    const dataset = built[stackName].one(DATASET, "-offline-dataset");
    expect(dataset.inputs.defaultEncryptionConfiguration).toEqual({ kmsKeyName: key.outputs.id });
    expect(dataset.options.dependsOn).toContain(grant.urn);
    const tables = built[stackName].resources.filter((r) => r.type === TABLE);
    expect(tables.length).toBeGreaterThan(0);
    for (const t of tables) expect(t.inputs.encryptionConfiguration, t.name).toEqual({ kmsKeyName: key.outputs.id });
  });

  it("hands MLflow gs://<bucket>/mlflow with the tracking identity", async () => {
    const name = built[stackName].one(BUCKET, "-artifacts-bucket").outputs.name;
    const artifacts = built[stackName].foundation.artifacts;
    expect(await outputValue(artifacts.uri)).toBe(`gs://${name}/mlflow`);
    expect(await outputValue(built[stackName].foundation.artifacts.predictionLogsUri)).toBe(`gs://${name}/predictions`);
    expect(await outputValue(artifacts.serviceAccountAnnotations)).toEqual({
      "iam.gke.io/gcp-service-account": `mlops-${stackName}-tracking@${want.project}.iam.gserviceaccount.com`,
    });
  });

  it("gives Cloud SQL no public IP: a private IP on the VPC and TLS only", () => {
    const s = sql().inputs as Inputs;
    expect(s.settings.ipConfiguration).toEqual({ ipv4Enabled: false, privateNetwork: networkId(), sslMode: "ENCRYPTED_ONLY" });
    expect(s.settings.ipConfiguration.authorizedNetworks).toBeUndefined();
    expect(sql().outputs.publicIpAddress).toBe("");
    expect(sql().options.dependsOn).toContain(peeringUrn());
  });

  it(`backs Cloud SQL up with point-in-time recovery, ${want.sqlAvailability} availability, deletion protection in prod`, () => {
    const s = sql().inputs as Inputs;
    expect(s.databaseVersion).toBe("POSTGRES_16");
    expect(s.region).toBe(want.region);
    expect(s.deletionProtection).toBe(want.prod);
    expect(s.settings).toMatchObject({
      tier: want.sqlTier,
      edition: "ENTERPRISE",
      availabilityType: want.sqlAvailability,
      deletionProtectionEnabled: want.prod,
      userLabels: want.labels,
    });
    expect(s.settings.backupConfiguration).toMatchObject({
      enabled: true,
      pointInTimeRecoveryEnabled: true,
      transactionLogRetentionDays: 7,
    });
    expect(s.settings.databaseFlags).toContainEqual({ name: "log_connections", value: "on" });
  });

  it("creates MLflow's database and user with a generated secret password, and hands over a secret URL", async () => {
    const b = built[stackName];
    const instanceName = sql().outputs.name;
    expect(b.one("gcp:sql/database:Database", "-tracking-db").inputs).toMatchObject({ instance: instanceName, name: "mlflow" });
    const user = b.one("gcp:sql/user:User", "-tracking-user");
    const password = b.one("random:index/randomPassword:RandomPassword", "-tracking-password");
    expect(user.inputs).toMatchObject({ instance: instanceName, name: "mlflow" });
    // Recorded inputs have secrets unwrapped (components/plan-resource.ts); secretPaths says which were secret.
    expect(user.inputs.password).toBe(password.outputs.result);
    expect(user.secretPaths).toContain("password");
    expect(password.inputs).toMatchObject({ length: 32, special: false });
    const url = b.foundation.trackingDatabase.url;
    expect(await pulumi.isSecret(url)).toBe(true);
    expect(await outputValue(url)).toBe(
      `postgresql://mlflow:${password.outputs.result}@${sql().outputs.privateIpAddress}:5432/mlflow?sslmode=require`,
    );
  });
});

describe("GCS artifact store with a customer-managed key", () => {
  it("encrypts with the key, after granting it to the project's GCS service agent", () => {
    const bucket = cmek.resources.find((r) => r.type === BUCKET && r.name.endsWith("-bucket"));
    const grant = cmek.resources.find((r) => r.type === "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember");
    expect(bucket?.inputs.encryption).toEqual({ defaultKmsKeyName: KMS_KEY });
    expect(grant?.inputs).toEqual({
      cryptoKeyId: KMS_KEY,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: "serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com",
    });
    expect(bucket?.options.dependsOn).toContain(grant?.urn);
    expect(bucket?.options.protect).toBe(true);
  });
});

describe("GCP layer of a stack without a tracking server", () => {
  it("creates no Cloud SQL instance and hands over an empty secret database URL", async () => {
    expect(untracked.resources.filter((r) => r.type.startsWith("gcp:sql/"))).toEqual([]);
    expect(untracked.resources.filter((r) => r.type === REDIS)).toHaveLength(1);
    expect(await outputValue(untracked.foundation.trackingDatabase.url)).toBe("");
    expect(await pulumi.isSecret(untracked.foundation.trackingDatabase.url)).toBe(true);
  });
});
