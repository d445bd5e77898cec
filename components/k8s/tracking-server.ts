import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES, workloadServiceAccount } from "../names";
import type { StackSpec } from "../../definition";
import type { ArtifactStore, TrackingEndpoint } from "../types";
import { DEFAULT_TRACKING_IMAGE, driversFor } from "./tracking-image";
import { type ContainerArgs, Workload } from "./workload";

/** The tracking server's name (Deployment, Service, ServiceAccount) and port. */
export const TRACKING = { name: "mlflow", port: 5000 } as const;

export interface TrackingServerArgs {
  stack: StackSpec;
  /** Backend store URL (a secret): postgresql://user:password@host:port/db. */
  database: { url: pulumi.Output<string> };
  /** Where artifacts go; MLflow proxies them (--serve-artifacts) so clients need no bucket access. */
  artifacts: ArtifactStore;
  /** Workload identity annotations (IRSA role / GKE service account) for the artifact bucket. */
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /** Namespace; defaults to NAMESPACES.platform. */
  namespace?: string;
}

/** Replicas, and resources sized for a team's tracking traffic; prod runs two behind a PDB. */
export function trackingSizing(stack: StackSpec): { replicas: number; resources: ContainerArgs["resources"] } {
  return stack.environment === "prod"
    ? { replicas: 2, resources: { cpu: "500m", memory: "1Gi", memoryLimit: "2Gi" } }
    : { replicas: 1, resources: { cpu: "250m", memory: "512Mi", memoryLimit: "1Gi" } };
}

/**
 * Arguments of `mlflow` (the container command). `$(DB_URL)` is expanded by the kubelet from the env var (itself from
 * a Secret), so the password never appears in the pod spec.
 */
export function mlflowArgs(artifactsUri: pulumi.Input<string>): pulumi.Input<string>[] {
  return [
    "server",
    "--backend-store-uri",
    "$(DB_URL)",
    "--artifacts-destination",
    artifactsUri,
    "--serve-artifacts",
    "--host",
    "0.0.0.0",
    "--port",
    String(TRACKING.port),
    // Serves /metrics (prometheus_flask_exporter, an MLflow dependency); the directory holds the
    // per-worker files of the multiprocess collector.
    "--expose-prometheus",
    "/tmp/prometheus",
  ];
}

/**
 * The MLflow tracking server: a Deployment with its Service and (prod) PDB, a ServiceAccount
 * carrying the workload identity for the artifact bucket, and a Secret with the database URL.
 * No static cloud keys: cloud buckets are reached through workload identity; the local MinIO
 * credentials come from that store's Secret.
 */
export class TrackingServer extends pulumi.ComponentResource {
  readonly endpoint: TrackingEndpoint;
  readonly workload: Workload;

  constructor(name: string, args: TrackingServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:TrackingServer", name, {}, opts);
    const { stack, artifacts } = args;
    const namespace = args.namespace ?? NAMESPACES.platform;
    const labels = { ...k8sLabels(stack), "app.kubernetes.io/component": "tracking" };
    // Our image installs the drivers of postgresql://, s3:// and gs:// only: refuse, at plan time,
    // a backend or artifact store it could not open (a custom image is the user's to vouch for).
    if (stack.tracking.image === DEFAULT_TRACKING_IMAGE) pulumi.all([args.database.url, artifacts.uri]).apply(driversFor);
    const child = { parent: this };

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      TRACKING.name,
      // Named for the workload: the cloud layer binds the tracking identity to exactly this account.
      {
        metadata: {
          name: workloadServiceAccount("tracking", args.stack).name,
          namespace,
          labels,
          annotations: args.serviceAccountAnnotations,
        },
      },
      child,
    );
    const dbSecret = new k8s.core.v1.Secret(
      `${TRACKING.name}-db`,
      {
        metadata: { name: `${TRACKING.name}-db`, namespace, labels },
        type: "Opaque",
        stringData: { url: pulumi.secret(args.database.url) },
      },
      child,
    );

    const env: NonNullable<ContainerArgs["env"]> = {
      DB_URL: { secret: dbSecret.metadata.name, key: "url" },
      // MLflow and gunicorn write caches and temp files under HOME and /tmp (the root fs is read-only).
      HOME: "/tmp",
    };
    if (artifacts.objectStore) {
      // An in-cluster S3-compatible store (MinIO): its own credentials, from its Secret.
      env.MLFLOW_S3_ENDPOINT_URL = artifacts.objectStore.endpoint;
      env.AWS_ACCESS_KEY_ID = { secret: artifacts.objectStore.credentialsSecret, key: "root-user" };
      env.AWS_SECRET_ACCESS_KEY = { secret: artifacts.objectStore.credentialsSecret, key: "root-password" };
    }
    const { replicas, resources } = trackingSizing(stack);
    this.workload = new Workload(
      TRACKING.name,
      {
        namespace,
        labels,
        replicas,
        serviceAccountName: serviceAccount.metadata.name,
        servicePorts: [{ name: "http", port: TRACKING.port, targetPort: TRACKING.port }],
        containers: [
          {
            name: TRACKING.name,
            image: stack.tracking.image,
            command: ["mlflow"],
            args: mlflowArgs(artifacts.uri),
            env,
            ports: [{ name: "http", containerPort: TRACKING.port }],
            resources,
            probe: { http: "/health", port: TRACKING.port },
            // Database migrations run on first start.
            startupSeconds: 120,
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          },
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
      },
      child,
    );
    this.endpoint = { url: pulumi.output(`http://${TRACKING.name}.${namespace}.svc.cluster.local:${TRACKING.port}`) };
    this.registerOutputs({ url: this.endpoint.url });
  }
}
