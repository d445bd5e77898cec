import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The AWS data-store policies (policies/security-data.ts, security-databases.ts, security-kms.ts)
 * over aws-prod's real plan, broken one way at a time, each case asserting the whole list of
 * violations (message and fix). aws-prod has a Redis replication group, a Redshift Serverless
 * workgroup, the tracking RDS PostgreSQL with its parameter group, and seven KMS keys; the shapes it
 * has not (DynamoDB, a provisioned Redshift cluster, Aurora, a standalone ElastiCache cluster) are
 * added by hand next to the real plan.
 */

const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
const CACHE_CLUSTER = "aws:elasticache/cluster:Cluster";
const WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup";
const REDSHIFT = "aws:redshift/cluster:Cluster";
const RDS = "aws:rds/instance:Instance";
const AURORA = "aws:rds/cluster:Cluster";
const AURORA_INSTANCE = "aws:rds/clusterInstance:ClusterInstance";
const PARAMS = "aws:rds/parameterGroup:ParameterGroup";
const TABLE = "aws:dynamodb/table:Table";
const KEY = "aws:kms/key:Key";

const resources = realPlan("aws-prod");

const run = (policyName: string, all: PlanResource[]): Found => violationsOf(all, "aws-prod", policyName);
/** The real plan with the first resource of `type` (named `name`, if given) changed. */
const broken = (type: string, change: (r: Props) => void, name?: string) =>
  withBreakage(resources, { type, change, match: name === undefined ? undefined : (r) => r.name === name });
const plus = (...extra: PlanResource[]) => [...resources, ...extra];
const v = (message: string, fix: string) => ({ message, fix });
/** Changes of a resource's inputs: set fields, delete fields, or several changes in turn. */
const set = (fields: Props) => (r: Props) => {
  Object.assign(r, fields);
};
const unset =
  (...keys: string[]) =>
  (r: Props) => {
    for (const key of keys) delete r[key];
  };
const both =
  (...changes: ((r: Props) => void)[]) =>
  (r: Props) => {
    for (const change of changes) change(r);
  };

describe("elasticache-encrypted-with-auth on aws-prod's online store", () => {
  const check = (all: PlanResource[]) => run("elasticache-encrypted-with-auth", all);
  const RG = 'ElastiCache replication group "mlops-aws-online-redis"';
  const TLS_OFF = v(`${RG}: in-transit encryption (TLS) is off.`, "set transitEncryptionEnabled: true and connect with rediss://");
  const AT_REST_OFF = v(
    `${RG}: at-rest encryption is off.`,
    "set atRestEncryptionEnabled: true (with kmsKeyId for a customer-managed key)",
  );
  const NO_AUTH = v(
    `${RG}: has no AUTH: any client inside the VPC can read every feature.`,
    "set authToken (a random.RandomPassword, kept secret) or userGroupIds for RBAC",
  );

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("TLS turned off is reported alone (the mode left at required)", () => {
    expect(check(broken(REPLICATION_GROUP, set({ transitEncryptionEnabled: false })))).toEqual([TLS_OFF]);
  });

  it("TLS left unset is off too (the provider's default)", () => {
    expect(check(broken(REPLICATION_GROUP, unset("transitEncryptionEnabled")))).toEqual([TLS_OFF]);
  });

  it("transitEncryptionMode preferred still accepts plain-text clients", () => {
    expect(check(broken(REPLICATION_GROUP, set({ transitEncryptionMode: "preferred" })))).toEqual([
      v(`${RG}: transitEncryptionMode is "preferred", which still accepts plain-text clients.`, 'set transitEncryptionMode: "required"'),
    ]);
  });

  it("transitEncryptionMode left unset with TLS on passes (AWS creates it required)", () => {
    expect(check(broken(REPLICATION_GROUP, unset("transitEncryptionMode")))).toEqual([]);
  });

  it("at-rest encryption off, and left unset on a Redis group (the provider defaults it to false for redis)", () => {
    expect(check(broken(REPLICATION_GROUP, set({ atRestEncryptionEnabled: false })))).toEqual([AT_REST_OFF]);
    expect(check(broken(REPLICATION_GROUP, unset("atRestEncryptionEnabled")))).toEqual([AT_REST_OFF]);
  });

  it("a Valkey group that leaves at-rest encryption unset is encrypted (the provider defaults it to true for valkey)", () => {
    expect(check(broken(REPLICATION_GROUP, both(set({ engine: "valkey" }), unset("atRestEncryptionEnabled"))))).toEqual([]);
    expect(check(broken(REPLICATION_GROUP, set({ engine: "valkey", atRestEncryptionEnabled: false })))).toEqual([AT_REST_OFF]);
  });

  it("no AUTH token and no RBAC user group", () => {
    expect(check(broken(REPLICATION_GROUP, unset("authToken")))).toEqual([NO_AUTH]);
    expect(check(broken(REPLICATION_GROUP, set({ authToken: "" })))).toEqual([NO_AUTH]);
    expect(check(broken(REPLICATION_GROUP, both(unset("authToken"), set({ userGroupIds: [] }))))).toEqual([NO_AUTH]);
  });

  it("an RBAC user group instead of the token is AUTH", () => {
    expect(check(broken(REPLICATION_GROUP, both(unset("authToken"), set({ userGroupIds: ["mlops-online-users"] }))))).toEqual([]);
  });

  it("everything off at once: each problem once, in order", () => {
    const found = check(
      broken(REPLICATION_GROUP, (r) => {
        r.transitEncryptionEnabled = false;
        r.transitEncryptionMode = "preferred";
        r.atRestEncryptionEnabled = false;
        delete r.authToken;
      }),
    );
    expect(found.map((f) => f.message.split(": ")[1])).toEqual([
      "in-transit encryption (TLS) is off.",
      'transitEncryptionMode is "preferred", which still accepts plain-text clients.',
      "at-rest encryption is off.",
      "has no AUTH",
    ]);
  });

  const cacheCluster = (inputs: Props) => resource(CACHE_CLUSTER, "sessions", inputs);
  const STANDALONE = v(
    'ElastiCache cluster "sessions": is a standalone Redis cluster, which cannot enforce TLS and AUTH.',
    "create an aws.elasticache.ReplicationGroup with transitEncryptionEnabled, atRestEncryptionEnabled and authToken",
  );

  it("a standalone Redis cache cluster is refused, with or without the engine named", () => {
    expect(check(plus(cacheCluster({ engine: "redis", nodeType: "cache.t4g.small", numCacheNodes: 1 })))).toEqual([STANDALONE]);
    expect(check(plus(cacheCluster({ nodeType: "cache.t4g.small" })))).toEqual([STANDALONE]);
  });

  it("a memcached cluster, and a cache cluster that is a member of a replication group, pass", () => {
    expect(check(plus(cacheCluster({ engine: "memcached", numCacheNodes: 2 })))).toEqual([]);
    expect(check(plus(cacheCluster({ engine: "redis", replicationGroupId: "mlops-aws-online-redis" })))).toEqual([]);
  });
});

describe("dynamodb-encrypted on a table next to aws-prod's plan", () => {
  const check = (table: Props) => run("dynamodb-encrypted", plus(resource(TABLE, "registry", table)));
  const OFF = v(
    'DynamoDB table "registry": server-side encryption with KMS is off.',
    "set serverSideEncryption: { enabled: true } (and kmsKeyArn for a customer-managed key)",
  );

  it("a table encrypted with a KMS key passes", () => {
    expect(check({ hashKey: "id", serverSideEncryption: { enabled: true } })).toEqual([]);
  });

  it("SSE disabled, or no SSE block (the AWS-owned key), is refused", () => {
    expect(check({ hashKey: "id", serverSideEncryption: { enabled: false } })).toEqual([OFF]);
    expect(check({ hashKey: "id" })).toEqual([OFF]);
  });
});

describe("redshift-encrypted-private on aws-prod's workgroup and a provisioned cluster", () => {
  const check = (all: PlanResource[]) => run("redshift-encrypted-private", all);
  const cluster = (inputs: Props) => plus(resource(REDSHIFT, "warehouse", { nodeType: "ra3.xlplus", ...inputs }));
  const UNENCRYPTED = v(
    'Redshift cluster "warehouse": is not encrypted at rest.',
    'set encrypted: "true" (and kmsKeyId for a customer-managed key)',
  );
  const PUBLIC = v(
    'Redshift cluster "warehouse": is publicly accessible.',
    "set publiclyAccessible: false and reach it from inside the VPC",
  );

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a public workgroup is refused; one that leaves it unset (private) passes", () => {
    expect(check(broken(WORKGROUP, set({ publiclyAccessible: true })))).toEqual([
      v(
        'Redshift Serverless workgroup "mlops-aws-offline-wg": is publicly accessible.',
        "set publiclyAccessible: false and reach it from inside the VPC",
      ),
    ]);
    expect(check(broken(WORKGROUP, unset("publiclyAccessible")))).toEqual([]);
  });

  it('an encrypted private cluster passes, encrypted given as the provider\'s "true" or as a boolean', () => {
    expect(check(cluster({ encrypted: "true", publiclyAccessible: false }))).toEqual([]);
    expect(check(cluster({ encrypted: true, publiclyAccessible: false }))).toEqual([]);
  });

  it('encrypted "false" (or false) is refused', () => {
    expect(check(cluster({ encrypted: "false", publiclyAccessible: false }))).toEqual([UNENCRYPTED]);
    expect(check(cluster({ encrypted: false, publiclyAccessible: false }))).toEqual([UNENCRYPTED]);
  });

  it("a public cluster is refused, after the encryption problem", () => {
    expect(check(cluster({ encrypted: "true", publiclyAccessible: true }))).toEqual([PUBLIC]);
    expect(check(cluster({ encrypted: "false", publiclyAccessible: true }))).toEqual([UNENCRYPTED, PUBLIC]);
  });

  it("a cluster that leaves both to the provider's defaults passes (AWS provider v7: encrypted true, private)", () => {
    expect(check(cluster({}))).toEqual([]);
  });
});

describe("rds-encrypted-private on aws-prod's tracking database and an Aurora cluster", () => {
  const check = (all: PlanResource[]) => run("rds-encrypted-private", all);
  const DB = 'RDS instance "mlops-aws-tracking-db"';
  const UNENCRYPTED = v(`${DB}: storage is not encrypted.`, "set storageEncrypted: true (and kmsKeyId for a customer-managed key)");

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("unencrypted storage, set false or left unset", () => {
    expect(check(broken(RDS, set({ storageEncrypted: false })))).toEqual([UNENCRYPTED]);
    expect(check(broken(RDS, unset("storageEncrypted")))).toEqual([UNENCRYPTED]);
  });

  it("a public instance is refused; publiclyAccessible unset is private (the default)", () => {
    const PUBLIC = v(`${DB}: is publicly accessible.`, "set publiclyAccessible: false and put it in private subnets");
    expect(check(broken(RDS, set({ publiclyAccessible: true })))).toEqual([PUBLIC]);
    expect(check(broken(RDS, set({ publiclyAccessible: true, storageEncrypted: false })))).toEqual([UNENCRYPTED, PUBLIC]);
    expect(check(broken(RDS, unset("publiclyAccessible")))).toEqual([]);
  });

  it("an Aurora cluster must encrypt its storage", () => {
    const aurora = (inputs: Props) => check(plus(resource(AURORA, "tracking-aurora", { engine: "aurora-postgresql", ...inputs })));
    const OFF = v('RDS cluster "tracking-aurora": storage is not encrypted.', "set storageEncrypted: true");
    expect(aurora({ storageEncrypted: true })).toEqual([]);
    expect(aurora({ storageEncrypted: false })).toEqual([OFF]);
    expect(aurora({})).toEqual([OFF]);
  });

  it("an Aurora cluster instance must not be publicly accessible", () => {
    const member = (inputs: Props) =>
      check(
        plus(
          resource(AURORA_INSTANCE, "tracking-aurora-1", {
            clusterIdentifier: "tracking-aurora",
            instanceClass: "db.r6g.large",
            ...inputs,
          }),
        ),
      );
    expect(member({ publiclyAccessible: false })).toEqual([]);
    expect(member({})).toEqual([]);
    expect(member({ publiclyAccessible: true })).toEqual([
      v('RDS cluster instance "tracking-aurora-1": is publicly accessible.', "set publiclyAccessible: false and put it in private subnets"),
    ]);
  });
});

describe("rds-iam-auth-and-audit-logs on aws-prod's tracking database", () => {
  const check = (all: PlanResource[]) => run("rds-iam-auth-and-audit-logs", all);
  const DB = 'RDS instance "mlops-aws-tracking-db"';
  const IAM_OFF = v(`${DB}: IAM authentication is off: only the static password logs in.`, "set iamDatabaseAuthenticationEnabled: true");
  const FORCE_SSL_FIX = 'create an aws.rds.ParameterGroup with { name: "rds.force_ssl", value: "1" } and set parameterGroupName';
  const GROUP_NO_SSL = v(`${DB}: parameter group "mlops-aws-tracking-db-params" does not set rds.force_ssl = 1.`, FORCE_SSL_FIX);

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("IAM authentication off, or left unset (the default is off)", () => {
    expect(check(broken(RDS, set({ iamDatabaseAuthenticationEnabled: false })))).toEqual([IAM_OFF]);
    expect(check(broken(RDS, unset("iamDatabaseAuthenticationEnabled")))).toEqual([IAM_OFF]);
  });

  it("Oracle and SQL Server have no IAM database authentication (MariaDB, MySQL and PostgreSQL only), so they are not asked for it", () => {
    for (const engine of ["oracle-ee", "sqlserver-se", "db2-se"])
      expect(check(broken(RDS, set({ engine, iamDatabaseAuthenticationEnabled: false }))), engine).toEqual([]);
    for (const engine of ["mariadb", "mysql"])
      expect(
        check(broken(RDS, set({ engine, iamDatabaseAuthenticationEnabled: false, enabledCloudwatchLogsExports: ["error", "audit"] }))),
        engine,
      ).toEqual([IAM_OFF]);
  });

  it("an instance that names no engine (a replica or a restore) is still asked for IAM authentication", () => {
    expect(check(broken(RDS, both(unset("engine"), set({ iamDatabaseAuthenticationEnabled: false }))))).toEqual([IAM_OFF]);
  });

  it("a PostgreSQL instance that exports no postgresql log names the list to set, keeping what it exports", () => {
    expect(check(broken(RDS, set({ enabledCloudwatchLogsExports: ["upgrade"] })))).toEqual([
      v(`${DB}: does not export postgresql logs.`, 'set enabledCloudwatchLogsExports: ["upgrade", "postgresql"]'),
    ]);
    expect(check(broken(RDS, unset("enabledCloudwatchLogsExports")))).toEqual([
      v(`${DB}: does not export postgresql logs.`, 'set enabledCloudwatchLogsExports: ["postgresql"]'),
    ]);
  });

  it("a MySQL instance must export error and audit logs, and has no rds.force_ssl check", () => {
    const mysql = (exports: string[]) =>
      check(
        withBreakage(
          broken(RDS, (r) => {
            r.engine = "mysql";
            r.enabledCloudwatchLogsExports = exports;
          }),
          { type: PARAMS, change: set({ parameters: [] }) },
        ),
      );
    expect(mysql(["error", "audit", "slowquery"])).toEqual([]);
    expect(mysql(["slowquery"])).toEqual([
      v(`${DB}: does not export error, audit logs.`, 'set enabledCloudwatchLogsExports: ["slowquery", "error", "audit"]'),
    ]);
    expect(mysql(["error"])).toEqual([v(`${DB}: does not export audit logs.`, 'set enabledCloudwatchLogsExports: ["error", "audit"]')]);
  });

  it("an engine with no required exports (Oracle) needs none", () => {
    expect(
      check(
        broken(RDS, (r) => {
          r.engine = "oracle-ee";
          r.enabledCloudwatchLogsExports = [];
        }),
      ),
    ).toEqual([]);
  });

  it("refusing minor version upgrades is reported; leaving it unset (the default, true) is not", () => {
    expect(check(broken(RDS, set({ autoMinorVersionUpgrade: false })))).toEqual([
      v(`${DB}: refuses minor version (security) upgrades.`, "set autoMinorVersionUpgrade: true"),
    ]);
    expect(check(broken(RDS, unset("autoMinorVersionUpgrade")))).toEqual([]);
  });

  it("the parameter group without rds.force_ssl, or with it at 0, is reported by name", () => {
    const params = (parameters: Props[]) => check(broken(PARAMS, set({ parameters: parameters })));
    expect(params([{ name: "log_statement", value: "ddl" }])).toEqual([GROUP_NO_SSL]);
    expect(params([{ name: "rds.force_ssl", value: "0" }])).toEqual([GROUP_NO_SSL]);
    expect(params([])).toEqual([GROUP_NO_SSL]);
  });

  it("rds.force_ssl given as the number 1 counts", () => {
    expect(check(broken(PARAMS, set({ parameters: [{ name: "rds.force_ssl", value: 1 }] })))).toEqual([]);
  });

  it("a value of 1 on another parameter is not rds.force_ssl", () => {
    expect(check(broken(PARAMS, set({ parameters: [{ name: "rds.force_ssl_other", value: "1" }] })))).toEqual([GROUP_NO_SSL]);
  });

  it("a PostgreSQL instance on the default parameter group is reported", () => {
    const withoutGroup = broken(RDS, unset("parameterGroupName")).filter((r) => r.type !== PARAMS);
    expect(check(withoutGroup)).toEqual([
      v(`${DB}: uses the default parameter group, which accepts plain-text connections.`, FORCE_SSL_FIX),
    ]);
  });

  it("another stack's parameter group is not the instance's", () => {
    const other = resource(PARAMS, "other-params", { family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "1" }] });
    const all = broken(PARAMS, set({ parameters: [] })).concat(other);
    expect(check(all)).toEqual([GROUP_NO_SSL]);
  });

  it("every problem at once, in order", () => {
    const found = check(
      broken(RDS, (r) => {
        r.iamDatabaseAuthenticationEnabled = false;
        r.enabledCloudwatchLogsExports = [];
        r.autoMinorVersionUpgrade = false;
      }),
    );
    expect(found.map((f) => f.message.split(": ")[1])).toEqual([
      "IAM authentication is off",
      "does not export postgresql logs.",
      "refuses minor version (security) upgrades.",
    ]);
  });

  it("a stack without RDS instances does not apply", () => {
    expect(check(resources.filter((r) => r.type !== RDS))).toEqual([]);
  });
});

describe("kms-keys-rotated on aws-prod's keys", () => {
  const check = (all: PlanResource[]) => run("kms-keys-rotated", all);
  const ARTIFACTS = "mlops-aws-artifacts-key";
  const NOT_ROTATED = v(`KMS key "${ARTIFACTS}": does not rotate its key material.`, "set enableKeyRotation: true");
  const key = (change: (r: Props) => void) => broken(KEY, change, ARTIFACTS);

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a symmetric key with rotation off, or left unset (the default is off)", () => {
    expect(check(key(set({ enableKeyRotation: false })))).toEqual([NOT_ROTATED]);
    expect(check(key(unset("enableKeyRotation")))).toEqual([NOT_ROTATED]);
  });

  it("a key that leaves its spec unset is symmetric (the default) and must rotate", () => {
    expect(check(key(both(set({ enableKeyRotation: false }), unset("customerMasterKeySpec"))))).toEqual([NOT_ROTATED]);
  });

  it("asymmetric and HMAC keys cannot rotate automatically, so they are not asked to", () => {
    for (const spec of ["RSA_2048", "ECC_NIST_P256", "HMAC_256", "HMAC_512", "ML_DSA_65"])
      expect(check(key(set({ enableKeyRotation: false, customerMasterKeySpec: spec }))), spec).toEqual([]);
  });

  it("keys in a custom key store (CloudHSM or external) cannot rotate automatically either", () => {
    expect(check(key(set({ enableKeyRotation: false, customKeyStoreId: "cks-1234567890abcdef0" })))).toEqual([]);
    expect(check(key(set({ enableKeyRotation: false, customKeyStoreId: "cks-xks-1", xksKeyId: "ext-key-1" })))).toEqual([]);
  });
});

describe("kms-key-policies-scoped on aws-prod's keys", () => {
  const check = (all: PlanResource[]) => run("kms-key-policies-scoped", all);
  const ONLINE = "mlops-aws-online-key";
  const NO_POLICY = v(
    `KMS key "${ONLINE}": has no key policy, so AWS applies its default (any IAM principal of the account with kms:* in its policy).`,
    "pass policy: the account-through-IAM statement plus the service principals that use the key (components/aws/kms.ts)",
  );
  const EVERYONE_FIX = "name the account root or the service principal, or add a kms:CallerAccount / kms:ViaService condition";
  const addStatement = (statement: Props) =>
    broken(
      KEY,
      (r) => {
        const doc = JSON.parse(r.policy);
        doc.Statement.push(statement);
        r.policy = JSON.stringify(doc);
      },
      ONLINE,
    );

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a key without a policy, or with a null one, gets AWS's default policy", () => {
    expect(check(broken(KEY, unset("policy"), ONLINE))).toEqual([NO_POLICY]);
    expect(check(broken(KEY, set({ policy: null }), ONLINE))).toEqual([NO_POLICY]);
  });

  it("an Allow to Principal * without a condition names the statement and its actions", () => {
    expect(
      check(
        addStatement({ Sid: "Everyone", Effect: "Allow", Principal: "*", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: "*" }),
      ),
    ).toEqual([
      v(`KMS key "${ONLINE}": key policy statement Everyone allows kms:Decrypt, kms:GenerateDataKey to Principal "*".`, EVERYONE_FIX),
    ]);
  });

  it("Principal * pinned by kms:CallerAccount, a Deny to *, and an Allow to a named role pass", () => {
    expect(
      check(
        addStatement({
          Sid: "ThisAccountOnly",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: { "kms:CallerAccount": "123456789012" } },
        }),
      ),
    ).toEqual([]);
    expect(check(addStatement({ Sid: "NoOne", Effect: "Deny", Principal: "*", Action: "kms:ScheduleKeyDeletion", Resource: "*" }))).toEqual(
      [],
    );
    expect(
      check(
        addStatement({
          Sid: "Serving",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:role/serving" },
          Action: "kms:Decrypt",
          Resource: "*",
        }),
      ),
    ).toEqual([]);
  });

  it("a key whose policy is attached by an aws.kms.KeyPolicy has one, and that policy's statements are checked", () => {
    const key = resource(KEY, "features-key", { enableKeyRotation: true });
    const attach = (statement: Props) =>
      resource("aws:kms/keyPolicy:KeyPolicy", "features-key-policy", {
        keyId: "features-key-id",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountAdministersThroughIam",
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::123456789012:root" },
              Action: "kms:*",
              Resource: "*",
            },
            statement,
          ],
        }),
      });
    const named = {
      Sid: "Serving",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::123456789012:role/serving" },
      Action: "kms:Decrypt",
      Resource: "*",
    };
    expect(check(plus(key, attach(named)))).toEqual([]);
    expect(check(plus(key, attach({ ...named, Sid: "Everyone", Principal: "*" })))).toEqual([
      v('KMS key "features-key": key policy statement Everyone allows kms:Decrypt to Principal "*".', EVERYONE_FIX),
    ]);
  });
});
