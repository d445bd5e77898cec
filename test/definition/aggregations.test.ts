import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { featuresOf, loadCatalog, resolveAggregations, resolveFeatureService, SpecError, tileIndexOf, tileRange } from "../../definition";

const FIXTURE = join(__dirname, "fixtures", "aggregations");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** The fixture catalog with one text edit to cards.yaml (so line numbers stay those of the fixture). */
function catalogWith(from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), "agg-catalog-"));
  made.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  const path = join(dir, "features", "cards.yaml");
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`fixture has no "${from}"`);
  writeFileSync(path, text.replace(from, to));
  return dir;
}

function planIssues(dir: string): { file: string; path: string; message: string; fix?: string }[] {
  try {
    loadCatalog(dir, "p");
  } catch (error) {
    if (error instanceof SpecError) return error.issues;
    throw error;
  }
  throw new Error("the catalog was accepted");
}

describe("aggregated feature views", () => {
  const catalog = loadCatalog(FIXTURE, "p");
  const view = catalog.featureViews.card_txn;
  if (!view) throw new Error("fixture has no card_txn");

  it("name each aggregation <column>_<function>_<window>, count_<window> without a column, keeping the window as written", () => {
    expect(featuresOf(view).map((f) => `${f.name}:${f.dtype}`)).toEqual([
      "count_1h:Int64",
      "amount_mean_7d:Float64",
      "amount_mean_30d:Float64",
      "amount_max_24h:Float64",
      "high_value_sum_30d:Float64",
      "merchant_id_count_distinct_30d:Int64",
      "amount_last_n_1d:Array(Float64)",
      "amount_trend_7d_30d:Float64",
    ]);
  });

  it("choose tiles of 5m under 12h, 1h under 12d and 1d above, and let the view or the aggregation override them", () => {
    expect(resolveAggregations(view).map((a) => [a.name, a.windowSeconds, a.tileSeconds])).toEqual([
      ["count_1h", 3600, 300],
      ["amount_mean_7d", 604800, 3600],
      ["amount_mean_30d", 2592000, 86400],
      ["amount_max_24h", 86400, 3600],
      ["high_value_sum_30d", 2592000, 86400],
      ["merchant_id_count_distinct_30d", 2592000, 86400],
      ["amount_last_n_1d", 86400, 3600],
    ]);
    expect(resolveAggregations({ ...view, tile: "15m" }).map((a) => a.tileSeconds)).toEqual([900, 900, 900, 900, 900, 900, 900]);
  });

  it("resolve feature-service references to aggregates, derived and on-demand features", () => {
    expect(resolveFeatureService(catalog, "card_scorer").map((f) => `${f.ref}:${f.dtype}`)).toEqual([
      "card_txn:count_1h:Int64",
      "card_txn:amount_mean_7d:Float64",
      "card_txn:amount_trend_7d_30d:Float64",
      "txn_context:amount_vs_mean_7d:Float64",
      "txn_context:is_weekend:Bool",
    ]);
  });
});

describe("tiles", () => {
  it("put an event exactly on a tile edge in the tile that ends there", () => {
    const s = 300;
    expect(tileIndexOf(300_000_000, s)).toBe(0);
    expect(tileIndexOf(300_000_001, s)).toBe(1);
    expect(tileIndexOf(1, s)).toBe(0);
  });

  it("read whole tiles after floor(t - window) up to the tile holding t", () => {
    // t - W on an edge: exactly (t - W, t].
    expect(tileRange(3600_000_000, 3600, 300)).toEqual({ first: 0, last: 11 });
    // t - W inside tile 0: the window reaches back to its start (edge 0).
    expect(tileRange(3700_000_000, 3600, 300)).toEqual({ first: 0, last: 12 });
  });
});

describe("the plan refuses bad feature engineering, naming file, line and field", () => {
  const cases: { mistake: string; edit: [string, string]; path: string; message: RegExp; line: number }[] = [
    {
      mistake: "a derived feature reading an aggregate that does not exist",
      edit: ["amount_mean_7d / amount_mean_30d", "amount_mean_7d / amount_mean_90d"],
      path: "featureViews[0].derived[0].expression",
      message: /column 18: unknown aggregate "amount_mean_90d"/,
      line: 21,
    },
    {
      mistake: "dividing a string",
      edit: ["amount / card_txn:amount_mean_7d", "'x' / card_txn:amount_mean_7d"],
      path: "onDemandFeatureViews[0].features[0].expression",
      message: /String \/ Float is not defined \(a string cannot be divided\)/,
      line: 28,
    },
    {
      mistake: "an expression whose type does not fit the declared dtype",
      edit: ["is_weekend, dtype: Bool", "is_weekend, dtype: Float64"],
      path: "onDemandFeatureViews[0].features[2].expression",
      message: /is Bool, which does not fit dtype Float64/,
      line: 30,
    },
    {
      mistake: "a where filter that is not true or false",
      edit: ["amount > 100", "amount + 100"],
      path: "featureViews[0].aggregations[4].where",
      message: /is Float, but a where filter must be true or false/,
      line: 17,
    },
    {
      mistake: "an expression that does not parse",
      edit: ["amount_mean_7d / amount_mean_30d", "amount_mean_7d / "],
      path: "featureViews[0].derived[0].expression",
      message: /cannot parse at column 18/,
      line: 21,
    },
    {
      mistake: "an unknown function",
      edit: ["hour_of_day(ts)", "hour(ts)"],
      path: "onDemandFeatureViews[0].features[1].expression",
      message: /unknown function "hour"/,
      line: 29,
    },
    {
      mistake: "a window that is not a whole number of tiles",
      edit: ["function: count, window: 1h", "function: count, window: 7m"],
      path: "featureViews[0].aggregations[0].window",
      message: /7m is not a whole number of tiles of 300 s/,
      line: 13,
    },
    {
      mistake: "a sum without a column",
      edit: ["column: amount, function: sum", "function: sum"],
      path: "featureViews[0].aggregations[4].column",
      message: /sum needs the column it aggregates/,
      line: 17,
    },
    {
      mistake: "two aggregations with one name",
      edit: ["name: high_value_sum_30d", "name: amount_mean_7d"],
      path: "featureViews[0].aggregations[4].name",
      message: /makes a feature named "amount_mean_7d"/,
      line: 17,
    },
    {
      mistake: "last_n without n",
      edit: ["last_n, n: 3,", "last_n,"],
      path: "featureViews[0].aggregations[6].n",
      message: /is missing for last_n/,
      line: 19,
    },
    {
      mistake: "a mean of a string column",
      edit: ["name: amount, dtype: Float64", "name: amount, dtype: String"],
      path: "featureViews[0].aggregations[1].function",
      message: /mean needs a numeric column, but "amount" is String/,
      line: 14,
    },
    {
      mistake: "an on-demand feature reading a request field that is not declared",
      edit: ["hour_of_day(ts)", "hour_of_day(when_ts)"],
      path: "onDemandFeatureViews[0].features[1].expression",
      message: /column 13: unknown request field "when_ts"/,
      line: 29,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.mistake}`, () => {
      const issues = planIssues(catalogWith(...c.edit));
      const issue = issues.find((i) => i.path === c.path);
      expect(issue, JSON.stringify(issues)).toBeDefined();
      expect(issue?.message).toMatch(c.message);
      expect(issue?.file).toMatch(new RegExp(`cards\\.yaml:${c.line}$`));
      expect(issue?.fix).toBeTruthy();
    });
  }
});

describe("the features JSON Schema", () => {
  it("completes and validates the new fields in editors: aggregations, derived, on-demand views", async () => {
    const { default: Ajv2020 } = await import("ajv/dist/2020");
    const { parse } = await import("yaml");
    const { SCHEMA_DIR } = await import("../../scripts/gen-catalog-schema");
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(
      JSON.parse(readFileSync(join(SCHEMA_DIR, "features.schema.json"), "utf8")),
    );
    const file = parse(readFileSync(join(FIXTURE, "features", "cards.yaml"), "utf8"));
    expect(validate(file)).toBe(true);
    const view = file.featureViews[0];
    const withAggregation = (a: object) => ({ ...file, featureViews: [{ ...view, aggregations: [a] }] });
    expect(validate(withAggregation({ function: "median", window: "1h" }))).toBe(false);
    expect(validate(withAggregation({ function: "count", window: "1h", every: "5m" }))).toBe(false);
    expect(validate(withAggregation({ function: "count" }))).toBe(false);
    expect(validate({ ...file, onDemandFeatureViews: [{ name: "x", features: [{ name: "y", dtype: "Float64" }] }] })).toBe(false);
  });
});
