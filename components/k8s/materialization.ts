import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import {
  type Catalog,
  type FeatureView,
  MATERIALIZE_EXIT_CODES,
  materializationParallelism,
  materializationShards,
  type StackSpec,
} from "../../definition";
import type { ArtifactStore, OfflineStoreConnection, OnlineStoreConnection } from "../types";
import { FEATURES_NAME, FEATURES_SECRET, offlineStoreVolume, onlineStoreCaVolume, storeEnv } from "./feature-service";
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

/** Retries of one shard's pod before that shard counts as failed (the others carry on). */
export const SHARD_RETRIES = 2;

/** What a view's materialization Job runs: shards, retries, failure rules and the command (pure, tested directly). */
export interface MaterializationPlan {
  shards: number;
  parallelism: number;
  /** Why the plan differs from the catalog on this stack (printed by the plan). */
  notes: string[];
  args: string[];
  /** Env beyond the stores': the shard's index and the run id from the downward API, the shared state. */
  env: Record<string, string | { fieldPath: string }>;
  indexed: { completions: number; parallelism: number; backoffLimitPerIndex: number };
  podFailurePolicy: k8s.types.input.batch.v1.PodFailurePolicy;
}

/**
 * The plan of one view: `shards` Indexed pods (`featureViews[].materialization`, default by
 * expected rows), each running `materialize-incremental now --shard <index>/<shards>` with the
 * Job's uid as the run id, so all pods of one run agree on one window and one export. A usage or
 * definition error (exit 2 or 3) fails the Job at once; an evicted or preempted pod does not count
 * against its shard's retries. The state is kept in the online store (Redis or DynamoDB), which every pod reaches.
 */
export function materializationPlan(
  view: FeatureView & { origin?: { file: string } },
  stores: { online: OnlineStoreConnection["kind"]; offline: OfflineStoreConnection["kind"] },
): MaterializationPlan {
  const declared = materializationShards(view.materialization);
  const where = `${view.origin?.file ?? "catalog"}: featureViews[${view.name}].materialization`;
  // Shards share a run through the online store (Redis keys or DynamoDB's state table) and read an
  // export in a bucket; a stack whose export stays on a pod's disk runs the view in one pod (the
  // catalog is shared by every stack).
  const shareable = stores.offline === "bigquery" || stores.offline === "redshift";
  const shards = shareable ? declared : 1;
  const notes =
    declared > 1 && !shareable
      ? [
          `${where}: ${declared} shards run as 1 on this stack: shards read one export in a bucket, which needs BigQuery or Redshift as the offline store; here it is ${stores.offline}`,
        ]
      : [];
  const parallelism = Math.min(shards, materializationParallelism(view.materialization));
  return {
    shards,
    parallelism,
    notes,
    args: [
      "dist/services/features/main.js",
      "materialize-incremental",
      // <end> is "now" at each run: a CronJob cannot compute a date without a shell; the first pod's now is the run's end.
      "now",
      "--views",
      view.name,
      // One shard streams straight from the warehouse (no export to stage); several read their part of one export.
      // Kubernetes expands $(VAR) in args from the container's env.
      ...(shards > 1 ? ["--shard", `$(SHARD_INDEX)/${shards}`] : []),
    ],
    env: {
      SHARD_INDEX: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
      MATERIALIZATION_RUN_ID: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" },
      // Redis keys or the DynamoDB state table: every pod of every run reads the same view ends and run state.
      MATERIALIZATION_STATE: "online",
    },
    indexed: { completions: shards, parallelism, backoffLimitPerIndex: SHARD_RETRIES },
    podFailurePolicy: {
      rules: [
        {
          action: "FailJob",
          onExitCodes: {
            containerName: "materialize",
            operator: "In",
            values: [MATERIALIZE_EXIT_CODES.usage, MATERIALIZE_EXIT_CODES.definition],
          },
        },
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      ],
    },
  };
}

/** Where sharded runs export: the artifact bucket's `materialization/` prefix, or the pod's disk for local stores. */
export function exportRoot(offline: OfflineStoreConnection["kind"], artifactsUri: string | undefined): string {
  const bucket = artifactsUri ? /^((?:s3|gs):\/\/[^/]+)/.exec(artifactsUri)?.[1] : undefined;
  if ((offline === "bigquery" && bucket?.startsWith("gs://")) || (offline === "redshift" && bucket?.startsWith("s3://")))
    return `${bucket}/materialization`;
  return "/tmp/exports";
}

export interface MaterializationArgs {
  stack: StackSpec;
  catalog: Catalog;
  runtime: RuntimeConfig;
  online: OnlineStoreConnection;
  offline: OfflineStoreConnection;
  /** The artifact bucket; sharded runs export under its `materialization/` prefix. Defaults to the pod's disk. */
  artifacts?: ArtifactStore;
}

/**
 * A CronJob per scheduled feature view running `materialize-incremental` for that view only,
 * so a slow view cannot delay the others and each has its own schedule and failure history; its
 * Job runs the view's shards as Indexed pods (materializationPlan).
 * Runs as the features ServiceAccount (its cloud identity reads the offline store).
 */
export class Materialization extends pulumi.ComponentResource {
  /** CronJob per feature view name. */
  readonly cronJobs: Record<string, k8s.batch.v1.CronJob>;

  constructor(name: string, args: MaterializationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Materialization", name, {}, opts);
    const namespace = NAMESPACES.platform;
    const catalog = args.runtime.volumeIn(namespace);
    const exportUri = args.artifacts
      ? args.artifacts.uri.apply((uri) => exportRoot(args.offline.kind, uri))
      : exportRoot(args.offline.kind, undefined);
    this.cronJobs = {};
    for (const view of scheduledViews(args.catalog)) {
      const jobName = materializeJobName(view.name);
      const plan = materializationPlan(view, { online: args.online.kind, offline: args.offline.kind });
      for (const note of plan.notes) pulumi.log.warn(note, this);
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
            indexed: plan.indexed,
            podFailurePolicy: plan.podFailurePolicy,
            containers: [
              jobContainer({
                name: "materialize",
                image: args.stack.serving.image,
                command: ["node"],
                args: plan.args,
                env: {
                  ...storeEnv(args.stack, args.online, args.offline, FEATURES_SECRET),
                  ...plan.env,
                  MATERIALIZATION_EXPORT_URI: exportUri,
                },
                resources: { cpu: "500m", memory: "1Gi", memoryLimit: "2Gi" },
                volumeMounts: [
                  catalog.mount,
                  { name: "tmp", mountPath: "/tmp" },
                  ...onlineStoreCaVolume(args.online).mounts,
                  // The local stack's DuckDB file (duckdb:/data/offline.duckdb) lives on the offline store's claim.
                  ...offlineStoreVolume(args.offline).mounts,
                ],
              }),
            ],
            // A writer holds one downloaded export file at a time (at most 256 MB from Redshift, 1 GB from BigQuery).
            volumes: [
              catalog.volume,
              { name: "tmp", emptyDir: { sizeLimit: "2Gi" } },
              ...onlineStoreCaVolume(args.online).volumes,
              ...offlineStoreVolume(args.offline).volumes,
            ],
          }),
        },
        { parent: this },
      );
    }
    this.registerOutputs({ cronJobs: Object.keys(this.cronJobs) });
  }
}
