import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { changed, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The GPU pool rules (policies/gpu.ts's views, read by policies/cost.ts's four GPU rules and by
 * gpu-pool-can-scale-up) over aws-dev's real plan, broken one way at a time, each case asserting
 * the whole list of one policy's violations (message and fix). aws-dev: a Karpenter NodePool
 * "gpu-l4" (g6.xlarge, spot, limit 2 GPUs) with its EC2NodeClass and the Karpenter Helm release,
 * an on-demand EKS system node group (m6i.large, 1..3 nodes), serving.maxGpus 4.
 */

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const RELEASE = "kubernetes:helm.sh/v3:Release";

const resources = realPlan("aws-dev");

const run = (all: PlanResource[], name: string) => violationsOf(all, "aws-dev", name);

const KARPENTER_POOL = 'Karpenter NodePool "mlops-aws-addons-karpenter-gpu-l4"';
const GROUP = 'EKS node group "mlops-aws-system"';
const GPU_TAINT = [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }];

/** The plan with the GPU NodePool changed. */
const pool = (change: (r: Props) => void) => withBreakage(resources, { type: NODE_POOL, change });
/** The NodePool's pod-template spec (requirements, taints, nodeClassRef). */
const template = (change: (spec: Props) => void) => pool((r) => change(r.spec.template.spec));
const instanceTypes = (spec: Props): Props => spec.requirements.find((q: Props) => q.key === "node.kubernetes.io/instance-type");
const capacityType = (spec: Props): Props => spec.requirements.find((q: Props) => q.key === "karpenter.sh/capacity-type");
/** The plan with the system node group turned into a GPU group (tainted, spot, 0..1 g6.xlarge) and then changed. */
const gpuGroup = (change: (r: Props) => void = () => {}) =>
  withBreakage(resources, {
    type: NODE_GROUP,
    change: (r) => {
      r.instanceTypes = ["g6.xlarge"];
      r.taints = structuredClone(GPU_TAINT);
      r.capacityType = "SPOT";
      r.scalingConfig = { minSize: 0, desiredSize: 0, maxSize: 1 };
      change(r);
    },
  });
/** The plan without the Karpenter Helm release, and with `extra` resources added. */
const withoutKarpenterRelease = (...extra: PlanResource[]) => [
  ...withBreakage(resources, { type: RELEASE, match: (r) => String((r.inputs as Props).chart).endsWith("/karpenter") }),
  ...extra,
];
const CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.0";
/** A workload of `kind` (Deployment or DaemonSet) running one container of `image`. */
const workload = (kind: "Deployment" | "DaemonSet", name: string, image: string) =>
  resource(`kubernetes:apps/v1:${kind}`, name, {
    apiVersion: "apps/v1",
    kind,
    metadata: { name, namespace: "kube-system" },
    spec: { template: { spec: { containers: [{ name, image }] } } },
  });
const chart = (type: string, chartName: string) => resource(type, `${chartName.replace(/\W/g, "-")}-release`, { chart: chartName });

const ALL_GPU_RULES = [
  "gpu-pool-can-scale-up",
  "gpu-count-within-budget",
  "gpu-pool-tainted",
  "gpu-pool-spot-in-dev",
  "gpu-pool-scales-to-zero-in-dev",
];

describe("the GPU pool rules on aws-dev's real plan", () => {
  it("pass the real output", () => {
    for (const name of ALL_GPU_RULES) expect(run(resources, name), name).toEqual([]);
  });

  it("pass a spot, tainted EKS GPU node group that scales from 0 with a cluster-autoscaler in the stack", () => {
    const plan = [...gpuGroup(), chart(RELEASE, "cluster-autoscaler")];
    for (const name of ALL_GPU_RULES) expect(run(plan, name), name).toEqual([]);
  });
});

describe("which EKS node groups are GPU pools, and their size", () => {
  const tainted = (plan: PlanResource[]) => run(plan, "gpu-pool-tainted");
  const NO_TAINT = "has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.";
  const TAINT_FIX = 'add taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]';
  const untainted = (change: (r: Props) => void) =>
    withBreakage(resources, {
      type: NODE_GROUP,
      change: (r) => {
        r.taints = [];
        change(r);
      },
    });

  it("a group of a GPU instance type is one, named by all its instance types", () => {
    expect(tainted(untainted((r) => (r.instanceTypes = ["m6i.large", "g6.xlarge"])))).toEqual([
      { message: `${GROUP} (m6i.large,g6.xlarge): ${NO_TAINT}`, fix: TAINT_FIX },
    ]);
  });

  it("a group on a GPU AMI is one (AL2 GPU), even of an instance type the table does not know", () => {
    expect(tainted(untainted((r) => Object.assign(r, { instanceTypes: ["g4ad.xlarge"], amiType: "AL2_x86_64_GPU" })))).toEqual([
      { message: `${GROUP} (g4ad.xlarge): ${NO_TAINT}`, fix: TAINT_FIX },
    ]);
  });

  it("a group on the NVIDIA AMI with no instance types is one, named by its AMI", () => {
    expect(tainted(untainted((r) => Object.assign(r, { instanceTypes: [], amiType: "AL2023_x86_64_NVIDIA" })))).toEqual([
      { message: `${GROUP} (AL2023_x86_64_NVIDIA): ${NO_TAINT}`, fix: TAINT_FIX },
    ]);
  });

  it("a group with the accelerator label is one", () => {
    expect(tainted(untainted((r) => (r.labels["mlops.platform/accelerator"] = "nvidia-l4")))).toEqual([
      { message: `${GROUP} (m6i.large): ${NO_TAINT}`, fix: TAINT_FIX },
    ]);
  });

  it("a labelled group with neither instance types nor an AMI type (a launch template's) is named as such", () => {
    const plan = untainted((r) => {
      r.labels["mlops.platform/accelerator"] = "nvidia-l4";
      delete r.instanceTypes;
      delete r.amiType;
    });
    expect(tainted(plan)).toEqual([{ message: `${GROUP} (no instance type): ${NO_TAINT}`, fix: TAINT_FIX }]);
  });

  it("a group of a non-NVIDIA type on a standard AMI without the label is not one", () => {
    expect(tainted(untainted((r) => (r.instanceTypes = ["g4ad.xlarge"])))).toEqual([]);
  });

  it("the GPU taint must be NO_SCHEDULE: NO_EXECUTE on the GPU key, or NO_SCHEDULE on another key, is not it", () => {
    const subject = `${GROUP} (g6.xlarge)`;
    expect(tainted(gpuGroup((r) => (r.taints[0].effect = "NO_EXECUTE")))).toEqual([{ message: `${subject}: ${NO_TAINT}`, fix: TAINT_FIX }]);
    expect(tainted(gpuGroup((r) => (r.taints[0].key = "dedicated")))).toEqual([{ message: `${subject}: ${NO_TAINT}`, fix: TAINT_FIX }]);
  });

  it("in dev, a group on on-demand capacity is refused, SPOT passes", () => {
    expect(
      run(
        gpuGroup((r) => (r.capacityType = "ON_DEMAND")),
        "gpu-pool-spot-in-dev",
      ),
    ).toEqual([
      {
        message: `${GROUP} (g6.xlarge): runs on-demand GPUs in a dev stack.`,
        fix: 'set spot: true for the pool in the stack file (capacityType: "SPOT")',
      },
    ]);
  });

  const KEEPS_FIX = "set minSize: 0 for the pool in the stack file (scalingConfig.minSize / autoscaling.minNodeCount 0)";
  it("in dev, a group's minSize is the nodes it keeps", () => {
    expect(
      run(
        gpuGroup((r) => (r.scalingConfig.minSize = 2)),
        "gpu-pool-scales-to-zero-in-dev",
      ),
    ).toEqual([{ message: `${GROUP} (g6.xlarge): keeps at least 2 GPU node(s) running in a dev stack.`, fix: KEEPS_FIX }]);
  });

  it("a group without scalingConfig has EKS's default of one node, at least and at most", () => {
    const plan = gpuGroup((r) => delete r.scalingConfig);
    expect(run(plan, "gpu-pool-scales-to-zero-in-dev")).toEqual([
      { message: `${GROUP} (g6.xlarge): keeps at least 1 GPU node(s) running in a dev stack.`, fix: KEEPS_FIX },
    ]);
    // One node of 1 GPU and the NodePool's 2: 3 of 4, within budget; maxSize 3 would be 5.
    expect(run(plan, "gpu-count-within-budget")).toEqual([]);
  });

  const overBudget = (total: number, parts: string) => ({
    message: `the stack: GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus 4.`,
    fix: "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval",
  });

  it("a group counts maxSize x the most GPUs of its instance types against the budget", () => {
    const plan = gpuGroup((r) => {
      r.instanceTypes = ["g5.xlarge", "g5.12xlarge", "m6i.large"];
      r.scalingConfig.maxSize = 3;
    });
    expect(run(plan, "gpu-count-within-budget")).toEqual([
      overBudget(14, "mlops-aws-system: 3 x 4, mlops-aws-addons-karpenter-gpu-l4: limit 2"),
    ]);
  });

  it("a GPU group of unknown GPUs per node is refused, and counts no GPUs", () => {
    const plan = gpuGroup((r) => Object.assign(r, { instanceTypes: ["g4ad.xlarge"], amiType: "AL2_x86_64_GPU" }));
    expect(run(plan, "gpu-count-within-budget")).toEqual([
      {
        message: `${GROUP} (g4ad.xlarge): has GPUs, but how many per node cannot be told.`,
        fix: "use an instance type listed in policies/gpu.ts (AWS) or set nodeConfig.guestAccelerators with a count (GKE)",
      },
    ]);
    // With 100 nodes of it and a NodePool limit of 5 the total is the NodePool's 5 alone.
    const big = withBreakage(
      gpuGroup((r) => Object.assign(r, { instanceTypes: ["g4ad.xlarge"], amiType: "AL2_x86_64_GPU", scalingConfig: { maxSize: 100 } })),
      { type: NODE_POOL, change: (r) => (r.spec.limits["nvidia.com/gpu"] = "5") },
    );
    expect(run(big, "gpu-count-within-budget").map((v) => v.message)).toEqual([
      `${GROUP} (g4ad.xlarge): has GPUs, but how many per node cannot be told.`,
      "the stack: GPU pools can scale to 5 GPUs (mlops-aws-system: 100 x ?, mlops-aws-addons-karpenter-gpu-l4: limit 5), over serving.maxGpus 4.",
    ]);
  });
});

describe("gpu-pool-can-scale-up over EKS GPU node groups", () => {
  const canScale = (plan: PlanResource[]) => run(plan, "gpu-pool-can-scale-up");
  const FROM_ZERO = {
    message: `${GROUP} (g6.xlarge): starts at 0 nodes and nothing in the stack scales EKS node groups (no cluster-autoscaler), so GPU pods stay Pending.`,
    fix: "let Karpenter provision the pool (components/aws/karpenter.ts does so for role: gpu pools) or install cluster-autoscaler",
  };

  it("refuses a group at 0 nodes with no cluster-autoscaler", () => {
    expect(canScale(gpuGroup())).toEqual([FROM_ZERO]);
  });

  it("refuses a group of maxSize 0, cluster-autoscaler or not", () => {
    const zero = {
      message: `${GROUP} (g6.xlarge): has maxSize 0, so it never has a node.`,
      fix: "set maxSize of the pool above 0",
    };
    expect(canScale([...gpuGroup((r) => (r.scalingConfig.maxSize = 0)), chart(RELEASE, "cluster-autoscaler")])).toEqual([zero]);
  });

  it("passes a group that keeps one node (of at most one) without a cluster-autoscaler", () => {
    expect(canScale(gpuGroup((r) => (r.scalingConfig.minSize = 1)))).toEqual([]);
  });

  it("takes cluster-autoscaler from a Helm Chart or Release of its chart, bare or from a repository", () => {
    expect(canScale([...gpuGroup(), chart("kubernetes:helm.sh/v3:Chart", "cluster-autoscaler")])).toEqual([]);
    expect(canScale([...gpuGroup(), chart(RELEASE, "autoscaler/cluster-autoscaler")])).toEqual([]);
  });

  it("does not take a chart whose name only contains cluster-autoscaler", () => {
    expect(canScale([...gpuGroup(), chart(RELEASE, "my-cluster-autoscaler")])).toEqual([FROM_ZERO]);
    expect(canScale([...gpuGroup(), chart(RELEASE, "cluster-autoscaler-dashboard")])).toEqual([FROM_ZERO]);
  });

  it("takes cluster-autoscaler from a Deployment of its image, by tag or digest", () => {
    expect(canScale([...gpuGroup(), workload("Deployment", "cluster-autoscaler", CLUSTER_AUTOSCALER_IMAGE)])).toEqual([]);
    const byDigest = `registry.k8s.io/autoscaling/cluster-autoscaler@sha256:${"a".repeat(64)}`;
    expect(canScale([...gpuGroup(), workload("Deployment", "cluster-autoscaler", byDigest)])).toEqual([]);
  });

  it("does not take an image of another name, nor the image in a DaemonSet", () => {
    const other = workload("Deployment", "ca-exporter", "example.com/cluster-autoscaler-exporter:v1");
    expect(canScale([...gpuGroup(), other])).toEqual([FROM_ZERO]);
    expect(canScale([...gpuGroup(), workload("DaemonSet", "cluster-autoscaler", CLUSTER_AUTOSCALER_IMAGE)])).toEqual([FROM_ZERO]);
  });

  it("does not take the Karpenter release for a cluster-autoscaler", () => {
    expect(resources.some((r) => r.type === RELEASE && String((r.inputs as Props).chart).endsWith("/karpenter"))).toBe(true);
    expect(canScale(gpuGroup())).toEqual([FROM_ZERO]);
  });
});

describe("gpu-pool-can-scale-up over the Karpenter NodePool", () => {
  const canScale = (plan: PlanResource[]) => run(plan, "gpu-pool-can-scale-up");
  const NO_CONTROLLER = {
    message: `${KARPENTER_POOL} (g6.xlarge): has no Karpenter controller in the stack to provision it.`,
    fix: "install Karpenter with the NodePool (components/aws/karpenter.ts: the pinned Helm release)",
  };
  const CONTROLLER_IMAGE = "public.ecr.aws/karpenter/controller:1.1.1";

  it("refuses the NodePool without the Karpenter release", () => {
    expect(canScale(withoutKarpenterRelease())).toEqual([NO_CONTROLLER]);
  });

  it("takes the controller from a Deployment of its image, or a Helm Chart of the karpenter chart", () => {
    expect(canScale(withoutKarpenterRelease(workload("Deployment", "karpenter", CONTROLLER_IMAGE)))).toEqual([]);
    expect(canScale(withoutKarpenterRelease(workload("Deployment", "karpenter", `${CONTROLLER_IMAGE}@sha256:${"b".repeat(64)}`)))).toEqual(
      [],
    );
    expect(canScale(withoutKarpenterRelease(chart("kubernetes:helm.sh/v3:Chart", "karpenter")))).toEqual([]);
  });

  it("does not take the karpenter-crd chart, a chart that ends in karpenter, another image or a DaemonSet", () => {
    expect(canScale(withoutKarpenterRelease(chart(RELEASE, "oci://public.ecr.aws/karpenter/karpenter-crd")))).toEqual([NO_CONTROLLER]);
    expect(canScale(withoutKarpenterRelease(chart(RELEASE, "not-karpenter")))).toEqual([NO_CONTROLLER]);
    expect(canScale(withoutKarpenterRelease(workload("Deployment", "exporter", "public.ecr.aws/karpenter/controller-exporter:1")))).toEqual(
      [NO_CONTROLLER],
    );
    expect(canScale(withoutKarpenterRelease(workload("DaemonSet", "karpenter", CONTROLLER_IMAGE)))).toEqual([NO_CONTROLLER]);
  });

  const missingClass = (name: string) => ({
    message: `${KARPENTER_POOL} (g6.xlarge): refers to EC2NodeClass "${name}", which the stack does not create, so Karpenter cannot launch its nodes.`,
    fix: "create the EC2NodeClass with the NodePool (karpenter-settings.ts ec2NodeClass) or fix nodeClassRef.name",
  });

  it("refuses a NodePool whose EC2NodeClass the stack does not create, or that names none", () => {
    expect(canScale(template((s) => (s.nodeClassRef.name = "gpu-l4-old")))).toEqual([missingClass("gpu-l4-old")]);
    expect(canScale(template((s) => delete s.nodeClassRef))).toEqual([missingClass("undefined")]);
  });

  it("takes an EC2NodeClass's name from its metadata, else from the resource's name", () => {
    const i = resources.findIndex((r) => r.type === NODE_CLASS);
    const nameless = changed(resources[i] as PlanResource, (r) => delete r.metadata.name);
    const plan = [...resources];
    plan[i] = nameless;
    expect(canScale(plan)).toEqual([missingClass("gpu-l4")]);
    plan[i] = { ...nameless, name: "gpu-l4" };
    expect(canScale(plan)).toEqual([]);
  });

  const noNode = (limits: string) => ({
    message: `${KARPENTER_POOL} (g6.xlarge): has limits that allow no node (${limits}).`,
    fix: "set spec.limits to at least one node's GPUs (maxSize x GPUs per node in the stack file)",
  });

  it("refuses a GPU limit of 0, or a node limit of 0", () => {
    expect(canScale(pool((r) => (r.spec.limits["nvidia.com/gpu"] = "0")))).toEqual([
      noNode("0 GPUs, under the 1 of its smallest instance type"),
    ]);
    expect(canScale(pool((r) => (r.spec.limits = { nodes: "0" })))).toEqual([noNode("spec.limits.nodes 0")]);
    expect(canScale(pool((r) => (r.spec.limits.nodes = "0")))).toEqual([noNode("spec.limits.nodes 0")]);
  });

  it("a GPU limit of 0 beside a node limit that allows nodes names the GPU limit, not the node limit", () => {
    for (const nodes of ["1", "3"]) {
      const plan = pool((r) => {
        r.spec.limits.nodes = nodes;
        r.spec.limits["nvidia.com/gpu"] = "0";
      });
      expect(canScale(plan)).toEqual([noNode("0 GPUs, under the 1 of its smallest instance type")]);
    }
  });

  it("a GPU limit under the smallest of several instance types names that type's GPUs, not the largest's", () => {
    const plan = pool((r) => {
      instanceTypes(r.spec.template.spec).values = ["g6.12xlarge", "g6.xlarge"];
      r.spec.limits["nvidia.com/gpu"] = "0";
    });
    expect(canScale(plan)).toEqual([
      {
        ...noNode("0 GPUs, under the 1 of its smallest instance type"),
        message: noNode("0 GPUs, under the 1 of its smallest instance type").message.replace("g6.xlarge", "g6.12xlarge,g6.xlarge"),
      },
    ]);
  });

  it("refuses a node limit of 0 when GPUs per node cannot be told", () => {
    const plan = pool((r) => {
      instanceTypes(r.spec.template.spec).operator = "NotIn";
      r.spec.limits.nodes = "0";
    });
    expect(canScale(plan)).toEqual([
      { ...noNode("spec.limits.nodes 0"), message: noNode("spec.limits.nodes 0").message.replace("g6.xlarge", "no instance type") },
    ]);
  });

  it("passes a node limit of 1", () => {
    expect(canScale(pool((r) => (r.spec.limits = { nodes: "1" })))).toEqual([]);
  });

  it("passes a GPU limit that fits the smallest of several instance types", () => {
    expect(canScale(template((s) => (instanceTypes(s).values = ["g6.xlarge", "g6.12xlarge"])))).toEqual([]);
  });
});

describe("the GPU view of the Karpenter NodePool, through the cost rules", () => {
  const budget = (plan: PlanResource[]) => run(plan, "gpu-count-within-budget");
  const overBudget = (total: number, parts: string) => ({
    message: `the stack: GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus 4.`,
    fix: "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval",
  });
  const NO_LIMIT = {
    message: `${KARPENTER_POOL} (g6.xlarge): has no limit on its nodes or GPUs, so it can grow past any budget.`,
    fix: 'set spec.limits["nvidia.com/gpu"] (the NodePool from components/aws/karpenter-settings.ts sets maxSize x GPUs per node)',
  };

  it("counts the GPU limit, as a string or a number", () => {
    expect(budget(pool((r) => (r.spec.limits["nvidia.com/gpu"] = "5")))).toEqual([
      overBudget(5, "mlops-aws-addons-karpenter-gpu-l4: limit 5"),
    ]);
    expect(budget(pool((r) => (r.spec.limits["nvidia.com/gpu"] = 5)))).toEqual([
      overBudget(5, "mlops-aws-addons-karpenter-gpu-l4: limit 5"),
    ]);
  });

  it("takes the lower of the GPU limit and the node limit x GPUs per node", () => {
    expect(budget(pool((r) => (r.spec.limits = { "nvidia.com/gpu": "8", nodes: "3" })))).toEqual([]);
    expect(budget(pool((r) => (r.spec.limits = { "nvidia.com/gpu": "8", nodes: "6" })))).toEqual([
      overBudget(6, "mlops-aws-addons-karpenter-gpu-l4: limit 8"),
    ]);
  });

  it("counts a node limit alone as nodes x GPUs per node", () => {
    expect(budget(pool((r) => (r.spec.limits = { nodes: "5" })))).toEqual([overBudget(5, "mlops-aws-addons-karpenter-gpu-l4: 5 x 1")]);
    expect(budget(pool((r) => (r.spec.limits = { nodes: 4 })))).toEqual([]);
  });

  it("refuses a NodePool whose limits are empty, blank, null or not a number", () => {
    for (const value of ["", null, "two"]) {
      expect(budget(pool((r) => (r.spec.limits = { "nvidia.com/gpu": value }))), String(value)).toEqual([NO_LIMIT]);
    }
    expect(budget(pool((r) => delete r.spec.limits))).toEqual([NO_LIMIT]);
  });

  it("with several instance types, bounds the GPUs by the limit, not by the largest node", () => {
    // 6 GPUs fit six g6.xlarge (1 GPU each) or one g6.12xlarge (4) and two g6.xlarge: 6, not one 12xlarge's 4.
    const plan = pool((r) => {
      r.spec.limits["nvidia.com/gpu"] = "6";
      instanceTypes(r.spec.template.spec).values = ["g6.xlarge", "g6.12xlarge"];
    });
    expect(budget(plan)).toEqual([overBudget(6, "mlops-aws-addons-karpenter-gpu-l4: limit 6")]);
  });

  it("counts a node limit with several instance types as nodes x the largest node's GPUs", () => {
    const plan = pool((r) => {
      r.spec.limits = { nodes: "2" };
      instanceTypes(r.spec.template.spec).values = ["g6.xlarge", "g6.12xlarge"];
    });
    expect(budget(plan)).toEqual([overBudget(8, "mlops-aws-addons-karpenter-gpu-l4: 2 x 4")]);
  });

  it("is a GPU pool by its instance types alone: without limits or label it is unbounded", () => {
    const plan = pool((r) => {
      delete r.spec.limits;
      delete r.spec.template.metadata.labels["mlops.platform/accelerator"];
    });
    expect(budget(plan)).toEqual([NO_LIMIT]);
  });

  it("rounds the nodes a GPU limit allows down: 9 GPUs of 8-GPU nodes are one node", () => {
    const plan = pool((r) => {
      r.spec.limits = { "nvidia.com/gpu": "9", nodes: "5" };
      instanceTypes(r.spec.template.spec).values = ["p4d.24xlarge"];
    });
    expect(budget(plan)).toEqual([overBudget(8, "mlops-aws-addons-karpenter-gpu-l4: limit 9")]);
  });

  it("reads GPUs per node of sizes the table lists apart, and of families with one count for every size", () => {
    // Two nodes of each: over the budget of 4 exactly when a node has more than 2 GPUs.
    for (const [type, gpus] of [
      ["g4dn.xlarge", 1],
      ["g4dn.12xlarge", 4],
      ["g5.12xlarge", 4],
      ["g6e.48xlarge", 8],
      ["p3.8xlarge", 4],
      ["p4d.24xlarge", 8],
    ] as const) {
      const plan = pool((r) => {
        instanceTypes(r.spec.template.spec).values = [type];
        r.spec.limits = { nodes: "2" };
      });
      expect(budget(plan), type).toEqual(gpus > 2 ? [overBudget(2 * gpus, `mlops-aws-addons-karpenter-gpu-l4: 2 x ${gpus}`)] : []);
    }
  });

  it("has no GPUs per node for an instance-type requirement that is not In, and names no instance type", () => {
    const plan = template((s) => (instanceTypes(s).operator = "NotIn"));
    expect(budget(plan)).toEqual([
      {
        message: `${KARPENTER_POOL} (no instance type): has GPUs, but how many per node cannot be told.`,
        fix: "use an instance type listed in policies/gpu.ts (AWS) or set nodeConfig.guestAccelerators with a count (GKE)",
      },
    ]);
  });

  it("is not a GPU pool without GPU instance types, a GPU limit or the accelerator label", () => {
    const plan = pool((r) => {
      instanceTypes(r.spec.template.spec).values = ["m6i.large"];
      r.spec.limits = { cpu: "64" };
      delete r.spec.template.metadata.labels["mlops.platform/accelerator"];
      r.spec.template.spec.taints = [];
    });
    expect(run(plan, "gpu-pool-tainted")).toEqual([]);
    expect(budget(plan)).toEqual([]);
  });

  it("is a GPU pool by its GPU limit alone, or by its accelerator label alone", () => {
    const untainted = (change: (r: Props) => void) =>
      pool((r) => {
        instanceTypes(r.spec.template.spec).values = ["m6i.large"];
        r.spec.template.spec.taints = [];
        change(r);
      });
    const message = `${KARPENTER_POOL} (m6i.large): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`;
    const byLimit = untainted((r) => delete r.spec.template.metadata.labels["mlops.platform/accelerator"]);
    expect(run(byLimit, "gpu-pool-tainted").map((v) => v.message)).toEqual([message]);
    const byLabel = untainted((r) => (r.spec.limits = { cpu: "64" }));
    expect(run(byLabel, "gpu-pool-tainted").map((v) => v.message)).toEqual([message]);
  });

  it("turns the Kubernetes taint effect into the API spelling, and keeps an effect it does not know", () => {
    const TAINT = {
      message: `${KARPENTER_POOL} (g6.xlarge): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`,
      fix: 'add spec.template.spec.taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] (Kubernetes spelling; the NO_SCHEDULE of the EKS/GKE APIs)',
    };
    expect(
      run(
        template((s) => (s.taints[0].effect = "NoExecute")),
        "gpu-pool-tainted",
      ),
    ).toEqual([TAINT]);
    expect(
      run(
        template((s) => (s.taints[0].effect = "PreferNoSchedule")),
        "gpu-pool-tainted",
      ),
    ).toEqual([TAINT]);
    // The API spelling itself is not Kubernetes', but it means the same taint.
    expect(
      run(
        template((s) => (s.taints[0].effect = "NO_SCHEDULE")),
        "gpu-pool-tainted",
      ),
    ).toEqual([]);
  });

  const ON_DEMAND = {
    message: `${KARPENTER_POOL} (g6.xlarge): runs on-demand GPUs in a dev stack.`,
    fix: 'set spot: true for the pool in the stack file (requirement karpenter.sh/capacity-type In ["spot"])',
  };
  it("is spot only when the capacity-type requirement allows spot and nothing else", () => {
    const spot = (change: (q: Props) => void) =>
      run(
        template((s) => change(capacityType(s))),
        "gpu-pool-spot-in-dev",
      );
    expect(spot((q) => (q.values = ["spot", "on-demand"]))).toEqual([ON_DEMAND]);
    expect(spot((q) => Object.assign(q, { operator: "NotIn", values: ["on-demand", "reserved"] }))).toEqual([]);
    expect(spot((q) => Object.assign(q, { operator: "NotIn", values: ["spot", "on-demand", "reserved"] }))).toEqual([ON_DEMAND]);
    expect(spot((q) => Object.assign(q, { operator: "Exists", values: [] }))).toEqual([ON_DEMAND]);
  });

  it("keeps no minimum: a dev NodePool always scales to zero", () => {
    expect(
      run(
        pool((r) => (r.spec.limits.nodes = "3")),
        "gpu-pool-scales-to-zero-in-dev",
      ),
    ).toEqual([]);
  });
});
