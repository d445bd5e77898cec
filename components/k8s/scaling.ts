import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import {
  type ModelSpec,
  type ModelVersion,
  type Runtime,
  SCALE_TO_ZERO_ANNOTATION,
  SERVING_SIGNALS,
  type StackSpec,
  TRITON_METRICS,
  VLLM_METRICS,
} from "../../definition";
import { NAMESPACES } from "../names";
import type { CrdObject } from "./crd-schema";
import { MODEL_LABEL, SERVING_PORT, VERSION_LABEL } from "./routes";

/**
 * How each model version scales, as data: KEDA ScaledObjects on the runtime's own queue signal
 * (never CPU for a GPU runtime, where the CPU says nothing about load), and for versions that
 * scale to zero the KEDA HTTP add-on, whose interceptor holds requests while the first replica
 * starts. Defaults and their sources are in docs/serving.md ("Autoscaling").
 */

/** Where KEDA runs and how its HTTP add-on is reached. */
export const KEDA = {
  namespace: NAMESPACES.keda,
  chartRepo: "https://kedacore.github.io/charts",
  release: "keda",
  httpRelease: "keda-add-ons-http",
  /** The interceptor proxy the mesh routes scale-to-zero versions through. */
  interceptor: { service: "keda-add-ons-http-interceptor-proxy", port: 8080, serviceAccount: "keda-add-ons-http-interceptor" },
  /** The add-on's external scaler, which a ScaledObject reads pending HTTP requests from. */
  externalScaler: { service: "keda-add-ons-http-external-scaler", port: 9090 },
} as const;

/** Prometheus as kube-prometheus-stack names it (fullnameOverride "kps"); plain HTTP inside the cluster. */
export const PROMETHEUS_URL = `http://kps-prometheus.${NAMESPACES.monitoring}.svc.cluster.local:9090`;

/**
 * Default targets per replica, by runtime, with their sources:
 * - vLLM: 10 requests waiting (Google's accelerated-platforms reference for vLLM on GKE scales on
 *   vllm:num_requests_waiting with a target average of 10);
 * - Triton: queue time / compute time of 1 (NVIDIA's Triton autoscaling tutorial scales on this
 *   ratio: above 1 requests wait longer than they compute);
 * - the serving image (onnx, kserve-v2): 8 requests in flight per replica (ours: onnxruntime on
 *   the default 500m CPU answers a 5-feature row in well under a millisecond, so 8 concurrent
 *   requests keep p99 far inside a 50 ms SLO; see bench/serving).
 */
export const SCALING_DEFAULTS = { vllmWaiting: 10, tritonQueueComputeRatio: 1, inFlight: 8 } as const;

/** How often KEDA polls Prometheus, seconds: queues move fast, and a poll is one cheap query. */
export const POLLING_SECONDS = 15;

/** The PromQL label selector of one version's series. */
export function versionSelector(model: Pick<ModelSpec, "name">, version: Pick<ModelVersion, "name">, namespace: string): string {
  return `{namespace="${namespace}",model="${model.name}",version="${version.name}"}`;
}

/** A KEDA Prometheus trigger. */
export interface PrometheusTrigger {
  type: "prometheus";
  name: string;
  metricType: "AverageValue" | "Value";
  metadata: { serverAddress: string; query: string; threshold: string; activationThreshold?: string };
}

/** A trigger from the KEDA HTTP add-on's external scaler (pending requests held by its interceptor). */
export interface HttpTrigger {
  type: "external-push";
  name: string;
  metadata: { scalerAddress: string; httpScaledObject: string };
}

export type Trigger = PrometheusTrigger | HttpTrigger;

function prometheus(name: string, query: string, threshold: number, metricType: PrometheusTrigger["metricType"]): PrometheusTrigger {
  return { type: "prometheus", name, metricType, metadata: { serverAddress: PROMETHEUS_URL, query, threshold: String(threshold) } };
}

/**
 * The triggers of one version on its runtime's own signal. AverageValue targets are per replica
 * (the query returns the total, the HPA divides by the replicas); Value targets compare the
 * query's result itself (a ratio does not grow with replicas).
 */
export function runtimeTriggers(model: ModelSpec, version: ModelVersion, namespace: string): PrometheusTrigger[] {
  const sel = versionSelector(model, version, namespace);
  const a = model.autoscaling;
  const runtime: Runtime = version.runtime;
  if (runtime === "openai") {
    const triggers = [
      prometheus(
        "vllm-waiting",
        `sum(${VLLM_METRICS.requestsWaiting.name}${sel})`,
        a.queueDepth ?? SCALING_DEFAULTS.vllmWaiting,
        "AverageValue",
      ),
    ];
    if (a.kvCacheUsage !== undefined)
      triggers.push(prometheus("vllm-kv-cache", `max(${VLLM_METRICS.kvCacheUsage.name}${sel})`, a.kvCacheUsage, "Value"));
    return triggers;
  }
  if (runtime === "triton") {
    const queue = `sum(rate(${TRITON_METRICS.queueDuration.name}${sel}[1m]))`;
    // clamp_min: an idle server computes nothing, and 0/0 would be NaN (no scaling decision).
    const compute = `clamp_min(sum(rate(${TRITON_METRICS.computeDuration.name}${sel}[1m])), 1)`;
    return [
      prometheus("triton-queue-compute", `${queue} / ${compute}`, a.queueComputeRatio ?? SCALING_DEFAULTS.tritonQueueComputeRatio, "Value"),
    ];
  }
  return [prometheus("in-flight", `sum(${SERVING_SIGNALS.inFlight}${sel})`, a.queueDepth ?? SCALING_DEFAULTS.inFlight, "AverageValue")];
}

/** Replica bounds of a version: the catalog's, never fewer than 2 in prod unless it scales to zero. */
export function versionReplicas(model: ModelSpec, stack: StackSpec): { min: number; max: number } {
  const asked = model.autoscaling.minReplicas;
  const min = asked === 0 ? 0 : Math.max(asked, stack.environment === "prod" ? 2 : 1);
  return { min, max: Math.max(min, 1, model.autoscaling.maxReplicas) };
}

/** True when a version scales to zero (the checks in definition/autoscaling-checks.ts allowed it). */
export function scalesToZero(model: ModelSpec, stack: StackSpec): boolean {
  return versionReplicas(model, stack).min === 0;
}

/** The in-cluster host the HTTP add-on's interceptor routes a scale-to-zero version by. */
export function versionHost(model: Pick<ModelSpec, "name">, version: Pick<ModelVersion, "name">, namespace: string): string {
  return `${model.name}-${version.name}.${namespace}.svc.cluster.local`;
}

export type ScaledObjectSpec = NonNullable<IScaledObject["spec"]>;

/**
 * The ScaledObject of one version. KEDA creates and owns the HPA (keda-hpa-<name>), so
 * `pulumi up` never resets a scaled-out version: the Deployment ignores spec.replicas. A version
 * that scales to zero also reads the HTTP add-on's pending requests, which wake it from zero.
 */
export function scaledObject(
  stack: StackSpec,
  model: ModelSpec,
  version: ModelVersion,
  deploymentName: string,
): CrdObject<ScaledObjectSpec> {
  const namespace = stack.serving.namespace;
  const replicas = versionReplicas(model, stack);
  const triggers: Trigger[] = [...runtimeTriggers(model, version, namespace)];
  if (replicas.min === 0)
    triggers.push({
      type: "external-push",
      name: "http-pending",
      metadata: {
        scalerAddress: `${KEDA.externalScaler.service}.${KEDA.namespace}.svc.cluster.local:${KEDA.externalScaler.port}`,
        httpScaledObject: deploymentName,
      },
    });
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: {
      name: deploymentName,
      namespace,
      labels: { [MODEL_LABEL]: model.name, [VERSION_LABEL]: version.name },
      // The reliability policy reads this: the catalog asked for scale to zero, and the checks allowed it.
      ...(replicas.min === 0 ? { annotations: { [SCALE_TO_ZERO_ANNOTATION]: "true" } } : {}),
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
      minReplicaCount: replicas.min,
      maxReplicaCount: replicas.max,
      pollingInterval: POLLING_SECONDS,
      cooldownPeriod: model.autoscaling.cooldown,
      advanced: {
        horizontalPodAutoscalerConfig: {
          name: `keda-hpa-${deploymentName}`,
          // Up at once under load; down slowly, so a lull does not drop warm (GPU) replicas.
          behavior: { scaleDown: { stabilizationWindowSeconds: model.autoscaling.cooldown } },
        },
      },
      triggers: triggers.map((t) => ({ ...t, metadata: { ...t.metadata } })) as ScaledObjectSpec["triggers"],
    },
  };
}

/** The HTTP add-on's object for a scale-to-zero version; KEDA's ScaledObject above does the scaling. */
export interface HttpScaledObject {
  apiVersion: "http.keda.sh/v1alpha1";
  kind: "HTTPScaledObject";
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    hosts: string[];
    scaleTargetRef: { name: string; kind: "Deployment"; apiVersion: "apps/v1"; service: string; port: number };
    replicas: { min: number; max: number };
    scaledownPeriod: number;
    scalingMetric: { concurrency: { targetValue: number } };
    timeouts: { conditionWait: string };
  };
}

/**
 * The HTTP add-on's object of a scale-to-zero version. Its interceptor holds each request until a
 * replica is ready, for up to the version's whole cold-start budget (`coldStartSeconds`, from
 * cold-start.ts): a GPU version waking from zero may need a node, an image pull and its weights.
 */
export function httpScaledObject(
  stack: StackSpec,
  model: ModelSpec,
  version: ModelVersion,
  deploymentName: string,
  coldStartSeconds: number,
): HttpScaledObject {
  const namespace = stack.serving.namespace;
  const replicas = versionReplicas(model, stack);
  return {
    apiVersion: "http.keda.sh/v1alpha1",
    kind: "HTTPScaledObject",
    metadata: {
      name: deploymentName,
      namespace,
      labels: { [MODEL_LABEL]: model.name, [VERSION_LABEL]: version.name },
      // Our ScaledObject (runtime signal + this add-on's pending requests) scales the Deployment.
      annotations: { "httpscaledobject.keda.sh/skip-scaledobject-creation": "true" },
    },
    spec: {
      hosts: [versionHost(model, version, namespace)],
      scaleTargetRef: { name: deploymentName, kind: "Deployment", apiVersion: "apps/v1", service: deploymentName, port: SERVING_PORT },
      replicas: { min: 0, max: replicas.max },
      scaledownPeriod: model.autoscaling.cooldown,
      scalingMetric: { concurrency: { targetValue: Math.ceil(model.autoscaling.queueDepth ?? SCALING_DEFAULTS.inFlight) } },
      timeouts: { conditionWait: `${coldStartSeconds}s` },
    },
  };
}

/** The HPA of a version where KEDA is off (CPU only; the checks refuse GPU versions there). */
export function cpuHpaSpec(model: ModelSpec, stack: StackSpec, deploymentName: string) {
  const replicas = versionReplicas(model, stack);
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: Math.max(1, replicas.min),
    maxReplicas: replicas.max,
    metrics: [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: model.autoscaling.targetCpuUtilization } },
      },
    ],
    // Scale up at once under load, down slowly so a brief lull does not drop warm replicas.
    behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
  };
}
