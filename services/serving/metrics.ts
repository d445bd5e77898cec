import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LATENCY_BUCKETS, METRICS } from "../../definition/metrics";

/** Outcome label of the predictions counter. */
export type PredictionStatus = "ok" | "error" | "shed";

/** The serving metrics, all labelled by model and version so a canary can be compared with the stable version. */
export class ServingMetrics {
  readonly requestSeconds: Histogram<"model" | "version" | "route" | "status">;
  readonly predictions: Counter<"model" | "version" | "status">;
  readonly inFlight: Gauge<"model" | "version">;
  readonly featureFetchSeconds: Histogram<"model" | "version">;
  readonly inferenceSeconds: Histogram<"model" | "version">;
  readonly logDropped: Counter<"model" | "version">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requestSeconds = new Histogram({
      name: METRICS.servingRequestSeconds,
      help: "Serving request latency in seconds, from request received to response sent.",
      labelNames: ["model", "version", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.predictions = new Counter({
      name: METRICS.servingPredictions,
      help: "Prediction requests by outcome (ok, error, shed).",
      labelNames: ["model", "version", "status"],
      registers,
    });
    this.inFlight = new Gauge({
      name: METRICS.servingInFlight,
      help: "Prediction requests being processed.",
      labelNames: ["model", "version"],
      registers,
    });
    this.featureFetchSeconds = new Histogram({
      name: METRICS.servingFeatureFetchSeconds,
      help: "Time to fetch a request's features from the features service, in seconds.",
      labelNames: ["model", "version"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inferenceSeconds = new Histogram({
      name: METRICS.servingInferenceSeconds,
      help: "Model inference time (in-process run or runtime round trip), in seconds.",
      labelNames: ["model", "version"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.logDropped = new Counter({
      name: METRICS.servingLogDropped,
      help: "Prediction log records dropped because the sink was slower than the traffic.",
      labelNames: ["model", "version"],
      registers,
    });
  }
}
