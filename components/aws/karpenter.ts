import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { validatedCustomResource } from "../k8s/crd-schema";
import { awsTags } from "./defaults";
import { policyDocument } from "./iam-policy";
import { irsaTrustPolicy } from "./irsa";
import { nodeRole } from "./node-role";
import {
  ec2NodeClass,
  INTERRUPTION_EVENTS,
  interruptionQueueName,
  interruptionQueuePolicy,
  KARPENTER,
  karpenterControllerStatements,
  karpenterNodePool,
  karpenterPools,
  karpenterValues,
} from "./karpenter-settings";

export interface KarpenterArgs {
  stack: StackSpec;
  clusterName: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuer: pulumi.Input<string>;
  /** Subnets and security group Karpenter's nodes use (the managed nodes' own). */
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** Provider of the cluster. */
  provider: k8s.Provider;
  /** The controller runs on these (the system node group), so it waits for them. */
  systemNodes: pulumi.Resource[];
}

/**
 * Karpenter on EKS: a node role of its own with an EC2_LINUX access entry (managed node groups'
 * roles get theirs from EKS; one role in both would collide), the interruption queue with its
 * EventBridge rules, the controller's IRSA role, the pinned Helm release, and the EC2NodeClass and
 * NodePool of every GPU pool, each validated against Karpenter's CRD schema.
 */
export class Karpenter extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly nodePools: k8s.apiextensions.CustomResource[] = [];
  readonly queueArn: pulumi.Output<string>;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:Karpenter", name, {}, opts);
    const { stack } = args;
    const parent = { parent: this };
    const partition = aws.getPartitionOutput({}, parent).partition;

    const nodes = nodeRole(stack, { roleName: `${name}-node`, attachmentPrefix: `${name}-node` }, partition, this);
    const accessEntry = new aws.eks.AccessEntry(
      `${name}-node`,
      { clusterName: args.clusterName, principalArn: nodes.role.arn, type: "EC2_LINUX", tags: awsTags(stack, `${name}-node`) },
      parent,
    );

    const queue = new aws.sqs.Queue(
      `${name}-interruptions`,
      {
        name: pulumi.output(args.clusterName).apply(interruptionQueueName),
        // Events older than five minutes are past acting on (a spot warning gives two).
        messageRetentionSeconds: 300,
        sqsManagedSseEnabled: true,
        tags: awsTags(stack, `${name}-interruptions`),
      },
      parent,
    );
    const queuePolicy = new aws.sqs.QueuePolicy(
      `${name}-interruptions`,
      { queueUrl: queue.url, policy: queue.arn.apply(interruptionQueuePolicy) },
      parent,
    );
    const rules = Object.entries(INTERRUPTION_EVENTS).map(([event, pattern]) => {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${event}`,
        {
          description: `Karpenter interruption events: ${pattern["detail-type"].join(", ")}`,
          eventPattern: JSON.stringify(pattern),
          tags: awsTags(stack, `${name}-${event}`),
        },
        parent,
      );
      return new aws.cloudwatch.EventTarget(
        `${name}-${event}`,
        { rule: rule.name, arn: queue.arn },
        { parent: this, dependsOn: [queuePolicy] },
      );
    });

    const subject = `system:serviceaccount:${KARPENTER.namespace}:${KARPENTER.serviceAccount}`;
    const controllerRole = new aws.iam.Role(
      `${name}-controller`,
      {
        description: `IRSA role of ${subject}`,
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuer])
          .apply(([arn, issuer]) => JSON.stringify(irsaTrustPolicy(arn, issuer, subject))),
        tags: awsTags(stack, `${name}-controller`),
      },
      parent,
    );
    const controllerPolicy = new aws.iam.RolePolicy(
      `${name}-controller`,
      {
        role: controllerRole.id,
        policy: pulumi
          .all([partition, args.clusterName, args.clusterArn, queue.arn, nodes.role.arn])
          .apply(([p, clusterName, clusterArn, queueArn, nodeRoleArn]) =>
            JSON.stringify(
              policyDocument(
                karpenterControllerStatements({
                  partition: p,
                  region: stack.region,
                  account: clusterArn.split(":")[4] ?? "",
                  clusterName,
                  queueArn,
                  nodeRoleArn,
                }),
              ),
            ),
          ),
      },
      parent,
    );

    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: "karpenter",
        chart: KARPENTER.chart,
        version: KARPENTER.version,
        namespace: KARPENTER.namespace,
        createNamespace: false,
        values: pulumi
          .all([args.clusterName, queue.name, controllerRole.arn])
          .apply(([clusterName, queueName, roleArn]) => karpenterValues(stack, { clusterName, queueName, roleArn })),
        cleanupOnFail: true,
        timeout: 600,
      },
      {
        parent: this,
        provider: args.provider,
        dependsOn: [controllerPolicy, accessEntry, ...nodes.attachments, ...rules, ...args.systemNodes],
      },
    );

    // The CRDs come with the chart: the objects wait for it.
    const crOpts = { parent: this, provider: args.provider, dependsOn: [this.release] };
    for (const pool of karpenterPools(stack)) {
      const nodeClass = pulumi
        .all([nodes.role.name, pulumi.all(args.subnetIds), args.securityGroupId])
        .apply(([nodeRoleName, subnetIds, securityGroupId]) =>
          ec2NodeClass(stack, pool, { nodeRoleName, subnetIds, securityGroupId, tags: awsTags(stack, `${stack.name}-${pool.name}`) }),
        );
      const classObject = ec2NodeClass(stack, pool, { nodeRoleName: "", subnetIds: [], securityGroupId: "", tags: {} });
      const nodeClassResource = validatedCustomResource(
        `${name}-${pool.name}-class`,
        { ...classObject, spec: nodeClass.apply((c) => c.spec) },
        crOpts,
      );
      this.nodePools.push(
        validatedCustomResource(`${name}-${pool.name}`, karpenterNodePool(stack, pool), {
          ...crOpts,
          dependsOn: [this.release, nodeClassResource],
        }),
      );
    }

    this.queueArn = queue.arn;
    this.registerOutputs({ release: this.release.name, queueArn: this.queueArn, nodePools: karpenterPools(stack).map((p) => p.name) });
  }
}
