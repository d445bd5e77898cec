import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import type { Catalog, StackSpec } from "../../definition";
import type { OfflineStoreConnection, OnlineStoreConnection } from "../types";
import { CATALOG_CHECKSUM_ANNOTATION, CATALOG_MOUNT, type RuntimeConfig } from "./runtime-config";
import { hpaOwnsReplicas, Workload } from "./workload";

/** The features service's port: Feast's feature server default, so Feast clients work unchanged. */
export const FEATURES_PORT = 6566;
/** Name of the features Service, Deployment and ServiceAccount (the cloud layer binds its identity to it). */
export const FEATURES_NAME = "features";
/** Secret holding the store passwords; materialization jobs read it too. */
export const FEATURES_SECRET = "features-stores";

/** Where materialization records each view's last end; the root filesystem is read-only, /tmp is an emptyDir. */
export const MATERIALIZATION_STATE = "/tmp/materialization-state.json";

type EnvValue = pulumi.Input<string> | { secret: pulumi.Input<string>; key: string };

/** Where a private CA of the online store is mounted in features pods (Memorystore signs with its own CA). */
export const ONLINE_STORE_CA = { configMap: "online-store-ca", dir: "/etc/mlops/online-store-ca", file: "ca.crt" } as const;

/** The online store URL the features service opens: with `tlsCa` pointing at the mounted CA when the store has one. */
export function onlineStoreUrl(online: OnlineStoreConnection, url: pulumi.Input<string> = online.url): pulumi.Output<string> {
  return pulumi.output(url).apply((u) => {
    if (!online.caCertificate) return u;
    const parsed = new URL(u);
    parsed.searchParams.set("tlsCa", `${ONLINE_STORE_CA.dir}/${ONLINE_STORE_CA.file}`);
    return parsed.href;
  });
}

/** The CA volume and its mount, for pods that open the online store; none when the store needs no private CA. */
export function onlineStoreCaVolume(online: OnlineStoreConnection): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  if (!online.caCertificate) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: "online-store-ca", configMap: { name: ONLINE_STORE_CA.configMap } }],
    mounts: [{ name: "online-store-ca", mountPath: ONLINE_STORE_CA.dir, readOnly: true }],
  };
}

/** The offline store's volume and its mount (local DuckDB file), for pods that open the offline store; none for warehouses. */
export function offlineStoreVolume(offline: OfflineStoreConnection): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  if (!offline.volume) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: "offline-store", persistentVolumeClaim: { claimName: offline.volume.claimName } }],
    mounts: [{ name: "offline-store", mountPath: offline.volume.mountPath }],
  };
}

/**
 * The store environment every features process gets (serve and materialize). The features
 * service reads credentials from the store URL itself (`redis://:password@host:port`), so a
 * store with a password gets its whole URL from the Secret; one without gets it as a value.
 */
export function storeEnv(
  stack: StackSpec,
  online: OnlineStoreConnection,
  offline: OfflineStoreConnection,
  secretName: pulumi.Input<string>,
): Record<string, EnvValue> {
  return {
    ONLINE_STORE: online.password ? { secret: secretName, key: "online-store-url" } : onlineStoreUrl(online),
    OFFLINE_STORE: offline.password ? { secret: secretName, key: "offline-store-url" } : offline.url,
    CATALOG: CATALOG_MOUNT,
    FEATURE_STORE_PROJECT: stack.featureStore.project,
    MATERIALIZATION_STATE,
  };
}

/** A store URL with the password put in its userinfo (percent-encoded), unless it already carries one. */
export function urlWithPassword(url: string, password: string): string {
  const parsed = new URL(url);
  if (parsed.password || !parsed.host) return url;
  parsed.password = password;
  return parsed.href;
}

/** The Secret's data: the URLs of the stores that have a password, built from the connections, never a literal. */
export function storeSecretData(online: OnlineStoreConnection, offline: OfflineStoreConnection): Record<string, pulumi.Output<string>> {
  const data: Record<string, pulumi.Output<string>> = {};
  if (online.password)
    data["online-store-url"] = pulumi.secret(
      onlineStoreUrl(
        online,
        pulumi.all([online.url, online.password]).apply(([url, pw]) => urlWithPassword(url, pw)),
      ),
    );
  if (offline.password)
    data["offline-store-url"] = pulumi.secret(pulumi.all([offline.url, offline.password]).apply(([url, pw]) => urlWithPassword(url, pw)));
  return data;
}

export interface FeatureServiceArgs {
  stack: StackSpec;
  catalog: Catalog;
  /** The rendered catalog; mounted at /etc/mlops/catalog. */
  runtime: RuntimeConfig;
  online: OnlineStoreConnection;
  offline: OfflineStoreConnection;
  /** Cloud identity of the features workload (IRSA / Workload Identity); empty for local. */
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
}

/**
 * The features service (Feast-compatible online serving and push) in the platform namespace:
 * 2 replicas with a PDB and an HPA in prod, one in dev; store passwords from a Secret.
 */
export class FeatureService extends pulumi.ComponentResource {
  /** In-cluster URL, http://features.mlops.svc.cluster.local:6566 */
  readonly url: pulumi.Output<string>;
  readonly workload: Workload;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly secret: k8s.core.v1.Secret;
  readonly hpa?: k8s.autoscaling.v2.HorizontalPodAutoscaler;

  constructor(name: string, args: FeatureServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:FeatureService", name, {}, opts);
    const { stack } = args;
    const namespace = NAMESPACES.platform;
    const prod = stack.environment === "prod";
    const labels = { ...k8sLabels(stack), "app.kubernetes.io/component": "features" };
    const metadata = { namespace, labels };

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { ...metadata, name: FEATURES_NAME, annotations: args.serviceAccountAnnotations }, automountServiceAccountToken: false },
      { parent: this },
    );
    this.secret = new k8s.core.v1.Secret(
      `${name}-stores`,
      {
        metadata: { ...metadata, name: FEATURES_SECRET },
        type: "Opaque",
        stringData: pulumi.secret(storeSecretData(args.online, args.offline)),
      },
      { parent: this },
    );
    const catalog = args.runtime.volumeIn(namespace);
    const ca = onlineStoreCaVolume(args.online);
    if (args.online.caCertificate) {
      new k8s.core.v1.ConfigMap(
        `${name}-online-ca`,
        { metadata: { ...metadata, name: ONLINE_STORE_CA.configMap }, data: { [ONLINE_STORE_CA.file]: args.online.caCertificate } },
        { parent: this },
      );
    }
    const replicas = prod ? 2 : 1;
    this.workload = new Workload(
      FEATURES_NAME,
      {
        namespace,
        labels,
        replicas,
        autoscaled: prod,
        pdb: prod,
        serviceAccountName: this.serviceAccount.metadata.name,
        podAnnotations: { [CATALOG_CHECKSUM_ANNOTATION]: args.runtime.checksum },
        containers: [
          {
            name: "features",
            image: stack.serving.image,
            command: ["node"],
            args: ["dist/services/features/main.js", "serve"],
            env: { ...storeEnv(stack, args.online, args.offline, this.secret.metadata.name), PORT: String(FEATURES_PORT) },
            ports: [{ name: "http", containerPort: FEATURES_PORT }],
            resources: prod ? { cpu: "500m", memory: "512Mi", memoryLimit: "1Gi" } : { cpu: "250m", memory: "256Mi", memoryLimit: "512Mi" },
            probe: { http: "/readyz", port: FEATURES_PORT },
            liveness: { http: "/healthz", port: FEATURES_PORT },
            preStopSleepSeconds: 5,
            volumeMounts: [catalog.mount, { name: "tmp", mountPath: "/tmp" }, ...ca.mounts, ...offlineStoreVolume(args.offline).mounts],
          },
        ],
        volumes: [
          catalog.volume,
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          ...ca.volumes,
          ...offlineStoreVolume(args.offline).volumes,
        ],
        servicePorts: [{ name: "http", port: FEATURES_PORT, targetPort: FEATURES_PORT }],
      },
      // In prod the HPA below owns the replica count.
      { parent: this, transformations: prod ? [hpaOwnsReplicas] : [] },
    );
    if (prod) {
      this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${name}-hpa`,
        {
          metadata: { ...metadata, name: FEATURES_NAME },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.workload.deployment.metadata.name },
            minReplicas: replicas,
            maxReplicas: 6,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
          },
        },
        { parent: this },
      );
    }
    this.url = pulumi.interpolate`http://${this.workload.service?.metadata.name ?? FEATURES_NAME}.${namespace}.svc.cluster.local:${FEATURES_PORT}`;
    this.registerOutputs({ url: this.url });
  }
}
