import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels } from "../names";
import type { Catalog, ModelSpec, ModelVersion, Runtime, StackSpec } from "../../definition";
import {
  destinationRuleSpec,
  GRPC_PORT,
  MODEL_LABEL,
  retryBudget,
  SERVING_PORT,
  validatedIstio,
  VERSION_LABEL,
  virtualServiceSpec,
} from "./routes";
import { CATALOG_CHECKSUM_ANNOTATION, CATALOG_MOUNT, type RuntimeConfig } from "./runtime-config";
import { type ContainerArgs, gpuPlacement, hpaOwnsReplicas, spread, Workload } from "./workload";

/** Port an external runtime listens on inside the pod (Triton's and vLLM's HTTP default). */
export const RUNTIME_PORT = 8000;
/** Triton's V2 gRPC port inside the pod (its default): the serving service proxies gRPC there. */
export const RUNTIME_GRPC_PORT = 8001;
/** Seconds a pod keeps serving after it is told to stop, while the mesh drains it from the endpoints. */
export const DRAIN_SECONDS = 10;

/** Readiness and liveness paths per runtime; without a separate liveness path, liveness is a TCP connect (livenessFor). */
const RUNTIME_HEALTH: Record<Exclude<Runtime, "onnx">, { ready: string; live?: string }> = {
  triton: { ready: "/v2/health/ready", live: "/v2/health/live" },
  "kserve-v2": { ready: "/v2/health/ready", live: "/v2/health/live" },
  openai: { ready: "/health" },
};

/** Replicas of a version: the catalog's minimum, and never fewer than 2 in prod (one can be drained). */
export function versionReplicas(model: ModelSpec, stack: StackSpec): { min: number; max: number } {
  const min = Math.max(model.autoscaling.minReplicas, stack.environment === "prod" ? 2 : 1);
  return { min, max: Math.max(min, model.autoscaling.maxReplicas) };
}

/** Kubernetes name of a version's Deployment, HPA and PDB. */
export function versionName(model: Pick<ModelSpec, "name">, version: Pick<ModelVersion, "name">): string {
  return `${model.name}-${version.name}`;
}

/** The runtime's command line: where it finds the model, its port, and the catalog's extra args. */
export function runtimeArgs(version: ModelVersion): string[] {
  if (version.runtime === "triton")
    return [
      "tritonserver",
      `--model-repository=${version.modelUri}`,
      `--http-port=${RUNTIME_PORT}`,
      `--grpc-port=${RUNTIME_GRPC_PORT}`,
      ...version.args,
    ];
  if (version.runtime === "openai") return ["--model", version.modelUri, "--port", String(RUNTIME_PORT), ...version.args];
  return version.args;
}

/**
 * The containers of one version's pod. CPU (onnx) versions run the model inside the serving
 * service. External runtimes run their own image beside it, and the serving service proxies
 * to it over localhost, so features, metrics, version headers and prediction logging are the
 * same whatever runs the model.
 */
export function versionContainers(a: {
  stack: StackSpec;
  model: ModelSpec;
  version: ModelVersion;
  predictionLogsUri?: pulumi.Input<string>;
  trackingUrl?: pulumi.Input<string>;
  featuresUrl: pulumi.Input<string>;
}): ContainerArgs[] {
  const { stack, model, version } = a;
  const external = version.runtime !== "onnx";
  const serveArgs = ["dist/services/serving/main.js", "serve", "--model", `${model.name}=${version.modelUri}`, "--version", version.name];
  // External runtimes: the serving service proxies to the runtime container over localhost.
  if (external) serveArgs.push("--runtime", version.runtime, "--upstream", `http://127.0.0.1:${RUNTIME_PORT}`);
  // Triton speaks V2 gRPC too: gRPC clients are proxied over gRPC, binary tensors and all.
  if (version.runtime === "triton") serveArgs.push("--upstream-grpc", `127.0.0.1:${RUNTIME_GRPC_PORT}`);
  const serving: ContainerArgs = {
    name: "serving",
    image: stack.serving.image,
    command: ["node"],
    args: serveArgs,
    env: {
      PORT: String(SERVING_PORT),
      GRPC_PORT: String(GRPC_PORT),
      FEATURES: a.featuresUrl,
      CATALOG: CATALOG_MOUNT,
      FEATURE_STORE_PROJECT: stack.featureStore.project,
      LOG_SAMPLE_RATE: String(model.logging.sampleRate),
      // The service answers 504 before the mesh's per-try timeout, so Envoy sees a clean failure to retry.
      REQUEST_TIMEOUT_MS: String(Math.max(1, retryBudget(model.slo).perTryTimeoutMs - 5)),
      ...(a.predictionLogsUri ? { LOG_DIR: a.predictionLogsUri } : {}),
      // models:/<name>/<version> URIs are resolved through the MLflow registry.
      ...(a.trackingUrl ? { MLFLOW_TRACKING_URI: a.trackingUrl } : {}),
    },
    ports: [
      { name: "http", containerPort: SERVING_PORT },
      { name: "grpc", containerPort: GRPC_PORT },
    ],
    resources: external ? { cpu: "250m", memory: "256Mi", memoryLimit: "512Mi" } : { ...version.resources },
    probe: { http: "/v2/health/ready", port: SERVING_PORT },
    // Liveness asks the gRPC server (grpc.health.v1): a process whose gRPC listener died is restarted, as is one whose HTTP loop hangs.
    liveness: { grpc: GRPC_PORT },
    startupSeconds: external ? undefined : 60,
    preStopSleepSeconds: DRAIN_SECONDS,
    volumeMounts: [
      { name: "catalog", mountPath: CATALOG_MOUNT, readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
  if (!external) return [serving];
  const health = RUNTIME_HEALTH[version.runtime as Exclude<Runtime, "onnx">];
  const runtime: ContainerArgs = {
    name: version.runtime,
    image: version.image as string,
    args: runtimeArgs(version),
    env: { MODEL_URI: version.modelUri, HOME: "/tmp", HF_HOME: "/cache/huggingface", XDG_CACHE_HOME: "/cache" },
    ports: [{ name: "runtime", containerPort: RUNTIME_PORT }],
    resources: { ...version.resources, gpus: version.gpu?.count },
    probe: { http: health.ready, port: RUNTIME_PORT },
    liveness: health.live ? { http: health.live, port: RUNTIME_PORT } : undefined,
    // Large models take minutes to download and load onto the GPU.
    startupSeconds: version.gpu ? 900 : 300,
    preStopSleepSeconds: DRAIN_SECONDS,
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "cache", mountPath: "/cache" },
      { name: "dshm", mountPath: "/dev/shm" },
    ],
  };
  return [serving, runtime];
}

export interface ModelServingArgs {
  stack: StackSpec;
  catalog: Catalog;
  /** The model from the catalog. */
  model: ModelSpec;
  /** The rendered catalog; mounted at /etc/mlops/catalog in every pod. */
  runtime: RuntimeConfig;
  /** The features service the serving pods fetch features from. */
  featuresUrl: pulumi.Output<string>;
  /** Cloud identity for reading model artifacts and writing prediction logs; put on the shared `serving` ServiceAccount. */
  serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /** Where sampled predictions are logged for the drift checks (ArtifactStore.predictionLogsUri). Defaults to no logging. */
  predictionLogsUri?: pulumi.Input<string>;
  /** The tracking server (TrackingServer.endpoint.url), which resolves models:/ URIs; versions with such a URI need it. */
  trackingUrl?: pulumi.Input<string>;
}

/**
 * One model on the mesh: a Deployment, HPA and PDB per version, one Service in front of all
 * of them, and the Istio DestinationRule (a subset per version) and VirtualService (header
 * override, weighted canary, shadow mirror, retries and timeouts) that split traffic.
 */
export class ModelServing extends pulumi.ComponentResource {
  readonly service: k8s.core.v1.Service;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly versions: Record<string, { workload: Workload; hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler }>;
  readonly virtualService: k8s.apiextensions.CustomResource;
  readonly destinationRule: k8s.apiextensions.CustomResource;
  /** In-cluster URL of the model, e.g. http://fraud-scorer.models.svc.cluster.local:8080 */
  readonly url: pulumi.Output<string>;
  /** In-cluster gRPC target of the model (V2 GRPCInferenceService), e.g. fraud-scorer.models.svc.cluster.local:8081 */
  readonly grpcTarget: pulumi.Output<string>;

  constructor(name: string, args: ModelServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:ModelServing", name, {}, opts);
    const { stack, model } = args;
    const namespace = stack.serving.namespace;
    const labels = { ...k8sLabels(stack), "app.kubernetes.io/component": "model-serving", app: model.name, [MODEL_LABEL]: model.name };
    const parent = { parent: this };

    // The serving identity is bound to one ServiceAccount per namespace, shared by every model.
    this.serviceAccount = args.runtime.serviceAccountFor("serving", args.serviceAccountAnnotations);
    const catalog = args.runtime.volumeIn(namespace);
    const replicas = versionReplicas(model, stack);
    const budget = retryBudget(model.slo);
    this.versions = {};
    for (const version of model.versions) {
      const deploymentName = versionName(model, version);
      const selector = { "app.kubernetes.io/name": deploymentName, [VERSION_LABEL]: version.name };
      const spreadOut = spread(selector);
      const gpu = version.gpu ? gpuPlacement(version.gpu.accelerator) : undefined;
      const volumes: k8s.types.input.core.v1.Volume[] = [catalog.volume, { name: "tmp", emptyDir: { sizeLimit: "256Mi" } }];
      if (version.runtime !== "onnx") {
        volumes.push(
          { name: "cache", emptyDir: { sizeLimit: version.gpu ? "100Gi" : "20Gi" } },
          { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } },
        );
      }
      const workload = new Workload(
        deploymentName,
        {
          namespace,
          labels: { ...labels, [VERSION_LABEL]: version.name },
          extraSelector: { [VERSION_LABEL]: version.name },
          replicas: replicas.min,
          autoscaled: true,
          pdb: true,
          // One replica may go during a drain when there is only one; otherwise keep all but one.
          pdbMaxUnavailable: 1,
          serviceAccountName: this.serviceAccount.metadata.name,
          containers: versionContainers({
            stack,
            model,
            version,
            featuresUrl: args.featuresUrl,
            predictionLogsUri: args.predictionLogsUri,
            trackingUrl: args.trackingUrl,
          }),
          volumes,
          podAnnotations: {
            [CATALOG_CHECKSUM_ANNOTATION]: args.runtime.checksum,
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(SERVING_PORT),
            "prometheus.io/path": "/metrics",
          },
          // Drain, then let in-flight requests finish within the request timeout.
          terminationGracePeriodSeconds: DRAIN_SECONDS + Math.ceil(budget.timeoutMs / 1000) + 5,
          pod: {
            ...(gpu ? { tolerations: gpu.tolerations } : {}),
            affinity: { ...spreadOut.affinity, ...(gpu?.affinity ?? {}) },
          },
        },
        { parent: this, transformations: [hpaOwnsReplicas] },
      );
      const hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        `${deploymentName}-hpa`,
        {
          metadata: { name: deploymentName, namespace, labels: { ...labels, [VERSION_LABEL]: version.name } },
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.deployment.metadata.name },
            minReplicas: replicas.min,
            maxReplicas: replicas.max,
            metrics: [
              {
                type: "Resource",
                resource: { name: "cpu", target: { type: "Utilization", averageUtilization: model.autoscaling.targetCpuUtilization } },
              },
            ],
            // Scale up at once under load, down slowly so a brief lull does not drop warm replicas.
            behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
          },
        },
        parent,
      );
      this.versions[version.name] = { workload, hpa };
    }

    this.service = new k8s.core.v1.Service(
      `${name}-svc`,
      {
        metadata: { name: model.name, namespace, labels },
        spec: {
          selector: { [MODEL_LABEL]: model.name },
          // Istio picks the protocol from the port name: "grpc" makes Envoy route it as HTTP/2.
          ports: [
            { name: "http", port: SERVING_PORT, targetPort: SERVING_PORT, protocol: "TCP", appProtocol: "http" },
            { name: "grpc", port: GRPC_PORT, targetPort: GRPC_PORT, protocol: "TCP", appProtocol: "grpc" },
          ],
        },
      },
      parent,
    );
    const meta = { namespace, labels };
    const destinationRule = validatedIstio("DestinationRule", { ...meta, name: model.name }, destinationRuleSpec(model, namespace));
    const virtualService = validatedIstio("VirtualService", { ...meta, name: model.name }, virtualServiceSpec(model, namespace));
    this.destinationRule = new k8s.apiextensions.CustomResource(
      `${name}-dr`,
      {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { ...meta, name: model.name },
        spec: pulumi.output(destinationRule).apply((o) => o.spec),
      },
      parent,
    );
    this.virtualService = new k8s.apiextensions.CustomResource(
      `${name}-vs`,
      {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { ...meta, name: model.name },
        spec: pulumi.output(virtualService).apply((o) => o.spec),
      },
      // Subsets must exist before a route names them, or Envoy answers 503 NR in between.
      { parent: this, dependsOn: [this.destinationRule] },
    );
    this.url = pulumi.interpolate`http://${this.service.metadata.name}.${namespace}.svc.cluster.local:${SERVING_PORT}`;
    this.grpcTarget = pulumi.interpolate`${this.service.metadata.name}.${namespace}.svc.cluster.local:${GRPC_PORT}`;
    this.registerOutputs({ url: this.url, grpcTarget: this.grpcTarget, versions: Object.keys(this.versions) });
  }
}
