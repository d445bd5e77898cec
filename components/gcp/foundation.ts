import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Workload } from "../names";
import type { Catalog, StackSpec } from "../../definition";
import type { ArtifactStore, CloudFoundation, ClusterAccess, OfflineStoreConnection, OnlineStoreConnection } from "../types";
import { GcsArtifactStore } from "./artifact-store";
import { GkeCluster } from "./gke-cluster";
import { GkeNodePool } from "./gpu-node-pool";
import { GcpNetwork } from "./network";
import { NodeServiceAccount } from "./node-service-account";
import { BigQueryOfflineStore } from "./offline-store";
import { MemorystoreClusterOnlineStore } from "./memorystore-cluster";
import { MemorystoreOnlineStore } from "./online-store";
import { gcpTarget } from "./project";
import { ProjectServices } from "./project-services";
import { CloudSqlTrackingDatabase } from "./tracking-db";
import { WorkloadIdentities } from "./workload-identity";

export interface GcpFoundationArgs {
  /** The resolved gcp stack (definition). */
  stack: StackSpec;
  /** The catalog: the offline store gets one BigQuery table per offline feature view. */
  catalog: Catalog;
}

/** The first `count` zones of a region, in name order, so node pools land in the same zones on every run. */
export function pickZones(zones: string[], count: number): string[] {
  return [...zones].sort().slice(0, Math.max(1, count));
}

/**
 * The GCP cloud layer of the platform: network, private GKE cluster with its node pools,
 * Memorystore, BigQuery, the GCS artifact bucket, Cloud SQL for MLflow, and one Workload
 * Identity per workload. It hands the Kubernetes layer only cloud-neutral connections.
 */
export class GcpFoundation extends pulumi.ComponentResource implements CloudFoundation {
  readonly cluster: ClusterAccess;
  readonly identities: Record<Workload, pulumi.Output<Record<string, string>>>;
  readonly online: OnlineStoreConnection;
  readonly offline: OfflineStoreConnection;
  readonly artifacts: ArtifactStore;
  readonly trackingDatabase: { url: pulumi.Output<string> };

  readonly network: GcpNetwork;
  readonly gke: GkeCluster;
  readonly nodePools: Record<string, GkeNodePool>;
  /** One Memorystore instance, or a Memorystore Cluster when the stack sets onlineStore.shards. */
  readonly onlineStore: MemorystoreOnlineStore | MemorystoreClusterOnlineStore;
  readonly offlineStore: BigQueryOfflineStore;
  readonly artifactStore: GcsArtifactStore;
  readonly trackingDb?: CloudSqlTrackingDatabase;
  readonly workloadIdentities: WorkloadIdentities;
  readonly nodes: pulumi.Resource[];

  constructor(name: string, args: GcpFoundationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:Foundation", name, {}, opts);
    const { stack, catalog } = args;
    const { region } = gcpTarget(stack);
    const parent = { parent: this };

    // Every component gets the project id as an Output that resolves once the APIs are on.
    const apis = new ProjectServices(`${name}-apis`, { stack }, parent);
    const project = apis.project;
    this.network = new GcpNetwork(`${name}-network`, { stack, project }, parent);
    const nodes = new NodeServiceAccount(`${name}-nodes`, { stack, project }, parent);
    this.gke = new GkeCluster(
      `${name}-gke`,
      {
        stack,
        project,
        networkId: this.network.networkId,
        subnetId: this.network.subnetId,
        masterIpv4CidrBlock: this.network.settings.masterIpv4CidrBlock,
        nodeServiceAccountEmail: nodes.email,
      },
      parent,
    );
    const zones = gcp.compute
      .getZonesOutput({ project, region, status: "UP" }, parent)
      .names.apply((names) => pickZones(names, stack.network.availabilityZones));
    this.nodePools = {};
    for (const pool of stack.nodePools) {
      this.nodePools[pool.name] = new GkeNodePool(
        `${name}-${pool.name}`,
        { stack, project, pool, clusterId: this.gke.cluster.id, serviceAccountEmail: nodes.email, nodeLocations: zones },
        parent,
      );
    }

    this.offlineStore = new BigQueryOfflineStore(`${name}-offline`, { stack, project, catalog }, parent);
    this.artifactStore = new GcsArtifactStore(`${name}-artifacts`, { stack, project }, parent);
    this.workloadIdentities = new WorkloadIdentities(
      `${name}-identity`,
      { stack, project, datasetId: this.offlineStore.datasetId, bucketName: this.artifactStore.bucketName, cluster: this.gke.cluster },
      parent,
    );
    // Sharded: the features service account connects with its IAM token, on this cluster only.
    this.onlineStore =
      stack.onlineStore.kind === "redis" && stack.onlineStore.shards
        ? new MemorystoreClusterOnlineStore(
            `${name}-online`,
            {
              stack,
              project,
              networkId: this.network.networkId,
              subnetId: this.network.subnetId,
              connectMembers: [this.workloadIdentities.accounts.features.member],
            },
            parent,
          )
        : new MemorystoreOnlineStore(
            `${name}-online`,
            { stack, project, networkId: this.network.networkId, privateServices: this.network.privateServices },
            parent,
          );
    if (stack.tracking.enabled) {
      this.trackingDb = new CloudSqlTrackingDatabase(
        `${name}-tracking`,
        { stack, project, networkId: this.network.networkId, privateServices: this.network.privateServices },
        parent,
      );
    }

    const ids = this.workloadIdentities.identities;
    this.cluster = this.gke.access;
    this.identities = ids;
    this.online = this.onlineStore.connection;
    this.offline = { kind: "bigquery", url: this.offlineStore.url, serviceAccountAnnotations: ids.features };
    this.artifacts = {
      uri: this.artifactStore.uri,
      predictionLogsUri: this.artifactStore.predictionLogsUri,
      serviceAccountAnnotations: ids.tracking,
    };
    // With tracking disabled no database exists; the Kubernetes layer does not read this then.
    this.trackingDatabase = { url: this.trackingDb?.url ?? pulumi.secret("") };
    this.nodes = Object.values(this.nodePools);

    this.registerOutputs({
      clusterName: this.cluster.name,
      kubeconfig: this.cluster.kubeconfig,
      identities: this.identities,
      onlineStoreUrl: this.online.url,
      onlineStorePassword: this.online.password,
      offlineStoreUrl: this.offline.url,
      artifactsUri: this.artifacts.uri,
      predictionLogsUri: this.artifacts.predictionLogsUri,
      trackingDatabaseUrl: this.trackingDatabase.url,
      nodePools: Object.keys(this.nodePools),
    });
  }
}
