import { posix } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { k8sLabels, NAMESPACES, WORKLOADS } from "../names";
import type { Catalog, StackSpec } from "../../definition";
import type { CloudFoundation } from "../types";
import { container, type ContainerArgs, jobContainer, podSecurityContext } from "./workload";

/** Pinned images of the in-cluster stores (official images; UIDs are the images' own users). */
export const LOCAL_IMAGES = {
  redis: { image: "redis:7.4.1-alpine", uid: 999 },
  postgres: { image: "postgres:16.4-alpine", uid: 70 },
  minio: { image: "quay.io/minio/minio:RELEASE.2024-10-13T13-34-11Z", uid: 10001 },
  mc: { image: "quay.io/minio/mc:RELEASE.2024-10-08T09-37-26Z", uid: 10001 },
} as const;

/** In-cluster DNS names and ports of the local stores. */
export const LOCAL_STORES = {
  redis: { host: `redis.${NAMESPACES.platform}.svc.cluster.local`, port: 6379 },
  postgres: { host: `postgres.${NAMESPACES.platform}.svc.cluster.local`, port: 5432 },
  minio: { host: `minio.${NAMESPACES.platform}.svc.cluster.local`, port: 9000 },
} as const;

/** The bucket MLflow stores artifacts in, and the PVC holding the DuckDB offline store file. */
export const ARTIFACT_BUCKET = "mlflow";
export const OFFLINE_STORE_PVC = "offline-store";
/** Secret of the in-cluster object store; keys `root-user` and `root-password`. */
export const OBJECT_STORE_SECRET = "minio-credentials";

/** Volume sizes: small, because a local cluster runs on a laptop. */
const STORAGE = { redis: "2Gi", postgres: "5Gi", minio: "10Gi", offline: "10Gi" } as const;

interface StatefulStoreArgs {
  stack: StackSpec;
  /** The container; its data volume is mounted at `dataPath`. */
  container: ContainerArgs;
  uid: number;
  dataPath: string;
  storage: string;
  port: { name: string; port: number };
  /** Extra writable scratch directories (emptyDir), since the root filesystem is read-only. */
  scratch?: string[];
  extraVolumes?: k8s.types.input.core.v1.Volume[];
}

/**
 * A single-replica StatefulSet with a PVC and a headless Service named after it: the shape of
 * every in-cluster store. The container comes from the shared builder (probes, resources,
 * non-root, read-only root, drop ALL).
 */
function statefulStore(
  name: string,
  a: StatefulStoreArgs,
  opts: pulumi.CustomResourceOptions,
): { set: k8s.apps.v1.StatefulSet; service: k8s.core.v1.Service } {
  const selector = { "app.kubernetes.io/name": name };
  const labels = { ...k8sLabels(a.stack), ...selector, "app.kubernetes.io/component": "store" };
  const metadata = { name, namespace: NAMESPACES.platform, labels };
  const scratch = (a.scratch ?? []).map((path, i) => ({ name: `scratch-${i}`, path }));
  const service = new k8s.core.v1.Service(
    name,
    // Headless: the StatefulSet's governing Service (serviceName), which gives the pod its stable
    // DNS name; with one replica the Service name resolves to that pod as a ClusterIP would.
    { metadata, spec: { clusterIP: "None", selector, ports: [{ ...a.port, targetPort: a.port.port, protocol: "TCP" }] } },
    opts,
  );
  const set = new k8s.apps.v1.StatefulSet(
    name,
    {
      metadata,
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(a.uid),
            containers: [
              container({
                ...a.container,
                runAsUser: a.uid,
                volumeMounts: [
                  { name: "data", mountPath: a.dataPath },
                  ...scratch.map((s) => ({ name: s.name, mountPath: s.path })),
                  ...(a.container.volumeMounts ?? []),
                ],
              }),
            ],
            volumes: [...scratch.map((s) => ({ name: s.name, emptyDir: { sizeLimit: "256Mi" } })), ...(a.extraVolumes ?? [])],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: "data", labels }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: a.storage } } } },
        ],
      },
    },
    opts,
  );
  return { set, service };
}

/** A generated password (letters and digits only, so it needs no escaping in URLs) kept as a secret. */
function password(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  return pulumi.secret(
    new random.RandomPassword(name, { length: 32, special: false }, { parent, additionalSecretOutputs: ["result"] }).result,
  );
}

function secret(
  name: string,
  stack: StackSpec,
  data: Record<string, pulumi.Input<string>>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    name,
    { metadata: { name, namespace: NAMESPACES.platform, labels: k8sLabels(stack) }, type: "Opaque", stringData: data },
    opts,
  );
}

export interface LocalStoresArgs {
  stack: StackSpec;
  catalog: Catalog;
}

/**
 * The stores of a `local` stack, in the cluster: Redis (online), DuckDB on a volume or PostgreSQL
 * (offline), MinIO (artifacts) and PostgreSQL (tracking). It hands the Kubernetes layer the same
 * connection shape a cloud layer does. Give it the cluster's provider in `opts`.
 */
export class LocalStores extends pulumi.ComponentResource {
  readonly connections: Omit<CloudFoundation, "cluster" | "nodes">;

  constructor(name: string, args: LocalStoresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:local:LocalStores", name, {}, opts);
    const { stack } = args;
    const child: pulumi.CustomResourceOptions = { parent: this, protect: stack.protect };

    // Online store: Redis with AUTH and append-only persistence.
    const redisPassword = password(`${name}-redis`, this);
    const redisSecret = secret("redis-auth", stack, { password: redisPassword }, child);
    statefulStore(
      "redis",
      {
        stack,
        uid: LOCAL_IMAGES.redis.uid,
        dataPath: "/data",
        storage: STORAGE.redis,
        port: { name: "tcp-redis", port: LOCAL_STORES.redis.port },
        container: {
          name: "redis",
          image: LOCAL_IMAGES.redis.image,
          args: ["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"],
          env: { REDIS_PASSWORD: { secret: redisSecret.metadata.name, key: "password" } },
          ports: [{ name: "tcp-redis", containerPort: LOCAL_STORES.redis.port }],
          resources: { cpu: "100m", memory: "256Mi", memoryLimit: "512Mi" },
          probe: { exec: ["sh", "-c", 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG'] },
          liveness: { tcp: LOCAL_STORES.redis.port },
        },
      },
      child,
    );

    // PostgreSQL: the tracking database, and the offline store when the stack asks for it.
    const offline = stack.offlineStore;
    const postgresOffline = offline.kind === "postgres" ? offline.database : undefined;
    const trackingPassword = password(`${name}-postgres`, this);
    const offlinePassword = postgresOffline ? password(`${name}-offline`, this) : undefined;
    const pgSecret = secret(
      "postgres-auth",
      stack,
      { password: trackingPassword, ...(offlinePassword ? { "offline-password": offlinePassword } : {}) },
      child,
    );
    const init = postgresOffline
      ? new k8s.core.v1.ConfigMap(
          "postgres-init",
          {
            metadata: { name: "postgres-init", namespace: NAMESPACES.platform, labels: k8sLabels(stack) },
            // Sourced by the image's entrypoint on first start only (an empty data directory).
            data: {
              "10-offline-store.sh": [
                "set -eu",
                'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<EOSQL',
                `CREATE ROLE ${postgresOffline} LOGIN PASSWORD '\${OFFLINE_PASSWORD}';`,
                `CREATE DATABASE ${postgresOffline} OWNER ${postgresOffline};`,
                "EOSQL",
                "",
              ].join("\n"),
            },
          },
          child,
        )
      : undefined;
    statefulStore(
      "postgres",
      {
        stack,
        uid: LOCAL_IMAGES.postgres.uid,
        dataPath: "/var/lib/postgresql/data",
        storage: STORAGE.postgres,
        port: { name: "tcp-postgres", port: LOCAL_STORES.postgres.port },
        scratch: ["/var/run/postgresql", "/tmp"],
        container: {
          name: "postgres",
          image: LOCAL_IMAGES.postgres.image,
          env: {
            POSTGRES_USER: "mlflow",
            POSTGRES_DB: "mlflow",
            // A subdirectory: the volume's root holds lost+found, which initdb refuses.
            PGDATA: "/var/lib/postgresql/data/pgdata",
            POSTGRES_PASSWORD: { secret: pgSecret.metadata.name, key: "password" },
            ...(offlinePassword ? { OFFLINE_PASSWORD: { secret: pgSecret.metadata.name, key: "offline-password" } } : {}),
          },
          ports: [{ name: "tcp-postgres", containerPort: LOCAL_STORES.postgres.port }],
          resources: { cpu: "250m", memory: "512Mi", memoryLimit: "1Gi" },
          probe: { exec: ["pg_isready", "-U", "mlflow", "-d", "mlflow", "-h", "127.0.0.1"] },
          startupSeconds: 60,
          volumeMounts: init ? [{ name: "init", mountPath: "/docker-entrypoint-initdb.d", readOnly: true }] : [],
        },
        extraVolumes: init ? [{ name: "init", configMap: { name: init.metadata.name } }] : [],
      },
      child,
    );

    // Artifacts: MinIO (S3 API), plus a Job that creates the bucket MLflow writes to.
    const minioUser = new random.RandomString(`${name}-minio-user`, { length: 12, special: false, upper: false }, { parent: this }).result;
    const minioPassword = password(`${name}-minio`, this);
    const minioSecret = secret(OBJECT_STORE_SECRET, stack, { "root-user": minioUser, "root-password": minioPassword }, child);
    const minioEnv = {
      MINIO_ROOT_USER: { secret: minioSecret.metadata.name, key: "root-user" },
      MINIO_ROOT_PASSWORD: { secret: minioSecret.metadata.name, key: "root-password" },
    };
    const minio = statefulStore(
      "minio",
      {
        stack,
        uid: LOCAL_IMAGES.minio.uid,
        dataPath: "/data",
        storage: STORAGE.minio,
        port: { name: "http-s3", port: LOCAL_STORES.minio.port },
        scratch: ["/tmp"],
        container: {
          name: "minio",
          image: LOCAL_IMAGES.minio.image,
          args: ["server", "/data", "--address", `:${LOCAL_STORES.minio.port}`],
          env: { ...minioEnv, HOME: "/tmp" },
          ports: [{ name: "http-s3", containerPort: LOCAL_STORES.minio.port }],
          resources: { cpu: "100m", memory: "256Mi", memoryLimit: "1Gi" },
          probe: { http: "/minio/health/ready", port: LOCAL_STORES.minio.port },
          liveness: { http: "/minio/health/live", port: LOCAL_STORES.minio.port },
        },
      },
      child,
    );
    bucketJob(stack, minioEnv, { parent: this, dependsOn: [minio.set, minio.service] });

    // Offline store: a DuckDB file on its own volume, unless PostgreSQL was chosen.
    if (offline.kind === "duckdb") {
      new k8s.core.v1.PersistentVolumeClaim(
        OFFLINE_STORE_PVC,
        {
          metadata: { name: OFFLINE_STORE_PVC, namespace: NAMESPACES.platform, labels: k8sLabels(stack) },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: STORAGE.offline } } },
        },
        child,
      );
    }

    const none = pulumi.output<Record<string, string>>({});
    const pg = LOCAL_STORES.postgres;
    this.connections = {
      identities: Object.fromEntries(WORKLOADS.map((w) => [w, none])) as CloudFoundation["identities"],
      online: {
        kind: "redis",
        url: pulumi.output(`redis://${LOCAL_STORES.redis.host}:${LOCAL_STORES.redis.port}`),
        password: redisPassword,
        serviceAccountAnnotations: none,
      },
      offline:
        offline.kind === "postgres"
          ? {
              kind: "postgres",
              url: pulumi.output(`postgres://${offline.database}@${pg.host}:${pg.port}/${offline.database}`),
              password: offlinePassword,
              serviceAccountAnnotations: none,
            }
          : {
              kind: "duckdb",
              url: pulumi.output(`duckdb:${offline.kind === "duckdb" ? offline.path : "/data/offline.duckdb"}`),
              serviceAccountAnnotations: none,
              // The features server and the materialization Jobs mount the claim where the file is.
              volume: {
                claimName: OFFLINE_STORE_PVC,
                mountPath: posix.dirname(offline.kind === "duckdb" ? offline.path : "/data/offline.duckdb"),
              },
            },
      artifacts: {
        uri: pulumi.output(`s3://${ARTIFACT_BUCKET}/artifacts`),
        predictionLogsUri: pulumi.output(`s3://${ARTIFACT_BUCKET}/predictions`),
        serviceAccountAnnotations: none,
        objectStore: { endpoint: `http://${LOCAL_STORES.minio.host}:${LOCAL_STORES.minio.port}`, credentialsSecret: OBJECT_STORE_SECRET },
      },
      trackingDatabase: { url: pulumi.secret(pulumi.interpolate`postgresql://mlflow:${trackingPassword}@${pg.host}:${pg.port}/mlflow`) },
    };
    this.registerOutputs({
      onlineUrl: this.connections.online.url,
      offlineUrl: this.connections.offline.url,
      artifactsUri: this.connections.artifacts.uri,
    });
  }
}

/** Creates the artifact bucket once MinIO is up (`mc mb --ignore-existing`, so re-runs are safe). */
function bucketJob(stack: StackSpec, env: ContainerArgs["env"], opts: pulumi.CustomResourceOptions): k8s.batch.v1.Job {
  const mc = jobContainer({
    name: "create-bucket",
    image: LOCAL_IMAGES.mc.image,
    command: ["sh", "-c"],
    args: [
      `mc alias set local http://${LOCAL_STORES.minio.host}:${LOCAL_STORES.minio.port} "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" && mc mb --ignore-existing local/${ARTIFACT_BUCKET}`,
    ],
    env: { ...env, MC_CONFIG_DIR: "/tmp/.mc" },
    resources: { cpu: "50m", memory: "64Mi", memoryLimit: "128Mi" },
    runAsUser: LOCAL_IMAGES.mc.uid,
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  });
  const labels = { ...k8sLabels(stack), "app.kubernetes.io/name": "create-bucket" };
  return new k8s.batch.v1.Job(
    "minio-create-bucket",
    {
      metadata: { name: "minio-create-bucket", namespace: NAMESPACES.platform, labels },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(LOCAL_IMAGES.mc.uid),
            containers: [mc],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
          },
        },
      },
    },
    opts,
  );
}
