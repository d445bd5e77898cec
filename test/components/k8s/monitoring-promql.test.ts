import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { dashboards, ruleGroups } from "../../../components/k8s";
import { EXTERNAL_METRICS, listStacks, METRICS } from "../../../definition";
import { platformOf } from "./k8s-objects";

/** The services' histograms (metrics.ts): Prometheus stores each as _bucket, _sum and _count series. */
const HISTOGRAMS = [
  METRICS.featuresRequestSeconds,
  METRICS.servingRequestSeconds,
  METRICS.servingFeatureFetchSeconds,
  METRICS.servingInferenceSeconds,
];

/** Every series name the services, DCGM and Istio export. */
const EXPORTED = new Set<string>([
  ...Object.values(METRICS),
  ...Object.values(EXTERNAL_METRICS),
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
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
    (g.rules ?? []).map((r) => ({ where: `${stackName} rule ${g.name}/${r.alert}`, expr: String(r.expr) })),
  );
  const fromBoards = dashboards(stack, catalog).flatMap((d) =>
    d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${stackName} dashboard ${d.uid} "${p.title}"`, expr: t.expr }))),
  );
  return [...fromRules, ...fromBoards];
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
    it(`names only metrics the services, DCGM or Istio export (${stackName})`, () => {
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
