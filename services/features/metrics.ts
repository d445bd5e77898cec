import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LATENCY_BUCKETS, METRICS } from "../../definition/metrics";

/** The features service's metrics; names from definition/metrics.ts so alert rules match. */
export interface FeaturesMetrics {
  requestSeconds: Histogram<"route" | "status">;
  keysRequested: Counter<"feature_view">;
  lateEvents: Counter<"feature_view">;
  storeErrors: Counter<"store" | "operation">;
  materializationRows: Counter<"feature_view">;
  materializationLag: Gauge<"feature_view">;
}

export function createFeaturesMetrics(registry: Registry): FeaturesMetrics {
  const registers = [registry];
  return {
    requestSeconds: new Histogram({
      name: METRICS.featuresRequestSeconds,
      help: "Features HTTP request latency in seconds.",
      labelNames: ["route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    keysRequested: new Counter({
      name: METRICS.featuresKeysRequested,
      help: "Entity keys requested from the online store.",
      labelNames: ["feature_view"],
      registers,
    }),
    lateEvents: new Counter({
      name: METRICS.featuresLateEvents,
      help: "Pushed raw events refused because they were older than the view's allowedLateness.",
      labelNames: ["feature_view"],
      registers,
    }),
    storeErrors: new Counter({
      name: METRICS.storeErrors,
      help: "Online/offline store errors.",
      labelNames: ["store", "operation"],
      registers,
    }),
    materializationRows: new Counter({
      name: METRICS.materializationRows,
      help: "Rows read from the offline store by materialization.",
      labelNames: ["feature_view"],
      registers,
    }),
    materializationLag: new Gauge({
      name: METRICS.materializationLagSeconds,
      help: "Seconds between now and the end of the last materialized window.",
      labelNames: ["feature_view"],
      registers,
    }),
  };
}
