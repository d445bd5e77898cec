import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { k8sLabels } from "../names";
import { awsTags } from "./defaults";
import { managedPolicyArn } from "./iam-policy";
import { irsaTrustPolicy } from "./irsa";
import { Karpenter } from "./karpenter";

/** The EBS CSI driver's controller ServiceAccount (the EKS add-on's), which its IRSA role trusts. */
export const EBS_CSI = { addonName: "aws-ebs-csi-driver", namespace: "kube-system", serviceAccount: "ebs-csi-controller-sa" } as const;
/** metrics-server, pinned: the source of the resource metrics every HorizontalPodAutoscaler reads. */
export const METRICS_SERVER = {
  chart: "metrics-server",
  version: "3.12.2",
  repo: "https://kubernetes-sigs.github.io/metrics-server/",
} as const;

/**
 * The default StorageClass: gp3 through the EBS CSI driver, encrypted, bound where the pod lands
 * (a volume is zonal; binding before scheduling could pin a pod to a zone without capacity),
 * expandable. EKS ships none by default from 1.30 (gp2, in-tree, only before), so the Prometheus and
 * local-store PersistentVolumeClaims would stay Pending.
 */
export function gp3StorageClass(stack: StackSpec): k8s.storage.v1.StorageClassArgs {
  return {
    metadata: { name: "gp3", labels: k8sLabels(stack), annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
    reclaimPolicy: "Delete",
  };
}

/** metrics-server values: two replicas in prod (an HPA reads "unknown" while it is down), bounded resources. */
export function metricsServerValues(stack: StackSpec): Record<string, unknown> {
  const prod = stack.environment === "prod";
  return {
    replicas: prod ? 2 : 1,
    podDisruptionBudget: { enabled: prod, minAvailable: 1 },
    resources: { requests: { cpu: "100m", memory: "200Mi" }, limits: { memory: "400Mi" } },
    nodeSelector: { "mlops.platform/pool": "system" },
  };
}

export interface EksClusterAddonsArgs {
  stack: StackSpec;
  clusterName: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  kubeconfig: pulumi.Input<string>;
  oidcProviderArn: pulumi.Input<string>;
  oidcIssuer: pulumi.Input<string>;
  nodeSubnetIds: pulumi.Input<string>[];
  clusterSecurityGroupId: pulumi.Input<string>;
  /** The managed system node group(s): the add-ons' pods run there. */
  systemNodes: pulumi.Resource[];
}

/**
 * What EKS lacks and the platform needs before any workload: the EBS CSI driver (EKS add-on with
 * its IRSA role) and a default gp3 StorageClass, metrics-server for the HPAs, and Karpenter for
 * the GPU pools.
 */
export class EksClusterAddons extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly karpenter: Karpenter;

  constructor(name: string, args: EksClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:EksClusterAddons", name, {}, opts);
    const { stack } = args;
    const parent = { parent: this };
    const partition = aws.getPartitionOutput({}, parent).partition;
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: args.kubeconfig, enableServerSideApply: true }, parent);

    const ebsSubject = `system:serviceaccount:${EBS_CSI.namespace}:${EBS_CSI.serviceAccount}`;
    const ebsRole = new aws.iam.Role(
      `${name}-ebs-csi`,
      {
        description: `IRSA role of ${ebsSubject}`,
        assumeRolePolicy: pulumi
          .all([args.oidcProviderArn, args.oidcIssuer])
          .apply(([arn, issuer]) => JSON.stringify(irsaTrustPolicy(arn, issuer, ebsSubject))),
        tags: awsTags(stack, `${name}-ebs-csi`),
      },
      parent,
    );
    const ebsPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: ebsRole.name, policyArn: partition.apply((p) => managedPolicyArn(p, "service-role/AmazonEBSCSIDriverPolicy")) },
      parent,
    );
    // The add-on's controller needs nodes; EKS reports it ACTIVE only once it runs.
    const ebs = new aws.eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: args.clusterName,
        addonName: EBS_CSI.addonName,
        serviceAccountRoleArn: ebsRole.arn,
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "PRESERVE",
        tags: awsTags(stack, `${name}-ebs-csi`),
      },
      { parent: this, dependsOn: [ebsPolicy, ...args.systemNodes] },
    );
    new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClass(stack), { parent: this, provider: this.provider, dependsOn: [ebs] });

    new k8s.helm.v3.Release(
      `${name}-metrics-server`,
      {
        name: "metrics-server",
        chart: METRICS_SERVER.chart,
        version: METRICS_SERVER.version,
        namespace: "kube-system",
        createNamespace: false,
        repositoryOpts: { repo: METRICS_SERVER.repo },
        values: metricsServerValues(stack),
        cleanupOnFail: true,
        timeout: 300,
      },
      { parent: this, provider: this.provider, dependsOn: args.systemNodes },
    );

    this.karpenter = new Karpenter(
      `${name}-karpenter`,
      {
        stack,
        clusterName: args.clusterName,
        clusterArn: args.clusterArn,
        oidcProviderArn: args.oidcProviderArn,
        oidcIssuer: args.oidcIssuer,
        subnetIds: args.nodeSubnetIds,
        securityGroupId: args.clusterSecurityGroupId,
        provider: this.provider,
        systemNodes: args.systemNodes,
      },
      parent,
    );
    this.registerOutputs({ storageClass: "gp3", metricsServer: METRICS_SERVER.version, karpenter: this.karpenter.release.name });
  }
}
