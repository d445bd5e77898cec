import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import type { StackSpec } from "../../definition";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { platform, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The cost policies (policies/cost.ts) over gcp-dev's real plan, broken one way at a time, each case
 * asserting the whole list of violations (message and fix) of one policy. gcp-dev's GPUs come from
 * one GKE node pool (g2-standard-8 with one nvidia-l4, spot, tainted, 0-2 nodes over two zones) within
 * serving.maxGpus 4; its system pool has no GPUs. GCP resources carry team, environment and
 * cost_center labels where each type keeps them (a node pool's nodeConfig.resourceLabels, Cloud
 * SQL's settings.userLabels).
 */

const STACK = "gcp-dev";
const NODE_POOL = "gcp:container/nodePool:NodePool";
const GPU_POOL = "mlops-gcp-gpu-l4-pool";

const resources = realPlan(STACK);

/** One policy's violations over `all`, in gcp-dev or with parts of its stack spec replaced (a prod environment). */
function run(name: string, all: PlanResource[], stack?: Partial<StackSpec>): Found {
  return violationsOf(all, STACK, name, stack);
}

const PROD = { environment: "prod" } as const;

/** The plan with the resource of `type` whose Pulumi name is `name` changed. */
function broken(type: string, name: string, change: (r: Props) => void): PlanResource[] {
  return withBreakage(resources, { type, match: (r) => r.name === name, change });
}

const gpuPool = (change: (r: Props) => void) => broken(NODE_POOL, GPU_POOL, change);
const SUBJECT = `GKE node pool "${GPU_POOL}" (nvidia-l4 x1)`;

describe("gpu-pool-tainted on gcp-dev", () => {
  const check = (all: PlanResource[]) => run("gpu-pool-tainted", all);
  const untainted = (subject: string) => [
    {
      message: `${subject}: has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`,
      fix: 'add taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]',
    },
  ];

  it("passes the real output (the system pool has no GPUs and no taint)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("the GPU pool without taints", () => {
    expect(
      check(
        gpuPool((r) => {
          r.nodeConfig.taints = [];
        }),
      ),
    ).toEqual(untainted(SUBJECT));
  });

  it("the GPU taint with the Kubernetes spelling NoSchedule is not the GKE API's NO_SCHEDULE", () => {
    expect(
      check(
        gpuPool((r) => {
          r.nodeConfig.taints[0].effect = "NoSchedule";
        }),
      ),
    ).toEqual(untainted(SUBJECT));
  });

  it("a pool of a GPU machine type (a2) without guestAccelerators is a GPU pool too", () => {
    const a2 = gpuPool((r) => {
      r.nodeConfig.machineType = "a2-highgpu-1g";
      r.nodeConfig.guestAccelerators = [];
      r.nodeConfig.labels = { "mlops.platform/pool": "gpu" };
      r.nodeConfig.taints = [];
    });
    expect(check(a2)).toEqual(untainted(`GKE node pool "${GPU_POOL}" (a2-highgpu-1g)`));
  });
});

describe("gpu-pool-scales-to-zero-in-dev on gcp-dev", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-pool-scales-to-zero-in-dev", all, stack);
  const keeps = (nodes: number) => [
    {
      message: `${SUBJECT}: keeps at least ${nodes} GPU node(s) running in a dev stack.`,
      fix: "set minSize: 0 for the pool in the stack file (scalingConfig.minSize / autoscaling.minNodeCount 0)",
    },
  ];

  it("passes the real output (totalMinNodeCount 0)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a total minimum of one node", () => {
    expect(
      check(
        gpuPool((r) => {
          r.autoscaling.totalMinNodeCount = 1;
        }),
      ),
    ).toEqual(keeps(1));
  });

  it("a per-zone minimum of one node over the pool's two zones keeps two", () => {
    const perZone = gpuPool((r) => {
      delete r.autoscaling.totalMinNodeCount;
      r.autoscaling.minNodeCount = 1;
    });
    expect(check(perZone)).toEqual(keeps(2));
  });

  it("prod pools may keep warm nodes", () => {
    expect(
      check(
        gpuPool((r) => {
          r.autoscaling.totalMinNodeCount = 1;
        }),
        PROD,
      ),
    ).toEqual([]);
  });
});

describe("gpu-pool-spot-in-dev on gcp-dev", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-pool-spot-in-dev", all, stack);
  const onDemand = gpuPool.bind(null, (r) => {
    r.nodeConfig.spot = false;
  });

  it("passes the real output (spot)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("the GPU pool on-demand names nodeConfig.spot", () => {
    expect(check(onDemand())).toEqual([
      {
        message: `${SUBJECT}: runs on-demand GPUs in a dev stack.`,
        fix: "set spot: true for the pool in the stack file (nodeConfig.spot: true)",
      },
    ]);
  });

  it("preemptible VMs count as spot", () => {
    expect(check(gpuPool((r) => void Object.assign(r.nodeConfig, { spot: false, preemptible: true })))).toEqual([]);
  });

  it("prod pools may be on-demand", () => {
    expect(check(onDemand(), PROD)).toEqual([]);
  });
});

describe("gpu-count-within-budget on gcp-dev", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("gpu-count-within-budget", all, stack);
  const over = (total: number, parts: string, maxGpus = 4) => [
    {
      message: `the stack: GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus ${maxGpus}.`,
      fix: "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval",
    },
  ];
  const maxNodes = (n: number) =>
    gpuPool((r) => {
      r.autoscaling.totalMaxNodeCount = n;
    });

  it("passes the real output (2 of 4)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("4 nodes of one GPU are the budget; 5 are over", () => {
    expect(check(maxNodes(4))).toEqual([]);
    expect(check(maxNodes(5))).toEqual(over(5, `${GPU_POOL}: 5 x 1`));
  });

  it("two GPUs per node count twice", () => {
    expect(
      check(
        gpuPool((r) => {
          r.nodeConfig.guestAccelerators[0].count = 2;
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        gpuPool((r) => {
          r.nodeConfig.guestAccelerators[0].count = 3;
        }),
      ),
    ).toEqual(over(6, `${GPU_POOL}: 2 x 3`));
  });

  it("the budget is the stack's serving.maxGpus", () => {
    const serving = { ...platform(STACK).stack.serving, maxGpus: 1 };
    expect(check(resources, { serving })).toEqual(over(2, `${GPU_POOL}: 2 x 1`, 1));
  });
});

describe("resources-have-cost-labels on gcp-dev", () => {
  const check = (all: PlanResource[]) => run("resources-have-cost-labels", all);
  const missing = (subject: string, labels: string, path: string) => [
    { message: `${subject}: has no ${labels} label(s).`, fix: `set ${path}: gcpLabels(stack) (components/names.ts)` },
  ];
  /** A GCP provider with default labels, and a BigQuery table that takes its labels from it. */
  const defaultLabelled = (labels: Record<string, string>, own?: Record<string, string>) => {
    const provider = resource("pulumi:providers:gcp", "labelled", { project: "mlops-dev-4821", defaultLabels: labels });
    const table = resource(
      "gcp:bigquery/table:Table",
      "predictions",
      { datasetId: "features", tableId: "predictions", labels: own },
      { provider },
    );
    return [...resources, provider, table];
  };

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a bucket without its team label", () => {
    expect(check(broken("gcp:storage/bucket:Bucket", "mlops-gcp-artifacts-bucket", (r) => void delete r.labels.team))).toEqual(
      missing('Bucket "mlops-gcp-artifacts-bucket"', "team", "labels"),
    );
  });

  it("a node pool keeps its labels in nodeConfig.resourceLabels", () => {
    expect(check(gpuPool((r) => void delete r.nodeConfig.resourceLabels))).toEqual(
      missing(`NodePool "${GPU_POOL}"`, "team, environment, cost_center", "nodeConfig.resourceLabels"),
    );
    expect(
      check(
        gpuPool((r) => {
          r.labels = r.nodeConfig.resourceLabels;
        }),
      ),
    ).toEqual([]);
  });

  it("Cloud SQL keeps its labels in settings.userLabels", () => {
    const found = check(
      broken(
        "gcp:sql/databaseInstance:DatabaseInstance",
        "mlops-gcp-tracking-postgres",
        (r) => void delete r.settings.userLabels.cost_center,
      ),
    );
    expect(found).toEqual(missing('DatabaseInstance "mlops-gcp-tracking-postgres"', "cost_center", "settings.userLabels"));
  });

  it("the provider's defaultLabels count, with the resource's own labels on top", () => {
    expect(check(defaultLabelled({ team: "ml-platform", environment: "dev", cost_center: "cc-ml-1001" }))).toEqual([]);
    expect(check(defaultLabelled({ team: "ml-platform" }, { environment: "dev" }))).toEqual(
      missing('Table "predictions"', "cost_center", "labels"),
    );
  });

  it("GCP's AWS spelling costCenter is not cost_center", () => {
    const found = check(
      broken("gcp:redis/instance:Instance", "mlops-gcp-online-redis", (r) => {
        delete r.labels.cost_center;
        r.labels.costCenter = "cc-ml-1001";
      }),
    );
    expect(found).toEqual(missing('Instance "mlops-gcp-online-redis"', "cost_center", "labels"));
  });
});
