import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  amiTypeFor,
  autoscalerTemplateTags,
  awsDefaults,
  awsName,
  bucketLifecycleRules,
  clusterSettings,
  CONTROL_PLANE_LOG_TYPES,
  dynamoTables,
  dynamoTableSettings,
  kubeconfigFor,
  networkLayout,
  nodePoolSettings,
  redisSettings,
  redshiftSettings,
  redshiftUrl,
  trackingDatabaseUrl,
  trackingDbSettings,
} from "../../../components/aws";
import { GPU_TAINT, type StackSpec } from "../../../components/spec";
import { loadAwsStack } from "./fixture";

const dev = loadAwsStack("aws-dev");
const prod = loadAwsStack("aws-prod");
const gpuPool = (stack: StackSpec, name = "gpu-l4") => {
  const pool = stack.nodePools.find((p) => p.name === name);
  if (!pool) throw new Error(`no pool ${name}`);
  return pool;
};

describe("AWS defaults", () => {
  it("protect, retain and deletion-protect in prod only", () => {
    expect(awsDefaults(prod.stack)).toMatchObject({ protect: true, retainOnDelete: true, deletionProtection: true, kmsDeletionWindowDays: 30 });
    expect(awsDefaults(dev.stack)).toMatchObject({ protect: false, retainOnDelete: false, deletionProtection: false, kmsDeletionWindowDays: 7 });
  });

  it("keeps AWS names lower-case, short and starting with a letter", () => {
    expect(awsName("9_Platform--AWS_eks", 12)).toBe("platform-aws");
    expect(awsName("a".repeat(80), 40)).toHaveLength(40);
  });
});

describe("cluster settings", () => {
  it("enable every control-plane log type and KMS encryption of secrets", () => {
    const s = clusterSettings(dev.stack, "c");
    expect(s.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(s.enabledClusterLogTypes).toEqual([...CONTROL_PLANE_LOG_TYPES]);
    expect(s.encryptedResources).toEqual(["secrets"]);
    expect(s.authenticationMode).toBe("API");
  });

  it("prod: private endpoint only; dev: public endpoint limited to the stack's CIDRs", () => {
    expect(clusterSettings(prod.stack, "c")).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false, publicAccessCidrs: [], deletionProtection: true });
    expect(clusterSettings(dev.stack, "c")).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"], deletionProtection: false });
  });

  it("refuses a public endpoint without CIDRs, which AWS would open to the world", () => {
    const stack = { ...prod.stack, cluster: { ...prod.stack.cluster, privateEndpoint: false } };
    expect(() => clusterSettings(stack, "c")).toThrow(/publicAccessCidrs is empty while the API endpoint is public.*set cluster\.privateEndpoint: true/);
  });

  it("writes a kubeconfig that authenticates with `aws eks get-token` and holds no token", () => {
    const text = kubeconfigFor({ clusterName: "prod-eks", endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com", certificateAuthority: "Q0E=", region: "eu-west-1" });
    const config = parse(text);
    expect(config["current-context"]).toBe("prod-eks");
    expect(config.clusters[0].cluster).toEqual({ server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "certificate-authority-data": "Q0E=" });
    const user = config.users[0].user;
    expect(Object.keys(user)).toEqual(["exec"]);
    expect(user.exec.command).toBe("aws");
    expect(user.exec.args).toEqual(["eks", "get-token", "--cluster-name", "prod-eks", "--region", "eu-west-1", "--output", "json"]);
    expect(user.exec.apiVersion).toBe("client.authentication.k8s.io/v1beta1");
  });
});

describe("node pool settings", () => {
  it("GPU pools: NVIDIA AMI, the GPU taint as EKS spells it, the accelerator label, scale from zero", () => {
    const s = nodePoolSettings(gpuPool(dev.stack));
    expect(s.amiType).toBe("AL2023_x86_64_NVIDIA");
    expect(s.taints).toContainEqual({ key: GPU_TAINT.key, value: "present", effect: "NO_SCHEDULE" });
    expect(s.labels["mlops.platform/accelerator"]).toBe("nvidia-l4");
    expect(s.scalingConfig).toEqual({ minSize: 0, maxSize: 2, desiredSize: 0 });
    expect(s.capacityType).toBe("SPOT");
    expect(nodePoolSettings(gpuPool(prod.stack)).capacityType).toBe("ON_DEMAND");
  });

  it("system pools: standard AMI, on-demand, no taint; Graviton machines get the ARM AMI", () => {
    const system = nodePoolSettings(gpuPool(prod.stack, "system"));
    expect(system).toMatchObject({ amiType: "AL2023_x86_64_STANDARD", capacityType: "ON_DEMAND", taints: [], scalingConfig: { minSize: 3, maxSize: 9, desiredSize: 3 } });
    expect(amiTypeFor({ role: "system", machineType: "m7g.large" })).toBe("AL2023_ARM_64_STANDARD");
    expect(amiTypeFor({ role: "gpu", machineType: "g5g.xlarge" })).toBe("AL2023_ARM_64_NVIDIA");
    expect(amiTypeFor({ role: "gpu", machineType: "g5.xlarge" })).toBe("AL2023_x86_64_NVIDIA");
  });

  it("autoscaler template tags describe labels, taints and GPUs so a pool can scale up from zero", () => {
    const tags = autoscalerTemplateTags(gpuPool(prod.stack, "gpu-a100"));
    expect(tags).toEqual({
      "k8s.io/cluster-autoscaler/node-template/label/mlops.platform/pool": "gpu",
      "k8s.io/cluster-autoscaler/node-template/label/mlops.platform/accelerator": "nvidia-tesla-a100",
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "present:NoSchedule",
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "8",
    });
  });
});

describe("store settings", () => {
  it("Redis: TLS required, encrypted at rest, failover and multi-AZ only in prod with replicas", () => {
    const online = (stack: StackSpec) => {
      if (stack.onlineStore.kind !== "redis") throw new Error("redis expected");
      return stack.onlineStore;
    };
    const p = redisSettings(prod.stack, online(prod.stack), "o");
    expect(p).toMatchObject({ transitEncryptionEnabled: true, transitEncryptionMode: "required", atRestEncryptionEnabled: true, automaticFailoverEnabled: true, multiAzEnabled: true, numCacheClusters: 3 });
    expect(p.finalSnapshotIdentifier).toBe("o-aws-prod-final");
    const d = redisSettings(dev.stack, online(dev.stack), "o");
    expect(d).toMatchObject({ automaticFailoverEnabled: false, multiAzEnabled: false, numCacheClusters: 1, finalSnapshotIdentifier: undefined });
    // A multi-AZ stack without replicas cannot fail over, and ElastiCache refuses to pretend it can.
    expect(redisSettings(prod.stack, { ...online(prod.stack), replicas: 0 }, "o").automaticFailoverEnabled).toBe(false);
  });

  it("DynamoDB: one Feast-named table per online feature view, on demand, PITR, TTL", () => {
    const tables = dynamoTables(dev.catalog, "mlops");
    expect(tables.map((t) => t.tableName)).toEqual(["mlops.card_realtime", "mlops.card_stats", "mlops.customer_profile", "mlops.merchant_stats"]);
    expect(tables.find((t) => t.featureView === "card_stats")?.ttlSeconds).toBe(2 * 86400);
    const s = dynamoTableSettings(prod.stack, tables[0] as (typeof tables)[number]);
    expect(s).toEqual({
      name: "mlops.card_realtime",
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
    expect(dynamoTables(catalog, "mlops").map((t) => t.featureView)).not.toContain("card_stats");
  });

  it("Redshift: private, audit-logged, TLS required, named per stack; URL in the services' form", () => {
    if (prod.stack.offlineStore.kind !== "redshift") throw new Error("redshift expected");
    const s = redshiftSettings(prod.stack, prod.stack.offlineStore, "platform-offline");
    expect(s).toMatchObject({ publiclyAccessible: false, enhancedVpcRouting: true, baseCapacity: 32, dbName: "features", workgroupName: "platform-offline-aws-prod-wg" });
    expect(s.logExports).toEqual(["connectionlog", "userlog", "useractivitylog"]);
    expect(s.configParameters).toContainEqual({ parameterKey: "enable_user_activity_logging", parameterValue: "true" });
    expect(s.configParameters).toContainEqual({ parameterKey: "require_ssl", parameterValue: "true" });
    expect(redshiftUrl("wg", "features")).toBe("redshift://wg/features");
  });

  it("RDS: encrypted, private, multi-AZ with deletion protection and a final snapshot in prod", () => {
    expect(trackingDbSettings(prod.stack, "t")).toMatchObject({
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "t-aws-prod-final",
      instanceClass: "db.r6g.large",
    });
    expect(trackingDbSettings(dev.stack, "t")).toMatchObject({ multiAz: false, deletionProtection: false, skipFinalSnapshot: true, instanceClass: "db.t4g.micro" });
  });

  it("the tracking database URL requires TLS and escapes the password", () => {
    expect(trackingDatabaseUrl({ username: "mlflow", password: "a/b@c", host: "db.example", port: 5432, dbName: "mlflow" })).toBe(
      "postgresql://mlflow:a%2Fb%40c@db.example:5432/mlflow?sslmode=require",
    );
  });

  it("the bucket lifecycle expires old versions and prediction logs, longer in prod", () => {
    const rules = bucketLifecycleRules(prod.stack);
    expect(rules.find((r) => r.id === "expire-noncurrent-versions")?.noncurrentVersionExpiration).toEqual({ noncurrentDays: 90 });
    expect(rules.find((r) => r.id === "expire-prediction-logs")).toMatchObject({ filter: { prefix: "predictions/" }, expiration: { days: 90 } });
    expect(bucketLifecycleRules(dev.stack).find((r) => r.id === "expire-prediction-logs")?.expiration).toEqual({ days: 14 });
  });
});

