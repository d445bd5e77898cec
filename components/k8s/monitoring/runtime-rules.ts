import type { IRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Rule";
import { type Catalog, METRICS, type ModelSpec, RECORDED, type StackSpec, TRITON_METRICS, VLLM_METRICS } from "../../../definition";
import { hasRuntimeMetrics } from "../model-serving";

/**
 * Recording rules that turn each runtime's own metrics (vLLM, Triton, the serving image) into the
 * platform's names (definition/runtime-metrics.ts RECORDED), labelled namespace, model, version:
 * dashboards, alerts and `npm run canary-analysis` read one set of names whatever runs the model.
 * `a or b` keeps a's series and adds b's for label sets a lacks: a vLLM or Triton version reports
 * its own queue, every other version the serving container's in-flight gauge.
 */
const BY = "namespace, model, version";

const sumBy = (expr: string) => `sum by (${BY}) (${expr})`;
const rate = (series: string, window = "1m") => `rate(${series}[${window}])`;

export interface RecordingRule {
  record: string;
  expr: string;
}

export function runtimeRecordingRules(): RecordingRule[] {
  const triton = TRITON_METRICS;
  const vllm = VLLM_METRICS;
  return [
    {
      record: RECORDED.queueDepth,
      expr: [sumBy(vllm.requestsWaiting.name), sumBy(triton.pendingRequests.name), sumBy(METRICS.servingInFlight)].join(" or "),
    },
    {
      // Mean queue wait per request; an idle version (no requests) has no series rather than 0/0.
      record: RECORDED.queueSeconds,
      expr: `${sumBy(rate(triton.queueDuration.name))} / 1e6 / ${sumBy(rate(triton.requestSuccess.name))} > -1`,
    },
    { record: RECORDED.requestRate, expr: sumBy(rate(METRICS.servingPredictions)) },
    { record: RECORDED.errorRate, expr: sumBy(rate(`${METRICS.servingPredictions}{status=~"error|shed"}`)) },
    {
      record: RECORDED.latencyP99,
      expr: `histogram_quantile(0.99, sum by (le, ${BY}) (${rate(`${METRICS.servingRequestSeconds}_bucket`, "5m")}))`,
    },
    { record: RECORDED.tokensPerSecond, expr: sumBy(rate(vllm.generationTokens.name)) },
    {
      record: RECORDED.timeToFirstTokenP99,
      expr: `histogram_quantile(0.99, sum by (le, ${BY}) (${rate(`${vllm.timeToFirstToken.name}_bucket`, "5m")}))`,
    },
  ];
}

/** A runtime's expected series, to alert when a version's runtime is not scraped (its gates would see nothing). */
function runtimeHeartbeat(version: ModelSpec["versions"][number]): string | undefined {
  if (version.runtime === "openai") return VLLM_METRICS.requestsWaiting.name;
  if (version.runtime === "triton") return TRITON_METRICS.pendingRequests.name;
  return undefined;
}

/** Alerts on the runtime signals of one model: a queue that keeps growing, and a runtime whose metrics are missing. */
export function runtimeAlerts(model: ModelSpec, namespace: string): IRule[] {
  const labels = { model: model.name, team: model.team };
  const rules: IRule[] = [];
  const queueTarget = model.autoscaling.queueDepth;
  rules.push({
    alert: "ModelQueueBackingUp",
    // Scaled out as far as allowed and still queueing: KEDA cannot help any more.
    expr: `${RECORDED.queueDepth}{namespace="${namespace}",model="${model.name}"} > ${(queueTarget ?? 10) * model.autoscaling.maxReplicas}`,
    for: "10m",
    labels: { severity: "warning", ...labels },
    annotations: {
      summary: `${model.name}: requests keep queueing at the replica limit`,
      description: `Version {{ $labels.version }} of ${model.name} has {{ $value }} requests waiting with autoscaling.maxReplicas ${model.autoscaling.maxReplicas}; raise it or add GPUs.`,
    },
  });
  for (const version of model.versions) {
    const series = runtimeHeartbeat(version);
    if (!series || !hasRuntimeMetrics(version.runtime)) continue;
    rules.push({
      alert: "ModelRuntimeMetricsMissing",
      expr: `absent(${series}{namespace="${namespace}",model="${model.name}",version="${version.name}"}) and on() (sum(${METRICS.servingInFlight}{namespace="${namespace}",model="${model.name}",version="${version.name}"}) >= 0)`,
      for: "15m",
      labels: { severity: "warning", ...labels, version: version.name },
      annotations: {
        summary: `${model.name} ${version.name}: the ${version.runtime} runtime's metrics are not scraped`,
        description: `Its pods serve, but Prometheus has no ${series}: KEDA cannot scale it and canary analysis holds. Check the runtimes ServiceMonitor.`,
      },
    });
  }
  return rules;
}

/** The runtime rule group of a stack: the recording rules, then each model's runtime alerts. */
export function runtimeRuleGroup(stack: StackSpec, catalog: Catalog): { name: string; rules: IRule[] } {
  const alerts = Object.values(catalog.models)
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((m) => runtimeAlerts(m, stack.serving.namespace));
  return { name: "runtime-signals", rules: [...runtimeRecordingRules(), ...alerts] };
}
