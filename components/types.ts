import type * as pulumi from "@pulumi/pulumi";

/**
 * Cloud-neutral interfaces between the cloud layers (components/aws, components/gcp, local)
 * and the Kubernetes layer (components/k8s). The k8s layer reads only these; it never asks
 * which cloud it is on.
 */

/** How workloads reach the cluster's API and which identity mechanism pods use. */
export interface ClusterAccess {
  name: pulumi.Output<string>;
  /** Kubeconfig (a secret) for the Kubernetes provider. */
  kubeconfig: pulumi.Output<string>;
  /** Kubernetes context to use from the kubeconfig, when it has several (local). */
  context?: string;
  /**
   * Annotations a ServiceAccount needs to act as a cloud identity (IRSA role ARN on EKS,
   * Workload Identity GSA on GKE); empty for local.
   */
  workloadIdentity: WorkloadIdentityKind;
  /**
   * The provider already runs the NVIDIA device plugin on GPU nodes (GKE does, with its managed
   * driver install), so the platform must not register the GPUs a second time. Defaults to false.
   */
  managedGpuDevicePlugin?: boolean;
  /**
   * The API server admits `system-node-critical` pods outside kube-system only into namespaces with
   * a ResourceQuota for that priority class (GKE), so the platform creates one where its node agents
   * run. Defaults to false.
   */
  criticalPodsNeedQuota?: boolean;
}

export type WorkloadIdentityKind = "irsa" | "gke" | "none";

/** Where the online store is and how to authenticate; services read the URL form. */
export interface OnlineStoreConnection {
  kind: "redis" | "dynamodb";
  /** Store URL as the services read it: redis://, rediss:// (TLS) or dynamodb://<region>. */
  url: pulumi.Output<string>;
  /** Password / AUTH token (a Pulumi secret), when there is one; the k8s layer puts it in a Secret. */
  password?: pulumi.Output<string>;
  /** PEM of the private CA that signs the store's TLS certificate (Memorystore has its own), if any. */
  caCertificate?: pulumi.Output<string>;
  /** Annotations for the ServiceAccount of pods that use the store (IRSA/WI), if any. */
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
}

/** Where the offline store is; services read the URL form (duckdb:, postgres://, bigquery://, redshift://). */
export interface OfflineStoreConnection {
  kind: "redshift" | "bigquery" | "duckdb" | "postgres";
  url: pulumi.Output<string>;
  /** Password (a Pulumi secret), when the store uses one; the k8s layer puts it in a Secret. */
  password?: pulumi.Output<string>;
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /** A file-backed store (local DuckDB): the claim holding its file, mounted where the URL points. */
  volume?: { claimName: string; mountPath: string };
}

/** The artifact bucket of the tracking server: s3://, gs:// or an in-cluster object store. */
export interface ArtifactStore {
  /** URI prefix, e.g. s3://bucket/mlflow. */
  uri: pulumi.Output<string>;
  /**
   * Where serving writes sampled prediction logs and drift checks read them (s3://bucket/predictions):
   * the prefix the cloud layer grants serving write and drift read on, with its own lifecycle.
   */
  predictionLogsUri: pulumi.Output<string>;
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /**
   * Only for an in-cluster S3-compatible store (local: MinIO): its endpoint and the Secret (same
   * namespace as the tracking server) with keys `root-user` and `root-password`. Cloud buckets
   * leave this out and use workload identity.
   */
  objectStore?: { endpoint: string; credentialsSecret: string };
}

/** The MLflow tracking server as the other services reach it. */
export interface TrackingEndpoint {
  /** In-cluster URL, e.g. http://mlflow.mlops.svc.cluster.local:5000 */
  url: pulumi.Output<string>;
}

/**
 * What a cloud layer (AwsFoundation, GcpFoundation) or the local layer hands to the Kubernetes
 * layer. Everything above is cloud-neutral.
 */
export interface CloudFoundation {
  cluster: ClusterAccess;
  /** ServiceAccount annotations granting each workload its cloud access (IRSA / Workload Identity). */
  identities: Record<import("./names").Workload, pulumi.Output<Record<string, string>>>;
  online: OnlineStoreConnection;
  offline: OfflineStoreConnection;
  artifacts: ArtifactStore;
  /** The tracking server's database URL (a secret): RDS, Cloud SQL or in-cluster PostgreSQL. */
  trackingDatabase: { url: pulumi.Output<string> };
  /**
   * What must exist before any pod can run: the node groups / pools (and the cluster add-ons that
   * storage and autoscaling need). The Kubernetes layer waits for them. Empty for local.
   */
  nodes: pulumi.Resource[];
}
