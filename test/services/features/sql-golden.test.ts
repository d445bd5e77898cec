import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveFeatureRef } from "../../../definition/registry";
import { type Dialect, latestRowsSql, type SqlContext, trainingSetSql } from "../../../services/features/offline/sql";
import { sqlViewOf } from "../../../services/features/offline/view";
import { fixtureCatalog } from "./support";

/**
 * BigQuery and Redshift cannot run here, so their SQL is pinned by golden files, reviewed by hand
 * against each warehouse's documented syntax (BigQuery: backtick identifiers, TIMESTAMP_SUB;
 * Redshift: DATEADD). The same generator's DuckDB and PostgreSQL output runs for real in
 * training-set.test.ts and materialize.test.ts.
 */
const catalog = fixtureCatalog();
const features = [
  "driver_hourly_stats:conv_rate",
  "driver_hourly_stats:avg_daily_trips",
  "zone_demand:demand",
  "rider_profile:home_city",
].map((ref) => resolveFeatureRef(catalog, ref));
const views = ["driver_hourly_stats", "zone_demand", "rider_profile"].map((name) => sqlViewOf(catalog, name));
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
const golden = (name: string) => readFileSync(join(__dirname, "golden", name), "utf8").trimEnd();

/** The generated SQL for a dialect, in the golden files' layout. */
function generated(dialect: "bigquery" | "redshift"): { latest: string; trainingSet: string } {
  const { ctx, entities } = contexts[dialect];
  return {
    latest: latestRowsSql(
      ctx,
      views[0] as (typeof views)[number],
      ["conv_rate", "acc_rate", "avg_daily_trips"],
      new Date("2024-05-01T00:00:00Z"),
      new Date("2024-05-02T00:00:00Z"),
    ),
    trainingSet: trainingSetSql(ctx, {
      entityRelation: entities,
      entityColumns: ["driver_id", "zone", "hour", "rider_id", "event_timestamp"],
      timestampColumn: "event_timestamp",
      views,
      features,
      fullFeatureNames: true,
    }),
  };
}

describe.each(["bigquery", "redshift"] as const)("%s SQL", (dialect: Dialect & ("bigquery" | "redshift")) => {
  it("for materialization (latest row per key in the window) matches the golden file", () => {
    expect(generated(dialect).latest).toBe(golden(`${dialect}-latest.sql`));
  });
  it("for a point-in-time training set matches the golden file", () => {
    expect(generated(dialect).trainingSet).toBe(golden(`${dialect}-training-set.sql`));
  });
});

describe("dialect features the golden files pin", () => {
  it("subtracts the TTL with each warehouse's own syntax and skips it for a 0s TTL", () => {
    expect(golden("bigquery-training-set.sql")).toContain("TIMESTAMP_SUB(`entity`.`event_timestamp`, INTERVAL 7200 SECOND)");
    expect(golden("redshift-training-set.sql")).toContain('DATEADD(second, -3600, "entity"."event_timestamp")');
    const riderJoin = golden("redshift-training-set.sql").split('"rider_profile__asof" AS (')[1]?.split(")\n")[0] ?? "";
    expect(riderJoin).not.toMatch(/DATEADD/);
  });
  it("joins on every join key of a multi-key entity", () => {
    expect(golden("redshift-training-set.sql")).toContain('"source"."zone" = "entity"."zone"\n    AND "source"."hour" = "entity"."hour"');
  });
});
