import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import type { StackSpec } from "../../definition";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { changed, platform, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The cost policies (policies/cost.ts) over aws-prod's real plan, broken one way at a time, each
 * case asserting the whole list of violations (message and fix) of one policy. aws-prod's GPUs come
 * from two Karpenter NodePools (gpu-l4: g6.xlarge, limit 6 GPUs; gpu-a100: p4d.24xlarge, limit 8;
 * both on-demand, tainted) within serving.maxGpus 16; its one EKS node group is the system pool
 * (m6i.xlarge, no GPUs). A GPU node group, as the stack file's nodePools would add one, is the system
 * group's copy with a GPU instance type. The support assistant is the one GPU model (container
 * "openai", one nvidia.com/gpu, pinned by gpuPlacement); the GPU DaemonSets tolerate the taint.
 */

const STACK = "aws-prod";
const KARPENTER = "kubernetes:karpenter.sh/v1:NodePool";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const L4 = "mlops-aws-addons-karpenter-gpu-l4";
const A100 = "mlops-aws-addons-karpenter-gpu-a100";
const ASSISTANT = "support-assistant-llama-8b";

const resources = realPlan(STACK);

/** One policy's violations over `all`, in aws-prod or with parts of its stack spec replaced. */
function run(name: string, all: PlanResource[], stack?: Partial<StackSpec>): Found {
  return violationsOf(all, STACK, name, stack);
}

/** aws-prod as a dev stack, with gpu-pool-spot-in-dev (which aws-prod's stack file disables) at its default level. */
const DEV = { environment: "dev", policies: {} } as const;

/** The plan with the resource of `type` whose Pulumi name is `name` changed (or removed without `change`). */
function broken(type: string, name: string, change?: (r: Props) => void, all = resources): PlanResource[] {
  return withBreakage(all, { type, match: (r) => r.name === name, change });
}

const pool = (r: Props) => r.spec.template.spec;
const podSpec = (r: Props) => r.spec.template.spec;
const runtime = (r: Props) => podSpec(r).containers[1];

/** The system node group copied as a GPU pool (g6.xlarge, tainted, 0-2 nodes), with `change` applied. */
function gpuNodeGroup(change: (r: Props) => void = () => {}): PlanResource {
  const system = resources.find((r) => r.type === NODE_GROUP) as PlanResource;
  const gpu = changed(system, (r) => {
    r.instanceTypes = ["g6.xlarge"];
    r.amiType = "AL2023_x86_64_NVIDIA";
    r.labels = { "mlops.platform/pool": "gpu", "mlops.platform/accelerator": "nvidia-l4" };
    r.taints = [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }];
    r.scalingConfig = { minSize: 0, desiredSize: 0, maxSize: 2 };
    change(r);
  });
  return { ...gpu, name: "mlops-aws-gpu-l4", urn: gpu.urn.replace(/::[^:]+$/, "::mlops-aws-gpu-l4") };
}

describe("gpu-pool-tainted on aws-prod", () => {
  const check = (all: PlanResource[]) => run("gpu-pool-tainted", all);
  const PROBLEM = "has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.";
  const l4Untainted = [
    {
      message: `Karpenter NodePool "${L4}" (g6.xlarge): ${PROBLEM}`,
      fix: 'add spec.template.spec.taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] (Kubernetes spelling; the NO_SCHEDULE of the EKS/GKE APIs)',
    },
  ];
  const l4Taints = (taints: Props[]) =>
    broken(KARPENTER, L4, (r) => {
      pool(r).taints = taints;
    });

  it("passes the real output (the system node group has no GPUs and no taint)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a NodePool without taints", () => {
    expect(check(l4Taints([]))).toEqual(l4Untainted);
  });

  it("a NodePool with the GPU taint but NoExecute, or PreferNoSchedule", () => {
    expect(check(l4Taints([{ key: "nvidia.com/gpu", value: "present", effect: "NoExecute" }]))).toEqual(l4Untainted);
    expect(check(l4Taints([{ key: "nvidia.com/gpu", value: "present", effect: "PreferNoSchedule" }]))).toEqual(l4Untainted);
  });

  it("a NodePool with a NoSchedule taint of another key", () => {
    expect(check(l4Taints([{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]))).toEqual(l4Untainted);
  });

  it("the GPU taint beside another one passes", () => {
    const taints = [
      { key: "dedicated", value: "inference", effect: "NoSchedule" },
      { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" },
    ];
    expect(check(l4Taints(taints))).toEqual([]);
  });

  it("a GPU node group tainted NO_SCHEDULE passes; untainted it fails with the EKS spelling", () => {
    expect(check([...resources, gpuNodeGroup()])).toEqual([]);
    expect(
      check([
        ...resources,
        gpuNodeGroup((r) => {
          r.taints = [];
        }),
      ]),
    ).toEqual([
      {
        message: `EKS node group "mlops-aws-gpu-l4" (g6.xlarge): ${PROBLEM}`,
        fix: 'add taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]',
      },
    ]);
  });

  it("a GPU node group with the Kubernetes spelling NoSchedule is not tainted for the EKS API", () => {
    const found = check([
      ...resources,
      gpuNodeGroup((r) => {
        r.taints[0].effect = "NoSchedule";
      }),
    ]);
    expect(found.map((v) => v.message)).toEqual([`EKS node group "mlops-aws-gpu-l4" (g6.xlarge): ${PROBLEM}`]);
  });
});

describe("gpu-pool-scales-to-zero-in-dev on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-pool-scales-to-zero-in-dev", all, stack);
  const keepsOne = (min: number) => [
    {
      message: `EKS node group "mlops-aws-gpu-l4" (g6.xlarge): keeps at least ${min} GPU node(s) running in a dev stack.`,
      fix: "set minSize: 0 for the pool in the stack file (scalingConfig.minSize / autoscaling.minNodeCount 0)",
    },
  ];
  const warm = (min: number) => [
    ...resources,
    gpuNodeGroup((r) => {
      r.scalingConfig.minSize = min;
    }),
  ];

  it("Karpenter NodePools keep no node, in dev too", () => {
    expect(check(resources, DEV)).toEqual([]);
  });

  it("a dev GPU node group at minSize 0 passes; at 1 or 2 it fails", () => {
    expect(check(warm(0), DEV)).toEqual([]);
    expect(check(warm(1), DEV)).toEqual(keepsOne(1));
    expect(check(warm(2), DEV)).toEqual(keepsOne(2));
  });

  it("a GPU node group without minSize keeps EKS's default of one", () => {
    expect(check([...resources, gpuNodeGroup((r) => void delete r.scalingConfig.minSize)], DEV)).toEqual(keepsOne(1));
  });

  it("prod pools may keep warm nodes", () => {
    expect(check(warm(1))).toEqual([]);
  });
});

describe("gpu-pool-spot-in-dev on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-pool-spot-in-dev", all, stack);
  const PROBLEM = "runs on-demand GPUs in a dev stack.";
  const KARPENTER_FIX = 'set spot: true for the pool in the stack file (requirement karpenter.sh/capacity-type In ["spot"])';
  const capacity = (all: PlanResource[], name: string, values: string[]) =>
    broken(
      KARPENTER,
      name,
      (r) => {
        const requirement = pool(r).requirements.find((q: Props) => q.key === "karpenter.sh/capacity-type");
        requirement.values = values;
      },
      all,
    );
  const allSpot = () => capacity(capacity(resources, L4, ["spot"]), A100, ["spot"]);

  it("as a dev stack, both on-demand NodePools fail", () => {
    expect(check(resources, DEV)).toEqual([
      { message: `Karpenter NodePool "${L4}" (g6.xlarge): ${PROBLEM}`, fix: KARPENTER_FIX },
      { message: `Karpenter NodePool "${A100}" (p4d.24xlarge): ${PROBLEM}`, fix: KARPENTER_FIX },
    ]);
  });

  it("spot-only NodePools pass; spot or on-demand is not spot", () => {
    expect(check(allSpot(), DEV)).toEqual([]);
    expect(check(capacity(allSpot(), L4, ["spot", "on-demand"]), DEV)).toEqual([
      { message: `Karpenter NodePool "${L4}" (g6.xlarge): ${PROBLEM}`, fix: KARPENTER_FIX },
    ]);
  });

  it("an on-demand GPU node group names capacityType", () => {
    expect(
      check(
        [
          ...allSpot(),
          gpuNodeGroup((r) => {
            r.capacityType = "ON_DEMAND";
          }),
        ],
        DEV,
      ),
    ).toEqual([
      {
        message: `EKS node group "mlops-aws-gpu-l4" (g6.xlarge): ${PROBLEM}`,
        fix: 'set spot: true for the pool in the stack file (capacityType: "SPOT")',
      },
    ]);
    expect(
      check(
        [
          ...allSpot(),
          gpuNodeGroup((r) => {
            r.capacityType = "SPOT";
          }),
        ],
        DEV,
      ),
    ).toEqual([]);
  });

  it("prod pools may be on-demand", () => {
    expect(check(resources, { policies: {} })).toEqual([]);
  });
});

describe("gpu-count-within-budget on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-count-within-budget", all, stack);
  const OVER_FIX = "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval";
  const over = (total: number, parts: string, maxGpus = 16) => ({
    message: `the stack: GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus ${maxGpus}.`,
    fix: OVER_FIX,
  });
  const limits = (name: string, value: Props, all = resources) =>
    broken(
      KARPENTER,
      name,
      (r) => {
        r.spec.limits = value;
      },
      all,
    );

  it("passes the real output (6 + 8 of 16)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a budget of exactly the pools' 16 passes, 18 is over", () => {
    expect(check(limits(L4, { "nvidia.com/gpu": "8" }))).toEqual([]);
    expect(check(limits(L4, { "nvidia.com/gpu": "10" }))).toEqual([over(18, `${L4}: limit 10, ${A100}: limit 8`)]);
  });

  it("the budget is the stack's serving.maxGpus", () => {
    const serving = { ...platform(STACK).stack.serving, maxGpus: 12 };
    expect(check(resources, { serving })).toEqual([over(14, `${L4}: limit 6, ${A100}: limit 8`, 12)]);
  });

  it("a node limit bounds a NodePool without a GPU limit: nodes x GPUs per node", () => {
    expect(check(limits(L4, { nodes: "8" }))).toEqual([]);
    expect(check(limits(L4, { nodes: "12" }))).toEqual([over(20, `${L4}: 12 x 1, ${A100}: limit 8`)]);
  });

  it("a NodePool without limits can grow past any budget (and is not summed)", () => {
    expect(check(limits(L4, {}))).toEqual([
      {
        message: `Karpenter NodePool "${L4}" (g6.xlarge): has no limit on its nodes or GPUs, so it can grow past any budget.`,
        fix: 'set spec.limits["nvidia.com/gpu"] (the NodePool from components/aws/karpenter-settings.ts sets maxSize x GPUs per node)',
      },
    ]);
  });

  it("a GPU node group adds maxSize x GPUs per node", () => {
    expect(check([...resources, gpuNodeGroup()])).toEqual([]);
    expect(
      check([
        ...resources,
        gpuNodeGroup((r) => {
          r.scalingConfig.maxSize = 3;
        }),
      ]),
    ).toEqual([over(17, `${L4}: limit 6, ${A100}: limit 8, mlops-aws-gpu-l4: 3 x 1`)]);
  });

  it("a GPU node group whose GPUs per node cannot be told (NVIDIA AMI on a CPU type) adds nothing, and says so", () => {
    const unknown = gpuNodeGroup((r) => {
      r.instanceTypes = ["m6i.xlarge"];
    });
    const NO_COUNT = {
      message: 'EKS node group "mlops-aws-gpu-l4" (m6i.xlarge): has GPUs, but how many per node cannot be told.',
      fix: "use an instance type listed in policies/gpu.ts (AWS) or set nodeConfig.guestAccelerators with a count (GKE)",
    };
    expect(check([...resources, unknown])).toEqual([NO_COUNT]);
    const overBudget = limits(A100, { "nvidia.com/gpu": "16" }, [...resources, unknown]);
    expect(check(overBudget)).toEqual([NO_COUNT, over(22, `${L4}: limit 6, ${A100}: limit 16, mlops-aws-gpu-l4: 2 x ?`)]);
  });

  it("a stack without GPU pools has nothing to sum", () => {
    expect(
      check(broken(KARPENTER, A100, undefined, broken(KARPENTER, L4)), { serving: { ...platform(STACK).stack.serving, maxGpus: 0 } }),
    ).toEqual([]);
  });
});

describe("gpu-only-for-gpu-workloads on aws-prod", () => {
  const check = (all: PlanResource[]) => run("gpu-only-for-gpu-workloads", all);
  const TOLERATES = [
    {
      message: `Deployment "mlops/features": tolerates the nvidia.com/gpu taint but requests no GPU, so it can take a GPU node's place.`,
      fix: "remove the toleration, or request nvidia.com/gpu if it needs one",
    },
  ];
  const UNEQUAL = {
    message: `Deployment "models/${ASSISTANT}" container "openai": requests GPUs without an equal limit (GPUs cannot be shared or overcommitted).`,
    fix: 'set resources.limits["nvidia.com/gpu"] equal to the request',
  };
  const UNPLACED = {
    message: `Deployment "models/${ASSISTANT}": requests GPUs but is not placed on a GPU pool (toleration of nvidia.com/gpu and node affinity on the accelerator label).`,
    fix: "use gpuPlacement(accelerator) from components/k8s/workload.ts (tolerates nvidia.com/gpu, requires mlops.platform/accelerator)",
  };
  const features = (tolerations: Props[]) =>
    broken(DEPLOYMENT, "features", (r) => {
      podSpec(r).tolerations = tolerations;
    });
  const assistant = (change: (r: Props) => void) => broken(DEPLOYMENT, ASSISTANT, change);
  const gpus = (r: Props) => runtime(r).resources;

  it("passes the real output (the GPU DaemonSets tolerate the taint and request none: node daemons)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a CPU service that tolerates the GPU taint by key", () => {
    expect(check(features([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]))).toEqual(TOLERATES);
  });

  it("a CPU service that tolerates every taint (Exists without a key)", () => {
    expect(check(features([{ operator: "Exists" }]))).toEqual(TOLERATES);
  });

  it("tolerations of other taints, or without a key and not Exists, are not the GPU taint", () => {
    expect(check(features([{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }]))).toEqual([]);
    expect(check(features([{ operator: "Equal", value: "present", effect: "NoSchedule" }]))).toEqual([]);
  });

  it("a GPU request without a limit, or a different limit", () => {
    expect(check(assistant((r) => void delete gpus(r).limits["nvidia.com/gpu"]))).toEqual([UNEQUAL]);
    expect(
      check(
        assistant((r) => {
          gpus(r).limits["nvidia.com/gpu"] = "2";
        }),
      ),
    ).toEqual([UNEQUAL]);
  });

  it("a GPU limit alone is enough (the request defaults to it)", () => {
    expect(check(assistant((r) => void delete gpus(r).requests["nvidia.com/gpu"]))).toEqual([]);
  });

  it("zero GPUs requested and limited is no GPU workload: the toleration is then the problem", () => {
    const none = check(
      assistant((r) => {
        gpus(r).requests["nvidia.com/gpu"] = "0";
        gpus(r).limits["nvidia.com/gpu"] = "0";
      }),
    );
    expect(none).toEqual([
      {
        message: `Deployment "models/${ASSISTANT}": tolerates the nvidia.com/gpu taint but requests no GPU, so it can take a GPU node's place.`,
        fix: "remove the toleration, or request nvidia.com/gpu if it needs one",
      },
    ]);
  });

  it("a GPU model without its node affinity, or without its toleration, is not placed", () => {
    expect(check(assistant((r) => void delete podSpec(r).affinity.nodeAffinity))).toEqual([UNPLACED]);
    expect(check(assistant((r) => void delete podSpec(r).tolerations))).toEqual([UNPLACED]);
  });

  it("node affinity on other labels only does not pin it", () => {
    const found = check(
      assistant((r) => {
        const term = podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
        term.matchExpressions = term.matchExpressions.filter((e: Props) => e.key !== "mlops.platform/accelerator");
      }),
    );
    expect(found).toEqual([UNPLACED]);
  });

  it("the label under NotIn or DoesNotExist keeps it off GPU nodes: not pinned", () => {
    for (const operator of ["NotIn", "DoesNotExist"]) {
      const found = check(
        assistant((r) => {
          const term = podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
          const e = term.matchExpressions.find((x: Props) => x.key === "mlops.platform/accelerator");
          e.operator = operator;
          if (operator === "DoesNotExist") delete e.values;
        }),
      );
      expect(found, operator).toEqual([UNPLACED]);
    }
  });

  it("In with no values selects no node: not pinned; Exists pins it", () => {
    const withOperator = (operator: string, values?: string[]) =>
      check(
        assistant((r) => {
          const term = podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
          const e = term.matchExpressions.find((x: Props) => x.key === "mlops.platform/accelerator");
          e.operator = operator;
          e.values = values;
        }),
      );
    expect(withOperator("In", [])).toEqual([UNPLACED]);
    expect(withOperator("Exists")).toEqual([]);
  });

  it("terms are ORed: a second term without the accelerator label lets it land anywhere", () => {
    const anywhere = { matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] };
    const found = check(
      assistant((r) => {
        podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.push(anywhere);
      }),
    );
    expect(found).toEqual([UNPLACED]);
    const both = check(
      assistant((r) => {
        const terms = podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
        terms.push(structuredClone(terms[0]));
      }),
    );
    expect(both).toEqual([]);
  });

  it("no terms at all is no affinity", () => {
    const found = check(
      assistant((r) => {
        podSpec(r).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms = [];
      }),
    );
    expect(found).toEqual([UNPLACED]);
  });

  it("a nodeSelector on the accelerator label pins it as well as node affinity", () => {
    const found = check(
      assistant((r) => {
        delete podSpec(r).affinity.nodeAffinity;
        podSpec(r).nodeSelector = { "mlops.platform/accelerator": "nvidia-l4" };
      }),
    );
    expect(found).toEqual([]);
  });

  it("an unequal limit and no placement report both, the container first", () => {
    const found = check(
      assistant((r) => {
        gpus(r).limits["nvidia.com/gpu"] = "2";
        delete podSpec(r).tolerations;
      }),
    );
    expect(found).toEqual([UNEQUAL, UNPLACED]);
  });
});

describe("resources-have-cost-labels on aws-prod", () => {
  const check = (all: PlanResource[]) => run("resources-have-cost-labels", all);
  const TAGS_FIX = "pass tags: cloudTags(stack) (components/names.ts) or set defaultTags on the provider";
  const LABELS_FIX = "add k8sLabels(stack) (components/names.ts) to metadata.labels";
  const rds = (change: (r: Props) => void) => broken("aws:rds/instance:Instance", "mlops-aws-tracking-db", change);
  /** An AWS provider with default tags, and a log group that takes its tags from it. */
  const defaultTagged = (tags: Record<string, string>, own?: Record<string, string>) => {
    const provider = resource("pulumi:providers:aws", "tagged", { region: "eu-west-1", defaultTags: { tags } }, { custom: true });
    const logs = resource("aws:cloudwatch/logGroup:LogGroup", "serving-logs", { retentionInDays: 30, tags: own }, { provider });
    return [...resources, provider, logs];
  };
  const ALL_TAGS = { team: "ml-platform", environment: "prod", costCenter: "cc-ml-1001" };

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("an AWS resource without its cost centre tag", () => {
    expect(check(rds((r) => void delete r.tags.costCenter))).toEqual([
      { message: 'Instance "mlops-aws-tracking-db": has no costCenter tag(s).', fix: TAGS_FIX },
    ]);
  });

  it("an AWS resource without tags names all three, in order", () => {
    expect(check(rds((r) => void delete r.tags))).toEqual([
      { message: 'Instance "mlops-aws-tracking-db": has no team, environment, costCenter tag(s).', fix: TAGS_FIX },
    ]);
  });

  it("an empty tag value is no tag", () => {
    expect(
      check(
        rds((r) => {
          r.tags.team = "";
        }),
      ),
    ).toEqual([{ message: 'Instance "mlops-aws-tracking-db": has no team tag(s).', fix: TAGS_FIX }]);
  });

  it("the provider's defaultTags count, with the resource's own tags on top", () => {
    expect(check(defaultTagged(ALL_TAGS))).toEqual([]);
    expect(check(defaultTagged({ team: "ml-platform" }, { costCenter: "cc-ml-1001" }))).toEqual([
      { message: 'LogGroup "serving-logs": has no environment tag(s).', fix: TAGS_FIX },
    ]);
  });

  it("a Kubernetes object without its cost-centre label", () => {
    expect(check(broken(DEPLOYMENT, "features", (r) => void delete r.metadata.labels["mlops.platform/cost-center"]))).toEqual([
      { message: 'Deployment "mlops/features": has no mlops.platform/cost-center label(s).', fix: LABELS_FIX },
    ]);
  });

  it("a cluster-scoped object without labels is named without a namespace", () => {
    expect(check(broken(KARPENTER, L4, (r) => void delete r.metadata.labels))).toEqual([
      {
        message: 'NodePool "gpu-l4": has no mlops.platform/team, mlops.platform/environment, mlops.platform/cost-center label(s).',
        fix: LABELS_FIX,
      },
    ]);
  });

  it("an object without metadata.name is named by its Pulumi name", () => {
    const configMap = resource("kubernetes:core/v1:ConfigMap", "serving-settings", { apiVersion: "v1", kind: "ConfigMap", data: {} });
    expect(check([...resources, configMap])).toEqual([
      {
        message:
          'ConfigMap "serving-settings": has no mlops.platform/team, mlops.platform/environment, mlops.platform/cost-center label(s).',
        fix: LABELS_FIX,
      },
    ]);
  });

  it("a Helm release labels what it renders: it needs none of its own", () => {
    const release = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release") as PlanResource;
    expect(check(broken(release.type, release.name, (r) => void delete r.metadata))).toEqual([]);
  });
});
