import { GPU_RESOURCE, type NodePoolSpec, type StackSpec } from "../../definition";
import { k8sLabels } from "../names";
import type { ClusterCrdObject } from "../k8s/crd-schema";
import { isArm } from "./gpu-node-pool";
import { type PolicyStatement, policyDocument } from "./iam-policy";

/**
 * Karpenter on EKS as data: which spec pools it provisions, the EC2NodeClass and NodePool objects
 * for them, the controller's IAM statements, the interruption events it listens to and its Helm
 * values. Pure: tested directly, then handed to components/aws/karpenter.ts. The objects' types
 * follow Karpenter's v1 CRDs; the component validates each against @kubernetes-models/karpenter.
 */

/** The pinned controller chart (its CRDs come with it). Bump with the CRD models' version. */
export const KARPENTER = {
  chart: "oci://public.ecr.aws/karpenter/karpenter",
  version: "1.8.1",
  /** Karpenter's own docs install it here: it must run on nodes it does not manage. */
  namespace: "kube-system",
  serviceAccount: "karpenter",
} as const;

/** The label Karpenter puts on its nodes with the NodePool's name. */
export const NODEPOOL_LABEL = "karpenter.sh/nodepool";
/** The label NVIDIA's tooling (device plugin, GPU feature discovery) selects GPU nodes by. */
export const GPU_PRESENT_LABEL = "nvidia.com/gpu.present";

/**
 * Which pools Karpenter provisions: the GPU pools. The system pool stays an EKS managed node group,
 * so the controller (and everything else the platform runs) has nodes Karpenter does not manage.
 */
export function karpenterPools(stack: StackSpec): NodePoolSpec[] {
  return stack.nodePools.filter((p) => p.role === "gpu");
}

/** Where the nodes go: the private node subnets and the cluster security group, by id. */
export interface NodeClassTargets {
  /** Name (not ARN) of the IAM role the nodes run as; Karpenter makes the instance profile. */
  nodeRoleName: string;
  subnetIds: string[];
  securityGroupId: string;
  tags: Record<string, string>;
}

type Ec2NodeClassSpec = {
  role: string;
  amiSelectorTerms: { alias: string }[];
  subnetSelectorTerms: { id: string }[];
  securityGroupSelectorTerms: { id: string }[];
  blockDeviceMappings: {
    deviceName: string;
    ebs: { volumeSize: string; volumeType: string; encrypted: boolean; deleteOnTermination: boolean };
  }[];
  metadataOptions: { httpEndpoint: string; httpTokens: string; httpPutResponseHopLimit: number };
  tags: Record<string, string>;
};

/**
 * One EC2NodeClass per Karpenter pool: AL2023 (Karpenter picks its NVIDIA variant for GPU
 * instance types), the pool's disk as encrypted gp3 (GPU images are many GB), IMDSv2 only with a
 * hop limit of 1 so pods cannot read the node role's credentials, and subnets and security group
 * selected by id rather than by a discovery tag that other stacks could also carry.
 */
export function ec2NodeClass(stack: StackSpec, pool: NodePoolSpec, targets: NodeClassTargets): ClusterCrdObject<Ec2NodeClassSpec> {
  return {
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name: pool.name, labels: { ...k8sLabels(stack), [NODEPOOL_LABEL]: pool.name } },
    spec: {
      role: targets.nodeRoleName,
      // "latest" follows AWS's patched AMIs; GPU nodes move to them only at expiry (the Drifted budget is 0).
      amiSelectorTerms: [{ alias: "al2023@latest" }],
      subnetSelectorTerms: targets.subnetIds.map((id) => ({ id })),
      securityGroupSelectorTerms: [{ id: targets.securityGroupId }],
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { volumeSize: `${pool.diskSizeGb}Gi`, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
        },
      ],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      tags: targets.tags,
    },
  };
}

type Requirement = { key: string; operator: "In"; values: string[] };
type NodePoolObjectSpec = {
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      nodeClassRef: { group: string; kind: string; name: string };
      requirements: Requirement[];
      taints: { key: string; value: string; effect: string }[];
      expireAfter: string;
    };
  };
  disruption: { consolidationPolicy: string; consolidateAfter: string; budgets: { nodes: string; reasons?: string[] }[] };
  limits: Record<string, string>;
};

/**
 * The Karpenter NodePool of one spec pool: exactly its instance type, spot or on-demand as the
 * stack says, its labels (role, accelerator, and nvidia.com/gpu.present) and taints (the GPU
 * taint), and a GPU limit of maxSize x GPUs per node, so the pool can never outgrow what the
 * stack's GPU budget counted. Disruption (consolidation, expiry, budgets) comes from the spec.
 */
export function karpenterNodePool(stack: StackSpec, pool: NodePoolSpec): ClusterCrdObject<NodePoolObjectSpec> {
  const gpus = pool.accelerator?.count ?? 0;
  const labels: Record<string, string> = { ...pool.labels };
  if (gpus > 0) labels[GPU_PRESENT_LABEL] = "true";
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: pool.name, labels: k8sLabels(stack) },
    spec: {
      template: {
        metadata: { labels },
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: pool.name },
          requirements: [
            { key: "node.kubernetes.io/instance-type", operator: "In", values: [pool.machineType] },
            { key: "karpenter.sh/capacity-type", operator: "In", values: [pool.spot ? "spot" : "on-demand"] },
            { key: "kubernetes.io/arch", operator: "In", values: [isArm(pool.machineType) ? "arm64" : "amd64"] },
            { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
          ],
          taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
          expireAfter: pool.disruption.expireAfter,
        },
      },
      disruption: {
        consolidationPolicy: pool.disruption.consolidationPolicy,
        consolidateAfter: pool.disruption.consolidateAfter,
        budgets: pool.disruption.budgets.map((b) => ({ ...b })),
      },
      limits: gpus > 0 ? { [GPU_RESOURCE]: String(pool.maxSize * gpus) } : { nodes: String(pool.maxSize) },
    },
  };
}

/** The SQS queue's name: the cluster's, as Karpenter's docs name it (unique per account and region). */
export function interruptionQueueName(clusterName: string): string {
  return clusterName.slice(0, 80);
}

/**
 * The EC2 events Karpenter drains a node ahead of (the interruption queue receives them): spot
 * interruption warnings (two minutes), rebalance recommendations, scheduled maintenance, and
 * instances stopping or terminating under it.
 */
export const INTERRUPTION_EVENTS: Record<string, { source: string[]; "detail-type": string[] }> = {
  "scheduled-change": { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
  "spot-interruption": { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
  rebalance: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
  "instance-state-change": { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
};

/** The queue's policy: EventBridge and SQS itself may send; nothing may use it without TLS. */
export function interruptionQueuePolicy(queueArn: string): string {
  return JSON.stringify(
    policyDocument([
      {
        Sid: "EventBridgeDelivers",
        Effect: "Allow",
        Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
        Action: "sqs:SendMessage",
        Resource: queueArn,
      },
      {
        Sid: "DenyHTTP",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]),
  );
}

/** What the controller's statements are scoped to. */
export interface ControllerScope {
  partition: string;
  region: string;
  account: string;
  clusterName: string;
  queueArn: string;
  nodeRoleArn: string;
}

/**
 * The controller's IAM statements, after Karpenter's own CloudFormation (v1): launch and terminate
 * only instances tagged for this cluster and a NodePool, manage only the instance profiles it
 * tags, read the regional EC2/SSM/pricing data it plans with, consume only this cluster's
 * interruption queue, and pass only the node role to EC2.
 */
export function karpenterControllerStatements(s: ControllerScope): PolicyStatement[] {
  const ec2 = (resource: string) => `arn:${s.partition}:ec2:${s.region}:*:${resource}`;
  const owned = { [`aws:RequestTag/kubernetes.io/cluster/${s.clusterName}`]: "owned" };
  const ownedResource = { [`aws:ResourceTag/kubernetes.io/cluster/${s.clusterName}`]: "owned" };
  const region = { "aws:RequestTag/topology.kubernetes.io/region": s.region };
  const regionResource = { "aws:ResourceTag/topology.kubernetes.io/region": s.region };
  const launched = ["fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*", "spot-instances-request/*"].map(ec2);
  return [
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [
        `arn:${s.partition}:ec2:${s.region}::image/*`,
        `arn:${s.partition}:ec2:${s.region}::snapshot/*`,
        ec2("security-group/*"),
        ec2("subnet/*"),
        ec2("capacity-reservation/*"),
      ],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: ec2("launch-template/*"),
      Condition: { StringEquals: ownedResource, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Resource: launched,
      Condition: {
        StringEquals: { ...owned, "aws:RequestTag/eks:eks-cluster-name": s.clusterName },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: launched,
      Condition: {
        StringEquals: {
          ...owned,
          "aws:RequestTag/eks:eks-cluster-name": s.clusterName,
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: ec2("instance/*"),
      Condition: {
        StringEquals: ownedResource,
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Resource: [ec2("instance/*"), ec2("launch-template/*")],
      Condition: { StringEquals: ownedResource, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Action: [
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      // Describe calls cannot be scoped to resources; the region condition bounds them.
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": s.region } },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Action: "ssm:GetParameter",
      Resource: `arn:${s.partition}:ssm:${s.region}::parameter/aws/service/*`,
    },
    // The pricing API has no resource-level permissions.
    { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
      Resource: s.queueArn,
    },
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: s.nodeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Action: "iam:CreateInstanceProfile",
      Resource: `arn:${s.partition}:iam::${s.account}:instance-profile/*`,
      Condition: {
        StringEquals: { ...owned, ...region, "aws:RequestTag/eks:eks-cluster-name": s.clusterName },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Action: "iam:TagInstanceProfile",
      Resource: `arn:${s.partition}:iam::${s.account}:instance-profile/*`,
      Condition: {
        StringEquals: { ...ownedResource, ...regionResource, ...owned, ...region, "aws:RequestTag/eks:eks-cluster-name": s.clusterName },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
      Resource: `arn:${s.partition}:iam::${s.account}:instance-profile/*`,
      Condition: {
        StringEquals: { ...ownedResource, ...regionResource },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Action: ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"],
      Resource: `arn:${s.partition}:iam::${s.account}:instance-profile/*`,
    },
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: `arn:${s.partition}:eks:${s.region}:${s.account}:cluster/${s.clusterName}`,
    },
  ];
}

/**
 * Helm values of the controller: this cluster and its interruption queue, the IRSA role, two
 * replicas in prod (one in dev), on the system pool only (the chart's default affinity already
 * keeps it off the nodes it manages), resources requested so it is never the pod evicted first.
 */
export function karpenterValues(stack: StackSpec, args: { clusterName: string; queueName: string; roleArn: string }) {
  const prod = stack.environment === "prod";
  return {
    settings: { clusterName: args.clusterName, interruptionQueue: args.queueName },
    serviceAccount: { name: KARPENTER.serviceAccount, annotations: { "eks.amazonaws.com/role-arn": args.roleArn } },
    replicas: prod ? 2 : 1,
    nodeSelector: { "mlops.platform/pool": "system" },
    controller: { resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } } },
  };
}
