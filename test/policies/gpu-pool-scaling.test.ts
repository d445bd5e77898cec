import { describe, expect, it } from "vitest";
import { ec2NodeClass, KARPENTER, karpenterNodePool, karpenterPools } from "../../components/aws/karpenter-settings";
import { nodePoolSettings } from "../../components/gcp/gpu-node-pool";
import { gkeAutoProvisioning, gkeClusterSettings } from "../../components/gcp/gke-cluster";
import type { PlanResource } from "../../components/plan-resource";
import type { StackSpec } from "../../definition";
import { KARPENTER_NODE_POOL, karpenterGpuPool, poolMaxGpus } from "../../policies/gpu";
import { evaluate, platform, policy, type Props, resource } from "./fixtures/resource";

/**
 * GPU pools as the components build them (karpenter-settings.ts, gpu-node-pool.ts, gke-cluster.ts:
 * the objects the plan registers), read by the cost rules and by gpu-pool-can-scale-up, then
 * broken one field at a time.
 */

const stackOf = (name: string, change: (s: StackSpec) => StackSpec = (s) => s): StackSpec => change(platform(name).stack);

/** The Karpenter release, EC2NodeClasses and NodePools of an AWS stack, as components/aws/karpenter.ts registers them. */
function karpenterPlan(stack: StackSpec, edit: (kind: "release" | "class" | "pool", props: Props) => void = () => {}): PlanResource[] {
  const release: Props = { chart: KARPENTER.chart, version: KARPENTER.version, namespace: KARPENTER.namespace };
  edit("release", release);
  const out = [resource("kubernetes:helm.sh/v3:Release", "mlops-karpenter-chart", release)];
  for (const pool of karpenterPools(stack)) {
    const nodeClass = structuredClone(
      ec2NodeClass(stack, pool, { nodeRoleName: "nodes", subnetIds: ["subnet-1"], securityGroupId: "sg-1", tags: {} }),
    ) as Props;
    edit("class", nodeClass);
    out.push(resource("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", `mlops-karpenter-${pool.name}-class`, nodeClass));
    const nodePool = structuredClone(karpenterNodePool(stack, pool)) as Props;
    edit("pool", nodePool);
    out.push(resource(KARPENTER_NODE_POOL, `mlops-karpenter-${pool.name}`, nodePool));
  }
  return out;
}

/** The GPU view of a NodePool object, as the policies build it from the resource's props. */
const viewOf = (object: Props) => karpenterGpuPool({ type: KARPENTER_NODE_POOL, name: "p", urn: "urn:p", props: object }, object);

const run = (name: string, stackName: string, resources: PlanResource[], stack?: StackSpec) =>
  evaluate(resources, stackName, { policies: [policy(name)], stack });

describe("the GPU view of a Karpenter NodePool", () => {
  it("reads GPUs per node, the GPU limit, spot and the taint from the NodePool the component builds", () => {
    const stack = stackOf("aws-prod");
    const views = karpenterPools(stack).map((p) => viewOf(structuredClone(karpenterNodePool(stack, p)) as Props));
    const a100 = views.find((v) => v?.describe === "p4d.24xlarge");
    expect(a100).toMatchObject({ kind: "karpenter-node-pool", gpusPerNode: 8, maxGpus: 8, maxNodes: 1, minNodes: 0, spot: false });
    expect(a100?.taints).toContainEqual({ key: "nvidia.com/gpu", effect: "NO_SCHEDULE" });
    const l4 = views.find((v) => v?.describe === "g6.xlarge");
    expect(l4).toMatchObject({ gpusPerNode: 1, maxGpus: 6, maxNodes: 6 });
    expect(views.reduce((sum, v) => sum + (v ? poolMaxGpus(v) : 0), 0)).toBe(14);
  });

  it("is spot only when the capacity-type requirement allows nothing but spot", () => {
    const stack = stackOf("aws-dev");
    const pool = karpenterPools(stack)[0];
    if (!pool) throw new Error("aws-dev has no GPU pool");
    const object = structuredClone(karpenterNodePool(stack, pool)) as Props;
    const view = () => viewOf(object);
    expect(view()?.spot).toBe(true);
    const capacity = object.spec.template.spec.requirements.find((r: Props) => r.key === "karpenter.sh/capacity-type");
    capacity.values = ["spot", "on-demand"];
    expect(view()?.spot).toBe(false);
    capacity.operator = "NotIn";
    capacity.values = ["on-demand", "reserved"];
    expect(view()?.spot).toBe(true);
    object.spec.template.spec.requirements = object.spec.template.spec.requirements.filter((r: Props) => r !== capacity);
    expect(view()?.spot).toBe(false); // Karpenter's default is on-demand
  });

  it("is unbounded without limits, and not a GPU pool without GPU instance types, limits or accelerator label", () => {
    const stack = stackOf("aws-prod");
    const pool = karpenterPools(stack)[0];
    if (!pool) throw new Error("aws-prod has no GPU pool");
    const object = structuredClone(karpenterNodePool(stack, pool)) as Props;
    delete object.spec.limits;
    expect(viewOf(object)?.maxNodes).toBe(Number.POSITIVE_INFINITY);
    object.spec.template.spec.requirements[0].values = ["m6i.xlarge"];
    object.spec.template.metadata.labels = {};
    expect(viewOf(object)).toBeUndefined();
  });
});

describe("the cost rules over Karpenter NodePools", () => {
  it("pass the NodePools the component builds for aws-dev and aws-prod", () => {
    for (const name of ["aws-dev", "aws-prod"]) {
      for (const rule of ["gpu-pool-tainted", "gpu-pool-spot-in-dev", "gpu-pool-scales-to-zero-in-dev", "gpu-count-within-budget"]) {
        expect(run(rule, name, karpenterPlan(stackOf(name))).violations, `${rule} on ${name}`).toEqual([]);
      }
    }
  });

  it("refuse an untainted NodePool, naming it and the Kubernetes spelling of the fix", () => {
    const plan = karpenterPlan(stackOf("aws-prod"), (kind, p) => {
      if (kind === "pool") p.spec.template.spec.taints = [];
    });
    const { violations } = run("gpu-pool-tainted", "aws-prod", plan);
    expect(violations.map((v) => v.message)).toContain(
      'Karpenter NodePool "mlops-karpenter-gpu-a100" (p4d.24xlarge): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.',
    );
    expect(violations[0]?.fix).toMatch(
      /spec\.template\.spec\.taints: \[\{ key: "nvidia\.com\/gpu", value: "present", effect: "NoSchedule" \}\]/,
    );
  });

  it("refuse an on-demand NodePool in dev", () => {
    const plan = karpenterPlan(stackOf("aws-dev"), (kind, p) => {
      if (kind === "pool")
        for (const r of p.spec.template.spec.requirements) if (r.key === "karpenter.sh/capacity-type") r.values = ["on-demand"];
    });
    const { violations } = run("gpu-pool-spot-in-dev", "aws-dev", plan);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]?.fix).toContain('karpenter.sh/capacity-type In ["spot"]');
  });

  it("count NodePool GPU limits against serving.maxGpus, and refuse a NodePool without limits", () => {
    const over = karpenterPlan(stackOf("aws-prod"), (kind, p) => {
      if (kind === "pool" && p.metadata.name === "gpu-l4") p.spec.limits["nvidia.com/gpu"] = "9";
    });
    expect(run("gpu-count-within-budget", "aws-prod", over).violations.map((v) => v.message)).toEqual([
      "the stack: GPU pools can scale to 17 GPUs (mlops-karpenter-gpu-l4: limit 9, mlops-karpenter-gpu-a100: limit 8), over serving.maxGpus 16.",
    ]);
    const unbounded = karpenterPlan(stackOf("aws-prod"), (kind, p) => {
      if (kind === "pool" && p.metadata.name === "gpu-l4") delete p.spec.limits;
    });
    const messages = run("gpu-count-within-budget", "aws-prod", unbounded).violations.map((v) => v.message);
    expect(messages).toEqual([
      'Karpenter NodePool "mlops-karpenter-gpu-l4" (g6.xlarge): has no limit on its nodes or GPUs, so it can grow past any budget.',
    ]);
  });
});

describe("gpu-pool-can-scale-up", () => {
  const canScale = "gpu-pool-can-scale-up";

  it("passes the Karpenter release, node classes and NodePools the component builds", () => {
    for (const name of ["aws-dev", "aws-prod"]) expect(run(canScale, name, karpenterPlan(stackOf(name))).violations).toEqual([]);
  });

  it("refuses NodePools with no Karpenter controller in the stack", () => {
    const plan = karpenterPlan(stackOf("aws-prod")).filter((r) => !r.type.includes("helm.sh"));
    const messages = run(canScale, "aws-prod", plan).violations.map((v) => v.message);
    expect(messages).toHaveLength(karpenterPools(stackOf("aws-prod")).length);
    expect(messages[0]).toMatch(
      /^Karpenter NodePool "mlops-karpenter-gpu-\w+" \(.+\): has no Karpenter controller in the stack to provision it\.$/,
    );
  });

  it("refuses a NodePool whose EC2NodeClass the stack does not create", () => {
    const plan = karpenterPlan(stackOf("aws-dev"), (kind, p) => {
      if (kind === "class") p.metadata.name = `${p.metadata.name}-renamed`;
    });
    const [v] = run(canScale, "aws-dev", plan).violations;
    expect(v?.message).toContain('refers to EC2NodeClass "gpu-l4", which the stack does not create');
  });

  it("refuses a NodePool whose GPU limit is below one node's GPUs", () => {
    const plan = karpenterPlan(stackOf("aws-prod"), (kind, p) => {
      if (kind === "pool" && p.metadata.name === "gpu-a100") p.spec.limits["nvidia.com/gpu"] = "4";
    });
    expect(run(canScale, "aws-prod", plan).violations.map((v) => v.message)).toEqual([
      'Karpenter NodePool "mlops-karpenter-gpu-a100" (p4d.24xlarge): has limits that allow no node (4 GPUs, under the 8 of its smallest instance type).',
    ]);
  });

  it("refuses an EKS GPU node group at 0 nodes without a cluster-autoscaler, and accepts it with one", () => {
    const group = resource("aws:eks/nodeGroup:NodeGroup", "pool-gpu-l4", {
      instanceTypes: ["g6.xlarge"],
      amiType: "AL2023_x86_64_NVIDIA",
      scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 0 },
      taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }],
    });
    const [v] = run(canScale, "aws-dev", [group]).violations;
    expect(v?.message).toContain("nothing in the stack scales EKS node groups (no cluster-autoscaler)");
    const autoscaler = resource("kubernetes:helm.sh/v3:Release", "ca", { chart: "cluster-autoscaler", version: "9.43.2" });
    expect(run(canScale, "aws-dev", [group, autoscaler]).violations).toEqual([]);
  });

  /** The GKE cluster and node pools of a gcp stack, as gke-cluster.ts and gpu-node-pool.ts build them. */
  function gkePlan(stack: StackSpec, editPool: (p: Props) => void = () => {}): PlanResource[] {
    const cluster = resource("gcp:container/cluster:Cluster", "mlops-gke", {
      ...gkeClusterSettings({ stack, masterIpv4CidrBlock: "172.16.0.0/28" }),
      clusterAutoscaling: gkeAutoProvisioning(stack, "nodes@project.iam.gserviceaccount.com"),
    });
    const pools = stack.nodePools.map((pool) => {
      const settings = structuredClone(nodePoolSettings({ stack, pool })) as Props;
      if (pool.role === "gpu") editPool(settings);
      return resource("gcp:container/nodePool:NodePool", `mlops-${pool.name}-pool`, settings, { dependsOn: [cluster] });
    });
    return [cluster, ...pools];
  }

  it("passes the GKE pools the component builds, and refuses a GPU pool left without autoscaling at 0 nodes", () => {
    const stack = stackOf("gcp-dev");
    expect(run(canScale, "gcp-dev", gkePlan(stack)).violations).toEqual([]);
    const fixedAtZero = (p: Props) => {
      delete p.autoscaling;
      p.initialNodeCount = 0;
    };
    const [v] = run(canScale, "gcp-dev", gkePlan(stack, fixedAtZero)).violations;
    expect(v?.message).toMatch(
      /^GKE node pool "mlops-gpu-l4-pool" \(nvidia-l4 x1\): can never get a node: no autoscaling above 0 nodes and its cluster cannot auto-provision nvidia-l4\.$/,
    );
    expect(v?.fix).toContain("cluster.autoProvisioning.gpus");
  });

  it("accepts a GKE GPU pool at 0 nodes when the cluster auto-provisions its GPU", () => {
    const stack = stackOf("gcp-dev", (s) => ({
      ...s,
      cluster: { ...s.cluster, autoProvisioning: { maxCpu: 64, maxMemoryGb: 256, gpus: { "nvidia-l4": 2 } } },
    }));
    const fixedAtZero = (p: Props) => {
      delete p.autoscaling;
      p.initialNodeCount = 0;
    };
    expect(run(canScale, "gcp-dev", gkePlan(stack, fixedAtZero), stack).violations).toEqual([]);
  });
});
