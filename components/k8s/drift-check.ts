import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import { formatDuration, type ModelSpec, type StackSpec } from "../../definition";
import { PUSHGATEWAY } from "./monitoring";
import { CATALOG_CHECKSUM_ANNOTATION, CATALOG_MOUNT, type RuntimeConfig } from "./runtime-config";
import { jobContainer, scheduledJobSpec } from "./workload";

/**
 * The drift check's command line. Thresholds, methods per feature and the drift share are not
 * repeated here: the drift service reads them from the model's entry in the mounted catalog
 * (models.json), the same definition Pulumi deployed.
 */
export function driftCheckArgs(
  model: ModelSpec,
  artifactsUri?: pulumi.Input<string>,
  predictionLogsUri?: pulumi.Input<string>,
): pulumi.Input<string>[] {
  const args: pulumi.Input<string>[] = [
    "dist/services/drift/main.js",
    "check",
    "--model",
    model.name,
    "--catalog",
    CATALOG_MOUNT,
    "--window",
    formatDuration(model.drift.window),
    "--json",
  ];
  const reference =
    model.drift.reference ?? (artifactsUri ? pulumi.interpolate`${artifactsUri}/drift/${model.name}/reference.profile.json` : undefined);
  if (reference) args.push("--reference", reference);
  // The serving pods' prediction logs (ArtifactStore.predictionLogsUri) are the current window.
  if (predictionLogsUri) args.push("--current", predictionLogsUri);
  return args;
}

/** A check may run until its next scheduled start would be due, and at most an hour. */
export const DRIFT_DEADLINE_SECONDS = 3600;

export interface DriftCheckArgs {
  stack: StackSpec;
  model: ModelSpec;
  runtime: RuntimeConfig;
  /** Cloud identity of the drift workload (reads prediction logs and reference profiles). */
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /**
   * The artifact store (ArtifactStore.uri): the reference profile defaults to
   * <uri>/drift/<model>/reference.profile.json. Without it the check needs drift.reference in the catalog.
   */
  artifactsUri?: pulumi.Input<string>;
  /** Where serving writes prediction logs (ArtifactStore.predictionLogsUri): the check's current window. */
  predictionLogsUri?: pulumi.Input<string>;
}

/** A CronJob per model on `model.drift.schedule` running the drift service's check. */
export class DriftCheck extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;

  constructor(name: string, args: DriftCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:DriftCheck", name, {}, opts);
    const { model, stack } = args;
    const namespace = NAMESPACES.platform;
    const jobName = `drift-${model.name}`;
    const labels = {
      ...k8sLabels(stack),
      "app.kubernetes.io/name": "drift",
      "app.kubernetes.io/component": "drift-check",
      "mlops.platform/model": model.name,
    };
    const catalog = args.runtime.volumeIn(namespace);
    // The drift identity is bound to one ServiceAccount, shared by every model's check.
    this.serviceAccount = args.runtime.serviceAccountFor("drift", args.serviceAccountAnnotations);
    const env: Record<string, string> = { CATALOG: CATALOG_MOUNT, MODEL: model.name };
    if (model.drift.webhook) env.WEBHOOK = model.drift.webhook;
    // The check's pod exits before any scrape: its metrics go to the Pushgateway.
    if (stack.monitoring.enabled) env.PUSHGATEWAY = PUSHGATEWAY.url;
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cron`,
      {
        metadata: { name: jobName, namespace, labels },
        spec: scheduledJobSpec({
          schedule: model.drift.schedule,
          labels,
          activeDeadlineSeconds: DRIFT_DEADLINE_SECONDS,
          backoffLimit: 1,
          serviceAccountName: this.serviceAccount.metadata.name,
          // It starts the model's training Job through the Kubernetes API.
          kubernetesApi: true,
          podAnnotations: { [CATALOG_CHECKSUM_ANNOTATION]: args.runtime.checksum },
          containers: [
            jobContainer({
              name: "drift",
              image: stack.serving.image,
              command: ["node"],
              args: driftCheckArgs(model, args.artifactsUri, args.predictionLogsUri),
              env,
              resources: { cpu: "500m", memory: "1Gi", memoryLimit: "2Gi" },
              volumeMounts: [catalog.mount, { name: "tmp", mountPath: "/tmp" }],
            }),
          ],
          volumes: [catalog.volume, { name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
        }),
      },
      { parent: this },
    );
    this.registerOutputs({ cronJob: this.cronJob.metadata.name });
  }
}
