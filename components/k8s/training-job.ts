import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, workloadServiceAccount } from "../names";
import type { ModelSpec, StackSpec } from "../../definition";
import type { RuntimeConfig } from "./runtime-config";
import type { TrainingTemplate } from "./training-admission";
import { gpuPlacement, jobContainer, scheduledJobSpec } from "./workload";

/** Schedule of an unscheduled (suspended) training CronJob: never reached, it only keeps the template. */
export const ON_DEMAND_SCHEDULE = "0 0 31 2 *";

export interface TrainingJobArgs {
  stack: StackSpec;
  /** A catalog model with a `training:` section. */
  model: ModelSpec;
  /** Creates the shared `training` ServiceAccount once (the cloud identity is per workload). */
  runtime: Pick<RuntimeConfig, "serviceAccountFor">;
  /** In-cluster MLflow URL (MLFLOW_TRACKING_URI). */
  trackingUrl: pulumi.Input<string>;
  /** The features service URL; the job asks it for its training set. */
  featuresUrl: pulumi.Input<string>;
  /** Cloud identity of training pods (IRSA / Workload Identity): artifacts bucket and offline store. */
  serviceAccountAnnotations: pulumi.Input<Record<string, string>>;
}

/** Environment a training container gets: where to log runs and where its training set comes from. */
export function trainingEnv(
  model: ModelSpec,
  trackingUrl: pulumi.Input<string>,
  featuresUrl: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
  return {
    MLFLOW_TRACKING_URI: trackingUrl,
    MLFLOW_EXPERIMENT_NAME: model.name,
    MLFLOW_REGISTERED_MODEL_NAME: model.name,
    FEATURES_URL: featuresUrl,
    FEATURE_SERVICE: model.featureService,
    MODEL_NAME: model.name,
    // Libraries that cache to $HOME need a writable one: the root filesystem is read-only.
    HOME: "/tmp",
  };
}

/**
 * Retraining for one model: a CronJob on `training.schedule`, or a suspended one that serves as the
 * template for on-demand runs (the drift service's retraining webhook creates a Job from it, as
 * `kubectl create job --from=cronjob/<name>` does). GPU training gets the GPU toleration, node
 * affinity to its accelerator and nvidia.com/gpu limits, like serving. A Role lets the drift
 * workload's ServiceAccount read this CronJob and create Jobs in the models namespace, nothing more.
 */
export class TrainingJob extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** What a Job made from this CronJob looks like to the admission policy (training-admission.ts). */
  readonly template: pulumi.Output<TrainingTemplate>;

  constructor(name: string, args: TrainingJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:TrainingJob", name, {}, opts);
    const { model, stack } = args;
    const training = model.training;
    if (!training) throw new Error(`model "${model.name}" has no training: section (${model.origin.file})`);
    const namespace = stack.serving.namespace;
    const jobName = `train-${model.name}`;
    const labels = {
      ...k8sLabels(stack),
      "app.kubernetes.io/name": "training",
      "app.kubernetes.io/component": "training",
      "mlops.platform/model": model.name,
    };
    this.serviceAccount = args.runtime.serviceAccountFor("training", args.serviceAccountAnnotations);
    const spec = scheduledJobSpec({
      schedule: training.schedule ?? ON_DEMAND_SCHEDULE,
      labels,
      activeDeadlineSeconds: training.activeDeadline,
      backoffLimit: training.backoffLimit,
      serviceAccountName: this.serviceAccount.metadata.name,
      containers: [
        jobContainer({
          name: "train",
          image: training.image,
          command: training.command.length ? training.command : undefined,
          env: trainingEnv(model, args.trackingUrl, args.featuresUrl),
          resources: { ...training.resources, gpus: training.gpu?.count },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        }),
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "20Gi" } }],
    });
    const podSpec = spec.jobTemplate as unknown as { spec: { template: { spec: Record<string, unknown> } } };
    if (training.gpu) Object.assign(podSpec.spec.template.spec, gpuPlacement(training.gpu.accelerator));
    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cron`,
      { metadata: { name: jobName, namespace, labels }, spec: { ...spec, suspend: training.schedule === undefined } },
      { parent: this },
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-trigger`,
      {
        metadata: { name: `${jobName}-trigger`, namespace, labels },
        rules: [
          { apiGroups: ["batch"], resources: ["cronjobs"], resourceNames: [jobName], verbs: ["get"] },
          { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] },
        ],
      },
      { parent: this },
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-trigger`,
      {
        metadata: { name: `${jobName}-trigger`, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", ...workloadServiceAccount("drift", stack) }],
      },
      { parent: this },
    );
    this.template = pulumi
      .output(this.serviceAccount.metadata.name)
      .apply((serviceAccountName) => ({ cronJobName: jobName, image: training.image, serviceAccountName }));
    this.registerOutputs({ cronJob: this.cronJob.metadata.name, serviceAccount: this.serviceAccount.metadata.name });
  }
}

/**
 * The Job the retraining webhook creates from a training CronJob (what `kubectl create job
 * --from=cronjob/<name>` does): the CronJob's job template, named for the trigger, owned by the
 * CronJob so it is cleaned up with it. POST it to /apis/batch/v1/namespaces/<ns>/jobs.
 */
export function jobFromCronJob(
  cronJob: {
    metadata: { name: string; namespace: string; uid?: string };
    spec: { jobTemplate: { metadata?: Record<string, unknown>; spec: unknown } };
  },
  reason: string,
  now = new Date(),
): Record<string, unknown> {
  const stamp = now
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 14);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: `${cronJob.metadata.name}-${stamp}`.slice(0, 63),
      namespace: cronJob.metadata.namespace,
      annotations: { "cronjob.kubernetes.io/instantiate": "manual", "mlops.platform/trigger": reason },
      ...(cronJob.metadata.uid
        ? {
            ownerReferences: [
              { apiVersion: "batch/v1", kind: "CronJob", name: cronJob.metadata.name, uid: cronJob.metadata.uid, controller: false },
            ],
          }
        : {}),
    },
    spec: cronJob.spec.jobTemplate.spec,
  };
}
