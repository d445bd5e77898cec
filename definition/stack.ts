import { z } from "zod";

/** Where the platform runs. `local` adopts an existing cluster through a kubeconfig and creates no cloud resources. */

/**
 * The platform's tracking image: deploy/tracking/Dockerfile with scripts/constraints/tracking.txt
 * (mlflow, psycopg, boto3, google-cloud-storage); tagged with its MLflow version.
 */
export const TRACKING_MLFLOW_VERSION = "3.17.2";
export const DEFAULT_TRACKING_IMAGE = `ghcr.io/mlops-platform/tracking:${TRACKING_MLFLOW_VERSION}`;

export const Cloud = { aws: "aws", gcp: "gcp", local: "local" } as const;
export type Cloud = (typeof Cloud)[keyof typeof Cloud];

/** dev is cheap and disposable; prod is private, highly available and protected from deletion. */
export const Environment = { dev: "dev", prod: "prod" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** The taint every GPU pool carries, so only pods that tolerate it (GPU workloads) land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;
/** The node label naming a pool's accelerator; serving pins GPU models to it with node affinity. */
export const ACCELERATOR_LABEL = "mlops.platform/accelerator";
/** The node label naming a pool's role (system or gpu). */
export const POOL_ROLE_LABEL = "mlops.platform/pool";
/** The GPU resource name requested by pods and advertised by the NVIDIA device plugin. */
export const GPU_RESOURCE = "nvidia.com/gpu";
/** On a KEDA ScaledObject: its model's catalog file asked to scale to zero and the checks allowed it (read by policies). */
export const SCALE_TO_ZERO_ANNOTATION = "mlops.platform/scale-to-zero";
/** The node label saying how a GPU pool shares its GPUs: exclusive, time-slicing, mig-single or mig-mixed. */
export const GPU_SHARING_LABEL = "mlops.platform/gpu-sharing";

const dnsLabel = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and '-', starting with a letter, at most 40 characters",
  );

/** Accelerators the platform knows how to place on each cloud. */
export const Accelerator = [
  "nvidia-tesla-t4",
  "nvidia-a10g",
  "nvidia-l4",
  "nvidia-tesla-a100",
  "nvidia-a100-80gb",
  "nvidia-h100-80gb",
] as const;
export type Accelerator = (typeof Accelerator)[number];

export const Taint = z
  .object({
    key: z.string().min(1),
    value: z.string().default(""),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
  })
  .strict();
export type Taint = z.infer<typeof Taint>;

/** A Go duration as Karpenter reads it (`30m`, `720h`, `1h30m`), or `Never`. */
const karpenterDuration = z.string().regex(/^(([0-9]+(s|m|h))+|Never)$/, 'must be a duration like 30m or 720h, or "Never"');

/**
 * One Karpenter disruption budget: at most `nodes` (a count or a percentage) of the pool's nodes
 * may be disrupted at once for the listed reasons (all reasons when omitted), optionally only in a
 * cron `schedule` window of `duration`.
 */
export const DisruptionBudget = z
  .object({
    nodes: z.string().regex(/^((100|[0-9]{1,2})%|[0-9]+)$/, 'must be a node count like "1" or a percentage like "10%"'),
    reasons: z.array(z.enum(["Underutilized", "Empty", "Drifted"])).optional(),
    schedule: z.string().optional(),
    duration: z
      .string()
      .regex(/^([0-9]+(s|m|h))+$/)
      .optional(),
  })
  .strict();
export type DisruptionBudget = z.infer<typeof DisruptionBudget>;

/** How node autoscaling may take a pool's nodes away (Karpenter on EKS). Defaults per role in definition/defaults.ts. */
export const PoolDisruption = z
  .object({
    /** How long a node must be empty (or underutilized) before it is removed. */
    consolidateAfter: karpenterDuration.optional(),
    /** Nodes are replaced after this age (patched AMIs); their pods are drained, PDBs respected. */
    expireAfter: karpenterDuration.optional(),
    /** Replace the defaults' budgets. */
    budgets: z.array(DisruptionBudget).max(50).optional(),
  })
  .strict();
/** How a GPU pool's GPUs are shared (rendered into the NVIDIA device plugin's config, or GKE's node pool). */
export const GpuSharing = z.discriminatedUnion("strategy", [
  z
    .object({
      strategy: z.literal("time-slicing"),
      /** Pods per physical GPU; they share its memory with no isolation. */
      replicas: z.number().int().min(2).max(48),
    })
    .strict(),
  z
    .object({
      strategy: z.literal("mig"),
      /** `single`: every GPU cut into one profile, advertised as nvidia.com/gpu; `mixed`: nvidia.com/mig-<profile>. */
      mode: z.enum(["single", "mixed"]).default("mixed"),
      /** Slices per GPU by profile, e.g. { "1g.10gb": 7 }. */
      profiles: z.record(z.string().regex(/^\d+g\.\d+gb$/, 'must be a MIG profile like "1g.10gb"'), z.number().int().min(1).max(7)),
    })
    .strict(),
]);
export type GpuSharing = z.infer<typeof GpuSharing>;

export const NodePool = z
  .object({
    /** Pool name; child resource names derive from it. */
    name: dnsLabel,
    /** `system` runs the platform; `gpu` runs GPU workloads only (tainted). */
    role: z.enum(["system", "gpu"]),
    /** Instance type (AWS) or machine type (GCP), e.g. m6i.large, g5.xlarge, g2-standard-8. */
    machineType: z.string().min(1),
    /** GPU type and count per node; required for gpu pools, forbidden for system pools. */
    accelerator: z
      .object({ type: z.enum(Accelerator), count: z.number().int().min(1).max(16) })
      .strict()
      .optional(),
    /** Autoscaling bounds. Defaults: system 1..3 in dev, 2..6 in prod; gpu 0..2. */
    minSize: z.number().int().min(0).optional(),
    maxSize: z.number().int().min(1).optional(),
    /** Spot (AWS) or preemptible/spot VMs (GCP). Defaults: true for dev GPU pools, false otherwise. */
    spot: z.boolean().optional(),
    /** Boot disk size in GiB. Defaults to 100 (GPU images are large). */
    diskSizeGb: z.number().int().min(20).max(2000).default(100),
    /** Extra node labels; the role and accelerator labels are always added. */
    labels: z.record(z.string(), z.string()).default({}),
    /** Extra taints; GPU pools always carry nvidia.com/gpu=present:NoSchedule. */
    taints: z.array(Taint).default([]),
    /** When node autoscaling may remove this pool's nodes (Karpenter on EKS); defaults per role. */
    disruption: PoolDisruption.optional(),
    /** GPU sharing: NVIDIA time-slicing (replicas per GPU) or MIG (strategy and profiles per GPU). Defaults to none. */
    gpuSharing: GpuSharing.optional(),
  })
  .strict();
export type NodePoolInput = z.input<typeof NodePool>;

const RedisOnline = z
  .object({
    kind: z.literal("redis"),
    /** ElastiCache node type or Memorystore memory size. Defaults per environment. */
    nodeType: z.string().optional(),
    memorySizeGb: z.number().int().min(1).max(300).optional(),
    /** Replicas beside the primary. Defaults: 0 in dev, 1 in prod (multi-AZ failover). */
    replicas: z.number().int().min(0).max(5).optional(),
    /**
     * Cluster mode: this many shards (ElastiCache cluster mode enabled, Memorystore Cluster), each
     * with `replicas` replicas; the services connect with redis+cluster://. Defaults to none: one node set.
     */
    shards: z
      .number()
      .int()
      .min(1)
      .max(250)
      .optional()
      .describe("Cluster mode: this many shards (ElastiCache cluster mode, Memorystore Cluster); omitted: one node set, no cluster mode."),
    engineVersion: z.string().default("7.1"),
  })
  .strict();
const DynamoOnline = z.object({ kind: z.literal("dynamodb") }).strict();
export const OnlineStoreConfig = z.discriminatedUnion("kind", [RedisOnline, DynamoOnline]);

export const OfflineStoreConfig = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("redshift"),
      /** Redshift Serverless base capacity in RPUs. Defaults: 8 dev, 32 prod. */
      baseCapacity: z.number().int().min(8).max(512).optional(),
      database: z.string().default("features"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("bigquery"),
      /** BigQuery dataset location; defaults to the stack's region. */
      location: z.string().optional(),
      dataset: z
        .string()
        .regex(/^[A-Za-z0-9_]+$/)
        .default("features"),
    })
    .strict(),
  z.object({ kind: z.literal("duckdb"), path: z.string().default("/data/offline.duckdb") }).strict(),
  z.object({ kind: z.literal("postgres"), database: z.string().default("features") }).strict(),
]);

export const StackConfig = z
  .object({
    cloud: z.enum(["aws", "gcp", "local"]),
    environment: z.enum(["dev", "prod"]),
    /** AWS region or GCP region; ignored for local. */
    region: z.string().optional(),
    /** GCP project id (gcp only). */
    project: z.string().optional(),
    /** Labels put on every resource: team, environment and cost centre are required by policy. */
    tags: z
      .object({ team: z.string().min(1), costCenter: z.string().min(1) })
      .catchall(z.string())
      .strict(),
    network: z
      .object({
        /** VPC CIDR (AWS) or primary subnet range (GCP). */
        cidr: z
          .string()
          .regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "must be a CIDR like 10.0.0.0/16")
          .default("10.0.0.0/16"),
        /** Availability zones to spread subnets over. Defaults: 2 in dev, 3 in prod. */
        availabilityZones: z.number().int().min(1).max(6).optional(),
        /** Secondary ranges for GKE pods and services. */
        podsCidr: z.string().default("10.64.0.0/14"),
        servicesCidr: z.string().default("10.68.0.0/20"),
        /** One NAT gateway per AZ (prod) or a single shared one (dev, cheaper). */
        natPerAz: z.boolean().optional(),
      })
      .strict()
      .default({ cidr: "10.0.0.0/16", podsCidr: "10.64.0.0/14", servicesCidr: "10.68.0.0/20" }),
    cluster: z
      .object({
        /** Kubernetes minor version. */
        version: z
          .string()
          .regex(/^1\.\d+$/, "must be a Kubernetes minor version like 1.31")
          .default("1.31"),
        /** API server reachable only from inside the VPC. Defaults: true in prod, false in dev. */
        privateEndpoint: z.boolean().optional(),
        /** CIDRs allowed to reach a public endpoint. No default: a public endpoint must list them. */
        publicAccessCidrs: z.array(z.string()).optional(),
        /**
         * Who administers the cluster besides its creator: IAM role ARNs on AWS (EKS access entries
         * with the cluster-admin policy), IAM members (user:, group:, serviceAccount:) on GCP
         * (roles/container.admin). Defaults to none: only the identity that ran `pulumi up` first.
         */
        admins: z.array(z.string().min(1)).default([]),
        /**
         * GKE node auto-provisioning: GKE may create node pools of its own for pending pods, within
         * these limits (cpu cores, memory GiB, GPUs per accelerator). Off when absent; gcp only.
         */
        autoProvisioning: z
          .object({
            maxCpu: z.number().int().min(1),
            maxMemoryGb: z.number().int().min(1),
            gpus: z.partialRecord(z.enum(Accelerator), z.number().int().min(0)).default({}),
          })
          .strict()
          .optional(),
        /** GKE release channel. */
        releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE"]).optional(),
        /** local only: kubeconfig path (defaults to ~/.kube/config) and context. */
        kubeconfig: z.string().optional(),
        context: z.string().optional(),
      })
      .strict()
      .default({ version: "1.31", admins: [] }),
    nodePools: z.array(NodePool).default([]),
    onlineStore: OnlineStoreConfig.optional(),
    offlineStore: OfflineStoreConfig.optional(),
    tracking: z
      .object({
        enabled: z.boolean().default(true),
        /** MLflow server image; pinned by tag. The default is the platform's (deploy/tracking), with the drivers the server is configured for. */
        image: z.string().default(DEFAULT_TRACKING_IMAGE),
        /** Database instance class / tier; defaults per environment. */
        databaseTier: z.string().optional(),
      })
      .strict()
      .default({ enabled: true, image: DEFAULT_TRACKING_IMAGE }),
    mesh: z
      .object({
        /** `install` Istio with Helm, or `adopt` an existing install. */
        mode: z.enum(["install", "adopt"]).default("install"),
        version: z.string().default("1.24.2"),
      })
      .strict()
      .default({ mode: "install", version: "1.24.2" }),
    monitoring: z
      .object({
        enabled: z.boolean().default(true),
        /** kube-prometheus-stack chart version. */
        chartVersion: z.string().default("65.5.0"),
        retention: z.string().default("15d"),
      })
      .strict()
      .default({ enabled: true, chartVersion: "65.5.0", retention: "15d" }),
    serving: z
      .object({
        /** The platform's own services image (features, serving, drift). */
        image: z.string().default("ghcr.io/mlops-platform/services:0.1.0"),
        /** Namespace for model deployments. */
        namespace: dnsLabel.default("models"),
        /** Upper bound on GPUs a stack may provision (sum of maxSize x count); enforced by policy. */
        maxGpus: z.number().int().min(0).default(16),
      })
      .strict()
      .default({ image: "ghcr.io/mlops-platform/services:0.1.0", namespace: "models", maxGpus: 16 }),
    /** Feature store project name (Feast `project`); part of every online key. */
    featureStore: z
      .object({
        project: z
          .string()
          .regex(/^[a-z][a-z0-9_]*$/)
          .default("mlops"),
      })
      .strict()
      .default({ project: "mlops" }),
    /** Workload autoscaling: KEDA scales model versions on their runtime's queue signal. */
    autoscaling: z
      .object({
        /** Install KEDA and scale every model version with a ScaledObject. Defaults: true on cloud stacks, false on local. */
        keda: z.boolean().optional(),
        /** KEDA Helm chart version (kedacore/keda). */
        kedaChartVersion: z.string().default("2.17.2"),
        /** Install KEDA's HTTP add-on, which holds requests while a version scales from zero. Defaults to false. */
        httpAddon: z.boolean().default(false),
        /** KEDA HTTP add-on chart version (kedacore/keda-add-ons-http). */
        httpAddonChartVersion: z.string().default("0.10.0"),
      })
      .strict()
      .default({ kedaChartVersion: "2.17.2", httpAddon: false, httpAddonChartVersion: "0.10.0" }),
    /** Per-policy enforcement overrides: advisory | mandatory | disabled. */
    policies: z.record(z.string(), z.enum(["advisory", "mandatory", "disabled"])).default({}),
  })
  .strict();

export type StackConfigInput = z.input<typeof StackConfig>;
export type StackConfigParsed = z.output<typeof StackConfig>;
