import type { ModelSpec, ModelVersion } from "../../definition";
import { retryBudget } from "./routes";

/**
 * The cold-start budget of a model version: how long from pod creation to serving, derived from
 * what the catalog says it loads (image and weight sizes) or given outright (`startup.budget`).
 * The startup probe, the Deployment's progress deadline, Pulumi's await, the HTTP add-on's wait
 * and the route timeout of a scale-to-zero version all come from it, so none of them gives up
 * on a replica that is still pulling an 11 GB image onto a fresh GPU node.
 *
 * Rates (documented in docs/serving.md, "Cold starts"): data-on-eks measured 6 min 33 s from pod
 * creation to serving on a fresh g6e node, 2 min of it pulling an 11.6 GB image (~100 MB/s);
 * object-store downloads run near 200 MB/s per stream; a GPU node from zero (launch, driver,
 * device plugin) takes about 4 minutes.
 */
export const COLD_START_RATES = {
  /** Image pull and extraction, seconds per GiB. */
  pullSecondsPerGb: 10,
  /** Weights download and load onto the device, seconds per GiB. */
  loadSecondsPerGb: 7,
  /** Runtime start-up before it loads weights (CUDA context, server), seconds. */
  runtimeInitSeconds: 30,
  /** A GPU node from zero until it advertises nvidia.com/gpu, seconds. */
  gpuNodeSeconds: 240,
  /** Headroom over the estimate. */
  margin: 1.5,
} as const;

/** Default sizes (GiB) when the catalog gives none: typical images of each runtime. */
const DEFAULT_IMAGE_GB: Record<ModelVersion["runtime"], number> = { openai: 10, triton: 15, "kserve-v2": 2, onnx: 0.3 };

/** Seconds a pod keeps serving after it is told to stop, while the mesh drains it from the endpoints. */
export const DRAIN_SECONDS = 10;
/** Period of the startup probe, seconds. */
export const STARTUP_PERIOD_SECONDS = 10;

export interface ColdStartBudget {
  /** From pod creation to ready, seconds (the whole budget). */
  totalSeconds: number;
  /** What the container itself may take after it starts (the startup probe's share), seconds. */
  containerSeconds: number;
  /** startupProbe failureThreshold at STARTUP_PERIOD_SECONDS. */
  startupFailureThreshold: number;
  /** Deployment spec.progressDeadlineSeconds. */
  progressDeadlineSeconds: number;
  /** Pulumi's await of the Deployment (customTimeouts create/update), e.g. "12m". */
  pulumiTimeout: string;
  /** terminationGracePeriodSeconds: drain, then the longest request the SLO allows. */
  terminationGraceSeconds: number;
  /** The parts, for docs and the plan output. */
  parts: { nodeSeconds: number; pullSeconds: number; loadSeconds: number };
}

/** The budget of one version (pure). */
export function coldStartBudget(model: ModelSpec, version: ModelVersion): ColdStartBudget {
  const r = COLD_START_RATES;
  const imageGb = version.startup.imageSizeGb ?? DEFAULT_IMAGE_GB[version.runtime];
  const weightsGb = version.startup.weightsSizeGb ?? (version.gpu ? 16 : 1);
  const nodeSeconds = version.gpu ? r.gpuNodeSeconds : 0;
  const pullSeconds = Math.ceil(imageGb * r.pullSecondsPerGb);
  const loadSeconds = Math.ceil(r.runtimeInitSeconds + weightsGb * r.loadSecondsPerGb);
  const derived = Math.ceil((nodeSeconds + pullSeconds + loadSeconds) * r.margin);
  const totalSeconds = version.startup.budget ?? derived;
  // The startup probe starts when the container does: after the node and the pull. An explicit
  // budget gives it everything (the parts are unknown then).
  const containerSeconds = version.startup.budget ?? Math.ceil(loadSeconds * r.margin);
  const budget = retryBudget(model.slo);
  return {
    totalSeconds,
    containerSeconds,
    startupFailureThreshold: Math.max(3, Math.ceil(containerSeconds / STARTUP_PERIOD_SECONDS)),
    progressDeadlineSeconds: Math.max(600, totalSeconds),
    pulumiTimeout: `${Math.ceil((Math.max(600, totalSeconds) + 60) / 60)}m`,
    terminationGraceSeconds: DRAIN_SECONDS + Math.ceil(budget.timeoutMs / 1000) + 5,
    parts: { nodeSeconds, pullSeconds, loadSeconds },
  };
}

/** Size of the per-pod weights cache (an ephemeral emptyDir volume): the weights plus 25%, at least 20 GiB. */
export function weightsCacheSize(version: ModelVersion): string {
  const weightsGb = version.startup.weightsSizeGb ?? (version.gpu ? 16 : 1);
  return `${Math.max(20, Math.ceil(weightsGb * 1.25))}Gi`;
}
