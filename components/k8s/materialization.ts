import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import type { Catalog, FeatureView, StackSpec } from "../../definition";
import type { OfflineStoreConnection, OnlineStoreConnection } from "../types";
import { FEATURES_NAME, FEATURES_SECRET, onlineStoreCaVolume, storeEnv } from "./feature-service";
import { CATALOG_CHECKSUM_ANNOTATION, type RuntimeConfig } from "./runtime-config";
import { jobContainer, scheduledJobSpec } from "./workload";

/** A materialization run may take at most this long; the next scheduled run picks up the rest. */
export const MATERIALIZE_DEADLINE_SECONDS = 3600;

/** Kubernetes name of a view's CronJob: Feast names allow '_', DNS-1123 does not; CronJob names stop at 52 characters. */
export function materializeJobName(view: string): string {
  return `materialize-${view.toLowerCase().replace(/_/g, "-")}`.slice(0, 52).replace(/-+$/, "");
}

/** The feature views that get a CronJob: online views with a schedule (offline-only views have nothing to load). */
export function scheduledViews(catalog: Catalog): (FeatureView & { schedule: string })[] {
  return Object.values(catalog.featureViews).flatMap((v) => (v.online && v.schedule !== undefined ? [{ ...v, schedule: v.schedule }] : []));
}

export interface MaterializationArgs {
  stack: StackSpec;
  catalog: Catalog;
  runtime: RuntimeConfig;
  online: OnlineStoreConnection;
  offline: OfflineStoreConnection;
}

/**
 * A CronJob per scheduled feature view running `materialize-incremental` for that view only,
 * so a slow view cannot delay the others and each has its own schedule and failure history.
 * Runs as the features ServiceAccount (its cloud identity reads the offline store).
 */
export class Materialization extends pulumi.ComponentResource {
  /** CronJob per feature view name. */
  readonly cronJobs: Record<string, k8s.batch.v1.CronJob>;

  constructor(name: string, args: MaterializationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Materialization", name, {}, opts);
    const namespace = NAMESPACES.platform;
    const catalog = args.runtime.volumeIn(namespace);
    this.cronJobs = {};
    for (const view of scheduledViews(args.catalog)) {
      const jobName = materializeJobName(view.name);
      const labels = {
        ...k8sLabels(args.stack),
        "app.kubernetes.io/name": "materialize",
        "app.kubernetes.io/component": "materialization",
        "mlops.platform/feature-view": jobName.slice("materialize-".length),
      };
      this.cronJobs[view.name] = new k8s.batch.v1.CronJob(
        `${name}-${jobName}`,
        {
          metadata: { name: jobName, namespace, labels },
          spec: scheduledJobSpec({
            schedule: view.schedule,
            labels,
            activeDeadlineSeconds: MATERIALIZE_DEADLINE_SECONDS,
            serviceAccountName: FEATURES_NAME,
            podAnnotations: { [CATALOG_CHECKSUM_ANNOTATION]: args.runtime.checksum },
            containers: [
              jobContainer({
                name: "materialize",
                image: args.stack.serving.image,
                command: ["node"],
                // <end> is "now" at each run: a CronJob cannot compute a date without a shell.
                args: ["dist/services/features/main.js", "materialize-incremental", "now", "--views", view.name],
                env: storeEnv(args.stack, args.online, args.offline, FEATURES_SECRET),
                resources: { cpu: "500m", memory: "1Gi", memoryLimit: "2Gi" },
                volumeMounts: [catalog.mount, { name: "tmp", mountPath: "/tmp" }, ...onlineStoreCaVolume(args.online).mounts],
              }),
            ],
            volumes: [catalog.volume, { name: "tmp", emptyDir: { sizeLimit: "1Gi" } }, ...onlineStoreCaVolume(args.online).volumes],
          }),
        },
        { parent: this },
      );
    }
    this.registerOutputs({ cronJobs: Object.keys(this.cronJobs) });
  }
}
