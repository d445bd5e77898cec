/**
 * Prometheus metrics of drift checks (names from definition METRICS, so alert rules and
 * dashboards query what this service exports). The HTTP API exposes them on /metrics; the CronJob,
 * which exits after one check, writes them to a textfile-collector file or pushes them to a
 * Pushgateway.
 */
import { writeFileSync } from "node:fs";
import { Gauge, Pushgateway, type Registry } from "prom-client";
import { METRICS } from "../../definition/metrics";
import { type DriftResult, driftScore } from "./check";

export interface DriftMetrics {
  score: Gauge<"model" | "feature" | "method">;
  share: Gauge<"model">;
  detected: Gauge<"model">;
  lastCheck: Gauge<"model">;
}

export function createDriftMetrics(registry: Registry): DriftMetrics {
  return {
    score: new Gauge({
      name: METRICS.driftScore,
      help: "Drift score per feature of the last check: p-value for tests (ks, chisquare, ztest), distance otherwise.",
      labelNames: ["model", "feature", "method"],
      registers: [registry],
    }),
    share: new Gauge({
      name: METRICS.driftShare,
      help: "Share of checked features that drifted in the last check.",
      labelNames: ["model"],
      registers: [registry],
    }),
    detected: new Gauge({
      name: METRICS.driftDetected,
      help: "1 when the last check found dataset drift, else 0.",
      labelNames: ["model"],
      registers: [registry],
    }),
    lastCheck: new Gauge({
      name: METRICS.driftLastCheck,
      help: "Unix time of the last completed drift check.",
      labelNames: ["model"],
      registers: [registry],
    }),
  };
}

export function recordResult(metrics: DriftMetrics, result: DriftResult): void {
  const model = result.model ?? "unknown";
  for (const feature of result.features) {
    const score = driftScore(feature);
    if (score !== null && feature.method) metrics.score.set({ model, feature: feature.name, method: feature.method }, score);
  }
  metrics.share.set({ model }, result.drift_share);
  metrics.detected.set({ model }, result.dataset_drift ? 1 : 0);
  metrics.lastCheck.set({ model }, Date.parse(result.checked_at) / 1000);
}

/** Writes the registry in the text exposition format (for node_exporter's textfile collector). */
export async function writeMetricsFile(registry: Registry, path: string): Promise<void> {
  writeFileSync(path, await registry.metrics());
}

/** Pushes the registry to a Pushgateway under job "drift" and the model as grouping key. */
export async function pushMetrics(registry: Registry, url: string, model: string): Promise<void> {
  const gateway = new Pushgateway(url, { timeout: 10_000 }, registry);
  await gateway.pushAdd({ jobName: "drift", groupings: { model } });
}
