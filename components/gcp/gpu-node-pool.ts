import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Accelerator, NodePoolSpec, Taint } from "../../definition";
import { type GcpComponentArgs, gcpTarget, projectInput } from "./project";

/** GKE accelerator type per platform accelerator; `undefined` where GCP has no such GPU. */
export const GKE_ACCELERATORS: Record<Accelerator, string | undefined> = {
  "nvidia-tesla-t4": "nvidia-tesla-t4",
  "nvidia-l4": "nvidia-l4",
  "nvidia-tesla-a100": "nvidia-tesla-a100",
  "nvidia-a100-80gb": "nvidia-a100-80gb",
  "nvidia-h100-80gb": "nvidia-h100-80gb",
  // A10G exists only on AWS (g5 instances).
  "nvidia-a10g": undefined,
};

/** Kubernetes taint effects as the GKE API spells them. */
export const GKE_TAINT_EFFECTS: Record<Taint["effect"], string> = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
};

/** The OAuth scope GKE recommends: access is decided by IAM roles, not by legacy scopes. */
export const NODE_OAUTH_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"];

export interface GkeNodePoolArgs extends GcpComponentArgs {
  /** The pool from the spec (labels already include the role and accelerator labels, taints the GPU taint). */
  pool: NodePoolSpec;
  /** The cluster's id (projects/.../clusters/...). */
  clusterId: pulumi.Input<string>;
  /** The least-privilege node service account (NodeServiceAccount). */
  serviceAccountEmail: pulumi.Input<string>;
  /** Zones to run nodes in; defaults to the cluster's zones. */
  nodeLocations?: pulumi.Input<string[]>;
}

/** A node pool as plain settings. */
export interface NodePoolSettings {
  location: string;
  initialNodeCount: number;
  autoscaling: { totalMinNodeCount: number; totalMaxNodeCount: number; locationPolicy: "ANY" | "BALANCED" };
  management: { autoRepair: true; autoUpgrade: true };
  upgradeSettings: { strategy: "SURGE"; maxSurge: number; maxUnavailable: number };
  nodeConfig: {
    machineType: string;
    diskSizeGb: number;
    diskType: string;
    imageType: string;
    spot: boolean;
    labels: Record<string, string>;
    resourceLabels: Record<string, string>;
    taints: { key: string; value: string; effect: string }[];
    guestAccelerators: {
      type: string;
      count: number;
      gpuDriverInstallationConfig: { gpuDriverVersion: string };
      /** GKE shares GPUs itself (its managed device plugin): time-sharing clients per GPU. */
      gpuSharingConfig?: { gpuSharingStrategy: "TIME_SHARING"; maxSharedClientsPerGpu: number };
      /** GKE partitions GPUs itself: the MIG profile every GPU is cut into. */
      gpuPartitionSize?: string;
    }[];
    oauthScopes: string[];
    workloadMetadataConfig: { mode: "GKE_METADATA" };
    shieldedInstanceConfig: { enableSecureBoot: true; enableIntegrityMonitoring: true };
    metadata: Record<string, string>;
  };
}

/**
 * Plain settings for one pool. The spec's min/max are totals across zones (as on AWS), so they
 * map to GKE's total* bounds, not the per-zone ones. GPU pools may scale to 0, take any zone
 * with capacity (spot GPUs are scarce), carry the GPU taint, and get GKE-installed drivers.
 * Every pool: GKE_METADATA (pods cannot read the node's identity), secure boot, integrity
 * monitoring, auto-repair and auto-upgrade, legacy metadata endpoints off.
 */
export function nodePoolSettings(
  args: Pick<GkeNodePoolArgs, "stack" | "pool">,
  zoneCount = args.stack.network.availabilityZones,
): NodePoolSettings {
  const { stack, pool } = args;
  const { region, labels } = gcpTarget(stack);
  const accelerator = pool.accelerator;
  const acceleratorType = accelerator ? GKE_ACCELERATORS[accelerator.type] : undefined;
  if (accelerator && !acceleratorType) {
    const known = Object.entries(GKE_ACCELERATORS)
      .filter(([, v]) => v)
      .map(([k]) => k);
    throw new pulumi.InputPropertiesError({
      message: `node pool "${pool.name}" cannot be built on GKE`,
      errors: [
        {
          propertyPath: `nodePools.${pool.name}.accelerator.type`,
          reason: `"${accelerator.type}" is not offered on GCP; use one of ${known.join(", ")}`,
        },
      ],
    });
  }
  const gpu = pool.role === "gpu";
  return {
    location: region,
    // Per zone; the autoscaler brings the pool up to its total minimum from there.
    initialNodeCount: Math.ceil(pool.minSize / Math.max(1, zoneCount)),
    autoscaling: {
      totalMinNodeCount: pool.minSize,
      totalMaxNodeCount: pool.maxSize,
      locationPolicy: gpu || pool.spot ? "ANY" : "BALANCED",
    },
    management: { autoRepair: true, autoUpgrade: true },
    upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
    nodeConfig: {
      machineType: pool.machineType,
      diskSizeGb: pool.diskSizeGb,
      diskType: "pd-balanced",
      imageType: "COS_CONTAINERD",
      spot: pool.spot,
      labels: { ...pool.labels },
      resourceLabels: labels,
      // Explicit, not left to GKE: GKE adds the GPU taint only when non-GPU pools already exist,
      // which removeDefaultNodePool can race (terraform-google-kubernetes-engine#703).
      taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: GKE_TAINT_EFFECTS[t.effect] })),
      guestAccelerators:
        accelerator && acceleratorType
          ? [
              {
                type: acceleratorType,
                count: accelerator.count,
                gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" },
                ...gkeGpuSharing(pool.gpuSharing),
              },
            ]
          : [],
      oauthScopes: NODE_OAUTH_SCOPES,
      workloadMetadataConfig: { mode: "GKE_METADATA" },
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      metadata: { "disable-legacy-endpoints": "true" },
    },
  };
}

/** One GKE node pool (system or GPU) from the spec. */
export class GkeNodePool extends pulumi.ComponentResource {
  readonly nodePool: gcp.container.NodePool;
  readonly settings: NodePoolSettings;
  readonly poolName: pulumi.Output<string>;

  constructor(name: string, args: GkeNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:GkeNodePool", name, {}, opts);
    const project = projectInput(args);
    this.settings = nodePoolSettings(args);
    const { nodeConfig, ...pool } = this.settings;
    this.nodePool = new gcp.container.NodePool(
      `${name}-pool`,
      {
        project,
        cluster: args.clusterId,
        ...pool,
        nodeLocations: args.nodeLocations,
        nodeConfig: { ...nodeConfig, serviceAccount: args.serviceAccountEmail },
      },
      // The autoscaler owns the node count once the pool exists.
      { parent: this, ignoreChanges: ["initialNodeCount"] },
    );
    this.poolName = this.nodePool.name;
    this.registerOutputs({ poolName: this.poolName, role: args.pool.role, accelerator: args.pool.accelerator?.type ?? "" });
  }
}

/**
 * GKE's own GPU sharing for a pool's spec: time-sharing with N clients per GPU, or MIG partitions
 * of one profile (GKE cuts every GPU of a node into the same partition size, so a pool with MIG
 * names one profile; the stack check refuses several).
 */
export function gkeGpuSharing(sharing: NodePoolSpec["gpuSharing"]): {
  gpuSharingConfig?: { gpuSharingStrategy: "TIME_SHARING"; maxSharedClientsPerGpu: number };
  gpuPartitionSize?: string;
} {
  if (!sharing) return {};
  if (sharing.strategy === "time-slicing")
    return { gpuSharingConfig: { gpuSharingStrategy: "TIME_SHARING", maxSharedClientsPerGpu: sharing.replicas } };
  const [profile] = Object.keys(sharing.profiles);
  return profile ? { gpuPartitionSize: profile } : {};
}
