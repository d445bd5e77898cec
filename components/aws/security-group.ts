import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { awsTags } from "./defaults";

export interface StoreSecurityGroupArgs {
  stack: StackSpec;
  vpcId: pulumi.Input<string>;
  /** The one TCP port the store listens on. */
  port: number;
  /** The security group allowed in: the EKS cluster security group, which managed nodes carry. */
  sourceSecurityGroupId: pulumi.Input<string>;
  description: string;
  /** Prefix lists the store may reach on 443 (e.g. the S3 gateway endpoint for Redshift COPY/UNLOAD). */
  httpsEgressPrefixListIds?: pulumi.Input<string>[];
}

/**
 * A security group for a data store that admits exactly one port from the cluster's nodes and
 * nothing else. The AWS provider drops the default allow-all egress rule of a group it creates,
 * so a store gets no egress unless it is listed here.
 */
export function storeSecurityGroup(name: string, args: StoreSecurityGroupArgs, parent: pulumi.Resource): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    { vpcId: args.vpcId, description: args.description, tags: awsTags(args.stack, `${name}-sg`) },
    { parent },
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-from-nodes`,
    {
      securityGroupId: group.id,
      referencedSecurityGroupId: args.sourceSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: args.port,
      toPort: args.port,
      description: `${args.description}: from the cluster's nodes`,
      tags: awsTags(args.stack, `${name}-from-nodes`),
    },
    { parent },
  );
  (args.httpsEgressPrefixListIds ?? []).forEach((prefixListId, i) => {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https-out-${i}`,
      {
        securityGroupId: group.id,
        prefixListId,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS to an AWS service endpoint",
        tags: awsTags(args.stack, `${name}-https-out-${i}`),
      },
      { parent },
    );
  });
  return group;
}
