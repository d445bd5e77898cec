import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GPU_RESOURCE, type NodePoolSpec, type StackSpec, type Taint } from "../../definition";
import { awsTags } from "./defaults";

/**
 * EKS managed node groups for every pool of the stack: GPU pools (NVIDIA AMI, tainted, labelled,
 * scale from zero) and the system pool (standard AMI). One builder serves both so the two cannot
 * drift apart in how they tag, label or scale.
 */

/** Kubernetes taint effects as the EKS API spells them. */
export const EKS_TAINT_EFFECT = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
} as const satisfies Record<Taint["effect"], string>;

/** Cluster Autoscaler reads these ASG tags to know a node group's labels, taints and GPUs while it has zero nodes. */
export const AUTOSCALER_TEMPLATE_PREFIX = "k8s.io/cluster-autoscaler/node-template";

/** Graviton instance families carry a `g` after the generation digit (m7g, c7gn, r8g, g5g). */
export function isArm(machineType: string): boolean {
  return /^[a-z]+\d+[a-z]*g[a-z]*\./.test(machineType);
}

/** AL2023 AMI family: NVIDIA drivers and container toolkit for GPU pools, standard otherwise. */
export function amiTypeFor(pool: Pick<NodePoolSpec, "role" | "machineType">): string {
  const arch = isArm(pool.machineType) ? "ARM_64" : "x86_64";
  return `AL2023_${arch}_${pool.role === "gpu" ? "NVIDIA" : "STANDARD"}`;
}

/** The tags that let Cluster Autoscaler scale a pool up from zero nodes for a pending pod. */
export function autoscalerTemplateTags(pool: NodePoolSpec): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(pool.labels)) tags[`${AUTOSCALER_TEMPLATE_PREFIX}/label/${key}`] = value;
  for (const taint of pool.taints) tags[`${AUTOSCALER_TEMPLATE_PREFIX}/taint/${taint.key}`] = `${taint.value}:${taint.effect}`;
  if (pool.accelerator) tags[`${AUTOSCALER_TEMPLATE_PREFIX}/resources/${GPU_RESOURCE}`] = String(pool.accelerator.count);
  return tags;
}

export interface NodePoolSettings {
  instanceTypes: string[];
  amiType: string;
  capacityType: "SPOT" | "ON_DEMAND";
  diskSize: number;
  /** desired starts at min; the autoscaler owns it afterwards (ignored on update). */
  scalingConfig: { minSize: number; maxSize: number; desiredSize: number };
  labels: Record<string, string>;
  taints: { key: string; value: string; effect: string }[];
  autoscalerTags: Record<string, string>;
}

export function nodePoolSettings(pool: NodePoolSpec): NodePoolSettings {
  return {
    instanceTypes: [pool.machineType],
    amiType: amiTypeFor(pool),
    capacityType: pool.spot ? "SPOT" : "ON_DEMAND",
    diskSize: pool.diskSizeGb,
    scalingConfig: { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.minSize },
    labels: { ...pool.labels },
    taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: EKS_TAINT_EFFECT[t.effect] })),
    autoscalerTags: autoscalerTemplateTags(pool),
  };
}

export interface NodePoolArgs {
  stack: StackSpec;
  pool: NodePoolSpec;
  clusterName: pulumi.Input<string>;
  nodeRoleArn: pulumi.Input<string>;
  /** Private subnets the nodes run in. */
  subnetIds: pulumi.Input<string>[];
}

/** One EKS managed node group, plus the autoscaler template tags on its Auto Scaling group. */
export class NodePool extends pulumi.ComponentResource {
  readonly nodeGroupName: pulumi.Output<string>;
  readonly settings: NodePoolSettings;

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:NodePool", name, {}, opts);
    const { stack, pool } = args;
    const s = nodePoolSettings(pool);
    this.settings = s;

    const group = new aws.eks.NodeGroup(
      `${name}`,
      {
        clusterName: args.clusterName,
        version: stack.cluster.version,
        nodeRoleArn: args.nodeRoleArn,
        subnetIds: args.subnetIds,
        instanceTypes: s.instanceTypes,
        amiType: s.amiType,
        capacityType: s.capacityType,
        diskSize: s.diskSize,
        scalingConfig: s.scalingConfig,
        updateConfig: { maxUnavailable: 1 },
        labels: s.labels,
        taints: s.taints,
        tags: awsTags(stack, `${stack.name}-${pool.name}`, s.autoscalerTags),
      },
      { parent: this, ignoreChanges: ["scalingConfig.desiredSize"] },
    );

    // EKS does not copy node group tags to its Auto Scaling group, where the autoscaler looks.
    const asgName = group.resources.apply((r) => {
      const asg = r[0]?.autoscalingGroups?.[0]?.name;
      if (!asg) throw new Error(`node group ${pool.name} reported no Auto Scaling group`);
      return asg;
    });
    // Named by tag key, so adding a label does not rename (and replace) the other tags.
    for (const [key, value] of Object.entries(s.autoscalerTags)) {
      const slug = key.slice(AUTOSCALER_TEMPLATE_PREFIX.length + 1).replace(/[^A-Za-z0-9]+/g, "-");
      new aws.autoscaling.Tag(
        `${name}-asg-${slug}`,
        { autoscalingGroupName: asgName, tag: { key, value, propagateAtLaunch: false } },
        { parent: this },
      );
    }

    this.nodeGroupName = group.nodeGroupName;
    this.registerOutputs({ nodeGroupName: this.nodeGroupName, settings: s });
  }
}
