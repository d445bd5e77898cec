import { beforeAll, describe, expect, it } from "vitest";
import { amiTypeFor, autoscalerTemplateTags, nodePoolSettings } from "../../../components/aws";
import { GPU_TAINT, type StackSpec } from "../../../definition";
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

describe.each(AWS_STACKS)("managed node groups of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const groups = () => b().ofType(NODE_GROUP);

  it("creates a managed node group for the system pool only: GPU pools are Karpenter's (a group at 0 nodes never grew)", () => {
    const pools = b().spec.stack.nodePools;
    expect(groups().map((g) => g.name)).toEqual([`${stackName}-system`]);
    expect(pools.filter((p) => p.role === "gpu").length).toBeGreaterThan(0);
    const group = groups()[0];
    if (!group) throw new Error("no system node group");
    expect(group.inputs.amiType).toBe("AL2023_x86_64_STANDARD");
    expect(group.inputs.capacityType).toBe("ON_DEMAND");
    expect(group.inputs.labels).toMatchObject({ "mlops.platform/pool": "system" });
    expect(
      b()
        .ofType(ASG_TAG)
        .every((t) => !(t.inputs.tag as Inputs).key.includes("nvidia.com/gpu")),
    ).toBe(true);
  });

  it("joins the cluster with the shared node role", () => {
    const role = b().one("aws:iam/role:Role", "-eks-node-role");
    for (const g of groups()) expect(g.inputs.nodeRoleArn).toBe(role.outputs.arn);
  });
});
