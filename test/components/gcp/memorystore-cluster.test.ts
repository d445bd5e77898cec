import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CLUSTER_CONNECT_ROLE,
  clusterCondition,
  clusterNodeType,
  clusterUrl,
  GcpFoundation,
  MEMORYSTORE_SERVICE_CLASS,
  memorystoreClusterSettings,
} from "../../../components/gcp";
import type { PlanResource } from "../../../components/plan-resource";
import type { StackSpec } from "../../../definition";
import { recorded, useMocks, valueOf } from "../../support/mocks";
import { loadGcpStack } from "./fixture";

/** gcp-prod / gcp-dev as their stack files say, with `onlineStore.shards` set. */
function sharded(name: "gcp-dev" | "gcp-prod", shards = 3): { stack: StackSpec; catalog: ReturnType<typeof loadGcpStack>["catalog"] } {
  const spec = loadGcpStack(name);
  const online = spec.stack.onlineStore;
  if (online.kind !== "redis") throw new Error(`${name}: redis expected`);
  return { stack: { ...spec.stack, onlineStore: { ...online, shards } }, catalog: spec.catalog };
}

// biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
type Inputs = Record<string, any>;
const CLUSTER = "gcp:redis/cluster:Cluster";
const POLICY = "gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy";

describe("clusterNodeType", () => {
  it("picks the smallest node that holds one shard's share of the memory", () => {
    expect(clusterNodeType(3, 3, false)).toBe("REDIS_SHARED_CORE_NANO");
    expect(clusterNodeType(5, 3, false)).toBe("REDIS_STANDARD_SMALL");
    expect(clusterNodeType(30, 3, false)).toBe("REDIS_HIGHMEM_MEDIUM");
    expect(clusterNodeType(150, 3, false)).toBe("REDIS_HIGHMEM_XLARGE");
  });

  it("never puts prod on shared-core nodes", () => {
    expect(clusterNodeType(1, 3, true)).toBe("REDIS_STANDARD_SMALL");
  });

  it("refuses a shard no node can hold, naming memorySizeGb and the shards that would fit", () => {
    try {
      clusterNodeType(300, 3, true);
      expect.unreachable("300 GB over 3 shards fits no node");
    } catch (error) {
      const { errors } = error as pulumi.InputPropertiesError;
      expect(errors?.[0]?.propertyPath).toBe("onlineStore.memorySizeGb");
      expect(errors?.[0]?.reason).toContain("raise onlineStore.shards to 6");
    }
  });
});

describe("memorystoreClusterSettings", () => {
  it("prod: IAM auth, TLS with server authentication, a replica per shard across zones, daily RDB, deletion protection", () => {
    expect(memorystoreClusterSettings(sharded("gcp-prod").stack)).toEqual({
      region: "europe-west4",
      shardCount: 3,
      replicaCount: 1,
      nodeType: "REDIS_STANDARD_SMALL",
      authorizationMode: "AUTH_MODE_IAM_AUTH",
      transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
      zoneDistributionConfig: { mode: "MULTI_ZONE" },
      persistenceConfig: { mode: "RDB", rdbConfig: { rdbSnapshotPeriod: "TWENTY_FOUR_HOURS" } },
      maintenancePolicy: { weeklyMaintenanceWindows: [{ day: "SUNDAY", startTime: { hours: 3, minutes: 0 } }] },
      deletionProtectionEnabled: true,
      labels: expect.objectContaining({ environment: "prod" }),
    });
  });

  it("dev: no replicas, no persistence, deletable, still IAM auth and TLS", () => {
    expect(memorystoreClusterSettings(sharded("gcp-dev", 2).stack)).toMatchObject({
      shardCount: 2,
      replicaCount: 0,
      nodeType: "REDIS_SHARED_CORE_NANO",
      authorizationMode: "AUTH_MODE_IAM_AUTH",
      transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
      persistenceConfig: { mode: "DISABLED" },
      deletionProtectionEnabled: false,
    });
  });
});

describe("the features service's view of a cluster", () => {
  it("connects to the discovery endpoint over TLS as a cluster, with IAM tokens", () => {
    expect(clusterUrl({ address: "10.40.0.17", port: 6379 })).toBe("rediss+cluster://10.40.0.17:6379?auth=gcp-iam");
    expect(() => clusterUrl({})).toThrow(/no discovery endpoint/);
  });

  it("limits the connect role to the one cluster", () => {
    expect(clusterCondition("projects/p/locations/r/clusters/c").expression).toBe('resource.name == "projects/p/locations/r/clusters/c"');
  });
});

describe("GcpFoundation with onlineStore.shards (gcp-prod)", () => {
  let resources: PlanResource[];
  let foundation: GcpFoundation;
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const only = (type: string) => {
    const found = ofType(type);
    expect(found).toHaveLength(1);
    return found[0] as PlanResource;
  };
  beforeAll(async () => {
    const mocks = await useMocks("gcp-cluster", { region: "europe-west4", gcpProject: "mlops-prod-7730" });
    const { stack, catalog } = sharded("gcp-prod");
    foundation = new GcpFoundation("sharded", { stack, catalog });
    resources = (await recorded(mocks)).filter((r) => r.name.startsWith("sharded"));
  });

  it("creates a Memorystore Cluster instead of an instance, with the spec's shards and replicas", () => {
    expect(ofType("gcp:redis/instance:Instance")).toEqual([]);
    const cluster = only(CLUSTER).inputs as Inputs;
    expect(cluster).toMatchObject({
      project: "mlops-prod-7730",
      region: "europe-west4",
      shardCount: 3,
      replicaCount: 1,
      authorizationMode: "AUTH_MODE_IAM_AUTH",
      transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
      deletionProtectionEnabled: true,
    });
    expect(only(CLUSTER).options.protect).toBe(true);
  });

  it("reaches the cluster through Private Service Connect on the stack's network and subnetwork", () => {
    const network = only("gcp:compute/network:Network");
    const subnet = only("gcp:compute/subnetwork:Subnetwork");
    const policy = only(POLICY);
    expect(policy.inputs).toMatchObject({
      location: "europe-west4",
      serviceClass: MEMORYSTORE_SERVICE_CLASS,
      network: network.outputs.id,
      pscConfig: { subnetworks: [subnet.outputs.id] },
    });
    const cluster = only(CLUSTER);
    expect((cluster.inputs as Inputs).pscConfigs).toEqual([{ network: network.outputs.id }]);
    // Memorystore refuses to create the cluster before the policy exists.
    expect(cluster.options.dependsOn).toContain(policy.urn);
  });

  it("lets only the features service account connect, and only to this cluster", () => {
    const grants = ofType("gcp:projects/iAMMember:IAMMember").filter((r) => (r.inputs as Inputs).role === CLUSTER_CONNECT_ROLE);
    expect(grants).toHaveLength(1);
    const grant = (grants[0] as PlanResource).inputs as Inputs;
    const features = ofType("gcp:serviceaccount/account:Account").find((r) => r.name === "sharded-identity-features");
    expect(grant.member).toBe(`serviceAccount:${features?.outputs.email}`);
    expect(grant.condition.expression).toBe(`resource.name == "${only(CLUSTER).outputs.id}"`);
  });

  it("enables the APIs Private Service Connect needs", () => {
    const apis = ofType("gcp:projects/service:Service").map((r) => (r.inputs as Inputs).service);
    expect(apis).toEqual(expect.arrayContaining(["networkconnectivity.googleapis.com", "serviceconsumermanagement.googleapis.com"]));
  });

  it("hands the features service a rediss+cluster:// URL with IAM auth, no password, and the managed server CA", async () => {
    const endpoint = (only(CLUSTER).outputs as Inputs).discoveryEndpoints[0];
    const online = foundation.online;
    expect(await valueOf(online.url)).toBe(`rediss+cluster://${endpoint.address}:${endpoint.port}?auth=gcp-iam`);
    expect(online.password).toBeUndefined();
    const ca = await valueOf(online.caCertificate as pulumi.Output<string>);
    expect(ca.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});
