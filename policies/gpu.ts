import type { PolicyResource } from "@pulumi/policy";
import { ofTypes, safeProp } from "./links";
import { asArray, asRecord, get } from "./support";

/**
 * What the cost rules need to know about GPU node pools on both clouds: whether a pool has
 * GPUs, how many per node, and how many nodes it may grow to.
 */

/** The GPU taint every GPU pool carries (AWS and GKE spell the effect NO_SCHEDULE). */
export const GPU_TAINT_KEY = "nvidia.com/gpu";
export const GPU_RESOURCE = "nvidia.com/gpu";
export const ACCELERATOR_LABEL = "mlops.platform/accelerator";

/**
 * NVIDIA GPUs per instance by EC2 family and size (AWS instance type pages). Families whose
 * sizes all have one GPU list only the exceptions. Kept here because no AWS API is reachable
 * from a plan, and this table changes once a year.
 */
const AWS_GPUS: Record<string, { default: number; sizes?: Record<string, number> }> = {
  g4dn: { default: 1, sizes: { "12xlarge": 4, metal: 8 } },
  g5: { default: 1, sizes: { "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
  g6: { default: 1, sizes: { "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
  g6e: { default: 1, sizes: { "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
  gr6: { default: 1 },
  p3: { default: 1, sizes: { "8xlarge": 4, "16xlarge": 8 } },
  p3dn: { default: 8 },
  p4d: { default: 8 },
  p4de: { default: 8 },
  p5: { default: 8 },
  p5e: { default: 8 },
  p5en: { default: 8 },
};

/** GPUs per node of an EC2 instance type; undefined when it is not an NVIDIA GPU type. */
export function awsGpusPerInstance(instanceType: string): number | undefined {
  const [family = "", size = ""] = instanceType.split(".");
  const entry = AWS_GPUS[family];
  return entry ? (entry.sizes?.[size] ?? entry.default) : undefined;
}

/** What provisions a pool's nodes: an EKS managed node group, a Karpenter NodePool, a GKE node pool. */
export type GpuPoolKind = "eks-node-group" | "karpenter-node-pool" | "gke-node-pool";

export interface GpuPool {
  resource: PolicyResource | { type: string; name: string; urn: string; props: Record<string, unknown> };
  kind: GpuPoolKind;
  /** GPUs per node; undefined when the pool has GPUs but their count cannot be told. */
  gpusPerNode?: number;
  taints: { key: string; effect: string }[];
  minNodes: number;
  /** Nodes the pool may grow to across all its zones (Infinity: nothing bounds it). */
  maxNodes: number;
  /** GPUs the pool may grow to when something bounds them directly (a Karpenter GPU limit). */
  maxGpus?: number;
  /** A Karpenter NodePool's node limit (spec.limits.nodes), when it sets one. */
  maxNodesLimit?: number;
  /** GPUs of the smallest instance type a Karpenter NodePool allows (the first node it can launch). */
  fewestGpusPerNode?: number;
  spot: boolean;
  /** e.g. "g6.xlarge" or "nvidia-l4 x1". */
  describe: string;
}

type Props = Record<string, unknown>;

/** A GPU view of an EKS node group, or undefined when it has no GPUs. */
export function eksGpuPool(resource: GpuPool["resource"], props: Props): GpuPool | undefined {
  const types = asArray(props.instanceTypes).map(String);
  const perNode = types.map(awsGpusPerInstance).filter((n): n is number => n !== undefined);
  const gpuAmi = typeof props.amiType === "string" && /GPU|NVIDIA/.test(props.amiType);
  const labelled = asRecord(props.labels)[ACCELERATOR_LABEL] !== undefined;
  if (perNode.length === 0 && !gpuAmi && !labelled) return undefined;
  const scaling = asRecord(props.scalingConfig);
  return {
    resource,
    kind: "eks-node-group",
    gpusPerNode: perNode.length ? Math.max(...perNode) : undefined,
    taints: asArray(props.taints).map((t) => ({ key: String(get(t, "key")), effect: String(get(t, "effect")) })),
    minNodes: Number(scaling.minSize ?? 1),
    maxNodes: Number(scaling.maxSize ?? 1),
    spot: props.capacityType === "SPOT",
    // Both may sit in a launch template instead.
    describe: types.join(",") || (typeof props.amiType === "string" ? props.amiType : "no instance type"),
  };
}

/**
 * A GPU view of a GKE node pool, or undefined when it has no GPUs. `zonesOf` gives the zone
 * count of its cluster: GKE's min/maxNodeCount are per zone, totalMin/MaxNodeCount are not.
 */
export function gkeGpuPool(resource: GpuPool["resource"], props: Props, zones: number): GpuPool | undefined {
  const node = asRecord(props.nodeConfig);
  const accelerators = asArray(node.guestAccelerators);
  const machine = String(node.machineType ?? "");
  // a2, a3 and g2 machine types come with GPUs attached.
  const builtIn = /^(a2|a3|g2)-/.test(machine);
  if (accelerators.length === 0 && !builtIn && asRecord(node.labels)[ACCELERATOR_LABEL] === undefined) return undefined;
  // The generic names the result: without it a looser compiler (the engine's ts-node defaults) picks the unknown overload.
  const count = accelerators.reduce<number>((sum, a) => sum + Number(get(a, "count") ?? 0), 0);
  const auto = asRecord(props.autoscaling);
  const locations = asArray(props.nodeLocations).length || zones;
  const perZone = (v: unknown) => (v === undefined ? undefined : Number(v) * locations);
  const fixed = Number(props.nodeCount ?? props.initialNodeCount ?? 0) * locations;
  return {
    resource,
    kind: "gke-node-pool",
    gpusPerNode: count || undefined,
    taints: asArray(node.taints).map((t) => ({ key: String(get(t, "key")), effect: String(get(t, "effect")) })),
    minNodes: Number(auto.totalMinNodeCount ?? perZone(auto.minNodeCount) ?? fixed),
    maxNodes: Number(auto.totalMaxNodeCount ?? perZone(auto.maxNodeCount) ?? fixed),
    spot: node.spot === true || node.preemptible === true,
    describe: accelerators.map((a) => `${String(get(a, "type"))} x${String(get(a, "count"))}`).join(", ") || machine,
  };
}

/** Zones a GKE cluster's node pools spread over: its nodeLocations, else 3 for a region, 1 for a zone. */
export function gkeClusterZones(cluster: PolicyResource | undefined): number {
  if (!cluster) return 1;
  const locations = asArray(safeProp(cluster, "nodeLocations")).length;
  if (locations) return locations;
  const location = String(safeProp(cluster, "location")); // "undefined" without one: not a region
  return /^[a-z]+-[a-z]+\d+$/.test(location) ? 3 : 1;
}

/** The type token of Karpenter's NodePool (CustomResource "karpenter.sh/v1", kind NodePool). */
export const KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
const KARPENTER_CAPACITY_TYPES = ["spot", "on-demand", "reserved"];
/** Kubernetes taint effects in the EKS/GKE API spelling the cost rules compare against. */
const API_EFFECTS: Record<string, string> = { NoSchedule: "NO_SCHEDULE", PreferNoSchedule: "PREFER_NO_SCHEDULE", NoExecute: "NO_EXECUTE" };

/** Values a NodePool requirement allows for `key`; undefined when no requirement names it. */
function allowed(requirements: unknown[], key: string, universe?: string[]): string[] | undefined {
  // Without one, r is undefined and so is its operator: undefined below.
  const r = requirements.find((q) => get(q, "key") === key);
  const values = asArray(get(r, "values")).map(String);
  const op = get(r, "operator");
  if (op === "In") return values;
  if (op === "NotIn" && universe) return universe.filter((v) => !values.includes(v));
  return undefined;
}

/** A quantity of a NodePool limit as a count ("4" or 4); undefined when absent or not a plain number. */
function count(value: unknown): number | undefined {
  // Number() makes 0 of these two; undefined becomes NaN, which the finite test below refuses.
  if (value === null || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A GPU view of a Karpenter NodePool (karpenter.sh/v1), or undefined when it has no GPUs: GPUs per
 * node from its instance-type requirement, taints from spec.template.spec (Kubernetes spelling,
 * turned into the API spelling the rules compare), spot when the capacity-type requirement allows
 * only spot (Karpenter's default without one is on-demand), no minimum (Karpenter keeps none), and
 * the most it can grow to from spec.limits (nvidia.com/gpu, else nodes; unbounded without either).
 */
export function karpenterGpuPool(resource: GpuPool["resource"], props: Props): GpuPool | undefined {
  const spec = asRecord(props.spec);
  const template = asRecord(get(spec, "template", "spec"));
  const requirements = asArray(template.requirements);
  const types = allowed(requirements, "node.kubernetes.io/instance-type") ?? [];
  const perNode = types.map(awsGpusPerInstance).filter((n): n is number => n !== undefined);
  const limits = asRecord(spec.limits);
  const gpuLimit = count(limits[GPU_RESOURCE]);
  const labels = asRecord(get(spec, "template", "metadata", "labels"));
  if (perNode.length === 0 && gpuLimit === undefined && labels[ACCELERATOR_LABEL] === undefined) return undefined;
  const gpusPerNode = perNode.length ? Math.max(...perNode) : undefined;
  const nodeLimit = count(limits.nodes);
  // The most nodes a GPU limit allows are of the smallest instance type: Karpenter launches any type
  // the requirement allows that still fits under the limit.
  const fewestPerNode = perNode.length ? Math.min(...perNode) : undefined;
  const byGpus = gpuLimit !== undefined && fewestPerNode ? Math.floor(gpuLimit / fewestPerNode) : undefined;
  const capacity = allowed(requirements, "karpenter.sh/capacity-type", KARPENTER_CAPACITY_TYPES) ?? ["on-demand"];
  return {
    resource,
    kind: "karpenter-node-pool",
    gpusPerNode,
    taints: asArray(template.taints).map((t) => {
      const effect = String(get(t, "effect"));
      return { key: String(get(t, "key")), effect: API_EFFECTS[effect] ?? effect };
    }),
    minNodes: 0,
    maxNodes: Math.min(byGpus ?? Infinity, nodeLimit ?? Infinity),
    maxGpus: gpuLimit,
    maxNodesLimit: nodeLimit,
    fewestGpusPerNode: fewestPerNode,
    spot: capacity.length > 0 && capacity.every((c) => c === "spot"),
    describe: types.join(",") || "no instance type",
  };
}

/**
 * The GPUs a pool can grow to: max nodes x GPUs per node, capped by a direct GPU bound (a Karpenter
 * GPU limit); Infinity when nothing bounds it; the GPU bound alone (else 0) when GPUs per node are unknown.
 */
export function poolMaxGpus(pool: GpuPool): number {
  const bound = pool.maxGpus ?? Infinity;
  if (pool.gpusPerNode === undefined) return pool.maxGpus ?? 0;
  return Math.min(bound, pool.maxNodes * pool.gpusPerNode);
}

const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";

const POOL_NOUN: Record<GpuPool["kind"], string> = {
  "eks-node-group": "EKS node group",
  "karpenter-node-pool": "Karpenter NodePool",
  "gke-node-pool": "GKE node pool",
};

export function poolSubject(pool: GpuPool): string {
  return `${POOL_NOUN[pool.kind]} "${pool.resource.name}" (${pool.describe})`;
}

/**
 * Every GPU pool of a stack with its true size: GKE pools know their cluster's zones (min/max
 * node counts are per zone), Karpenter NodePools and EKS node groups their own limits.
 */
export function stackGpuPools(resources: PolicyResource[]): GpuPool[] {
  const clusters = ofTypes(resources, ["gcp:container/cluster:Cluster"]);
  const pools: GpuPool[] = [];
  for (const r of resources) {
    const props = r.props as Record<string, unknown>;
    let pool: GpuPool | undefined;
    if (r.type === EKS_NODE_GROUP) pool = eksGpuPool(r, props);
    else if (r.type === KARPENTER_NODE_POOL) pool = karpenterGpuPool(r, props);
    else if (r.type === GKE_NODE_POOL) pool = gkeGpuPool(r, props, gkeClusterZones(gkeClusterOf(r, clusters)));
    if (pool) pools.push(pool);
  }
  return pools;
}

/** The GKE cluster a node pool belongs to: by dependency or by the id/name it names, else the only one. */
export function gkeClusterOf(pool: PolicyResource, clusters: PolicyResource[]): PolicyResource | undefined {
  const ref = safeProp(pool, "cluster");
  return (
    clusters.find((c) => pool.dependencies.includes(c) || ref === safeProp(c, "id") || ref === safeProp(c, "name")) ??
    (clusters.length === 1 ? clusters[0] : undefined)
  );
}
