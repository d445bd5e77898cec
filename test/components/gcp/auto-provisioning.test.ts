import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { GkeCluster, gkeAutoProvisioning } from "../../../components/gcp/gke-cluster";
import type { StackSpec } from "../../../definition";
import { useMocks } from "../../support/mocks";
import { type BuiltFoundation, buildGcpFoundations, type GcpStackName, loadGcpStack } from "./fixture";

const SA = "nodes@mlops-prod-7730.iam.gserviceaccount.com";

function withNap(stack: StackSpec, autoProvisioning: StackSpec["cluster"]["autoProvisioning"]): StackSpec {
  return { ...stack, cluster: { ...stack.cluster, autoProvisioning } };
}

describe("GKE node auto-provisioning settings", () => {
  it("are absent when the stack does not ask for them", () => {
    expect(gkeAutoProvisioning(loadGcpStack("gcp-dev").stack, SA)).toBeUndefined();
  });

  it("cap cpu, memory and each GPU type cluster-wide, the pools' GPUs included, with hardened defaults", () => {
    const nap = gkeAutoProvisioning(loadGcpStack("gcp-prod").stack, SA);
    expect(nap).toEqual({
      enabled: true,
      autoscalingProfile: "BALANCED",
      resourceLimits: [
        { resourceType: "cpu", minimum: 0, maximum: 128 },
        { resourceType: "memory", minimum: 0, maximum: 512 },
        // The gpu-l4 pool's 6 x 1 plus the 2 the stack lets auto-provisioning add.
        { resourceType: "nvidia-l4", minimum: 0, maximum: 8 },
      ],
      autoProvisioningDefaults: {
        serviceAccount: SA,
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        imageType: "COS_CONTAINERD",
        diskType: "pd-balanced",
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        management: { autoRepair: true, autoUpgrade: true },
        upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
      },
    });
  });

  it("give a GPU type no pool has only what the stack allows, and dev the utilisation profile", () => {
    const stack = withNap(loadGcpStack("gcp-dev").stack, { maxCpu: 32, maxMemoryGb: 128, gpus: { "nvidia-tesla-t4": 1 } });
    const nap = gkeAutoProvisioning(stack, SA);
    expect(nap?.autoscalingProfile).toBe("OPTIMIZE_UTILIZATION");
    expect(nap?.resourceLimits.filter((l) => l.resourceType.startsWith("nvidia-"))).toEqual([
      { resourceType: "nvidia-l4", minimum: 0, maximum: stack.nodePools.find((p) => p.name === "gpu-l4")?.maxSize },
      { resourceType: "nvidia-tesla-t4", minimum: 0, maximum: 1 },
    ]);
  });

  it("refuse an accelerator GKE does not offer", () => {
    const stack = withNap(loadGcpStack("gcp-dev").stack, { maxCpu: 32, maxMemoryGb: 128, gpus: { "nvidia-a10g": 1 } });
    expect(() => gkeAutoProvisioning(stack, SA)).toThrow('cluster.autoProvisioning.gpus: "nvidia-a10g" is not offered on GKE');
  });
});

describe("the GKE cluster with node auto-provisioning", () => {
  let built: Record<GcpStackName, BuiltFoundation>;
  beforeAll(async () => {
    const mocks = await useMocks("gcp-nap", { region: "europe-west4", gcpProject: "mlops-prod-7730" });
    built = await buildGcpFoundations(mocks);
  });

  it("gets clusterAutoscaling from the stack, its nodes running as the stack's node service account", () => {
    const b = built["gcp-prod"];
    const email = b.one("gcp:serviceaccount/account:Account", "-nodes-sa").outputs.email as string;
    expect(email).toMatch(/@/);
    const cluster = b.ofType("gcp:container/cluster:Cluster")[0];
    expect(cluster?.inputs.clusterAutoscaling).toEqual(gkeAutoProvisioning(b.spec.stack, email));
  });

  it("is left without it on a stack that does not ask (gcp-dev)", () => {
    expect(built["gcp-dev"].ofType("gcp:container/cluster:Cluster")[0]?.inputs.clusterAutoscaling).toBeUndefined();
  });

  it("is refused without a node service account to run NAP's nodes as", () => {
    const stack = loadGcpStack("gcp-prod").stack;
    expect(
      () =>
        new GkeCluster("no-sa", {
          stack,
          project: pulumi.output(stack.project ?? ""),
          networkId: "n",
          subnetId: "s",
          masterIpv4CidrBlock: "172.16.0.0/28",
        }),
    ).toThrow("GkeCluster no-sa: cluster.autoProvisioning needs nodeServiceAccountEmail");
  });
});
