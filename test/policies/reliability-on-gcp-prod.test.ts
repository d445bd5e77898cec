import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import type { StackSpec } from "../../definition";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The reliability policies of GCP's stateful resources (policies/reliability.ts) over gcp-prod's
 * real plan, broken one way at a time, each case asserting the whole list of violations (message
 * and fix) of one policy. gcp-prod keeps its state in a Memorystore STANDARD_HA instance, a Cloud
 * SQL PostgreSQL instance (backups with point-in-time recovery, deletion protection), two GCS
 * buckets and a BigQuery dataset, all protected. Memorystore Cluster, which the platform creates
 * when onlineStore.cluster is set, is added by hand as the provider takes it.
 */

const STACK = "gcp-prod";
const REDIS = "gcp:redis/instance:Instance";
const REDIS_CLUSTER = "gcp:redis/cluster:Cluster";
const SQL = "gcp:sql/databaseInstance:DatabaseInstance";
const BUCKET = "gcp:storage/bucket:Bucket";
const DATASET = "gcp:bigquery/dataset:Dataset";

const resources = realPlan(STACK);

/** One policy's violations over `all`, in gcp-prod or with parts of its stack spec replaced (a dev environment). */
function run(name: string, all: PlanResource[], stack?: Partial<StackSpec>): Found {
  return violationsOf(all, STACK, name, stack);
}

const DEV = { environment: "dev" } as const;

/** The plan with the resource of `type` whose Pulumi name is `name` changed, and unprotected when asked. */
function broken(type: string, name: string, change: (r: Props) => void, options: { protect?: boolean } = {}): PlanResource[] {
  const copy = withBreakage(resources, { type, match: (r) => r.name === name, change });
  if (options.protect === undefined) return copy;
  const i = copy.findIndex((r) => r.type === type && r.name === name);
  copy[i] = { ...(copy[i] as PlanResource), options: { ...(copy[i] as PlanResource).options, protect: options.protect } };
  return copy;
}

const unchanged = () => {};

/** A Memorystore Cluster of the online store, protected, with `props` on top. */
function redisCluster(props: Props): PlanResource {
  return resource(
    REDIS_CLUSTER,
    "mlops-gcp-online-cluster",
    { region: "europe-west4", shardCount: 3, pscConfigs: [{ network: "projects/mlops-prod-7730/global/networks/vpc" }], ...props },
    { protect: true },
  );
}

describe("stateful-resources-protected on gcp-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("stateful-resources-protected", all, stack);
  const unprotected = (subject: string) => ({
    message: `${subject}: is not protected in a prod stack.`,
    fix: "pass { protect: true, retainOnDelete: true } (components do when stack.protect)",
  });
  const deletable = (subject: string, fix: string) => ({ message: `${subject}: can be deleted with its data in a prod stack.`, fix });
  const SQL_SUBJECT = 'Cloud SQL instance "mlops-gcp-tracking-postgres"';

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("the Memorystore instance without protect", () => {
    expect(check(broken(REDIS, "mlops-gcp-online-redis", unchanged, { protect: false }))).toEqual([
      unprotected('Memorystore instance "mlops-gcp-online-redis"'),
    ]);
  });

  it("dev stacks are disposable: nothing is checked", () => {
    const loose = broken(
      SQL,
      "mlops-gcp-tracking-postgres",
      (r) => {
        r.deletionProtection = false;
      },
      { protect: false },
    );
    expect(check(loose, DEV)).toEqual([]);
  });

  it("Cloud SQL with deletionProtection false; unset is the provider's default, true", () => {
    expect(
      check(
        broken(SQL, "mlops-gcp-tracking-postgres", (r) => {
          r.deletionProtection = false;
        }),
      ),
    ).toEqual([deletable(SQL_SUBJECT, "set deletionProtection: true")]);
    expect(check(broken(SQL, "mlops-gcp-tracking-postgres", (r) => void delete r.deletionProtection))).toEqual([]);
  });

  it("an unprotected Cloud SQL instance without deletion protection reports both, protect first", () => {
    expect(
      check(
        broken(
          SQL,
          "mlops-gcp-tracking-postgres",
          (r) => {
            r.deletionProtection = false;
          },
          { protect: false },
        ),
      ),
    ).toEqual([unprotected(SQL_SUBJECT), deletable(SQL_SUBJECT, "set deletionProtection: true")]);
  });

  it("a GCS bucket that can be force-destroyed", () => {
    expect(
      check(
        broken(BUCKET, "mlops-gcp-artifacts-bucket", (r) => {
          r.forceDestroy = true;
        }),
      ),
    ).toEqual([deletable('GCS bucket "mlops-gcp-artifacts-bucket"', "remove forceDestroy: true")]);
  });

  it("a BigQuery dataset that deletes its tables on destroy", () => {
    expect(
      check(
        broken(DATASET, "mlops-gcp-offline-dataset", (r) => {
          r.deleteContentsOnDestroy = true;
        }),
      ),
    ).toEqual([deletable('BigQuery dataset "mlops-gcp-offline-dataset"', "remove deleteContentsOnDestroy: true")]);
  });

  it("a Memorystore Cluster is guarded unless deletionProtectionEnabled is false (the provider defaults it to true)", () => {
    expect(check([...resources, redisCluster({})])).toEqual([]);
    expect(check([...resources, redisCluster({ deletionProtectionEnabled: true })])).toEqual([]);
    expect(check([...resources, redisCluster({ deletionProtectionEnabled: false })])).toEqual([
      deletable('Memorystore cluster "mlops-gcp-online-cluster"', "set deletionProtectionEnabled: true"),
    ]);
  });
});

describe("online-store-highly-available on gcp-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("online-store-highly-available", all, stack);
  const tier = (shown: string) => [
    { message: `Memorystore instance "mlops-gcp-online-redis": tier is ${shown} in a prod stack.`, fix: 'set tier: "STANDARD_HA"' },
  ];
  const CLUSTER = 'Memorystore cluster "mlops-gcp-online-cluster"';
  const NO_REPLICA = {
    message: `${CLUSTER}: has no replica per shard in a prod stack.`,
    fix: "set replicaCount: 1 or more (onlineStore.replicas in the stack file)",
  };
  const ONE_ZONE = {
    message: `${CLUSTER}: keeps every node in one zone in a prod stack.`,
    fix: 'set zoneDistributionConfig: { mode: "MULTI_ZONE" }',
  };

  it("passes the real output (STANDARD_HA)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a BASIC instance, and one without a tier (the provider's default is BASIC)", () => {
    expect(
      check(
        broken(REDIS, "mlops-gcp-online-redis", (r) => {
          r.tier = "BASIC";
        }),
      ),
    ).toEqual(tier("BASIC"));
    expect(check(broken(REDIS, "mlops-gcp-online-redis", (r) => void delete r.tier))).toEqual(tier("BASIC"));
  });

  it("dev stacks run BASIC", () => {
    expect(
      check(
        broken(REDIS, "mlops-gcp-online-redis", (r) => {
          r.tier = "BASIC";
        }),
        DEV,
      ),
    ).toEqual([]);
  });

  it("a cluster with a replica per shard across zones passes; zones unset are MULTI_ZONE", () => {
    expect(check([...resources, redisCluster({ replicaCount: 1, zoneDistributionConfig: { mode: "MULTI_ZONE" } })])).toEqual([]);
    expect(check([...resources, redisCluster({ replicaCount: 2 })])).toEqual([]);
  });

  it("a cluster without replicas, zero or unset (the provider's default is zero)", () => {
    expect(check([...resources, redisCluster({ replicaCount: 0 })])).toEqual([NO_REPLICA]);
    expect(check([...resources, redisCluster({})])).toEqual([NO_REPLICA]);
  });

  it("a cluster in one zone", () => {
    expect(
      check([...resources, redisCluster({ replicaCount: 1, zoneDistributionConfig: { mode: "SINGLE_ZONE", zone: "europe-west4-a" } })]),
    ).toEqual([ONE_ZONE]);
  });

  it("a cluster without replicas in one zone reports both", () => {
    expect(check([...resources, redisCluster({ zoneDistributionConfig: { mode: "SINGLE_ZONE" } })])).toEqual([NO_REPLICA, ONE_ZONE]);
  });

  it("dev stacks may run shards without replicas", () => {
    expect(check([...resources, redisCluster({ zoneDistributionConfig: { mode: "SINGLE_ZONE" } })], DEV)).toEqual([]);
  });
});

describe("database-backups-enabled on gcp-prod", () => {
  const check = (all: PlanResource[]) => run("database-backups-enabled", all);
  const FIX = "set settings.backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true }";
  const SUBJECT = 'Cloud SQL instance "mlops-gcp-tracking-postgres"';
  const OFF = [{ message: `${SUBJECT}: automated backups are off.`, fix: FIX }];
  const NO_PITR = [{ message: `${SUBJECT}: backs up without point-in-time recovery.`, fix: FIX }];
  const database = (change: (r: Props) => void) => broken(SQL, "mlops-gcp-tracking-postgres", change);

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("backups off, or no backup block, or no settings at all", () => {
    expect(
      check(
        database((r) => {
          r.settings.backupConfiguration.enabled = false;
        }),
      ),
    ).toEqual(OFF);
    expect(check(database((r) => void delete r.settings.backupConfiguration))).toEqual(OFF);
    expect(check(database((r) => void delete r.settings))).toEqual(OFF);
  });

  it("backups off without point-in-time recovery say only that backups are off", () => {
    const found = check(
      database((r) => {
        r.settings.backupConfiguration.enabled = false;
        r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
      }),
    );
    expect(found).toEqual(OFF);
  });

  it("PostgreSQL backups without point-in-time recovery, off or unset", () => {
    expect(
      check(
        database((r) => {
          r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
        }),
      ),
    ).toEqual(NO_PITR);
    expect(check(database((r) => void delete r.settings.backupConfiguration.pointInTimeRecoveryEnabled))).toEqual(NO_PITR);
  });

  it("MySQL keeps its log by binaryLogEnabled: pointInTimeRecoveryEnabled is not asked for", () => {
    const mysql = database((r) => {
      r.databaseVersion = "MYSQL_8_0";
      r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
    });
    expect(check(mysql)).toEqual([]);
  });

  it("an instance without a database version is not taken for PostgreSQL", () => {
    const unversioned = database((r) => {
      delete r.databaseVersion;
      r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
    });
    expect(check(unversioned)).toEqual([]);
  });
});
