import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { dashboards, ruleGroups, runtimeTriggers } from "../../../components/k8s";
import { EXTERNAL_METRICS, listStacks, METRICS, RECORDED, type RuntimeMetric, TRITON_METRICS, VLLM_METRICS } from "../../../definition";
import { platformOf } from "./k8s-objects";

/** The services' histograms (metrics.ts): Prometheus stores each as _bucket, _sum and _count series. */
const HISTOGRAMS = [
  METRICS.featuresRequestSeconds,
  METRICS.servingRequestSeconds,
  METRICS.servingFeatureFetchSeconds,
  METRICS.servingInferenceSeconds,
];

/** The runtimes' documented series (definition/runtime-metrics.ts), histograms as Prometheus stores them. */
const RUNTIME_SERIES = [...Object.values(VLLM_METRICS), ...Object.values(TRITON_METRICS)].flatMap((m: RuntimeMetric) =>
  m.type === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
);

/** Every series name the services, the runtimes, DCGM and Istio export, and the platform's recording rules write. */
const EXPORTED = new Set<string>([
  ...Object.values(METRICS),
  ...Object.values(EXTERNAL_METRICS),
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ...RUNTIME_SERIES,
  ...Object.values(RECORDED),
]);

/** Grafana's interval variables are not PromQL; the server substitutes a duration for them. */
function asPromQL(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5m").replaceAll("$__interval", "1m");
}

/** Metric names an expression selects, from Prometheus's own PromQL grammar; throws on a syntax error. */
function metricNames(expr: string): string[] {
  const text = asPromQL(expr);
  const names: string[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in: ${text}`);
      if (node.name === "VectorSelector") {
        const id = node.node.getChild("Identifier");
        if (id) names.push(text.slice(id.from, id.to));
      }
    },
  });
  return names;
}

function expressions(stackName: string): { where: string; expr: string }[] {
  const { stack, catalog } = platformOf(stackName);
  const fromRules = ruleGroups(stack, catalog).flatMap((g) =>
    (g.rules ?? []).map((r) => ({ where: `${stackName} rule ${g.name}/${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
  const fromTriggers = Object.values(catalog.models).flatMap((m) =>
    m.versions.flatMap((v) =>
      runtimeTriggers(m, v, stack.serving.namespace).map((t) => ({
        where: `${stackName} KEDA trigger ${m.name}/${v.name}/${t.name}`,
        expr: t.metadata.query,
      })),
    ),
  );
  const fromBoards = dashboards(stack, catalog).flatMap((d) =>
    d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${stackName} dashboard ${d.uid} "${p.title}"`, expr: t.expr }))),
  );
  return [...fromRules, ...fromBoards, ...fromTriggers];
}

describe("PromQL of the alert rules and dashboards", () => {
  it("parses metric names the way Prometheus does, ignoring labels, functions and keywords", () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket{model="x", le=~"0.1"}[5m]))) > on() group_left b_total offset 5m'),
    ).toEqual(["a_bucket", "b_total"]);
    expect(metricNames("sum without (version) (c) / ignoring(status) d unless e")).toEqual(["c", "d", "e"]);
    expect(() => metricNames("sum(rate(x[5m])")).toThrow(/syntax error/);
  });

  for (const stackName of listStacks("stacks")) {
    it(`names only metrics the services, the runtimes, DCGM or Istio export, or the recording rules write (${stackName})`, () => {
      const found = expressions(stackName);
      expect(found.length).toBeGreaterThan(20);
      const unknown: string[] = [];
      for (const { where, expr } of found) {
        const names = metricNames(expr);
        expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) if (!EXPORTED.has(name)) unknown.push(`${where}: ${name}`);
      }
      expect(unknown).toEqual([]);
    });
  }

  it("would catch a metric that nothing exports", () => {
    const names = metricNames(`sum(rate(${METRICS.servingPredictions.replace("predictions", "predictionz")}[5m]))`);
    expect(names.filter((n) => !EXPORTED.has(n))).toEqual(["mlops_serving_predictionz_total"]);
  });

  it("reads GPU utilisation from DCGM on GPU stacks and queries no GPU metric elsewhere", () => {
    const gpu = (s: string) => expressions(s).filter((e) => metricNames(e.expr).includes(EXTERNAL_METRICS.gpuUtilization));
    expect(gpu("aws-prod").map((e) => e.where)).toEqual(
      expect.arrayContaining([expect.stringContaining("GpuSaturated"), expect.stringContaining('"GPU utilisation"')]),
    );
    expect(gpu("local")).toEqual([]);
  });
});

describe("runtime signals", () => {
  it("every recorded name is written by exactly one recording rule, and every rule's record is a platform name", () => {
    const { stack, catalog } = platformOf("aws-prod");
    const records = ruleGroups(stack, catalog).flatMap((g) =>
      (g.rules ?? []).map((r) => r.record).filter((r): r is string => r !== undefined),
    );
    expect([...records].sort()).toEqual([...Object.values(RECORDED)].sort());
  });

  it("scales the vLLM version of aws-prod on vllm:num_requests_waiting and names a source for every runtime metric", () => {
    const { stack, catalog } = platformOf("aws-prod");
    const llm = Object.values(catalog.models).find((m) => m.versions.some((v) => v.runtime === "openai"));
    expect(llm).toBeDefined();
    const version = llm?.versions.find((v) => v.runtime === "openai");
    if (!llm || !version) return;
    const [trigger] = runtimeTriggers(llm, version, stack.serving.namespace);
    expect(metricNames(trigger?.metadata.query ?? "")).toEqual([VLLM_METRICS.requestsWaiting.name]);
    for (const m of [...Object.values(VLLM_METRICS), ...Object.values(TRITON_METRICS)]) expect(m.source).toMatch(/docs/);
  });
});
