import type { IRuleGroup } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/RuleGroup";
import { runtimeRuleGroup } from "./runtime-rules";
import { type Catalog, EXTERNAL_METRICS, METRICS, type ModelSpec, type StackSpec } from "../../../definition";

/**
 * PromQL for the platform's alerts and dashboards, built from the metric names the services
 * export (definition/metrics.ts) and nothing else. Histograms are queried through their
 * `_bucket` series; latencies are in seconds.
 */
export const WINDOW = "5m";

/** `{a="x",b=~"y"}` from a record; values are escaped as PromQL strings. */
export function matchers(labels: Record<string, string>, regex: string[] = []): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}${regex.includes(k) ? "=~" : "="}${JSON.stringify(v)}`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** The q-quantile (0..1) of a histogram, per `by` labels. */
export function quantile(q: number, histogram: string, selector: string, by: string[], window = WINDOW): string {
  return `histogram_quantile(${q}, sum by (${["le", ...by].join(", ")}) (rate(${histogram}_bucket${selector}[${window}])))`;
}

/** Share of failed predictions per `by` labels; a shed request (503) fails for its caller too. */
export function errorRatio(selector: Record<string, string>, by: string[], window = WINDOW): string {
  const failed = matchers({ ...selector, status: "error|shed" }, ["status"]);
  const all = matchers(selector);
  const group = by.length ? ` by (${by.join(", ")})` : "";
  return `sum${group} (rate(${METRICS.servingPredictions}${failed}[${window}])) / sum${group} (rate(${METRICS.servingPredictions}${all}[${window}]))`;
}

export interface AlertRule {
  alert: string;
  expr: string;
  /** How long the condition must hold, e.g. "10m". */
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}

type Severity = "critical" | "warning" | "info";

function alert(
  name: string,
  expr: string,
  forDuration: string,
  severity: Severity,
  labels: Record<string, string>,
  summary: string,
  description: string,
): AlertRule {
  return { alert: name, expr, for: forDuration, labels: { severity, ...labels }, annotations: { summary, description } };
}

/** Alerts for one model: its latency SLO, its error budget, drift and the health of its prediction log. */
export function modelRules(model: ModelSpec): AlertRule[] {
  const sel = { model: model.name };
  const labels = { model: model.name, team: model.team };
  const p99Seconds = model.slo.p99LatencyMs / 1000;
  return [
    alert(
      "ModelLatencySLOBreached",
      `${quantile(0.99, METRICS.servingRequestSeconds, matchers(sel), ["version"])} > ${p99Seconds}`,
      "10m",
      "critical",
      labels,
      `${model.name} p99 latency is over its ${model.slo.p99LatencyMs} ms SLO`,
      `p99 latency of ${model.name} version {{ $labels.version }} is {{ $value | humanizeDuration }} (SLO ${model.slo.p99LatencyMs} ms, catalog: ${model.origin.file}).`,
    ),
    alert(
      "ModelErrorRateHigh",
      `${errorRatio(sel, ["version"])} > ${model.slo.errorRate}`,
      "10m",
      "critical",
      labels,
      `${model.name} error rate is over ${model.slo.errorRate * 100}%`,
      `Version {{ $labels.version }} of ${model.name} fails {{ $value | humanizePercentage }} of predictions (budget ${model.slo.errorRate * 100}%).`,
    ),
    alert(
      "ModelDatasetDrift",
      `max by (model) (${METRICS.driftShare}${matchers(sel)}) >= ${model.drift.driftShare}`,
      "0m",
      "warning",
      labels,
      `${model.name}: dataset drift`,
      `{{ $value | humanizePercentage }} of ${model.name}'s features drifted in the last check (threshold ${model.drift.driftShare * 100}%). Consider retraining.`,
    ),
    alert(
      "ModelPredictionLogDropping",
      `sum by (model, version) (rate(${METRICS.servingLogDropped}${matchers(sel)}[15m])) > 0`,
      "15m",
      "warning",
      labels,
      `${model.name} is dropping prediction log records`,
      `Version {{ $labels.version }} drops {{ $value }} records/s: drift checks see a biased sample.`,
    ),
  ];
}

/** Platform-wide alerts: online store errors, stale materialization, GPU utilisation. */
export function platformRules(stack: StackSpec, catalog: Catalog): AlertRule[] {
  const labels = { team: stack.tags.team ?? "platform" };
  const rules: AlertRule[] = [
    alert(
      "FeatureStoreErrors",
      `sum by (store, operation) (rate(${METRICS.storeErrors}[${WINDOW}])) > 0`,
      "5m",
      "critical",
      labels,
      "The online store is failing",
      "{{ $labels.store }} {{ $labels.operation }} fails {{ $value }} times/s; lookups answer 503 while it does.",
    ),
  ];
  for (const view of Object.values(catalog.featureViews)) {
    // Only scheduled views with a TTL can go stale: past the TTL, lookups return no value.
    if (!view.online || !view.schedule || view.ttl <= 0) continue;
    rules.push(
      alert(
        "FeatureViewStale",
        `max by (feature_view) (${METRICS.materializationLagSeconds}${matchers({ feature_view: view.name })}) > ${view.ttl}`,
        "15m",
        "warning",
        { ...labels, feature_view: view.name },
        `Feature view ${view.name} is older than its TTL`,
        `The last materialized window of ${view.name} ended {{ $value | humanizeDuration }} ago, over its TTL of ${view.ttl}s: online lookups return null.`,
      ),
    );
  }
  if (stack.nodePools.some((p) => p.role === "gpu")) {
    const gpu = `avg by (Hostname, gpu, modelName) (${EXTERNAL_METRICS.gpuUtilization})`;
    rules.push(
      alert(
        "GpuSaturated",
        `${gpu} > 95`,
        "30m",
        "warning",
        labels,
        "A GPU is saturated",
        "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} has been over 95% busy for 30 minutes; add replicas or GPUs.",
      ),
      // GPU nodes are expensive: one that sits idle for hours should scale down or be shared.
      alert(
        "GpuIdle",
        `${gpu} < 5`,
        "2h",
        "info",
        labels,
        "A GPU is idle",
        "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} has been under 5% busy for 2 hours.",
      ),
    );
  }
  return rules;
}

/** Every rule group of the stack: one per model (named after it), one for the platform. */
export function ruleGroups(stack: StackSpec, catalog: Catalog): IRuleGroup[] {
  const groups: IRuleGroup[] = Object.values(catalog.models)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((model) => ({ name: `model-${model.name}`, rules: modelRules(model) }));
  groups.push({ name: "platform", rules: platformRules(stack, catalog) });
  groups.push(runtimeRuleGroup(stack, catalog));
  return groups;
}
