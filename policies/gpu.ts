import type { PolicyResource } from "@pulumi/policy";
import { safeProp } from "./links";
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

export interface GpuPool {
  resource: PolicyResource | { type: string; name: string; urn: string; props: Record<string, unknown> };
  cloud: "aws" | "gcp";
  /** GPUs per node; undefined when the pool has GPUs but their count cannot be told. */
  gpusPerNode?: number;
  taints: { key: string; effect: string }[];
  minNodes: number;
  /** Nodes the pool may grow to across all its zones. */
  maxNodes: number;
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
    cloud: "aws",
    gpusPerNode: perNode.length ? Math.max(...perNode) : undefined,
    taints: asArray(props.taints).map((t) => ({ key: String(get(t, "key")), effect: String(get(t, "effect")) })),
    minNodes: Number(scaling.minSize ?? 1),
    maxNodes: Number(scaling.maxSize ?? 1),
    spot: props.capacityType === "SPOT",
    describe: types.join(",") || String(props.amiType),
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
    cloud: "gcp",
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
  const location = String(safeProp(cluster, "location") ?? "");
  return /^[a-z]+-[a-z]+\d+$/.test(location) ? 3 : 1;
}
