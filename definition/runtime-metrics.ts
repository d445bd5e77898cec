import { METRICS } from "./metrics";

/**
 * Metrics the external model runtimes export themselves, by runtime, with where each name is
 * documented. Autoscaling triggers, recording rules, dashboards and alerts read these names and
 * nothing else, so a rule cannot query a series the runtime never emits. Each runtime's names are
 * turned into the platform's own (RECORDED below) by recording rules, so canary analysis and
 * dashboards read one set of names whatever serves the model.
 */
export interface RuntimeMetric {
  /** The series name as the runtime exports it. */
  name: string;
  type: "counter" | "gauge" | "histogram";
  unit: string;
  /** Where the name is documented. */
  source: string;
}

const VLLM_DOC = "vLLM docs, Production metrics (docs/usage/metrics.md; vllm/engine/metrics.py)";
const TRITON_DOC = "Triton Inference Server docs, user_guide/metrics.md";

/** vLLM's OpenAI-compatible server (runtime `openai`), on its API port at /metrics. */
export const VLLM_METRICS = {
  requestsWaiting: { name: "vllm:num_requests_waiting", type: "gauge", unit: "requests", source: VLLM_DOC },
  requestsRunning: { name: "vllm:num_requests_running", type: "gauge", unit: "requests", source: VLLM_DOC },
  /** KV-cache usage, 0..1 (vLLM < 0.10 names it vllm:gpu_cache_usage_perc). */
  kvCacheUsage: { name: "vllm:gpu_cache_usage_perc", type: "gauge", unit: "ratio 0..1", source: VLLM_DOC },
  timeToFirstToken: { name: "vllm:time_to_first_token_seconds", type: "histogram", unit: "seconds", source: VLLM_DOC },
  e2eLatency: { name: "vllm:e2e_request_latency_seconds", type: "histogram", unit: "seconds", source: VLLM_DOC },
  generationTokens: { name: "vllm:generation_tokens_total", type: "counter", unit: "tokens", source: VLLM_DOC },
  requestSuccess: { name: "vllm:request_success_total", type: "counter", unit: "requests", source: VLLM_DOC },
} as const satisfies Record<string, RuntimeMetric>;

/** Triton Inference Server (runtime `triton`), on its metrics port (8002) at /metrics. */
export const TRITON_METRICS = {
  requestSuccess: { name: "nv_inference_request_success", type: "counter", unit: "requests", source: TRITON_DOC },
  requestFailure: { name: "nv_inference_request_failure", type: "counter", unit: "requests", source: TRITON_DOC },
  /** Cumulative time requests waited in the scheduler queue. */
  queueDuration: { name: "nv_inference_queue_duration_us", type: "counter", unit: "microseconds", source: TRITON_DOC },
  /** Cumulative time spent computing (the denominator of the queue/compute ratio). */
  computeDuration: { name: "nv_inference_compute_infer_duration_us", type: "counter", unit: "microseconds", source: TRITON_DOC },
  requestDuration: { name: "nv_inference_request_duration_us", type: "counter", unit: "microseconds", source: TRITON_DOC },
  pendingRequests: { name: "nv_inference_pending_request_count", type: "gauge", unit: "requests", source: TRITON_DOC },
} as const satisfies Record<string, RuntimeMetric>;

/**
 * The platform's names for what every runtime reports, produced by recording rules
 * (components/k8s/monitoring/runtime-rules.ts). Labels: namespace, model, version.
 */
export const RECORDED = {
  /** Requests waiting for the model (not yet running), summed over a version's pods. */
  queueDepth: "mlops:model_queue_depth",
  /** Mean seconds a request waited in the queue over the last minute. */
  queueSeconds: "mlops:model_queue_seconds",
  /** Requests per second answered. */
  requestRate: "mlops:model_requests:rate1m",
  /** Failed requests per second. */
  errorRate: "mlops:model_errors:rate1m",
  /** 99th percentile request latency, seconds (from the serving container's histogram, which fronts every runtime). */
  latencyP99: "mlops:model_request_seconds:p99_5m",
  /** Generated tokens per second (LLM runtimes). */
  tokensPerSecond: "mlops:model_generation_tokens:rate1m",
  /** 99th percentile time to first token, seconds (LLM runtimes). */
  timeToFirstTokenP99: "mlops:model_time_to_first_token_seconds:p99_5m",
} as const;

/** The serving image's own signals (it fronts every runtime), re-exported for the triggers. */
export const SERVING_SIGNALS = {
  inFlight: METRICS.servingInFlight,
  requestSeconds: METRICS.servingRequestSeconds,
  predictions: METRICS.servingPredictions,
} as const;
