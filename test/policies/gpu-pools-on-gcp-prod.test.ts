import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { changed, evaluate, policy, type Props, violationsOf } from "./fixtures/resource";

/**
 * The GPU pool rules over gcp-prod's real plan (policies/gpu.ts's GKE view, read by the cost
 * rules and gpu-pool-can-scale-up), broken one way at a time, each case asserting the whole list
 * of one policy's violations. gcp-prod: a regional cluster in europe-west4 with node
 * auto-provisioning (nvidia-l4 up to 8), a system pool and a GPU pool "gpu-l4" (g2-standard-8
 * with one nvidia-l4, totalMinNodeCount 0, totalMaxNodeCount 6, over three nodeLocations, tainted,
 * on-demand), serving.maxGpus 8.
 */

const NODE_POOL = "gcp:container/nodePool:NodePool";
const CLUSTER = "gcp:container/cluster:Cluster";

const resources = realPlan("gcp-prod");

const run = (all: PlanResource[], name: string) => violationsOf(all, "gcp-prod", name);
/** One policy's violations with the stack taken for a dev one (the spot and scale-to-zero rules apply only there). */
const asDev = (all: PlanResource[], name: string) =>
  evaluate(all, "gcp-prod", { policies: [policy(name)], stack: { environment: "dev" } }).violations.map((v) => ({
    message: v.message,
    fix: v.fix,
  }));

const POOL = 'GKE node pool "mlops-gcp-gpu-l4-pool"';
const isGpuPool = (r: PlanResource) => r.name === "mlops-gcp-gpu-l4-pool";
/** The plan with the GPU pool changed (and its dependencies replaced, when given). */
const gpuPool = (change: (r: Props) => void, opts: Partial<PlanResource["options"]> = {}) => {
  const i = resources.findIndex(isGpuPool);
  expect(i).toBeGreaterThanOrEqual(0);
  const copy = [...resources];
  copy[i] = changed(resources[i] as PlanResource, change, opts);
  return copy;
};
/** Per-zone autoscaling bounds on the GPU pool, as the GKE API also takes them. */
const perZone = (min: number, max: number) => (r: Props) => {
  r.autoscaling = { minNodeCount: min, maxNodeCount: max, locationPolicy: "ANY" };
};
const withoutPoolLocations = (change: (r: Props) => void) => (r: Props) => {
  delete r.nodeLocations;
  change(r);
};
const cluster = (plan: PlanResource[], change: (r: Props) => void) => withBreakage(plan, { type: CLUSTER, change });

const overBudget = (total: number, parts: string) => ({
  message: `the stack: GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus 8.`,
  fix: "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval",
});
const budget = (plan: PlanResource[]) => run(plan, "gpu-count-within-budget");

describe("the GPU pool rules on gcp-prod's real plan", () => {
  it("pass the real output", () => {
    for (const name of ["gpu-count-within-budget", "gpu-pool-can-scale-up", "gpu-pool-tainted"]) {
      expect(run(resources, name), name).toEqual([]);
    }
    expect(asDev(resources, "gpu-pool-scales-to-zero-in-dev")).toEqual([]);
  });
});

describe("the size of a GKE GPU pool", () => {
  it("counts totalMaxNodeCount x GPUs per node", () => {
    expect(budget(gpuPool((r) => (r.autoscaling.totalMaxNodeCount = 9)))).toEqual([overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")]);
  });

  it("multiplies per-zone counts by the pool's node locations", () => {
    expect(budget(gpuPool(perZone(0, 3)))).toEqual([overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")]);
    expect(budget(gpuPool(perZone(0, 2)))).toEqual([]);
    const twoZones = gpuPool((r) => {
      perZone(0, 4)(r);
      r.nodeLocations = ["europe-west4-a", "europe-west4-b"];
    });
    expect(budget(twoZones)).toEqual([]);
  });

  it("without node locations of its own, takes the zones of its regional cluster (3)", () => {
    expect(budget(gpuPool(withoutPoolLocations(perZone(0, 3))))).toEqual([overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")]);
  });

  it("takes the cluster's node locations, else one zone for a zonal cluster", () => {
    const plan = gpuPool(withoutPoolLocations(perZone(0, 5)));
    expect(budget(cluster(plan, (c) => (c.nodeLocations = ["europe-west4-a", "europe-west4-b"])))).toEqual([
      overBudget(10, "mlops-gcp-gpu-l4-pool: 10 x 1"),
    ]);
    expect(budget(cluster(plan, (c) => (c.location = "europe-west4-a")))).toEqual([]);
    expect(budget(cluster(plan, (c) => delete c.location))).toEqual([]);
    expect(budget(cluster(plan, (c) => (c.location = "us-central1")))).toEqual([overBudget(15, "mlops-gcp-gpu-l4-pool: 15 x 1")]);
    expect(budget(cluster(plan, (c) => (c.location = "europe-west12")))).toEqual([overBudget(15, "mlops-gcp-gpu-l4-pool: 15 x 1")]);
  });

  it("counts a pool without autoscaling by its nodeCount, else its initialNodeCount, per zone", () => {
    const fixed = (counts: Props) => (r: Props) => {
      delete r.autoscaling;
      delete r.initialNodeCount;
      Object.assign(r, counts);
    };
    expect(budget(gpuPool(fixed({ nodeCount: 3, initialNodeCount: 1 })))).toEqual([overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")]);
    expect(budget(gpuPool(fixed({ initialNodeCount: 3 })))).toEqual([overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")]);
    expect(budget(gpuPool(fixed({ nodeCount: 2, initialNodeCount: 3 })))).toEqual([]);
  });

  it("sums the GPUs of every accelerator of a node, and names each", () => {
    const plan = gpuPool((r) => {
      r.nodeConfig.guestAccelerators = [
        { type: "nvidia-l4", count: 1 },
        { type: "nvidia-tesla-t4", count: 2 },
      ];
      r.nodeConfig.taints = [];
    });
    expect(budget(plan)).toEqual([overBudget(18, "mlops-gcp-gpu-l4-pool: 6 x 3")]);
    expect(run(plan, "gpu-pool-tainted").map((v) => v.message)).toEqual([
      `${POOL} (nvidia-l4 x1, nvidia-tesla-t4 x2): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`,
    ]);
  });

  const UNKNOWN = {
    message: `${POOL} (g2-standard-8): has GPUs, but how many per node cannot be told.`,
    fix: "use an instance type listed in policies/gpu.ts (AWS) or set nodeConfig.guestAccelerators with a count (GKE)",
  };

  it("has GPUs of unknown count on a GPU machine type without accelerators (a2, a3, g2), named by its machine type", () => {
    for (const machine of ["a2-highgpu-1g", "a3-highgpu-8g", "g2-standard-8"]) {
      const plan = gpuPool((r) => {
        r.nodeConfig.guestAccelerators = [];
        r.nodeConfig.machineType = machine;
        delete r.nodeConfig.labels["mlops.platform/accelerator"];
      });
      expect(budget(plan), machine).toEqual([{ ...UNKNOWN, message: UNKNOWN.message.replace("g2-standard-8", machine) }]);
    }
  });

  it("has GPUs of unknown count with an accelerator that gives no count", () => {
    expect(budget(gpuPool((r) => delete r.nodeConfig.guestAccelerators[0].count))).toEqual([
      { ...UNKNOWN, message: `${POOL} (nvidia-l4 xundefined): has GPUs, but how many per node cannot be told.` },
    ]);
  });

  it("is a GPU pool by the accelerator label alone, named by its machine type (or by nothing)", () => {
    const labelled = (change: (r: Props) => void) =>
      withBreakage(resources, {
        type: NODE_POOL,
        match: (r) => r.name === "mlops-gcp-system-pool",
        change: (r) => {
          r.nodeConfig.labels["mlops.platform/accelerator"] = "nvidia-l4";
          change(r);
        },
      });
    const rule = "has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.";
    expect(
      run(
        labelled(() => {}),
        "gpu-pool-tainted",
      ).map((v) => v.message),
    ).toEqual([`GKE node pool "mlops-gcp-system-pool" (n2-standard-4): ${rule}`]);
    expect(
      run(
        labelled((r) => delete r.nodeConfig.machineType),
        "gpu-pool-tainted",
      ).map((v) => v.message),
    ).toEqual([`GKE node pool "mlops-gcp-system-pool" (): ${rule}`]);
  });

  it("is a GPU pool by its accelerators alone, on an N1 machine without the label", () => {
    const plan = gpuPool((r) => {
      r.nodeConfig.machineType = "n1-standard-8";
      r.nodeConfig.guestAccelerators = [{ type: "nvidia-tesla-t4", count: 1 }];
      r.nodeConfig.taints = [];
      delete r.nodeConfig.labels["mlops.platform/accelerator"];
    });
    expect(run(plan, "gpu-pool-tainted").map((v) => v.message)).toEqual([
      `${POOL} (nvidia-tesla-t4 x1): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`,
    ]);
  });

  it("is not a GPU pool on an n2 machine without accelerators or the label", () => {
    const plan = gpuPool((r) => {
      r.nodeConfig.guestAccelerators = [];
      r.nodeConfig.machineType = "n2-standard-8";
      r.nodeConfig.taints = [];
      delete r.nodeConfig.labels["mlops.platform/accelerator"];
    });
    expect(run(plan, "gpu-pool-tainted")).toEqual([]);
    expect(budget(plan)).toEqual([]);
  });

  it("refuses a GPU taint of another effect", () => {
    expect(
      run(
        gpuPool((r) => (r.nodeConfig.taints[0].effect = "NO_EXECUTE")),
        "gpu-pool-tainted",
      ),
    ).toEqual([
      {
        message: `${POOL} (nvidia-l4 x1): has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes.`,
        fix: 'add taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]',
      },
    ]);
  });
});

describe("which GKE pool belongs to which cluster", () => {
  /** A zonal cluster of another id and name, listed before the real one. */
  const otherCluster = () => {
    const real = resources.find((r) => r.type === CLUSTER) as PlanResource;
    const other = changed(real, (c) => {
      c.location = "europe-west4-b";
      c.name = "other-gke";
      c.id = "projects/mlops-prod-7730/locations/europe-west4-b/clusters/other-gke";
    });
    return { ...other, name: "other-gke", urn: real.urn.replace("::mlops-gcp-gke", "::other-gke") };
  };
  const realCluster = () => resources.find((r) => r.type === CLUSTER) as PlanResource;
  /** The GPU pool at 3 nodes per zone without its own locations, referring to `ref`, depending on `dependsOn`. */
  const referring = (ref: string, dependsOn: string[], withOther = true) => {
    const plan = gpuPool(
      withoutPoolLocations((r) => {
        perZone(0, 3)(r);
        r.cluster = ref;
      }),
      { dependsOn },
    );
    return withOther ? [otherCluster(), ...plan] : plan;
  };
  const REGIONAL = [overBudget(9, "mlops-gcp-gpu-l4-pool: 9 x 1")];

  it("finds the cluster a pool depends on", () => {
    expect(budget(referring("unknown", [realCluster().urn]))).toEqual(REGIONAL);
    expect(budget(referring("unknown", [otherCluster().urn]))).toEqual([]);
  });

  it("finds the cluster by the id or the name the pool names", () => {
    expect(budget(referring(realCluster().outputs.id as string, []))).toEqual(REGIONAL);
    expect(budget(referring(realCluster().outputs.name as string, []))).toEqual(REGIONAL);
    expect(budget(referring(otherCluster().outputs.id as string, []))).toEqual([]);
  });

  it("takes the only cluster when the pool names none the stack has, and one zone when there are several", () => {
    expect(budget(referring("unknown", [], false))).toEqual(REGIONAL);
    expect(budget(referring("unknown", []))).toEqual([]);
    // Not the first of several either: the regional cluster listed first still gives one zone.
    expect(budget([...referring("unknown", [], false), otherCluster()])).toEqual([]);
  });

  it("takes one zone with no cluster in the stack", () => {
    const plan = referring("unknown", [], false).filter((r) => r.type !== CLUSTER);
    expect(budget(plan)).toEqual([]);
  });
});

describe("gpu-pool-can-scale-up over GKE GPU pools", () => {
  const canScale = (plan: PlanResource[]) => run(plan, "gpu-pool-can-scale-up");
  const never = (subject: string, gpus: string) => ({
    message: `${subject}: can never get a node: no autoscaling above 0 nodes and its cluster cannot auto-provision ${gpus}.`,
    fix: "give the pool autoscaling with a max above 0 (maxSize in the stack file), or node auto-provisioning limits for the GPU (cluster.autoProvisioning.gpus)",
  });
  const atZero = (change: (r: Props) => void = () => {}) =>
    gpuPool((r) => {
      delete r.autoscaling;
      r.initialNodeCount = 0;
      change(r);
    });
  const nap = (plan: PlanResource[], change: (a: Props) => void) => cluster(plan, (c) => change(c.clusterAutoscaling));

  it("passes a pool at 0 nodes whose GPU the cluster auto-provisions", () => {
    expect(canScale(atZero())).toEqual([]);
  });

  it("refuses a pool at 0 nodes when auto-provisioning is off, or allows none of its GPU", () => {
    const refused = [never(`${POOL} (nvidia-l4 x1)`, "nvidia-l4")];
    expect(canScale(nap(atZero(), (a) => (a.enabled = false)))).toEqual(refused);
    const limitOf = (a: Props) => a.resourceLimits.find((l: Props) => l.resourceType === "nvidia-l4");
    expect(canScale(nap(atZero(), (a) => (limitOf(a).maximum = 0)))).toEqual(refused);
    expect(canScale(nap(atZero(), (a) => delete limitOf(a).maximum))).toEqual(refused);
    expect(canScale(nap(atZero(), (a) => (a.resourceLimits = a.resourceLimits.filter((l: Props) => l !== limitOf(a)))))).toEqual(refused);
  });

  it("refuses a pool at 0 nodes of a GPU the cluster does not auto-provision, naming every type", () => {
    const plan = atZero((r) => {
      r.nodeConfig.guestAccelerators = [
        { type: "nvidia-tesla-t4", count: 1 },
        { type: "nvidia-tesla-p4", count: 1 },
      ];
    });
    expect(canScale(plan)).toEqual([never(`${POOL} (nvidia-tesla-t4 x1, nvidia-tesla-p4 x1)`, "nvidia-tesla-t4, nvidia-tesla-p4")]);
  });

  it("does not take a cluster limit of another resource for a GPU", () => {
    const plan = atZero((r) => (r.nodeConfig.guestAccelerators[0].type = "cpu"));
    expect(canScale(plan)).toEqual([never(`${POOL} (cpu x1)`, "cpu")]);
  });

  it("refuses a GPU machine type without accelerators at 0 nodes: its GPUs cannot be named", () => {
    const plan = atZero((r) => {
      r.nodeConfig.guestAccelerators = [];
      r.nodeConfig.machineType = "a2-highgpu-1g";
    });
    expect(canScale(plan)).toEqual([never(`${POOL} (a2-highgpu-1g)`, "its GPUs")]);
  });

  it("passes a pool of at most one node without auto-provisioning, refuses one of at most 0", () => {
    const off = (plan: PlanResource[]) => nap(plan, (a) => (a.enabled = false));
    expect(canScale(off(gpuPool((r) => (r.autoscaling.totalMaxNodeCount = 1))))).toEqual([]);
    expect(canScale(off(gpuPool((r) => (r.autoscaling.totalMaxNodeCount = 0))))).toEqual([never(`${POOL} (nvidia-l4 x1)`, "nvidia-l4")]);
  });
});

describe("the dev rules over a GKE GPU pool (the stack taken for dev)", () => {
  const KEEPS_FIX = "set minSize: 0 for the pool in the stack file (scalingConfig.minSize / autoscaling.minNodeCount 0)";
  const keeps = (n: number) => [
    { message: `${POOL} (nvidia-l4 x1): keeps at least ${n} GPU node(s) running in a dev stack.`, fix: KEEPS_FIX },
  ];
  const minimum = (plan: PlanResource[]) => asDev(plan, "gpu-pool-scales-to-zero-in-dev");

  it("reads the minimum from totalMinNodeCount, else per-zone minNodeCount x zones, else the fixed count", () => {
    expect(minimum(gpuPool((r) => (r.autoscaling.totalMinNodeCount = 2)))).toEqual(keeps(2));
    expect(minimum(gpuPool(perZone(1, 2)))).toEqual(keeps(3));
    expect(minimum(gpuPool((r) => Object.assign(r, { autoscaling: undefined, nodeCount: 1 })))).toEqual(keeps(3));
  });

  it("is spot with spot or preemptible VMs, on-demand otherwise", () => {
    const spot = (plan: PlanResource[]) => asDev(plan, "gpu-pool-spot-in-dev");
    expect(spot(resources)).toEqual([
      {
        message: `${POOL} (nvidia-l4 x1): runs on-demand GPUs in a dev stack.`,
        fix: "set spot: true for the pool in the stack file (nodeConfig.spot: true)",
      },
    ]);
    expect(spot(gpuPool((r) => (r.nodeConfig.spot = true)))).toEqual([]);
    expect(spot(gpuPool((r) => (r.nodeConfig.preemptible = true)))).toEqual([]);
  });
});
