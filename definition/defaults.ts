import {
  ACCELERATOR_LABEL,
  type Accelerator,
  type Cloud,
  type DisruptionBudget,
  type Environment,
  GPU_SHARING_LABEL,
  GPU_TAINT,
  type GpuSharing,
  POOL_ROLE_LABEL,
  type StackConfigParsed,
  type Taint,
} from "./stack";

/** A node pool with every default resolved. */
export interface NodePoolSpec {
  name: string;
  role: "system" | "gpu";
  machineType: string;
  accelerator?: { type: Accelerator; count: number };
  minSize: number;
  maxSize: number;
  spot: boolean;
  diskSizeGb: number;
  /** Includes the role label and, for GPU pools, the accelerator label. */
  labels: Record<string, string>;
  /** Includes the GPU taint for GPU pools. */
  taints: Taint[];
  /** GPU sharing (time-slicing or MIG); absent means whole GPUs. */
  gpuSharing?: GpuSharing;
  /** When node autoscaling (Karpenter on EKS) may take the pool's nodes away. */
  disruption: PoolDisruptionSpec;
}

/** A pool's disruption settings with defaults resolved (Karpenter's vocabulary). */
export interface PoolDisruptionSpec {
  /** WhenEmpty: only nodes running nothing but daemons are consolidated. */
  consolidationPolicy: "WhenEmpty" | "WhenEmptyOrUnderutilized";
  consolidateAfter: string;
  expireAfter: string;
  budgets: DisruptionBudget[];
}

/**
 * Disruption defaults by role. GPU nodes are consolidated only when empty (a node serving a model,
 * or pulling its multi-GB image for a pod already bound to it, is never empty) and only after
 * 30 minutes empty, so a scale-down followed by a scale-up does not pay the image pull twice;
 * never replaced just because a newer AMI exists (a Drifted budget of 0: they roll at expiry,
 * drained with their PodDisruptionBudgets respected); and at most one at a time. Other pools
 * consolidate underutilized nodes after a minute, 10% at a time.
 */
export function defaultDisruption(role: "system" | "gpu"): PoolDisruptionSpec {
  if (role === "gpu") {
    return {
      consolidationPolicy: "WhenEmpty",
      consolidateAfter: "30m",
      expireAfter: "720h",
      budgets: [
        { nodes: "0", reasons: ["Drifted"] },
        { nodes: "1", reasons: ["Empty", "Underutilized"] },
      ],
    };
  }
  return { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m", expireAfter: "720h", budgets: [{ nodes: "10%" }] };
}

export type OnlineStoreSpec =
  | { kind: "redis"; nodeType: string; memorySizeGb: number; replicas: number; engineVersion: string; shards?: number }
  | { kind: "dynamodb" };

export type OfflineStoreSpec =
  | { kind: "redshift"; baseCapacity: number; database: string }
  | { kind: "bigquery"; location: string; dataset: string }
  | { kind: "duckdb"; path: string }
  | { kind: "postgres"; database: string };

/** A stack's configuration with every environment default resolved: what components receive. */
export interface StackSpec {
  name: string;
  cloud: Cloud;
  environment: Environment;
  region: string;
  project?: string;
  /** Labels for every resource; always has team, environment and costCenter. */
  tags: Record<string, string>;
  /** Stateful resources get `protect` and deletion protection (prod). */
  protect: boolean;
  /** Spread across zones with failover (prod). */
  multiAz: boolean;
  network: { cidr: string; availabilityZones: number; podsCidr: string; servicesCidr: string; natPerAz: boolean };
  cluster: {
    version: string;
    privateEndpoint: boolean;
    publicAccessCidrs: string[];
    releaseChannel: "RAPID" | "REGULAR" | "STABLE";
    /** Cluster administrators besides the creator: IAM role ARNs (AWS) or IAM members (GCP). */
    admins: string[];
    /** GKE node auto-provisioning limits; absent when off. */
    autoProvisioning?: { maxCpu: number; maxMemoryGb: number; gpus: Partial<Record<Accelerator, number>> };
    kubeconfig?: string;
    context?: string;
  };
  nodePools: NodePoolSpec[];
  onlineStore: OnlineStoreSpec;
  offlineStore: OfflineStoreSpec;
  tracking: { enabled: boolean; image: string; databaseTier: string };
  mesh: { mode: "install" | "adopt"; version: string };
  monitoring: { enabled: boolean; chartVersion: string; retention: string };
  serving: { image: string; namespace: string; maxGpus: number };
  /** KEDA (queue-signal scaling of model versions) and its HTTP add-on (holds requests while scaling from zero). */
  autoscaling: { keda: boolean; kedaChartVersion: string; httpAddon: boolean; httpAddonChartVersion: string };
  featureStore: { project: string };
  policies: Record<string, "advisory" | "mandatory" | "disabled">;
}

/** Default online store per cloud: Redis everywhere (ElastiCache, Memorystore, in-cluster). */
function defaultOnline(cfg: StackConfigParsed): OnlineStoreSpec {
  const prod = cfg.environment === "prod";
  const online = cfg.onlineStore ?? { kind: "redis" as const, engineVersion: "7.1" };
  if (online.kind === "dynamodb") return online;
  return {
    kind: "redis",
    // cache.t4g.small is the cheapest node with TLS support; r7g for prod memory headroom.
    nodeType: online.nodeType ?? (prod ? "cache.r7g.large" : "cache.t4g.small"),
    memorySizeGb: online.memorySizeGb ?? (prod ? 5 : 1),
    replicas: online.replicas ?? (prod ? 1 : 0),
    engineVersion: online.engineVersion,
    ...(online.shards ? { shards: online.shards } : {}),
  };
}

function defaultOffline(cfg: StackConfigParsed, region: string): OfflineStoreSpec {
  const prod = cfg.environment === "prod";
  const offline = cfg.offlineStore;
  if (!offline) {
    if (cfg.cloud === "aws") return { kind: "redshift", baseCapacity: prod ? 32 : 8, database: "features" };
    if (cfg.cloud === "gcp") return { kind: "bigquery", location: region, dataset: "features" };
    return { kind: "duckdb", path: "/data/offline.duckdb" };
  }
  if (offline.kind === "redshift") return { ...offline, baseCapacity: offline.baseCapacity ?? (prod ? 32 : 8) };
  if (offline.kind === "bigquery") return { ...offline, location: offline.location ?? region };
  return offline;
}

const DEFAULT_REGION: Record<Cloud, string> = { aws: "us-east-1", gcp: "us-central1", local: "local" };

/**
 * Resolves every default from the environment, in one place:
 * prod is private (endpoint), multi-AZ, protected and on-demand; dev is public-endpoint,
 * single-NAT, spot for GPUs and unprotected, because it is cheap and disposable.
 */
export function resolveStack(name: string, cfg: StackConfigParsed): StackSpec {
  const prod = cfg.environment === "prod";
  const region = cfg.region ?? DEFAULT_REGION[cfg.cloud];
  const nodePools: NodePoolSpec[] = cfg.nodePools.map((pool) => {
    const gpu = pool.role === "gpu";
    const labels: Record<string, string> = { ...pool.labels, [POOL_ROLE_LABEL]: pool.role };
    if (pool.accelerator) labels[ACCELERATOR_LABEL] = pool.accelerator.type;
    if (gpu) labels[GPU_SHARING_LABEL] = gpuSharingMode(pool.gpuSharing);
    const taints = [...pool.taints];
    if (gpu && !taints.some((t) => t.key === GPU_TAINT.key && t.effect === GPU_TAINT.effect)) taints.push({ ...GPU_TAINT });
    return {
      name: pool.name,
      role: pool.role,
      machineType: pool.machineType,
      accelerator: pool.accelerator,
      minSize: pool.minSize ?? (gpu ? 0 : prod ? 2 : 1),
      maxSize: pool.maxSize ?? (gpu ? 2 : prod ? 6 : 3),
      spot: pool.spot ?? (gpu && !prod),
      diskSizeGb: pool.diskSizeGb,
      labels,
      taints,
      disruption: { ...defaultDisruption(pool.role), ...pool.disruption },
      ...(pool.gpuSharing ? { gpuSharing: pool.gpuSharing } : {}),
    };
  });
  return {
    name,
    cloud: cfg.cloud,
    environment: cfg.environment,
    region,
    project: cfg.project,
    tags: { ...cfg.tags, environment: cfg.environment },
    protect: prod,
    multiAz: prod,
    network: {
      cidr: cfg.network.cidr,
      availabilityZones: cfg.network.availabilityZones ?? (prod ? 3 : 2),
      podsCidr: cfg.network.podsCidr,
      servicesCidr: cfg.network.servicesCidr,
      natPerAz: cfg.network.natPerAz ?? prod,
    },
    cluster: {
      version: cfg.cluster.version,
      privateEndpoint: cfg.cluster.privateEndpoint ?? prod,
      // Never open to the internet by default: a public endpoint needs the CIDRs allowed (checked in stack-checks).
      publicAccessCidrs: cfg.cluster.publicAccessCidrs ?? [],
      releaseChannel: cfg.cluster.releaseChannel ?? (prod ? "STABLE" : "REGULAR"),
      admins: cfg.cluster.admins,
      autoProvisioning: cfg.cluster.autoProvisioning,
      kubeconfig: cfg.cluster.kubeconfig,
      context: cfg.cluster.context,
    },
    nodePools,
    onlineStore: defaultOnline(cfg),
    offlineStore: defaultOffline(cfg, region),
    tracking: {
      enabled: cfg.tracking.enabled,
      image: cfg.tracking.image,
      databaseTier: cfg.tracking.databaseTier ?? defaultDatabaseTier(cfg.cloud, prod),
    },
    mesh: cfg.mesh,
    monitoring: cfg.monitoring,
    serving: cfg.serving,
    autoscaling: {
      // A local cluster (kind, k3d) may lack the room for KEDA; the demo runs without it.
      keda: cfg.autoscaling.keda ?? cfg.cloud !== "local",
      kedaChartVersion: cfg.autoscaling.kedaChartVersion,
      httpAddon: cfg.autoscaling.httpAddon,
      httpAddonChartVersion: cfg.autoscaling.httpAddonChartVersion,
    },
    featureStore: cfg.featureStore,
    policies: cfg.policies,
  };
}

/** The value of GPU_SHARING_LABEL on a GPU pool's nodes: how pods there get their GPU. */
export function gpuSharingMode(sharing: GpuSharing | undefined): "exclusive" | "time-slicing" | "mig-single" | "mig-mixed" {
  if (!sharing) return "exclusive";
  return sharing.strategy === "time-slicing" ? "time-slicing" : `mig-${sharing.mode}`;
}

function defaultDatabaseTier(cloud: Cloud, prod: boolean): string {
  if (cloud === "aws") return prod ? "db.r6g.large" : "db.t4g.micro";
  if (cloud === "gcp") return prod ? "db-custom-2-7680" : "db-f1-micro";
  return "in-cluster";
}
