import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import {
  ACCELERATOR_LABEL,
  eksGpuPool,
  GPU_RESOURCE,
  GPU_TAINT_KEY,
  type GpuPool,
  gkeGpuPool,
  KARPENTER_NODE_POOL,
  karpenterGpuPool,
  poolMaxGpus,
  poolSubject,
  stackGpuPools,
} from "./gpu";
import { kubernetesKind, quantities } from "./kubernetes";
import { podRule } from "./pod-rules";
import { asArray, asStringRecord, type Facts, facts, get, type PlatformPolicy, providerProp, violation } from "./support";

/**
 * Cost: GPUs are the bill. GPU pools only take GPU pods (taint), cost nothing idle in dev
 * (scale to zero, spot), and a stack cannot grow past its GPU budget; every resource carries the
 * team, environment and cost centre that the bill is split by.
 */

const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";

/** The GPU view of a node pool resource as validateResource sees it (zones do not matter there). */
function gpuPoolOf(args: ResourceValidationArgs): GpuPool | undefined {
  if (args.type === EKS_NODE_GROUP) return eksGpuPool(args, args.props);
  if (args.type === GKE_NODE_POOL) return gkeGpuPool(args, args.props, 1);
  if (args.type === KARPENTER_NODE_POOL) return karpenterGpuPool(args, args.props);
  return undefined;
}

/** A resource policy over GPU node pools only. */
function gpuPoolRule(check: (pool: GpuPool, args: ResourceValidationArgs, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation) => {
    const pool = gpuPoolOf(args);
    if (!pool) return args.notApplicable("not a GPU node pool");
    check(pool, args, report);
  };
}

export const gpuPoolTainted: PlatformPolicy = {
  area: "cost",
  name: "gpu-pool-tainted",
  description: "GPU node pools carry the nvidia.com/gpu NoSchedule taint, so only pods that ask for GPUs land on them.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: gpuPoolRule((pool, _args, report) => {
    if (!pool.taints.some((t) => t.key === GPU_TAINT_KEY && t.effect === "NO_SCHEDULE")) {
      const fix =
        pool.kind === "karpenter-node-pool"
          ? `add spec.template.spec.taints: [{ key: "${GPU_TAINT_KEY}", value: "present", effect: "NoSchedule" }] (Kubernetes spelling; the NO_SCHEDULE of the EKS/GKE APIs)`
          : `add taints: [{ key: "${GPU_TAINT_KEY}", value: "present", effect: "NO_SCHEDULE" }]`;
      report(violation(poolSubject(pool), "has no nvidia.com/gpu NoSchedule taint: any pod can fill these expensive nodes", fix));
    }
  }),
};

export const gpuPoolScalesToZeroInDev: PlatformPolicy = {
  area: "cost",
  name: "gpu-pool-scales-to-zero-in-dev",
  description: "In dev, GPU node pools can scale to zero nodes, so an idle dev stack costs no GPU hours.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment } },
  validateResource: gpuPoolRule((pool, args, report) => {
    if (args.getConfig<Facts>().environment !== "dev") return args.notApplicable("prod pools may keep warm nodes");
    if (pool.minNodes !== 0) {
      report(
        violation(
          poolSubject(pool),
          `keeps at least ${pool.minNodes} GPU node(s) running in a dev stack`,
          "set minSize: 0 for the pool in the stack file (scalingConfig.minSize / autoscaling.minNodeCount 0)",
        ),
      );
    }
  }),
};

export const gpuPoolSpotInDev: PlatformPolicy = {
  area: "cost",
  name: "gpu-pool-spot-in-dev",
  description: "In dev, GPU node pools use spot (AWS) or spot/preemptible VMs (GCP), 60-90% cheaper.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment } },
  validateResource: gpuPoolRule((pool, args, report) => {
    if (args.getConfig<Facts>().environment !== "dev") return args.notApplicable("prod pools may be on-demand");
    if (!pool.spot) {
      const field = {
        "eks-node-group": 'capacityType: "SPOT"',
        "karpenter-node-pool": 'requirement karpenter.sh/capacity-type In ["spot"]',
        "gke-node-pool": "nodeConfig.spot: true",
      }[pool.kind];
      report(
        violation(poolSubject(pool), "runs on-demand GPUs in a dev stack", `set spot: true for the pool in the stack file (${field})`),
      );
    }
  }),
};

export const gpuCountWithinBudget: PlatformPolicy = {
  area: "cost",
  name: "gpu-count-within-budget",
  description: "The GPUs a stack can scale to (sum over GPU pools of max nodes x GPUs per node) stay within the stack's serving.maxGpus.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxGpus: facts.maxGpus } },
  validateStack: (args, report) => {
    const { maxGpus } = args.getConfig<Facts>();
    const pools = stackGpuPools(args.resources);
    if (pools.length === 0) args.notApplicable("no GPU node pools in the stack");
    for (const pool of pools.filter((p) => p.gpusPerNode === undefined)) {
      report(
        violation(
          poolSubject(pool),
          "has GPUs, but how many per node cannot be told",
          "use an instance type listed in policies/gpu.ts (AWS) or set nodeConfig.guestAccelerators with a count (GKE)",
        ),
        pool.resource.urn,
      );
    }
    for (const pool of pools.filter((p) => poolMaxGpus(p) === Infinity)) {
      report(
        violation(
          poolSubject(pool),
          "has no limit on its nodes or GPUs, so it can grow past any budget",
          `set spec.limits["${GPU_RESOURCE}"] (the NodePool from components/aws/karpenter-settings.ts sets maxSize x GPUs per node)`,
        ),
        pool.resource.urn,
      );
    }
    const total = pools.reduce((sum, p) => sum + poolMaxGpus(p), 0);
    if (total > maxGpus && total !== Infinity) {
      const parts = pools
        .map((p) => `${p.resource.name}: ${p.maxGpus !== undefined ? `limit ${p.maxGpus}` : `${p.maxNodes} x ${p.gpusPerNode ?? "?"}`}`)
        .join(", ");
      report(
        violation(
          "the stack",
          `GPU pools can scale to ${total} GPUs (${parts}), over serving.maxGpus ${maxGpus}`,
          "lower maxSize of the GPU pools in the stack file, or raise serving.maxGpus with the budget owner's approval",
        ),
      );
    }
  },
};

/** Whether a pod tolerates the GPU taint (an operator-Exists toleration without a key tolerates every taint). */
function toleratesGpu(tolerations: unknown): boolean {
  return asArray(tolerations).some(
    (t) => get(t, "key") === GPU_TAINT_KEY || (get(t, "key") === undefined && get(t, "operator") === "Exists"),
  );
}

export const gpuOnlyForGpuWorkloads = podRule({
  area: "cost",
  name: "gpu-only-for-gpu-workloads",
  description:
    "Only GPU workloads use GPU nodes: a pod that requests nvidia.com/gpu sets it as a limit and is pinned to a GPU pool; a pod that tolerates the GPU taint requests GPUs (node daemons excepted).",
  check({ workload, report }) {
    const gpuContainers = workload.containers.filter(({ container }) => {
      const { requests, limits } = quantities(container);
      return Number(requests[GPU_RESOURCE] ?? 0) > 0 || Number(limits[GPU_RESOURCE] ?? 0) > 0;
    });
    const tolerates = toleratesGpu(workload.pod.tolerations);
    if (gpuContainers.length === 0) {
      if (tolerates && workload.kind !== "DaemonSet") {
        report(
          "tolerates the nvidia.com/gpu taint but requests no GPU, so it can take a GPU node's place",
          "remove the toleration, or request nvidia.com/gpu if it needs one",
        );
      }
      return;
    }
    for (const { container } of gpuContainers) {
      const { requests, limits } = quantities(container);
      if (!limits[GPU_RESOURCE] || (requests[GPU_RESOURCE] && requests[GPU_RESOURCE] !== limits[GPU_RESOURCE])) {
        report(
          "requests GPUs without an equal limit (GPUs cannot be shared or overcommitted)",
          `set resources.limits["${GPU_RESOURCE}"] equal to the request`,
          container,
        );
      }
    }
    const terms = asArray(
      get(workload.pod.affinity, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"),
    );
    // The scheduler ORs nodeSelectorTerms: a pod is pinned only when every term requires the label
    // (In with values, or Exists); NotIn and DoesNotExist keep it off GPU nodes instead.
    const requiresLabel = (e: unknown) =>
      get(e, "key") === ACCELERATOR_LABEL &&
      (get(e, "operator") === "Exists" || (get(e, "operator") === "In" && asArray(get(e, "values")).length > 0));
    const pinned =
      asStringRecord(workload.pod.nodeSelector)[ACCELERATOR_LABEL] !== undefined ||
      (terms.length > 0 && terms.every((term) => asArray(get(term, "matchExpressions")).some(requiresLabel)));
    if (!tolerates || !pinned) {
      report(
        "requests GPUs but is not placed on a GPU pool (toleration of nvidia.com/gpu and node affinity on the accelerator label)",
        `use gpuPlacement(accelerator) from components/k8s/workload.ts (tolerates ${GPU_TAINT_KEY}, requires ${ACCELERATOR_LABEL})`,
      );
    }
  },
});

/** AWS resource types the platform creates that take tags. */
const AWS_TAGGABLE = new Set([
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/eip:Eip",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:eks/addon:Addon",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:dynamodb/table:Table",
  "aws:redshift/cluster:Cluster",
  "aws:redshiftserverless/namespace:Namespace",
  "aws:redshiftserverless/workgroup:Workgroup",
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:kms/key:Key",
  "aws:iam/role:Role",
  "aws:iam/policy:Policy",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  "aws:secretsmanager/secret:Secret",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:ecr/repository:Repository",
]);
/** GCP resource types the platform creates that take labels, and where the labels sit. */
const GCP_LABELS: Record<string, string[]> = {
  "gcp:container/cluster:Cluster": ["resourceLabels"],
  "gcp:container/nodePool:NodePool": ["nodeConfig", "resourceLabels"],
  "gcp:redis/instance:Instance": ["labels"],
  "gcp:redis/cluster:Cluster": ["labels"],
  "gcp:networkconnectivity/serviceConnectionPolicy:ServiceConnectionPolicy": ["labels"],
  "gcp:bigquery/dataset:Dataset": ["labels"],
  "gcp:bigquery/table:Table": ["labels"],
  "gcp:storage/bucket:Bucket": ["labels"],
  "gcp:sql/databaseInstance:DatabaseInstance": ["settings", "userLabels"],
  "gcp:kms/cryptoKey:CryptoKey": ["labels"],
};
/** Kubernetes types without metadata labels of their own (a Helm release labels what it renders). */
const K8S_UNLABELLED = ["Release"];

export const COST_LABELS = {
  awsTags: ["team", "environment", "costCenter"],
  gcpLabels: ["team", "environment", "cost_center"],
  kubernetesLabels: ["mlops.platform/team", "mlops.platform/environment", "mlops.platform/cost-center"],
};

export const resourcesHaveCostLabels: PlatformPolicy = {
  area: "cost",
  name: "resources-have-cost-labels",
  description:
    "Every taggable resource carries team, environment and cost centre: AWS tags (or provider defaultTags), GCP labels, Kubernetes labels.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      awsTags: {
        type: "array",
        items: { type: "string" },
        default: COST_LABELS.awsTags,
        description: "Tag keys every taggable AWS resource carries.",
      },
      gcpLabels: {
        type: "array",
        items: { type: "string" },
        default: COST_LABELS.gcpLabels,
        description: "Label keys every labelled GCP resource carries.",
      },
      kubernetesLabels: {
        type: "array",
        items: { type: "string" },
        default: COST_LABELS.kubernetesLabels,
        description: "Label keys every Kubernetes object carries.",
      },
    },
  },
  validateResource: (args, report) => {
    const cfg = args.getConfig<typeof COST_LABELS>();
    const missingFrom = (have: Record<string, string>, want: string[]) => want.filter((k) => !have[k]);
    if (AWS_TAGGABLE.has(args.type)) {
      const tags = { ...asStringRecord(providerProp(args.provider, "defaultTags", "tags")), ...asStringRecord(args.props.tags) };
      const missing = missingFrom(tags, cfg.awsTags);
      if (missing.length)
        report(
          violation(
            `${args.type.split(":").pop()} "${args.name}"`,
            `has no ${missing.join(", ")} tag(s)`,
            "pass tags: cloudTags(stack) (components/names.ts) or set defaultTags on the provider",
          ),
        );
      return;
    }
    const path = GCP_LABELS[args.type];
    if (path) {
      const labels = { ...asStringRecord(providerProp(args.provider, "defaultLabels")), ...asStringRecord(get(args.props, ...path)) };
      const missing = missingFrom(labels, cfg.gcpLabels);
      if (missing.length)
        report(
          violation(
            `${args.type.split(":").pop()} "${args.name}"`,
            `has no ${missing.join(", ")} label(s)`,
            `set ${path.join(".")}: gcpLabels(stack) (components/names.ts)`,
          ),
        );
      return;
    }
    const k = kubernetesKind(args.type);
    if (k && !K8S_UNLABELLED.includes(k.kind)) {
      const missing = missingFrom(asStringRecord(get(args.props, "metadata", "labels")), cfg.kubernetesLabels);
      const ns = get(args.props, "metadata", "namespace");
      const ref = `${typeof ns === "string" ? `${ns}/` : ""}${String(get(args.props, "metadata", "name") ?? args.name)}`;
      if (missing.length)
        report(
          violation(
            `${k.kind} "${ref}"`,
            `has no ${missing.join(", ")} label(s)`,
            "add k8sLabels(stack) (components/names.ts) to metadata.labels",
          ),
        );
      return;
    }
    args.notApplicable("this type takes no tags or labels");
  },
};

export const costPolicies: PlatformPolicy[] = [
  gpuPoolTainted,
  gpuPoolScalesToZeroInDev,
  gpuPoolSpotInDev,
  gpuCountWithinBudget,
  gpuOnlyForGpuWorkloads,
  resourcesHaveCostLabels,
];
