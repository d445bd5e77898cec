import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import type { OnlineStoreConnection } from "../types";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

/**
 * Memorystore for Redis Cluster's node types and the memory each node holds (GB), smallest first
 * (Google's "cluster and node specification").
 */
export const CLUSTER_NODE_TYPES = [
  { nodeType: "REDIS_SHARED_CORE_NANO", gb: 1.4 },
  { nodeType: "REDIS_STANDARD_SMALL", gb: 6.5 },
  { nodeType: "REDIS_HIGHMEM_MEDIUM", gb: 13 },
  { nodeType: "REDIS_HIGHMEM_XLARGE", gb: 58 },
] as const;

/** The service class Memorystore for Redis Cluster's Private Service Connect policy names. */
export const MEMORYSTORE_SERVICE_CLASS = "gcp-memorystore-redis";

/** The IAM role that lets a principal AUTH to a cluster with its access token. */
export const CLUSTER_CONNECT_ROLE = "roles/redis.dbConnectionUser";

/**
 * The node type holding a shard's share of `memorySizeGb` (shards split the keys, each shard one
 * primary node): the smallest that fits, never a shared-core node in prod (no performance SLA).
 * Throws naming onlineStore.memorySizeGb when even the largest node cannot hold a shard.
 */
export function clusterNodeType(memorySizeGb: number, shards: number, prod: boolean): string {
  const perShard = memorySizeGb / shards;
  const fits = CLUSTER_NODE_TYPES.filter((t) => t.gb >= perShard && !(prod && t.nodeType === "REDIS_SHARED_CORE_NANO"));
  const chosen = fits[0];
  if (!chosen) {
    const largest = CLUSTER_NODE_TYPES[CLUSTER_NODE_TYPES.length - 1] as (typeof CLUSTER_NODE_TYPES)[number];
    throw new pulumi.InputPropertiesError({
      message: "online store too large for its shards",
      errors: [
        {
          propertyPath: "onlineStore.memorySizeGb",
          reason: `${memorySizeGb} GB over ${shards} shards is ${perShard.toFixed(1)} GB per shard; the largest Memorystore Cluster node holds ${largest.gb} GB: raise onlineStore.shards to ${Math.ceil(memorySizeGb / largest.gb)} or more`,
        },
      ],
    });
  }
  return chosen.nodeType;
}

/** The cluster as plain settings (what gcp.redis.Cluster receives, network aside). */
export interface MemorystoreClusterSettings {
  region: string;
  shardCount: number;
  replicaCount: number;
  nodeType: string;
  authorizationMode: "AUTH_MODE_IAM_AUTH";
  transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION";
  zoneDistributionConfig: { mode: "MULTI_ZONE" };
  persistenceConfig: { mode: "RDB"; rdbConfig: { rdbSnapshotPeriod: string } } | { mode: "DISABLED" };
  maintenancePolicy: { weeklyMaintenanceWindows: { day: string; startTime: { hours: number; minutes: number } }[] };
  deletionProtectionEnabled: boolean;
  labels: Record<string, string>;
}

/**
 * Plain settings of a Memorystore for Redis Cluster (`onlineStore.shards` on a GCP stack).
 * Decisions, with why:
 * - IAM authentication: the service has no AUTH string; clients send `AUTH default <access token>`
 *   (the features service fetches its Workload Identity token, `?auth=gcp-iam` on its URL), and
 *   only the features service account holds the connect role, on this cluster only.
 * - TLS in transit with server authentication (the managed server CA is mounted in the pods).
 * - Replicas as `onlineStore.replicas` (1 in prod: failover per shard), nodes spread over zones.
 * - Prod keeps daily RDB snapshots and deletion protection; dev neither (re-materialize instead).
 */
export function memorystoreClusterSettings(stack: StackSpec): MemorystoreClusterSettings {
  const { region, labels, prod } = gcpTarget(stack);
  const online = stack.onlineStore;
  if (online.kind !== "redis" || !online.shards) throw new Error("memorystoreClusterSettings: the stack's online store has no shards");
  return {
    region,
    shardCount: online.shards,
    replicaCount: online.replicas,
    nodeType: clusterNodeType(online.memorySizeGb, online.shards, prod),
    authorizationMode: "AUTH_MODE_IAM_AUTH",
    transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION",
    zoneDistributionConfig: { mode: "MULTI_ZONE" },
    persistenceConfig: prod ? { mode: "RDB", rdbConfig: { rdbSnapshotPeriod: "TWENTY_FOUR_HOURS" } } : { mode: "DISABLED" },
    maintenancePolicy: { weeklyMaintenanceWindows: [{ day: "SUNDAY", startTime: { hours: 3, minutes: 0 } }] },
    deletionProtectionEnabled: prod,
    labels,
  };
}

/** The features service's URL of a cluster: its discovery endpoint over TLS, authenticated with IAM tokens. */
export function clusterUrl(endpoint: { address?: string; port?: number }): string {
  if (!endpoint.address) throw new Error("Memorystore Cluster reported no discovery endpoint");
  return `rediss+cluster://${endpoint.address}:${endpoint.port ?? 6379}?auth=gcp-iam`;
}

/** The IAM condition that limits the connect role to one cluster. */
export function clusterCondition(clusterId: string): { title: string; description: string; expression: string } {
  return {
    title: "only-online-store-cluster",
    description: `Connect to ${clusterId} only`,
    expression: `resource.name == "${clusterId}"`,
  };
}

export interface MemorystoreClusterArgs extends GcpComponentArgs {
  /** The VPC the cluster's Private Service Connect endpoints are created in. */
  networkId: pulumi.Input<string>;
  /** The subnetwork the endpoints take their addresses from. */
  subnetId: pulumi.Input<string>;
  /** IAM members (the features service account) that may connect. */
  connectMembers: pulumi.Input<string>[];
}

/**
 * The online feature store on GCP when it is sharded: Memorystore for Redis Cluster, reached
 * through Private Service Connect (a service connection policy on the stack's network and
 * subnetwork lets Memorystore create its endpoints there), IAM authentication, TLS in transit.
 */
export class MemorystoreClusterOnlineStore extends pulumi.ComponentResource {
  readonly cluster: gcp.redis.Cluster;
  readonly policy: gcp.networkconnectivity.ServiceConnectionPolicy;
  readonly connection: OnlineStoreConnection;
  readonly caCertificate: pulumi.Output<string>;

  constructor(name: string, args: MemorystoreClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:MemorystoreClusterOnlineStore", name, {}, opts);
    const project = projectInput(args);
    const settings = memorystoreClusterSettings(args.stack);
    this.policy = new gcp.networkconnectivity.ServiceConnectionPolicy(
      `${name}-psc`,
      {
        project,
        location: settings.region,
        serviceClass: MEMORYSTORE_SERVICE_CLASS,
        network: args.networkId,
        pscConfig: { subnetworks: [args.subnetId] },
        labels: settings.labels,
        description: `Private Service Connect for the online store of stack ${args.stack.name}`,
      },
      { parent: this },
    );
    this.cluster = new gcp.redis.Cluster(
      `${name}-cluster`,
      { project, ...settings, pscConfigs: [{ network: args.networkId }] },
      // Memorystore creates its endpoints under the policy: without it the create fails.
      { ...statefulOptions(args.stack, this), dependsOn: [this.policy] },
    );
    const clusterId = this.cluster.id;
    args.connectMembers.forEach((member, i) => {
      new gcp.projects.IAMMember(
        `${name}-connect-${i}`,
        { project, role: CLUSTER_CONNECT_ROLE, member, condition: clusterId.apply(clusterCondition) },
        { parent: this },
      );
    });
    const url = this.cluster.discoveryEndpoints.apply((endpoints) => clusterUrl(endpoints[0] ?? {}));
    this.caCertificate = this.cluster.managedServerCas.apply((cas) =>
      cas.flatMap((ca) => ca.caCerts.flatMap((chain) => chain.certificates)).join("\n"),
    );
    this.connection = {
      kind: "redis",
      url,
      caCertificate: this.caCertificate,
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
    };
    this.registerOutputs({ url, caCertificate: this.caCertificate, shards: settings.shardCount, nodeType: settings.nodeType });
  }
}
