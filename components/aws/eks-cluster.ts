import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { StackSpec } from "../../definition";
import type { ClusterAccess } from "../types";
import { awsDefaults, awsTags } from "./defaults";
import { policyDocument, serviceTrustPolicy } from "./iam-policy";
import { encryptionKey } from "./kms";
import { nodeRole } from "./node-role";

/** Every EKS control-plane log type: the audit log is what an incident review needs. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
/** The audience EKS-issued service account tokens carry for STS. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** The cluster's security-relevant settings as data, from the stack spec. */
export interface ClusterSettings {
  name: string;
  version: string;
  enabledClusterLogTypes: string[];
  endpointPrivateAccess: boolean;
  endpointPublicAccess: boolean;
  /** Only sent when the endpoint is public; empty otherwise. */
  publicAccessCidrs: string[];
  /** API: access is granted by EKS access entries, not the aws-auth ConfigMap. */
  authenticationMode: "API";
  /** Envelope-encrypt Kubernetes Secrets with the cluster's KMS key. */
  encryptedResources: string[];
  deletionProtection: boolean;
  logRetentionDays: number;
}

export function clusterSettings(stack: StackSpec, clusterName: string): ClusterSettings {
  const endpointPublicAccess = !stack.cluster.privateEndpoint;
  if (endpointPublicAccess && stack.cluster.publicAccessCidrs.length === 0) {
    throw new Error(
      `stack ${stack.name}: cluster.publicAccessCidrs is empty while the API endpoint is public, which AWS reads as 0.0.0.0/0; list the CIDRs allowed to reach it, or set cluster.privateEndpoint: true`,
    );
  }
  const d = awsDefaults(stack);
  return {
    name: clusterName,
    version: stack.cluster.version,
    enabledClusterLogTypes: [...CONTROL_PLANE_LOG_TYPES],
    endpointPrivateAccess: true,
    endpointPublicAccess,
    publicAccessCidrs: endpointPublicAccess ? stack.cluster.publicAccessCidrs : [],
    authenticationMode: "API",
    encryptedResources: ["secrets"],
    deletionProtection: d.deletionProtection,
    logRetentionDays: d.logRetentionDays,
  };
}

/**
 * A kubeconfig that authenticates with `aws eks get-token` (exec plugin), so no token or key is
 * stored: whoever runs Pulumi or kubectl uses their own AWS credentials.
 */
export function kubeconfigFor(args: { clusterName: string; endpoint: string; certificateAuthority: string; region: string }): string {
  const context = args.clusterName;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: context, cluster: { server: args.endpoint, "certificate-authority-data": args.certificateAuthority } }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    "current-context": context,
    users: [
      {
        name: context,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", args.clusterName, "--region", args.region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

/** The IAM policy letting the EKS control plane use its KMS key for envelope encryption. */
export function clusterKmsPolicy(keyArn: string): string {
  return JSON.stringify(
    policyDocument([
      {
        Sid: "SecretsEnvelopeEncryption",
        Effect: "Allow",
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
        Resource: keyArn,
      },
    ]),
  );
}

export interface EksClusterArgs {
  stack: StackSpec;
  /** The cluster's name in AWS (subnets are tagged with it before the cluster exists). */
  clusterName: string;
  /** Private subnets for the control plane's network interfaces. */
  subnetIds: pulumi.Input<string>[];
  /** IAM roles granted cluster-admin through access entries. Defaults to the stack's cluster.admins. */
  adminRoleArns?: pulumi.Input<string>[];
}

/**
 * EKS control plane: KMS envelope encryption of Secrets, every log type, a private endpoint
 * (public only when the stack allows, restricted to CIDRs), API authentication mode with access
 * entries, an OIDC provider for IRSA, and the node role the node pools share.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly clusterArn: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  /** Kubeconfig (secret) using `aws eks get-token`. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Security group EKS attaches to the control plane and managed nodes: data stores admit it. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** Issuer host and path without https://, as IAM condition keys spell it. */
  readonly oidcIssuer: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;
  readonly secretsKeyArn: pulumi.Output<string>;
  readonly access: ClusterAccess;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:EksCluster", name, {}, opts);
    const { stack } = args;
    const parent = { parent: this };
    const settings = clusterSettings(stack, args.clusterName);
    const partition = aws.getPartitionOutput({}, parent).partition;

    const key = encryptionKey(`${name}-secrets`, stack, "EKS secrets envelope encryption", this);
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: JSON.stringify(serviceTrustPolicy("eks.amazonaws.com")), tags: awsTags(stack, `${name}-role`) },
      parent,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-policy`,
      { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKSClusterPolicy` },
      parent,
    );
    const kmsPolicy = new aws.iam.RolePolicy(`${name}-kms`, { role: role.id, policy: key.arn.apply(clusterKmsPolicy) }, parent);
    // EKS would create this group itself with no retention; owning it bounds the cost and keeps audit logs as long as policy says.
    // Encrypted with its own key (CKV_AWS_158): audit logs name principals and requests.
    const logKey = encryptionKey(`${name}-logs`, stack, "EKS control-plane logs", this, { cloudWatchLogs: true });
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/eks/${settings.name}/cluster`,
        retentionInDays: settings.logRetentionDays,
        kmsKeyId: logKey.arn,
        tags: awsTags(stack, `${name}-logs`),
      },
      // Its name is fixed by EKS: a replacement must delete the old group first.
      { parent: this, deleteBeforeReplace: true },
    );

    const cluster = new aws.eks.Cluster(
      `${name}`,
      {
        name: settings.name,
        version: settings.version,
        roleArn: role.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPrivateAccess: settings.endpointPrivateAccess,
          endpointPublicAccess: settings.endpointPublicAccess,
          ...(settings.endpointPublicAccess ? { publicAccessCidrs: settings.publicAccessCidrs } : {}),
        },
        accessConfig: { authenticationMode: settings.authenticationMode, bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { provider: { keyArn: key.arn }, resources: settings.encryptedResources },
        enabledClusterLogTypes: settings.enabledClusterLogTypes,
        deletionProtection: settings.deletionProtection,
        tags: awsTags(stack, settings.name),
      },
      // The cluster's name is fixed (subnet tags, kubeconfigs and IAM name it): delete before replacing.
      { parent: this, dependsOn: [clusterPolicy, kmsPolicy, logGroup], deleteBeforeReplace: true },
    );

    const issuerUrl = cluster.identities.apply((ids) => {
      const url = ids[0]?.oidcs?.[0]?.issuer;
      if (!url) throw new Error(`EKS cluster ${settings.name} reported no OIDC issuer; IRSA needs one`);
      return url;
    });
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuerUrl, clientIdLists: [STS_AUDIENCE], tags: awsTags(stack, `${name}-oidc`) },
      parent,
    );

    const nodes = nodeRole(stack, { roleName: `${name}-node-role`, attachmentPrefix: `${name}-node` }, partition, this);

    (args.adminRoleArns ?? stack.cluster.admins).forEach((principalArn, i) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-admin-${i}`,
        { clusterName: cluster.name, principalArn, type: "STANDARD", tags: awsTags(stack, `${name}-admin-${i}`) },
        parent,
      );
      new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        { parent: this, dependsOn: [entry] },
      );
    });

    this.clusterName = cluster.name;
    this.clusterArn = cluster.arn;
    this.endpoint = cluster.endpoint;
    this.certificateAuthority = cluster.certificateAuthority.data;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority.data])
        .apply(([clusterName, endpoint, certificateAuthority]) =>
          kubeconfigFor({ clusterName, endpoint, certificateAuthority, region: stack.region }),
        ),
    );
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((v) => {
      if (!v.clusterSecurityGroupId) throw new Error(`EKS cluster ${settings.name} reported no cluster security group`);
      return v.clusterSecurityGroupId;
    });
    this.oidcProviderArn = oidc.arn;
    this.oidcIssuer = issuerUrl.apply((u) => u.replace(/^https:\/\//, ""));
    // Node groups must not start before their role can pull images and run the CNI.
    this.nodeRoleArn = pulumi.all([nodes.role.arn, ...nodes.attachments.map((p) => p.id)]).apply(([arn]) => arn as string);
    this.secretsKeyArn = key.arn;
    this.access = { name: this.clusterName, kubeconfig: this.kubeconfig, workloadIdentity: "irsa" };
    this.registerOutputs({
      clusterName: this.clusterName,
      endpoint: this.endpoint,
      certificateAuthority: this.certificateAuthority,
      kubeconfig: this.kubeconfig,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuer: this.oidcIssuer,
      nodeRoleArn: this.nodeRoleArn,
      secretsKeyArn: this.secretsKeyArn,
      workloadIdentity: this.access.workloadIdentity,
    });
  }
}
