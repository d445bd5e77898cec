import { type Catalog, EXTERNAL_METRICS, METRICS, type ModelSpec, RECORDED, type StackSpec } from "../../../definition";
import { errorRatio, matchers, quantile } from "./rules";

/**
 * Grafana dashboards as data: one per catalog model (its SLO drawn as threshold lines) and one for
 * the platform. Shipped as ConfigMaps that Grafana's sidecar loads; every query uses the metric
 * names of definition/metrics.ts.
 */

/** Grafana's own rate window for the panel's resolution. */
const RATE = "$__rate_interval";
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, resolved by Grafana.
const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

export interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
}

export interface Panel {
  id: number;
  type: "timeseries" | "stat";
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: typeof DATASOURCE;
  targets: Target[];
  fieldConfig: {
    defaults: {
      unit: string;
      min?: number;
      max?: number;
      thresholds?: { mode: "absolute"; steps: { color: string; value: number | null }[] };
      custom?: { thresholdsStyle: { mode: "line" | "off" } };
    };
    overrides: FieldOverride[];
  };
}

/** Grafana's per-field override (none are generated today; typed so an empty list is not `any[]` under looser compilers). */
export interface FieldOverride {
  matcher: { id: string; options: string };
  properties: { id: string; value: unknown }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: "utc";
  schemaVersion: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: { name: string; type: "datasource"; query: string; label: string }[] };
  panels: Panel[];
}

interface PanelSpec {
  title: string;
  description?: string;
  unit: string;
  targets: [expr: string, legend: string][];
  /** A red line at this value (an SLO or threshold). */
  threshold?: number;
  max?: number;
}

/** Lays panels out two per row, 12 columns wide and 8 high. */
function layout(specs: PanelSpec[]): Panel[] {
  return specs.map(
    (p, i): Panel => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      description: p.description,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: DATASOURCE,
      targets: p.targets.map(([expr, legendFormat], t) => ({ refId: String.fromCharCode(65 + t), expr, legendFormat })),
      fieldConfig: {
        defaults: {
          unit: p.unit,
          min: 0,
          ...(p.max !== undefined ? { max: p.max } : {}),
          ...(p.threshold !== undefined
            ? {
                thresholds: {
                  mode: "absolute" as const,
                  steps: [
                    { color: "green", value: null },
                    { color: "red", value: p.threshold },
                  ],
                },
                custom: { thresholdsStyle: { mode: "line" as const } },
              }
            : {}),
        },
        overrides: [],
      },
    }),
  );
}

function dashboard(uid: string, title: string, tags: string[], panels: PanelSpec[]): Dashboard {
  return {
    uid,
    title,
    tags: ["mlops", ...tags],
    timezone: "utc",
    schemaVersion: 39,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Data source" }] },
    panels: layout(panels),
  };
}

function gpuPanels(): PanelSpec[] {
  return [
    {
      title: "GPU utilisation",
      description: "DCGM exporter, per GPU.",
      unit: "percent",
      max: 100,
      targets: [[`avg by (Hostname, gpu) (${EXTERNAL_METRICS.gpuUtilization})`, "{{Hostname}} gpu{{gpu}}"]],
    },
    {
      title: "GPU memory used",
      unit: "decmbytes",
      targets: [[`sum by (Hostname, gpu) (${EXTERNAL_METRICS.gpuMemoryUsed})`, "{{Hostname}} gpu{{gpu}}"]],
    },
  ];
}

/** The dashboard of one model: traffic, latency against its SLO, errors, drift, and GPUs when it uses them. */
export function modelDashboard(model: ModelSpec, stack: StackSpec): Dashboard {
  const sel = { model: model.name };
  const m = matchers(sel);
  const latency = (q: number) => quantile(q, METRICS.servingRequestSeconds, m, ["version"], RATE);
  const panels: PanelSpec[] = [
    {
      title: "Request rate by version",
      unit: "reqps",
      targets: [[`sum by (version) (rate(${METRICS.servingPredictions}${m}[${RATE}]))`, "{{version}}"]],
    },
    {
      title: "Latency p50 / p95 / p99",
      description: `The red line is the p99 SLO (${model.slo.p99LatencyMs} ms).`,
      unit: "s",
      threshold: model.slo.p99LatencyMs / 1000,
      targets: [
        [latency(0.5), "p50 {{version}}"],
        [latency(0.95), "p95 {{version}}"],
        [latency(0.99), "p99 {{version}}"],
      ],
    },
    {
      title: "Error rate by model version",
      description: `Errors and shed requests over all predictions; the red line is the error budget (${model.slo.errorRate * 100}%).`,
      unit: "percentunit",
      threshold: model.slo.errorRate,
      targets: [[errorRatio(sel, ["version"], RATE), "{{version}}"]],
    },
    {
      title: "Feature fetch and inference p99",
      unit: "s",
      targets: [
        [quantile(0.99, METRICS.servingFeatureFetchSeconds, m, ["version"], RATE), "features {{version}}"],
        [quantile(0.99, METRICS.servingInferenceSeconds, m, ["version"], RATE), "inference {{version}}"],
      ],
    },
    { title: "In-flight requests", unit: "short", targets: [[`sum by (version) (${METRICS.servingInFlight}${m})`, "{{version}}"]] },
    {
      title: "Mesh responses by code",
      unit: "reqps",
      targets: [
        [
          `sum by (response_code) (rate(${EXTERNAL_METRICS.istioRequests}${matchers({ reporter: "destination", destination_service_name: model.name, destination_service_namespace: stack.serving.namespace })}[${RATE}]))`,
          "{{response_code}}",
        ],
      ],
    },
    {
      title: "Drift score per feature",
      unit: "short",
      targets: [[`max by (feature, method) (${METRICS.driftScore}${m})`, "{{feature}} ({{method}})"]],
    },
    {
      title: "Share of drifted features",
      description: `Dataset drift at ${model.drift.driftShare * 100}% (the red line).`,
      unit: "percentunit",
      max: 1,
      threshold: model.drift.driftShare,
      targets: [[`max(${METRICS.driftShare}${m})`, "drift share"]],
    },
  ];
  panels.push({
    title: "Queue depth (what KEDA scales on)",
    description: "Requests waiting for the runtime: vLLM's queue, Triton's pending requests, or the serving image's in-flight requests.",
    unit: "short",
    targets: [[`sum by (version) (${RECORDED.queueDepth}${m})`, "{{version}}"]],
  });
  if (model.versions.some((v) => v.runtime === "openai"))
    panels.push(
      { title: "Generated tokens/s", unit: "short", targets: [[`sum by (version) (${RECORDED.tokensPerSecond}${m})`, "{{version}}"]] },
      {
        title: "Time to first token p99",
        unit: "s",
        targets: [[`max by (version) (${RECORDED.timeToFirstTokenP99}${m})`, "{{version}}"]],
      },
    );
  if (model.versions.some((v) => v.runtime === "triton"))
    panels.push({ title: "Triton queue time", unit: "s", targets: [[`max by (version) (${RECORDED.queueSeconds}${m})`, "{{version}}"]] });
  if (model.versions.some((v) => v.gpu)) panels.push(...gpuPanels());
  return dashboard(`mlops-model-${model.name}`.slice(0, 40), `Model: ${model.name}`, ["model", model.team], panels);
}

/** The platform dashboard: feature service, online store, materialization, all models, GPUs. */
export function platformDashboard(stack: StackSpec): Dashboard {
  const features = (q: number) => quantile(q, METRICS.featuresRequestSeconds, "", ["route"], RATE);
  const panels: PanelSpec[] = [
    {
      title: "Feature lookups by route and status",
      unit: "reqps",
      targets: [[`sum by (route, status) (rate(${METRICS.featuresRequestSeconds}_count[${RATE}]))`, "{{route}} {{status}}"]],
    },
    {
      title: "Feature lookup latency p50 / p95 / p99",
      unit: "s",
      targets: [
        [features(0.5), "p50 {{route}}"],
        [features(0.95), "p95 {{route}}"],
        [features(0.99), "p99 {{route}}"],
      ],
    },
    {
      title: "Entity keys requested by feature view",
      unit: "short",
      targets: [[`sum by (feature_view) (rate(${METRICS.featuresKeysRequested}[${RATE}]))`, "{{feature_view}}"]],
    },
    {
      title: "Online store errors",
      unit: "short",
      targets: [[`sum by (store, operation) (rate(${METRICS.storeErrors}[${RATE}]))`, "{{store}} {{operation}}"]],
    },
    {
      title: "Materialization lag",
      unit: "s",
      targets: [[`max by (feature_view) (${METRICS.materializationLagSeconds})`, "{{feature_view}}"]],
    },
    {
      title: "Materialized rows",
      unit: "short",
      targets: [[`sum by (feature_view) (increase(${METRICS.materializationRows}[1h]))`, "{{feature_view}}"]],
    },
    {
      title: "Predictions by model and version",
      unit: "reqps",
      targets: [[`sum by (model, version) (rate(${METRICS.servingPredictions}[${RATE}]))`, "{{model}} {{version}}"]],
    },
    { title: "Drift share by model", unit: "percentunit", max: 1, targets: [[`max by (model) (${METRICS.driftShare})`, "{{model}}"]] },
  ];
  if (stack.nodePools.some((p) => p.role === "gpu")) panels.push(...gpuPanels());
  return dashboard("mlops-platform", "MLOps platform", ["platform"], panels);
}

/** Every dashboard of the stack. */
export function dashboards(stack: StackSpec, catalog: Catalog): Dashboard[] {
  const models = Object.values(catalog.models).sort((a, b) => a.name.localeCompare(b.name));
  return [platformDashboard(stack), ...models.map((m) => modelDashboard(m, stack))];
}
