import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels } from "../names";
import {
  ACCELERATOR_LABEL,
  type Catalog,
  GPU_RESOURCE,
  GPU_SHARING_LABEL,
  GPU_TAINT,
  gpuSharingMode,
  type ModelSpec,
  type ModelVersion,
  poolsFor,
  type Runtime,
  type StackSpec,
} from "../../definition";
import { coldStartBudget, DRAIN_SECONDS, weightsCacheSize } from "./cold-start";
import { validatedCustomResource } from "./crd-schema";
import { HTTPScaledObject } from "./keda-http-schema";
import {
  destinationRuleSpec,
  GRPC_PORT,
  MODEL_LABEL,
  retryBudget,
  type ScaleFromZero,
  SERVING_PORT,
  validatedIstio,
  VERSION_LABEL,
  virtualServiceSpec,
} from "./routes";
import { CATALOG_CHECKSUM_ANNOTATION, CATALOG_MOUNT, type RuntimeConfig } from "./runtime-config";
import { cpuHpaSpec, httpScaledObject, KEDA, scaledObject, versionHost, versionReplicas } from "./scaling";
import { type ContainerArgs, hpaOwnsReplicas, spread, Workload } from "./workload";

export { DRAIN_SECONDS } from "./cold-start";
export { versionReplicas } from "./scaling";

/** Port an external runtime listens on inside the pod (Triton's and vLLM's HTTP default). */
export const RUNTIME_PORT = 8000;
/** Triton's V2 gRPC port inside the pod (its default): the serving service proxies gRPC there. */
export const RUNTIME_GRPC_PORT = 8001;
/** Triton's metrics port (its default); vLLM serves /metrics on RUNTIME_PORT. */
export const TRITON_METRICS_PORT = 8002;
/** Name of the container port a runtime's own Prometheus metrics are on; the model Service exposes it. */
export const RUNTIME_METRICS_PORT_NAME = "runtime-metrics";
/** The model Service's port for runtime metrics (scraped through the mesh by the `runtimes` ServiceMonitor). */
export const RUNTIME_METRICS_SERVICE_PORT = { name: "http-runtime-metrics", port: 9400 } as const;
/** Karpenter leaves a node alone while a pod carrying this annotation runs on it (starting or serving). */
export const KARPENTER_DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt";

/** Readiness and liveness paths per runtime; without a separate liveness path, liveness is a TCP connect (livenessFor). */
const RUNTIME_HEALTH: Record<Exclude<Runtime, "onnx">, { ready: string; live?: string }> = {
  triton: { ready: "/v2/health/ready", live: "/v2/health/live" },
  "kserve-v2": { ready: "/v2/health/ready", live: "/v2/health/live" },
  openai: { ready: "/health" },
};

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
      "--allow-metrics=true",
      `--metrics-port=${TRITON_METRICS_PORT}`,
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
    ports: runtimePorts(version.runtime),
    resources: { ...version.resources, gpus: version.gpu?.count, gpuResource: gpuResourceOf(version, stack) },
    probe: { http: health.ready, port: RUNTIME_PORT },
    liveness: health.live ? { http: health.live, port: RUNTIME_PORT } : undefined,
    // From the cold-start budget: large models take minutes to download and load onto the GPU.
    startupSeconds: coldStartBudget(model, version).containerSeconds,
    preStopSleepSeconds: DRAIN_SECONDS,
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "cache", mountPath: "/cache" },
      { name: "dshm", mountPath: "/dev/shm" },
    ],
  };
  return [serving, runtime];
}

/** Runtimes that export Prometheus metrics of their own (the rest are measured by the serving container in front). */
export function hasRuntimeMetrics(runtime: Runtime): boolean {
  return runtime === "openai" || runtime === "triton";
}

/** Container ports of an external runtime: its API, and where its own metrics are (vLLM: the API port). */
function runtimePorts(runtime: Runtime): { name: string; containerPort: number }[] {
  if (runtime === "openai") return [{ name: RUNTIME_METRICS_PORT_NAME, containerPort: RUNTIME_PORT }];
  if (runtime === "triton")
    return [
      { name: "runtime", containerPort: RUNTIME_PORT },
      { name: RUNTIME_METRICS_PORT_NAME, containerPort: TRITON_METRICS_PORT },
    ];
  return [{ name: "runtime", containerPort: RUNTIME_PORT }];
}

/**
 * The extended resource a version's GPUs are counted in: a MIG slice on a `mixed` MIG pool
 * (nvidia.com/mig-<profile>); otherwise nvidia.com/gpu (whole GPUs, time-sliced replicas, or
 * the one profile of a `single` MIG pool, which the device plugin advertises as nvidia.com/gpu).
 */
export function gpuResourceOf(version: ModelVersion, stack: StackSpec): string {
  const gpu = version.gpu;
  if (!gpu?.mig) return GPU_RESOURCE;
  const pool = poolsFor(gpu, stack.nodePools)[0];
  return pool?.gpuSharing?.strategy === "mig" && pool.gpuSharing.mode === "single" ? GPU_RESOURCE : `nvidia.com/mig-${gpu.mig}`;
}

/** Toleration of the GPU taint, and affinity to the pools that can give the version its GPU share. */
export function versionGpuPlacement(version: ModelVersion, stack: StackSpec) {
  const gpu = version.gpu;
  if (!gpu) return undefined;
  const modes = [...new Set(poolsFor(gpu, stack.nodePools).map((p) => gpuSharingMode(p.gpuSharing)))].sort();
  return {
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: ACCELERATOR_LABEL, operator: "In", values: [gpu.accelerator] },
                ...(modes.length ? [{ key: GPU_SHARING_LABEL, operator: "In", values: modes }] : []),
              ],
            },
          ],
        },
      },
    },
  };
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
  /** Per version: its Workload and what scales it (a KEDA ScaledObject, or a CPU HPA where KEDA is off). */
  readonly versions: Record<
    string,
    {
      workload: Workload;
      scaledObject?: k8s.apiextensions.CustomResource;
      hpa?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
      /** Scale-to-zero versions: the Service the HTTP add-on's interceptor forwards to, and its HTTPScaledObject. */
      versionService?: k8s.core.v1.Service;
      httpScaledObject?: k8s.apiextensions.CustomResource;
    }
  >;
  readonly virtualService: k8s.apiextensions.CustomResource;
  readonly destinationRule: k8s.apiextensions.CustomResource;
  /** In-cluster gRPC target of the model (V2 GRPCInferenceService), e.g. fraud-scorer.models.svc.cluster.local:8081 */
  readonly grpcTarget: pulumi.Output<string>;
  /** In-cluster URL of the model, e.g. http://fraud-scorer.models.svc.cluster.local:8080 */
  readonly url: pulumi.Output<string>;

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
    this.versions = {};
    for (const version of model.versions) {
      const deploymentName = versionName(model, version);
      const selector = { "app.kubernetes.io/name": deploymentName, [VERSION_LABEL]: version.name };
      const spreadOut = spread(selector);
      const gpu = versionGpuPlacement(version, stack);
      const coldStart = coldStartBudget(model, version);
      const volumes: k8s.types.input.core.v1.Volume[] = [catalog.volume, { name: "tmp", emptyDir: { sizeLimit: "256Mi" } }];
      if (version.runtime !== "onnx") {
        volumes.push(
          // Weights are streamed from the model URI into this per-pod ephemeral volume (see docs/serving.md).
          { name: "cache", emptyDir: { sizeLimit: weightsCacheSize(version) } },
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
            // A GPU node is not consolidated away while a replica starts (pulling a large image) or serves.
            ...(version.gpu ? { [KARPENTER_DO_NOT_DISRUPT]: "true" } : {}),
          },
          // Drain, then let in-flight requests finish within the request timeout.
          terminationGracePeriodSeconds: coldStart.terminationGraceSeconds,
          progressDeadlineSeconds: coldStart.progressDeadlineSeconds,
          awaitTimeout: coldStart.pulumiTimeout,
          pod: {
            ...(gpu ? { tolerations: gpu.tolerations } : {}),
            affinity: { ...spreadOut.affinity, ...(gpu?.affinity ?? {}) },
          },
        },
        { parent: this, transformations: [hpaOwnsReplicas] },
      );
      const versionLabels = { ...labels, [VERSION_LABEL]: version.name };
      const entry: ModelServing["versions"][string] = { workload };
      if (stack.autoscaling.keda) {
        const object = scaledObject(stack, model, version, deploymentName);
        entry.scaledObject = validatedCustomResource(
          `${deploymentName}-scaler`,
          { ...object, metadata: { ...object.metadata, labels: { ...versionLabels, ...object.metadata.labels } } },
          { parent: this, dependsOn: [workload] },
        );
        if (replicas.min === 0) {
          // The HTTP add-on's interceptor reaches the version through its own Service while the model's
          // Service has no endpoints for it (0 replicas).
          entry.versionService = new k8s.core.v1.Service(
            `${deploymentName}-svc`,
            {
              metadata: { name: deploymentName, namespace, labels: versionLabels },
              spec: {
                selector,
                ports: [{ name: "http", port: SERVING_PORT, targetPort: SERVING_PORT, protocol: "TCP", appProtocol: "http" }],
              },
            },
            parent,
          );
          const http = httpScaledObject(stack, model, version, deploymentName, coldStart.totalSeconds);
          new HTTPScaledObject(http).validate();
          entry.httpScaledObject = new k8s.apiextensions.CustomResource(
            `${deploymentName}-http`,
            {
              apiVersion: http.apiVersion,
              kind: http.kind,
              metadata: { ...http.metadata, labels: { ...versionLabels, ...http.metadata.labels } },
              spec: http.spec,
            },
            { parent: this, dependsOn: [entry.versionService] },
          );
        }
      } else {
        entry.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
          `${deploymentName}-hpa`,
          { metadata: { name: deploymentName, namespace, labels: versionLabels }, spec: cpuHpaSpec(model, stack, deploymentName) },
          parent,
        );
      }
      this.versions[version.name] = entry;
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
            // The runtimes' own metrics (vLLM, Triton), scraped by the `runtimes` ServiceMonitor.
            ...(model.versions.some((v) => hasRuntimeMetrics(v.runtime))
              ? [{ ...RUNTIME_METRICS_SERVICE_PORT, targetPort: RUNTIME_METRICS_PORT_NAME, protocol: "TCP", appProtocol: "http" }]
              : []),
          ],
        },
      },
      parent,
    );
    const meta = { namespace, labels };
    const destinationRule = validatedIstio("DestinationRule", { ...meta, name: model.name }, destinationRuleSpec(model, namespace));
    const fromZero: ScaleFromZero | undefined =
      stack.autoscaling.keda && replicas.min === 0
        ? {
            interceptorHost: `${KEDA.interceptor.service}.${KEDA.namespace}.svc.cluster.local`,
            interceptorPort: KEDA.interceptor.port,
            versionHost: (v) => versionHost(model, { name: v }, namespace),
            coldStartMs: 1000 * Math.max(...model.versions.map((v) => coldStartBudget(model, v).totalSeconds)),
          }
        : undefined;
    const virtualService = validatedIstio("VirtualService", { ...meta, name: model.name }, virtualServiceSpec(model, namespace, fromZero));
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
