import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { awsTags } from "./defaults";
import { managedPolicyArn, serviceTrustPolicy } from "./iam-policy";

/** Managed policies of a node role: kubelet, VPC CNI, image pulls, and SSM in place of SSH. */
export const NODE_ROLE_POLICIES = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryPullOnly",
  "AmazonSSMManagedInstanceCore",
] as const;

export interface NodeRole {
  role: aws.iam.Role;
  /** One attachment per NODE_ROLE_POLICIES entry: nodes must not start before these exist. */
  attachments: aws.iam.RolePolicyAttachment[];
}

/**
 * The IAM role EC2 nodes of the cluster run as, with the node policies attached. The managed node
 * groups and Karpenter each get one (EKS creates the access entry of a managed group's role itself;
 * the same role in a Karpenter access entry too would collide). `roleName` and
 * `attachmentPrefix` are the Pulumi resource names (kept as they were, so no stack replaces them).
 */
export function nodeRole(
  stack: StackSpec,
  names: { roleName: string; attachmentPrefix: string },
  partition: pulumi.Input<string>,
  parent: pulumi.Resource,
): NodeRole {
  const role = new aws.iam.Role(
    names.roleName,
    { assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")), tags: awsTags(stack, names.roleName) },
    { parent },
  );
  const attachments = NODE_ROLE_POLICIES.map(
    (policy) =>
      new aws.iam.RolePolicyAttachment(
        `${names.attachmentPrefix}-${policy}`,
        { role: role.name, policyArn: pulumi.output(partition).apply((p) => managedPolicyArn(p, policy)) },
        { parent },
      ),
  );
  return { role, attachments };
}
