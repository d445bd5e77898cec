import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  artifactBucketSettings,
  cloudSqlSettings,
  datasetSettings,
  GKE_ACCELERATORS,
  gcpTarget,
  gkeClusterSettings,
  gkeKubeconfig,
  kmsKeySettings,
  memorystoreSettings,
  memorystoreVersion,
  networkSettings,
  nodePoolSettings,
  pickZones,
  postgresUrl,
  prefixCondition,
  serviceAccountId,
  WORKLOAD_GRANTS,
  workloadIdentityMember,
} from "../../../components/gcp";
import { WORKLOADS, workloadServiceAccount } from "../../../components/names";
import type { NodePoolSpec, StackSpec } from "../../../definition";
import { loadGcpStack } from "./fixture";

const dev = loadGcpStack("gcp-dev").stack;
const prod = loadGcpStack("gcp-prod").stack;
const gpuPool = (stack: StackSpec) => stack.nodePools.find((p) => p.role === "gpu") as NodePoolSpec;
const systemPool = (stack: StackSpec) => stack.nodePools.find((p) => p.role === "system") as NodePoolSpec;

/** The InputPropertiesError a settings function throws, for assertions on its details. */
function propertyErrors(fn: () => unknown): { message: string; errors: { propertyPath: string; reason: string }[] } {
  try {
    fn();
  } catch (error) {
    expect(pulumi.InputPropertiesError.isInstance(error)).toBe(true);
    return error as pulumi.InputPropertiesError;
  }
  throw new Error("expected an InputPropertiesError");
}

describe("gcpTarget", () => {
  it("resolves project, region and the team/environment/cost-centre labels of a stack", () => {
    expect(gcpTarget(prod)).toEqual({
      project: "mlops-prod-7730",
      region: "europe-west4",
      prod: true,
      labels: { team: "ml-platform", cost_center: "cc-ml-1001", environment: "prod", "managed-by": "pulumi", stack: "gcp-prod" },
    });
  });

  it("refuses a non-gcp stack and a stack without a project, naming both problems", () => {
    const err = propertyErrors(() => gcpTarget({ ...dev, cloud: "aws", project: undefined }));
    expect(err.errors.map((e) => e.propertyPath)).toEqual(["stack.cloud", "stack.project"]);
    expect(err.errors[1]?.reason).toContain("set project: <your GCP project id>");
  });
});

describe("serviceAccountId", () => {
  it("joins prefix and role when the result fits", () => {
    expect(serviceAccountId("mlops-gcp-prod", "tracking")).toBe("mlops-gcp-prod-tracking");
  });

  it("always yields an id GCP accepts (6-30 chars, starts with a letter, ends with a letter or digit)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 30 }), (prefix, role) => {
        expect(serviceAccountId(prefix, role)).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
      }),
    );
  });

  it("keeps long ids of different stacks apart with a hash", () => {
    const a = serviceAccountId("mlops-a-very-long-stack-name-one", "features");
    const b = serviceAccountId("mlops-a-very-long-stack-name-two", "features");
    expect(a).toHaveLength(30);
    expect(a).not.toBe(b);
  });
});

describe("networkSettings", () => {
  it("carves pods and services secondary ranges from the spec and keeps Google API access private", () => {
    const s = networkSettings({ stack: prod });
    expect(s.subnet.ipCidrRange).toBe("10.40.0.0/20");
    expect(s.subnet.secondaryIpRanges).toEqual([
      { rangeName: "pods", ipCidrRange: "10.72.0.0/14" },
      { rangeName: "services", ipCidrRange: "10.76.0.0/20" },
    ]);
    expect(s.subnet.privateIpGoogleAccess).toBe(true);
    expect(s.privateServices).toEqual({ purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 20 });
  });

  it("samples flow logs less in dev, where they are mostly cost", () => {
    expect(networkSettings({ stack: dev }).subnet.logConfig.flowSampling).toBe(0.1);
    expect(networkSettings({ stack: prod }).subnet.logConfig.flowSampling).toBe(0.5);
  });

  it("takes another control-plane range, and refuses one that is not a /28", () => {
    expect(networkSettings({ stack: dev, masterIpv4CidrBlock: "192.168.100.0/28" }).masterIpv4CidrBlock).toBe("192.168.100.0/28");
    const err = propertyErrors(() => networkSettings({ stack: dev, masterIpv4CidrBlock: "172.16.0.0/24" }));
    expect(err.errors[0]).toEqual({
      propertyPath: "masterIpv4CidrBlock",
      reason: '"172.16.0.0/24" must be a /28 CIDR, e.g. 172.16.0.0/28',
    });
  });
});

describe("gkeClusterSettings", () => {
  it("opens a dev endpoint only to the listed CIDRs", () => {
    const s = gkeClusterSettings({
      stack: { ...dev, cluster: { ...dev.cluster, publicAccessCidrs: ["198.51.100.0/24", "203.0.113.7/32"] } },
      masterIpv4CidrBlock: "172.16.0.0/28",
    });
    expect(s.privateClusterConfig.enablePrivateEndpoint).toBe(false);
    expect(s.masterAuthorizedNetworksConfig.cidrBlocks).toEqual([
      { cidrBlock: "198.51.100.0/24", displayName: "allowed-0" },
      { cidrBlock: "203.0.113.7/32", displayName: "allowed-1" },
    ]);
  });

  it("makes a prod endpoint private with no external CIDR and deletion protection", () => {
    const s = gkeClusterSettings({ stack: prod, masterIpv4CidrBlock: "172.16.0.0/28" });
    expect(s.privateClusterConfig).toEqual({
      enablePrivateNodes: true,
      enablePrivateEndpoint: true,
      masterIpv4CidrBlock: "172.16.0.0/28",
      masterGlobalAccessConfig: { enabled: false },
    });
    expect(s.masterAuthorizedNetworksConfig.cidrBlocks).toEqual([]);
    expect(s.deletionProtection).toBe(true);
    expect(s.workloadIdentityConfig.workloadPool).toBe("mlops-prod-7730.svc.id.goog");
  });
});

describe("gkeKubeconfig", () => {
  it("holds no credential and execs gke-gcloud-auth-plugin", () => {
    const config = parse(gkeKubeconfig({ context: "gke_p_r_c", endpoint: "10.0.0.2", caCertificate: "Q0E=" }));
    expect(config.clusters).toEqual([{ name: "gke_p_r_c", cluster: { "certificate-authority-data": "Q0E=", server: "https://10.0.0.2" } }]);
    expect(config.contexts[0].context).toEqual({ cluster: "gke_p_r_c", user: "gke_p_r_c" });
    expect(config.users[0].user.exec).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "gke-gcloud-auth-plugin",
      provideClusterInfo: true,
    });
    expect(Object.keys(config.users[0].user)).toEqual(["exec"]);
  });
});

describe("nodePoolSettings", () => {
  it("maps the spec's pool bounds to GKE's totals and spreads the initial nodes over the zones", () => {
    const pool = { ...systemPool(prod), minSize: 5, maxSize: 12 };
    const s = nodePoolSettings({ stack: prod, pool }, 3);
    expect(s.autoscaling).toEqual({ totalMinNodeCount: 5, totalMaxNodeCount: 12, locationPolicy: "BALANCED" });
    expect(s.initialNodeCount).toBe(2);
  });

  it("maps every Kubernetes taint effect to the GKE spelling", () => {
    const pool: NodePoolSpec = {
      ...gpuPool(dev),
      taints: [
        { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" },
        { key: "team", value: "research", effect: "PreferNoSchedule" },
        { key: "drain", value: "", effect: "NoExecute" },
      ],
    };
    expect(nodePoolSettings({ stack: dev, pool }).nodeConfig.taints.map((t) => t.effect)).toEqual([
      "NO_SCHEDULE",
      "PREFER_NO_SCHEDULE",
      "NO_EXECUTE",
    ]);
  });

  it("gives multi-GPU pools every GPU of the machine", () => {
    const pool: NodePoolSpec = { ...gpuPool(prod), machineType: "a3-highgpu-8g", accelerator: { type: "nvidia-h100-80gb", count: 8 } };
    expect(nodePoolSettings({ stack: prod, pool }).nodeConfig.guestAccelerators).toEqual([
      { type: "nvidia-h100-80gb", count: 8, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } },
    ]);
  });

  it("refuses an accelerator GCP does not offer, naming the pool and the ones it does", () => {
    const pool: NodePoolSpec = { ...gpuPool(dev), accelerator: { type: "nvidia-a10g", count: 1 } };
    const err = propertyErrors(() => nodePoolSettings({ stack: dev, pool }));
    expect(err.message).toContain('node pool "gpu-l4"');
    expect(err.errors[0]?.propertyPath).toBe("nodePools.gpu-l4.accelerator.type");
    expect(err.errors[0]?.reason).toContain('"nvidia-a10g" is not offered on GCP; use one of nvidia-tesla-t4, nvidia-l4');
    expect(Object.values(GKE_ACCELERATORS).filter(Boolean)).toHaveLength(5);
  });

  it("lets a spot system pool take any zone with capacity", () => {
    expect(nodePoolSettings({ stack: dev, pool: { ...systemPool(dev), spot: true } }).autoscaling.locationPolicy).toBe("ANY");
  });
});

describe("pickZones", () => {
  it("takes the first zones by name so pools land in the same zones on every run", () => {
    expect(pickZones(["r-c", "r-a", "r-f", "r-b"], 2)).toEqual(["r-a", "r-b"]);
    expect(pickZones(["r-b"], 3)).toEqual(["r-b"]);
  });
});

describe("kmsKeySettings", () => {
  it("rotates every 90 days by default and takes shorter periods", () => {
    expect(kmsKeySettings({ stack: dev, protects: "x" }).rotationPeriod).toBe("7776000s");
    expect(kmsKeySettings({ stack: dev, protects: "x", rotationDays: 30 }).rotationPeriod).toBe("2592000s");
  });

  it("refuses rotation periods longer than 90 days", () => {
    expect(propertyErrors(() => kmsKeySettings({ stack: dev, protects: "x", rotationDays: 365 })).errors[0]?.propertyPath).toBe(
      "rotationDays",
    );
  });
});

describe("memorystore", () => {
  it("maps Redis engine versions to Memorystore's", () => {
    expect(memorystoreVersion("7.1")).toBe("REDIS_7_2");
    expect(memorystoreVersion("7.2")).toBe("REDIS_7_2");
    expect(memorystoreVersion("7.0")).toBe("REDIS_7_0");
    expect(memorystoreVersion("6.2")).toBe("REDIS_6_X");
    expect(propertyErrors(() => memorystoreVersion("5.0")).errors[0]?.reason).toBe(
      '"5.0" has no Memorystore counterpart; use 7.2, 7.0 or 6.x',
    );
  });

  it("is highly available and persistent in prod, a cheap single node in dev", () => {
    expect(memorystoreSettings(prod)).toMatchObject({
      tier: "STANDARD_HA",
      persistenceConfig: { persistenceMode: "RDB" },
      deletionProtection: true,
    });
    expect(memorystoreSettings(dev)).toMatchObject({
      tier: "BASIC",
      persistenceConfig: { persistenceMode: "DISABLED" },
      deletionProtection: false,
      memorySizeGb: 1,
    });
  });

  it("refuses an online store GCP cannot provide", () => {
    expect(propertyErrors(() => memorystoreSettings({ ...dev, onlineStore: { kind: "dynamodb" } })).errors[0]?.propertyPath).toBe(
      "onlineStore.kind",
    );
  });
});

describe("datasetSettings", () => {
  it("places the dataset where the spec says, defaulting to the region", () => {
    expect(datasetSettings(dev)).toMatchObject({ datasetId: "features", location: "us-central1", deleteContentsOnDestroy: false });
    expect(datasetSettings({ ...dev, offlineStore: { kind: "bigquery", location: "US", dataset: "fs" } })).toMatchObject({
      datasetId: "fs",
      location: "US",
    });
    expect(propertyErrors(() => datasetSettings({ ...dev, offlineStore: { kind: "duckdb", path: "/x" } })).errors[0]?.propertyPath).toBe(
      "offlineStore.kind",
    );
  });
});

describe("artifactBucketSettings", () => {
  it("takes retention overrides", () => {
    const s = artifactBucketSettings({ stack: prod, predictionLogDays: 400, noncurrentVersionDays: 10 });
    expect(s.lifecycleRules[0]?.condition).toEqual({ daysSinceNoncurrentTime: 10 });
    expect(s.lifecycleRules[1]?.condition).toEqual({ age: 400, matchesPrefixes: ["predictions/"] });
    // Sharded materialization exports go after a week, whatever the other retentions.
    expect(s.lifecycleRules[2]).toEqual({ action: { type: "Delete" }, condition: { age: 7, matchesPrefixes: ["materialization/"] } });
    expect(s.forceDestroy).toBe(false);
  });
});

describe("cloudSqlSettings and postgresUrl", () => {
  it("keeps fewer backups in dev and takes another PostgreSQL version", () => {
    const s = cloudSqlSettings({ stack: dev, databaseVersion: "POSTGRES_17" });
    expect(s.databaseVersion).toBe("POSTGRES_17");
    expect(s.settings.backupConfiguration.backupRetentionSettings).toEqual({ retainedBackups: 7, retentionUnit: "COUNT" });
    expect(cloudSqlSettings({ stack: prod }).settings.backupConfiguration.backupRetentionSettings.retainedBackups).toBe(30);
  });

  it("escapes credentials in the URL and requires TLS", () => {
    expect(postgresUrl({ user: "ml flow", password: "p@ss/w:rd", host: "10.0.0.3", database: "mlflow" })).toBe(
      "postgresql://ml%20flow:p%40ss%2Fw%3Ard@10.0.0.3:5432/mlflow?sslmode=require",
    );
  });
});

describe("workload identity", () => {
  it("names the Kubernetes ServiceAccount of each workload in its namespace", () => {
    expect(workloadServiceAccount("serving", dev)).toEqual({ namespace: "models", name: "serving" });
    expect(workloadServiceAccount("features", dev)).toEqual({ namespace: "mlops", name: "features" });
    expect(workloadIdentityMember("p-1", "mlops", "features")).toBe("serviceAccount:p-1.svc.id.goog[mlops/features]");
  });

  it("grants every workload something, and never a basic or admin-of-everything role", () => {
    for (const workload of WORKLOADS) {
      expect(WORKLOAD_GRANTS[workload].length).toBeGreaterThan(0);
      for (const grant of WORKLOAD_GRANTS[workload])
        expect(grant.role).not.toMatch(/^roles\/(owner|editor|viewer|storage\.admin|bigquery\.admin)$/);
    }
  });

  it("conditions bucket roles on the object prefix, and on list calls restricted to it", () => {
    expect(prefixCondition("b1", "predictions/")).toEqual({
      title: "only-predictions",
      description: "Objects under gs://b1/predictions/ only",
      expression:
        'resource.name.startsWith("projects/_/buckets/b1/objects/predictions/") || api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("predictions/")',
    });
  });
});
