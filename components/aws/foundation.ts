import * as pulumi from "@pulumi/pulumi";
import type { Workload } from "../names";
import type { Catalog, StackSpec } from "../../definition";
import type { ArtifactStore, CloudFoundation, ClusterAccess, OfflineStoreConnection, OnlineStoreConnection } from "../types";
import { ArtifactBucket } from "./artifact-store";
import { awsName } from "./defaults";
import { dynamoTables } from "./dynamodb";
import { EksClusterAddons } from "./eks-addons";
import { EksCluster } from "./eks-cluster";
import { NodePool } from "./gpu-node-pool";
import { karpenterPools } from "./karpenter-settings";
import { WorkloadIdentities } from "./irsa";
import { Network } from "./network";
import { OfflineStore } from "./offline-store";
import { OnlineStore } from "./online-store";
import { TrackingDatabase } from "./tracking-db";
import { assertAwsStack } from "./validate";

export interface AwsFoundationArgs {
  /** The resolved stack (cloud: aws). */
  stack: StackSpec;
  /** The catalog; DynamoDB online tables follow its feature views. */
  catalog: Catalog;
}

/** The EKS cluster's name: unique per account and region, derived from the component and stack names. */
export function eksClusterName(name: string, stack: StackSpec): string {
  return awsName(`${name}-${stack.name}`, 100);
}

/**
 * The AWS cloud layer: network, EKS with its node pools, workload identities (IRSA), online and
 * offline stores, the artifact bucket and the tracking database. It hands the Kubernetes layer
 * only cloud-neutral connections (CloudFoundation).
 */
export class AwsFoundation extends pulumi.ComponentResource implements CloudFoundation {
  readonly cluster: ClusterAccess;
  readonly identities: Record<Workload, pulumi.Output<Record<string, string>>>;
  readonly online: OnlineStoreConnection;
  readonly offline: OfflineStoreConnection;
  readonly artifacts: ArtifactStore;
  readonly trackingDatabase: { url: pulumi.Output<string> };
  readonly network: Network;
  readonly eks: EksCluster;
  /** Managed node groups: the pools Karpenter does not provision (the system pool). */
  readonly nodePools: Record<string, NodePool>;
  readonly addons: EksClusterAddons;
  readonly nodes: pulumi.Resource[];

  constructor(name: string, args: AwsFoundationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:AwsFoundation", name, {}, opts);
    const { stack, catalog } = args;
    assertAwsStack(stack);
    const offlineSpec = stack.offlineStore;
    if (offlineSpec.kind !== "redshift") throw new Error("unreachable: assertAwsStack accepts only redshift");
    const parent = { parent: this };
    const clusterName = eksClusterName(name, stack);

    this.network = new Network(`${name}-net`, { stack, clusterName }, parent);
    const net = this.network;
    this.eks = new EksCluster(`${name}-eks`, { stack, clusterName, subnetIds: net.privateSubnetIds }, parent);
    const eks = this.eks;
    this.nodePools = {};
    const provisioned = new Set(karpenterPools(stack).map((p) => p.name));
    for (const pool of stack.nodePools.filter((p) => !provisioned.has(p.name))) {
      this.nodePools[pool.name] = new NodePool(
        `${name}-${pool.name}`,
        { stack, pool, clusterName: eks.clusterName, nodeRoleArn: eks.nodeRoleArn, subnetIds: net.nodeSubnetIds },
        parent,
      );
    }

    // GPU pools are Karpenter NodePools: nodes appear when pods need them (a managed group at 0 never grows).
    this.addons = new EksClusterAddons(
      `${name}-addons`,
      {
        stack,
        clusterName: eks.clusterName,
        clusterArn: eks.clusterArn,
        kubeconfig: eks.kubeconfig,
        oidcProviderArn: eks.oidcProviderArn,
        oidcIssuer: eks.oidcIssuer,
        nodeSubnetIds: net.nodeSubnetIds,
        clusterSecurityGroupId: eks.clusterSecurityGroupId,
        systemNodes: Object.values(this.nodePools),
      },
      parent,
    );

    const data = { stack, vpcId: net.vpcId, subnetIds: net.privateSubnetIds, nodeSecurityGroupId: eks.clusterSecurityGroupId };
    const online = new OnlineStore(`${name}-online`, { ...data, catalog }, parent);
    const bucket = new ArtifactBucket(`${name}-artifacts`, { stack }, parent);
    const offline = new OfflineStore(
      `${name}-offline`,
      {
        ...data,
        offline: offlineSpec,
        s3PrefixListId: net.s3PrefixListId,
        exportBucket: { arn: bucket.bucketArn, kmsKeyArn: bucket.kmsKeyArn },
      },
      parent,
    );
    // With tracking off there is no MLflow to use a database, so none is created (and the URL is empty).
    const trackingDb = stack.tracking.enabled ? new TrackingDatabase(`${name}-tracking-db`, data, parent) : undefined;

    const hasTables = online.kind === "dynamodb" && dynamoTables(catalog, stack.featureStore.project, stack.name).length > 0;
    const irsa = new WorkloadIdentities(
      `${name}-irsa`,
      {
        stack,
        oidcProviderArn: eks.oidcProviderArn,
        oidcIssuer: eks.oidcIssuer,
        resources: {
          region: stack.region,
          bucketArn: bucket.bucketArn,
          bucketKeyArn: bucket.kmsKeyArn,
          dynamo: hasTables ? { tableArns: online.tableArns, kmsKeyArn: online.kmsKeyArn } : undefined,
          redshift: { workgroupArn: offline.workgroupArn },
        },
      },
      parent,
    );

    this.cluster = eks.access;
    this.identities = irsa.identities;
    this.online = {
      kind: online.kind,
      url: online.url,
      password: online.password,
      // Redis authenticates with its AUTH token; DynamoDB with the features role.
      serviceAccountAnnotations: online.kind === "dynamodb" ? irsa.identities.features : pulumi.output<Record<string, string>>({}),
    };
    this.offline = { kind: "redshift", url: offline.url, serviceAccountAnnotations: irsa.identities.features };
    this.artifacts = { uri: bucket.uri, predictionLogsUri: bucket.predictionLogsUri, serviceAccountAnnotations: irsa.identities.tracking };
    this.trackingDatabase = { url: trackingDb ? trackingDb.url : pulumi.secret("") };
    this.nodes = [...Object.values(this.nodePools), this.addons];

    this.registerOutputs({
      clusterName: this.cluster.name,
      kubeconfig: this.cluster.kubeconfig,
      workloadIdentity: this.cluster.workloadIdentity,
      identities: this.identities,
      onlineStoreKind: this.online.kind,
      onlineStoreUrl: this.online.url,
      onlineStorePassword: this.online.password,
      offlineStoreUrl: this.offline.url,
      artifactsUri: this.artifacts.uri,
      predictionLogsUri: this.artifacts.predictionLogsUri,
      trackingDatabaseUrl: this.trackingDatabase.url,
    });
  }
}
