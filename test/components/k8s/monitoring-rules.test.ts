import { describe, expect, it } from "vitest";
import { modelRules, platformRules, ruleGroups, scrapeTargets } from "../../../components/k8s";
import { platformOf } from "./k8s-objects";

const aws = platformOf("aws-prod");
const local = platformOf("local");

function rule(
  rules: { alert: string; expr: string }[],
  name: string,
): { alert: string; expr: string; for?: string; labels?: Record<string, string> } {
  const found = rules.find((r) => r.alert === name);
  if (!found) throw new Error(`no ${name} among ${rules.map((r) => r.alert)}`);
  return found;
}

describe("alert rules from the catalog", () => {
  const fraud = aws.catalog.models["fraud-scorer"];
  if (!fraud) throw new Error("the example catalog has fraud-scorer");
  const rules = modelRules(fraud);

  it("alert when a model's p99 latency exceeds its SLO, converted from ms to seconds", () => {
    const latency = rule(rules, "ModelLatencySLOBreached");
    expect(latency.expr).toMatch(
      /^histogram_quantile\(0\.99, sum by \(le, version\) \(rate\(mlops_serving_request_duration_seconds_bucket\{model="fraud-scorer"\}\[5m\]\)\)\) > 0\.05$/,
    );
    expect(latency.labels).toMatchObject({ severity: "critical", model: "fraud-scorer", team: "fraud" });
  });

  it("alert when errors and shed requests exceed the model's error budget", () => {
    const errors = rule(rules, "ModelErrorRateHigh");
    expect(errors.expr).toContain('status=~"error|shed"');
    expect(errors.expr.endsWith("> 0.005")).toBe(true);
  });

  it("alert when the drifted share reaches the model's threshold", () => {
    expect(rule(rules, "ModelDatasetDrift").expr).toBe('max by (model) (mlops_drift_dataset_drift_share{model="fraud-scorer"}) >= 0.5');
  });

  it("alert on online store errors on every stack", () => {
    expect(rule(platformRules(local.stack, local.catalog), "FeatureStoreErrors").expr).toContain("mlops_store_errors_total");
  });

  it("alert on GPU utilisation only where there are GPU pools", () => {
    expect(platformRules(aws.stack, aws.catalog).map((r) => r.alert)).toEqual(expect.arrayContaining(["GpuSaturated", "GpuIdle"]));
    expect(platformRules(local.stack, local.catalog).map((r) => r.alert)).not.toContain("GpuSaturated");
  });

  it("alert when a scheduled feature view falls behind its TTL", () => {
    const stale = platformRules(aws.stack, aws.catalog).filter((r) => r.alert === "FeatureViewStale");
    const scheduled = Object.values(aws.catalog.featureViews).filter((v) => v.online && v.schedule && v.ttl > 0);
    expect(stale.map((r) => r.labels.feature_view).sort()).toEqual(scheduled.map((v) => v.name).sort());
    const cardStats = stale.find((r) => r.labels.feature_view === "card_stats");
    expect(cardStats?.expr.endsWith(`> ${aws.catalog.featureViews.card_stats?.ttl}`)).toBe(true);
  });

  it("group rules per model deployed to the stack, plus the platform group and the runtime signals", () => {
    expect(ruleGroups(local.stack, local.catalog).map((g) => g.name)).toEqual([
      ...Object.keys(local.catalog.models)
        .sort()
        .map((m) => `model-${m}`),
      "platform",
      "runtime-signals",
    ]);
    expect(Object.keys(local.catalog.models)).not.toContain("support-assistant");
  });

  it("scrape DCGM only on stacks with GPU pools, and every platform service on all of them", () => {
    expect(scrapeTargets(local.stack).map((t) => t.name)).toEqual(["features", "serving", "runtimes", "drift", "tracking"]);
    expect(scrapeTargets(aws.stack).map((t) => t.name)).toContain("dcgm-exporter");
  });
});
