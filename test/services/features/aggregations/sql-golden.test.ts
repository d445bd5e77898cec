import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { resolveFeatureRef } from "../../../../definition/registry";
import { type SqlContext, trainingSetSql } from "../../../../services/features/offline/sql";
import { sqlViewOf } from "../../../../services/features/offline/view";

/**
 * BigQuery and Redshift cannot run here: the aggregated training-set SQL is pinned by golden files,
 * reviewed against each warehouse's documented syntax (BigQuery: UNIX_MICROS, DIV, ARRAY_AGG with
 * IGNORE NULLS ... LIMIT, CASE inside aggregates instead of FILTER; Redshift: DATEDIFF(microsecond)).
 * DuckDB and PostgreSQL run the same generator for real (training-set.test.ts, the property test).
 * UPDATE_GOLDEN=1 rewrites the files.
 */
const catalog = loadCatalog(join(__dirname, "..", "..", "..", "definition", "fixtures", "aggregations"), "p");
const refs = [
  "card_txn:count_1h",
  "card_txn:amount_mean_7d",
  "card_txn:high_value_sum_30d",
  "card_txn:merchant_id_count_distinct_30d",
  "card_txn:amount_trend_7d_30d",
  "txn_context:amount_vs_mean_7d",
  "txn_context:is_weekend",
];
const contexts: Record<"bigquery" | "redshift", { ctx: SqlContext; entities: string }> = {
  bigquery: {
    ctx: { dialect: "bigquery", defaultDataset: "acme-ml.features" },
    entities: "(SELECT ROW_NUMBER() OVER () AS _entity_row, * FROM `acme-ml.features.entity_rows`)",
  },
  redshift: {
    ctx: { dialect: "redshift" },
    entities: '(SELECT ROW_NUMBER() OVER (ORDER BY event_timestamp) AS _entity_row, * FROM "features"."entity_rows")',
  },
};

function generated(dialect: "bigquery" | "redshift", features = refs): string {
  const { ctx, entities } = contexts[dialect];
  const odfv = catalog.onDemandFeatureViews?.txn_context;
  if (!odfv) throw new Error("fixture has no txn_context");
  return trainingSetSql(ctx, {
    entityRelation: entities,
    entityColumns: ["card_id", "event_timestamp", "amount", "ts"],
    timestampColumn: "event_timestamp",
    views: [
      sqlViewOf(catalog, "card_txn"),
      { name: "txn_context", joinKeys: [], source: { timestampField: "" }, ttlSeconds: 0, onDemand: odfv },
    ],
    features: features.map((ref) => resolveFeatureRef(catalog, ref)),
    fullFeatureNames: false,
  });
}

describe.each(["bigquery", "redshift"] as const)("%s SQL of an aggregated training set", (dialect) => {
  it("matches the golden file", () => {
    const file = join(__dirname, "golden", `${dialect}-aggregated-training-set.sql`);
    const sql = generated(dialect);
    if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, `${sql}\n`);
    expect(sql).toBe(readFileSync(file, "utf8").trimEnd());
  });
});

describe("dialect details the golden files pin", () => {
  it("compares times as epoch microseconds and floors t - window to the tile with integer division", () => {
    const bigquery = generated("bigquery");
    expect(bigquery).toContain("UNIX_MICROS(`e`.`event_timestamp`)".replace("`e`.", ""));
    expect(bigquery).toContain("(DIV(`e`.`__entity_us` - 3600000000, 300000000) * 300000000)");
    expect(generated("redshift")).toContain(
      `DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', "source"."event_timestamp")`.replace(
        '"source"."event_timestamp"',
        '"event_timestamp"',
      ),
    );
  });
  it("filters aggregates with CASE where FILTER (WHERE ...) does not exist", () => {
    expect(generated("bigquery")).toContain("COUNT(DISTINCT CASE WHEN");
    expect(generated("bigquery")).not.toContain("FILTER (WHERE");
  });
  it("refuses last_n on Redshift with the reason, instead of emitting SQL that means something else", () => {
    expect(() => generated("redshift", ["card_txn:amount_last_n_1d"])).toThrow(/no Redshift SQL yet/);
  });
});
