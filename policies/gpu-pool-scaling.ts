import type { PolicyResource } from "@pulumi/policy";
import { type GpuPool, poolSubject, stackGpuPools } from "./gpu";
import { isKind } from "./kubernetes";
import { type PlatformPolicy, asArray, asRecord, get, violation } from "./support";

/**
 * A GPU pool that can never get a node leaves every GPU model Pending: `pulumi up` then waits
 * out the Deployment await (10 minutes) and fails, long after the plan said all was well. What
 * adds GPU nodes differs per kind of pool; this file decides, per pool, whether anything can.
 */

/** What in the stack can add nodes. */
export interface Scalers {
  /** A cluster-autoscaler (Helm release or Deployment): scales EKS managed node groups. */
  clusterAutoscaler: boolean;
  /** The Karpenter controller (Helm release or Deployment): provisions NodePools. */
  karpenter: boolean;
  /** Names of the EC2NodeClasses the stack creates. */
  nodeClasses: Set<string>;
  /** GKE accelerator types node auto-provisioning may add (a resourceLimits maximum above 0), over the stack's clusters. */
  autoProvisionedGpus: Set<string>;
}

function chartOf(r: PolicyResource): string {
  return isKind(r.type, "helm.sh", "Release") || isKind(r.type, "helm.sh", "Chart") ? String(get(r.props, "chart") ?? "") : "";
}

function deploymentImages(r: PolicyResource): string[] {
  if (!isKind(r.type, "apps", "Deployment")) return [];
  return asArray(get(r.props, "spec", "template", "spec", "containers")).map((c) => String(get(c, "image")));
}

/** Reads the scalers off the stack's resources. */
export function scalersOf(resources: PolicyResource[]): Scalers {
  const installs = (chart: RegExp, image: RegExp) =>
    resources.some((r) => chart.test(chartOf(r)) || deploymentImages(r).some((i) => image.test(i)));
  const nodeClasses = new Set(
    resources
      .filter((r) => isKind(r.type, "karpenter.k8s.aws", "EC2NodeClass"))
      .map((r) => String(get(r.props, "metadata", "name") ?? r.name)),
  );
  const autoProvisionedGpus = new Set<string>();
  for (const cluster of resources.filter((r) => r.type === "gcp:container/cluster:Cluster")) {
    const nap = asRecord(get(cluster.props, "clusterAutoscaling"));
    if (nap.enabled !== true) continue;
    for (const limit of asArray(nap.resourceLimits)) {
      const type = String(get(limit, "resourceType"));
      if (/^nvidia-/.test(type) && Number(get(limit, "maximum") ?? 0) > 0) autoProvisionedGpus.add(type);
    }
  }
  return {
    // The chart is "cluster-autoscaler" (kubernetes/autoscaler) and the image registry.k8s.io/autoscaling/cluster-autoscaler.
    clusterAutoscaler: installs(/(^|\/)cluster-autoscaler$/, /\/cluster-autoscaler(:|@|$)/),
    // oci://public.ecr.aws/karpenter/karpenter, image public.ecr.aws/karpenter/controller.
    karpenter: installs(/(^|\/)karpenter$/, /\/karpenter\/controller(:|@|$)/),
    nodeClasses,
    autoProvisionedGpus,
  };
}

/** Why a pool can never get a node, with the fix; undefined when something can add its nodes. */
export function scaleUpProblem(pool: GpuPool, scalers: Scalers): { problem: string; fix: string } | undefined {
  const props = pool.resource.props as Record<string, unknown>;
  if (pool.kind === "eks-node-group") {
    if (pool.maxNodes < 1) return { problem: "has maxSize 0, so it never has a node", fix: "set maxSize of the pool above 0" };
    if (pool.minNodes === 0 && !scalers.clusterAutoscaler) {
      return {
        problem: "starts at 0 nodes and nothing in the stack scales EKS node groups (no cluster-autoscaler), so GPU pods stay Pending",
        fix: "let Karpenter provision the pool (components/aws/karpenter.ts does so for role: gpu pools) or install cluster-autoscaler",
      };
    }
    return undefined;
  }
  if (pool.kind === "karpenter-node-pool") {
    if (!scalers.karpenter) {
      return {
        problem: "has no Karpenter controller in the stack to provision it",
        fix: "install Karpenter with the NodePool (components/aws/karpenter.ts: the pinned Helm release)",
      };
    }
    const nodeClass = get(props, "spec", "template", "spec", "nodeClassRef", "name");
    if (typeof nodeClass !== "string" || !scalers.nodeClasses.has(nodeClass)) {
      return {
        problem: `refers to EC2NodeClass "${String(nodeClass)}", which the stack does not create, so Karpenter cannot launch its nodes`,
        fix: "create the EC2NodeClass with the NodePool (karpenter-settings.ts ec2NodeClass) or fix nodeClassRef.name",
      };
    }
    if (pool.maxNodes < 1) {
      return {
        // Name the limit that bites: the node count, else a GPU limit under the smallest node's GPUs.
        problem:
          pool.maxNodesLimit !== undefined && pool.maxNodesLimit < 1
            ? `has limits that allow no node (spec.limits.nodes ${pool.maxNodesLimit})`
            : `has limits that allow no node (${pool.maxGpus} GPUs, under the ${pool.fewestGpusPerNode} of its smallest instance type)`,
        fix: "set spec.limits to at least one node's GPUs (maxSize x GPUs per node in the stack file)",
      };
    }
    return undefined;
  }
  if (pool.maxNodes >= 1) return undefined;
  const types = asArray(get(props, "nodeConfig", "guestAccelerators")).map((a) => String(get(a, "type")));
  if (types.some((t) => scalers.autoProvisionedGpus.has(t))) return undefined;
  return {
    problem: `can never get a node: no autoscaling above 0 nodes and its cluster cannot auto-provision ${types.join(", ") || "its GPUs"}`,
    fix: "give the pool autoscaling with a max above 0 (maxSize in the stack file), or node auto-provisioning limits for the GPU (cluster.autoProvisioning.gpus)",
  };
}

export const gpuPoolCanScaleUp: PlatformPolicy = {
  area: "reliability",
  name: "gpu-pool-can-scale-up",
  description:
    "Every GPU pool can get nodes for pending GPU pods: an EKS node group starting at 0 needs a cluster-autoscaler; a Karpenter NodePool needs the controller, its EC2NodeClass and limits that allow a node; a GKE pool needs autoscaling (or node auto-provisioning for its GPU) above 0.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const pools = stackGpuPools(args.resources);
    if (pools.length === 0) return args.notApplicable("no GPU node pools in the stack");
    const scalers = scalersOf(args.resources);
    for (const pool of pools) {
      const found = scaleUpProblem(pool, scalers);
      if (found) report(violation(poolSubject(pool), found.problem, found.fix), pool.resource.urn);
    }
  },
};
