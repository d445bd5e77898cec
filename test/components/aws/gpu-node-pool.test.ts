import { beforeAll, describe, expect, it } from "vitest";
import { amiTypeFor, autoscalerTemplateTags, nodePoolSettings } from "../../../components/aws";
import { ACCELERATOR_LABEL, GPU_TAINT, type StackSpec } from "../../../definition";
import { useMocks } from "../../support/mocks";
import { AWS_STACKS, type AwsStackName, awsStacks, type BuiltFoundation, buildFoundations, type Inputs, loadAwsStack } from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-pools", { region: "us-east-1" });
  built = await buildFoundations(mocks, awsStacks());
  expect(mocks.unknownInvokes).toEqual([]);
});

const dev = loadAwsStack("aws-dev");
const prod = loadAwsStack("aws-prod");
const gpuPool = (stack: StackSpec, name = "gpu-l4") => {
  const pool = stack.nodePools.find((p) => p.name === name);
  if (!pool) throw new Error(`no pool ${name}`);
  return pool;
};
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const ASG_TAG = "aws:autoscaling/tag:Tag";

describe("node pool settings (pure)", () => {
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
    expect(system).toMatchObject({
      amiType: "AL2023_x86_64_STANDARD",
      capacityType: "ON_DEMAND",
      taints: [],
      scalingConfig: { minSize: 3, maxSize: 9, desiredSize: 3 },
    });
    expect(amiTypeFor({ role: "system", machineType: "m7g.large" })).toBe("AL2023_ARM_64_STANDARD");
    expect(amiTypeFor({ role: "gpu", machineType: "g5g.xlarge" })).toBe("AL2023_ARM_64_NVIDIA");
    expect(amiTypeFor({ role: "gpu", machineType: "g5.xlarge" })).toBe("AL2023_x86_64_NVIDIA");
  });

  it("autoscaler template tags describe labels, taints and GPUs so a pool can scale up from zero", () => {
    const tags = autoscalerTemplateTags(gpuPool(prod.stack, "gpu-a100"));
    expect(tags).toEqual({
      "k8s.io/cluster-autoscaler/node-template/label/mlops.platform/pool": "gpu",
      "k8s.io/cluster-autoscaler/node-template/label/mlops.platform/accelerator": "nvidia-tesla-a100",
      // Whole GPUs: versions that ask for a plain gpu select this label (never a time-sliced or MIG pool).
      "k8s.io/cluster-autoscaler/node-template/label/mlops.platform/gpu-sharing": "exclusive",
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "present:NoSchedule",
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "8",
    });
  });
});

describe.each(AWS_STACKS)("node pools of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "aws-prod";
  const group = (pool: string) => b().one(NODE_GROUP, `-${pool}`);
  const gpuPools = () => b().spec.stack.nodePools.filter((p) => p.role === "gpu");

  it("creates one managed node group per pool of the stack", () => {
    expect(
      b()
        .ofType(NODE_GROUP)
        .map((g) => g.name),
    ).toEqual(b().spec.stack.nodePools.map((p) => `${stackName}-${p.name}`));
  });

  it("taints GPU pools nvidia.com/gpu=present:NoSchedule so only GPU pods land there", () => {
    for (const pool of gpuPools())
      expect(group(pool.name).inputs.taints).toEqual([{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]);
  });

  it("labels GPU pools with their accelerator and role", () => {
    for (const pool of gpuPools()) {
      const labels = group(pool.name).inputs.labels as Inputs;
      expect(labels[ACCELERATOR_LABEL]).toBe(pool.accelerator?.type);
      expect(labels["mlops.platform/pool"]).toBe("gpu");
    }
    expect((group("gpu-l4").inputs.labels as Inputs)[ACCELERATOR_LABEL]).toBe("nvidia-l4");
  });

  it("lets GPU pools scale to zero, starting at their minimum", () => {
    for (const pool of gpuPools())
      expect(group(pool.name).inputs.scalingConfig).toEqual({ minSize: 0, maxSize: pool.maxSize, desiredSize: 0 });
  });

  it(prod ? "runs GPU pools on demand in prod" : "runs GPU pools on spot capacity in dev", () => {
    for (const pool of gpuPools()) expect(group(pool.name).inputs.capacityType).toBe(prod ? "ON_DEMAND" : "SPOT");
  });

  it("boots GPU nodes from the AL2023 NVIDIA AMI and system nodes from the standard one", () => {
    for (const pool of gpuPools()) expect(group(pool.name).inputs.amiType).toBe("AL2023_x86_64_NVIDIA");
    const system = group("system").inputs;
    expect(system.amiType).toBe("AL2023_x86_64_STANDARD");
    expect(system.capacityType).toBe("ON_DEMAND");
    expect(system.taints ?? []).toEqual([]);
    expect(system.diskSize).toBe(100);
    expect(system.instanceTypes).toEqual([prod ? "m6i.xlarge" : "m6i.large"]);
  });

  it("joins the cluster with the shared node role", () => {
    const cluster = b().ofType("aws:eks/cluster:Cluster")[0];
    const role = b().one("aws:iam/role:Role", "-eks-node-role");
    for (const g of b().ofType(NODE_GROUP)) {
      expect(g.inputs.clusterName).toBe(cluster?.outputs.name);
      expect(g.inputs.nodeRoleArn).toBe(role.outputs.arn);
      expect(g.inputs.version).toBe("1.31");
    }
  });

  it("tags each GPU pool's Auto Scaling group so the autoscaler can scale it up from zero", () => {
    for (const pool of gpuPools()) {
      const g = group(pool.name);
      const asg = ((g.outputs.resources as Inputs[])[0] as Inputs).autoscalingGroups[0].name;
      const tags = b()
        .ofType(ASG_TAG)
        .filter((t) => t.inputs.autoscalingGroupName === asg)
        .map((t) => t.inputs.tag as Inputs);
      expect(tags).toContainEqual({
        key: "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu",
        value: "present:NoSchedule",
        propagateAtLaunch: false,
      });
      expect(tags).toContainEqual({
        key: `k8s.io/cluster-autoscaler/node-template/label/${ACCELERATOR_LABEL}`,
        value: pool.accelerator?.type,
        propagateAtLaunch: false,
      });
      expect(tags).toContainEqual({
        key: "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu",
        value: String(pool.accelerator?.count),
        propagateAtLaunch: false,
      });
      // The node group carries the same tags, so they are visible where people look first.
      expect((g.inputs.tags as Inputs)["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"]).toBe("present:NoSchedule");
    }
  });
});
