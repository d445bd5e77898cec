import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { dynamoTables, dynamoTableSettings, IRSA_ANNOTATION, redisSettings } from "../../../components/aws";
import type { StackSpec } from "../../../definition";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import {
  AWS_STACKS,
  type AwsStackName,
  awsStacks,
  type BuiltFoundation,
  buildFoundations,
  type Inputs,
  loadAwsStack,
  variantOf,
  clusterSecurityGroupId,
  parseJson,
} from "./fixture";

type Built = Record<AwsStackName | "dynamo-dev" | "dynamo-prod", BuiltFoundation>;
let built: Built;
beforeAll(async () => {
  const mocks = await useMocks("aws-online", { region: "us-east-1" });
  const dynamo = (p: Record<string, unknown>) => {
    p.onlineStore = { kind: "dynamodb" };
  };
  built = await buildFoundations(mocks, {
    ...awsStacks(),
    "dynamo-dev": variantOf("aws-dev", "dynamo-dev", dynamo),
    "dynamo-prod": variantOf("aws-prod", "dynamo-prod", dynamo),
  });
  expect(mocks.unknownInvokes).toEqual([]);
});

const dev = loadAwsStack("aws-dev");
const prod = loadAwsStack("aws-prod");
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const TABLE = "aws:dynamodb/table:Table";

describe("online store settings (pure)", () => {
  it("Redis: TLS required, encrypted at rest, failover and multi-AZ only in prod with replicas", () => {
    const online = (stack: StackSpec) => {
      if (stack.onlineStore.kind !== "redis") throw new Error("redis expected");
      return stack.onlineStore;
    };
    const p = redisSettings(prod.stack, online(prod.stack), "o");
    expect(p).toMatchObject({
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      numCacheClusters: 3,
    });
    expect(p.finalSnapshotIdentifier).toBe("o-aws-prod-final");
    const d = redisSettings(dev.stack, online(dev.stack), "o");
    expect(d).toMatchObject({
      automaticFailoverEnabled: false,
      multiAzEnabled: false,
      numCacheClusters: 1,
      finalSnapshotIdentifier: undefined,
    });
    // A multi-AZ stack without replicas cannot fail over, and ElastiCache refuses to pretend it can.
    expect(redisSettings(prod.stack, { ...online(prod.stack), replicas: 0 }, "o").automaticFailoverEnabled).toBe(false);
  });

  it("Redis with shards: a cluster-mode replication group (node groups, replicas per group, cluster.on parameters)", () => {
    if (prod.stack.onlineStore.kind !== "redis") throw new Error("redis expected");
    const c = redisSettings(prod.stack, { ...prod.stack.onlineStore, shards: 3, replicas: 1 }, "o");
    expect(c.clusterMode).toEqual({ numNodeGroups: 3, replicasPerNodeGroup: 1, parameterGroupName: "default.redis7.cluster.on" });
    expect(c.numCacheClusters).toBeUndefined();
    expect(c).toMatchObject({ automaticFailoverEnabled: true, transitEncryptionMode: "required" });
  });

  it("DynamoDB: one Feast-named table per online feature view and stack, on demand, PITR, TTL", () => {
    const tables = dynamoTables(dev.catalog, "mlops", "aws-dev");
    expect(tables.map((t) => t.tableName)).toEqual([
      "mlops.aws-dev.card_profile",
      "mlops.aws-dev.card_realtime",
      "mlops.aws-dev.card_stats",
      "mlops.aws-dev.customer_profile",
      "mlops.aws-dev.merchant_stats",
    ]);
    expect(tables.find((t) => t.featureView === "card_stats")?.ttlSeconds).toBe(2 * 86400);
    const s = dynamoTableSettings(prod.stack, tables.find((t) => t.featureView === "card_realtime") as (typeof tables)[number]);
    expect(s).toEqual({
      name: "mlops.aws-dev.card_realtime",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "entity_id",
      attributes: [{ name: "entity_id", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      ttl: { attributeName: "expires_at", enabled: true },
      deletionProtectionEnabled: true,
    });
  });

  it("DynamoDB: a feature view that is not served online gets no table", () => {
    const view = dev.catalog.featureViews.card_stats;
    if (!view) throw new Error("card_stats expected in the catalog");
    const catalog = { ...dev.catalog, featureViews: { ...dev.catalog.featureViews, card_stats: { ...view, online: false } } };
    expect(dynamoTables(catalog, "mlops", "aws-dev").map((t) => t.featureView)).not.toContain("card_stats");
  });
});

describe.each(AWS_STACKS)("ElastiCache online store of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "aws-prod";
  const redis = () => b().one(REDIS, "-online-redis");

  it("requires TLS and encrypts at rest with the store's own KMS key", () => {
    const key = b().one("aws:kms/key:Key", "-online-key");
    expect(redis().inputs).toMatchObject({
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: key.outputs.arn,
    });
    expect(key.inputs.enableKeyRotation).toBe(true);
  });

  it("requires an AUTH token that is random and travels only as a secret", async () => {
    const password = b().one("random:index/randomPassword:RandomPassword", "-online-redis-auth");
    expect(redis().inputs.authToken).toBe(password.outputs.result);
    expect(redis().secretPaths).toContain("authToken");
    expect(password.inputs).toMatchObject({ length: 64, special: false });
    const online = b().foundation.online;
    expect(await pulumi.isSecret(online.password as pulumi.Output<string>)).toBe(true);
    expect(await outputValue(online.password as pulumi.Output<string>)).toBe(password.outputs.result);
  });

  it(prod ? "fails over automatically across AZs with two replicas" : "runs a single node without failover (cheap)", () => {
    expect(redis().inputs).toMatchObject({
      automaticFailoverEnabled: prod,
      multiAzEnabled: prod,
      numCacheClusters: prod ? 3 : 1,
      nodeType: prod ? "cache.r7g.large" : "cache.t4g.small",
      engineVersion: "7.1",
    });
    expect(redis().inputs.finalSnapshotIdentifier).toBe(prod ? "aws-prod-online-redis-aws-prod-final" : undefined);
  });

  it("lives in the private subnets and admits 6379 only from the cluster's security group", () => {
    const subnets = b().one("aws:elasticache/subnetGroup:SubnetGroup", "-online-redis-subnets");
    const privateIds = b()
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.includes("-private-"))
      .map((s) => s.outputs.id);
    expect(subnets.inputs.subnetIds).toEqual(privateIds);
    expect(redis().inputs.subnetGroupName).toBe(subnets.outputs.name);
    const sg = b().one("aws:ec2/securityGroup:SecurityGroup", "-online-redis-sg");
    expect(redis().inputs.securityGroupIds).toEqual([sg.outputs.id]);
    const rules = b()
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.outputs.id);
    const clusterSg = clusterSecurityGroupId(b());
    expect(rules.map((r) => r.inputs)).toEqual([
      expect.objectContaining({ referencedSecurityGroupId: clusterSg, ipProtocol: "tcp", fromPort: 6379, toPort: 6379 }),
    ]);
    expect(rules[0]?.inputs.cidrIpv4).toBeUndefined();
    expect(
      b()
        .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        .filter((r) => r.inputs.securityGroupId === sg.outputs.id),
    ).toEqual([]);
  });

  it("hands the services a rediss:// URL and no cloud identity (Redis authenticates by token)", async () => {
    const online = b().foundation.online;
    expect(online.kind).toBe("redis");
    expect(await outputValue(online.url)).toBe(`rediss://${redis().outputs.primaryEndpointAddress}:6379`);
    expect(await outputValue(online.serviceAccountAnnotations)).toEqual({});
    expect(b().ofType(TABLE)).toEqual([]);
  });
});

describe.each(["dynamo-dev", "dynamo-prod"] as const)("DynamoDB online store of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "dynamo-prod";
  const allTables = () => b().ofType(TABLE);
  const stateTable = () => b().one(TABLE, "-online-dynamodb-materialization-state");
  const tables = () => allTables().filter((t) => t !== stateTable());

  it("creates one Feast-named table per online feature view, and no ElastiCache", () => {
    const stack = b().spec.stack.name;
    expect(tables().map((t) => t.inputs.name)).toEqual([
      `mlops.${stack}.card_profile`,
      `mlops.${stack}.card_realtime`,
      `mlops.${stack}.card_stats`,
      `mlops.${stack}.customer_profile`,
      `mlops.${stack}.merchant_stats`,
    ]);
    expect(b().ofType(REDIS)).toEqual([]);
  });

  it("keeps sharded materialization's state in its own table: keyed by state_key, expiring by TTL, encrypted, recoverable", () => {
    const stack = b().spec.stack.name;
    expect(stateTable().inputs).toMatchObject({
      name: `mlops.${stack}._materialization`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "state_key",
      attributes: [{ name: "state_key", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      ttl: { attributeName: "expires_at", enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: b().one("aws:kms/key:Key", "-online-key").outputs.arn },
    });
  });

  it("bills on demand, keys by entity_id, recovers to any point in time, expires items by TTL", () => {
    for (const t of tables()) {
      expect(t.inputs).toMatchObject({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "entity_id",
        attributes: [{ name: "entity_id", type: "S" }],
        pointInTimeRecovery: { enabled: true },
        ttl: { attributeName: "expires_at", enabled: true },
      });
    }
  });

  it("encrypts every table with the online store's KMS key", () => {
    const key = b().one("aws:kms/key:Key", "-online-key");
    for (const t of tables()) expect(t.inputs.serverSideEncryption).toEqual({ enabled: true, kmsKeyArn: key.outputs.arn });
  });

  it(prod ? "protects the tables from deletion in prod" : "leaves dev tables deletable", () => {
    for (const t of tables()) {
      expect(t.inputs.deletionProtectionEnabled).toBe(prod);
      expect(t.options.protect).toBe(prod);
      expect(t.options.retainOnDelete).toBe(prod);
    }
  });

  it("reaches the tables through the features role, which may touch exactly these tables", async () => {
    const online = b().foundation.online;
    expect(online.kind).toBe("dynamodb");
    expect(online.password).toBeUndefined();
    const stack = b().spec.stack;
    // The features service finds the tables by Feast's template, with the stack in it.
    expect(await outputValue(online.url)).toBe(`dynamodb://${stack.region}?tableNameTemplate=%7Bproject%7D.${stack.name}.%7Btable_name%7D`);
    const features = b().one("aws:iam/role:Role", "-irsa-features");
    expect(await outputValue(online.serviceAccountAnnotations)).toEqual({ [IRSA_ANNOTATION]: features.outputs.arn });
    const policy = parseJson(b().one("aws:iam/rolePolicy:RolePolicy", "-irsa-features").inputs.policy);
    const statement = (policy.Statement as Inputs[]).find((s) => s.Sid === "OnlineStoreTables");
    expect([...((statement?.Resource ?? []) as string[])].sort()).toEqual(
      allTables()
        .map((t) => t.outputs.arn as string)
        .sort(),
    );
    expect(statement?.Resource).toContain(`arn:aws:dynamodb:us-east-1:123456789012:table/mlops.${stack.name}.card_stats`);
  });

  it("names every table after its stack, so a second stack in the account and region cannot collide", () => {
    const stack = b().spec.stack;
    for (const t of tables()) expect(t.inputs.name).toMatch(new RegExp(`^mlops\\.${stack.name}\\.[a-z_]+$`));
  });

  it("deletes a table before creating its replacement, whose name is the same", () => {
    for (const t of tables()) expect(t.options.deleteBeforeReplace).toBe(true);
  });
});
