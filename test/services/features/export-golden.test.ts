import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  bigqueryExportSql,
  exportUri,
  latestRowsQuery,
  redshiftUnloadSql,
  shardExpression,
} from "../../../services/features/offline/export";
import { unloadedRows } from "../../../services/features/offline/redshift";
import { sqlViewOf } from "../../../services/features/offline/view";
import { fixtureCatalog } from "./support";

/**
 * BigQuery's EXPORT DATA and Redshift's UNLOAD cannot run here, so their statements are pinned by
 * golden files, reviewed by hand against each warehouse's documented syntax (EXPORT DATA OPTIONS
 * uri/format/overwrite with one '*' in the uri; UNLOAD ... FORMAT AS PARQUET PARTITION BY, MANIFEST
 * VERBOSE). The shard expression runs for real in DuckDB and PostgreSQL (materialize-shard.test.ts).
 */
const view = sqlViewOf(fixtureCatalog(), "driver_hourly_stats");
const query = latestRowsQuery(
  view,
  ["conv_rate", "acc_rate", "avg_daily_trips"],
  new Date("2024-05-01T00:00:00Z"),
  new Date("2024-05-02T00:00:00Z"),
);
const golden = (name: string) => readFileSync(join(__dirname, "golden", name), "utf8").trimEnd();

describe("export SQL", () => {
  it("BigQuery scans the window once into a temporary table and exports each shard to GCS Parquet", () => {
    const sql = bigqueryExportSql(
      { dialect: "bigquery", defaultDataset: "acme-ml.features" },
      query,
      3,
      exportUri("gs://acme-ml-artifacts/materialization", "driver_hourly_stats", "run-1"),
    );
    expect(sql).toBe(golden("bigquery-export.sql"));
    expect(sql.match(/EXPORT DATA/g)).toHaveLength(3);
  });

  it("Redshift unloads every shard to S3 Parquet in one statement, quotes doubled inside the literal", () => {
    const sql = redshiftUnloadSql(
      query,
      3,
      exportUri("s3://acme-ml-artifacts/materialization", "driver_hourly_stats", "run-1"),
      "arn:aws:iam::123456789012:role/redshift-unload",
    );
    expect(sql).toBe(golden("redshift-unload.sql"));
  });

  it("refuses an export URI the warehouse cannot write", () => {
    expect(() => bigqueryExportSql({ dialect: "bigquery" }, query, 2, "s3://b/p")).toThrow("must start with gs://");
    expect(() => redshiftUnloadSql(query, 2, "gs://b/p")).toThrow("must start with s3://");
  });

  it("hashes the same text of the join keys in every dialect", () => {
    for (const dialect of ["duckdb", "postgres", "bigquery", "redshift"] as const) {
      const expression = shardExpression(dialect, ["driver_id", "zone"], 8);
      expect(expression.toLowerCase()).toContain("md5(");
      expect(expression).toContain("'|'");
      expect(expression).toMatch(/8\)?$/);
    }
  });

  it("counts rows per shard from an UNLOAD verbose manifest and rejects a file outside the shards", () => {
    const manifest = {
      entries: [
        { url: "s3://b/m/driver_hourly_stats/run-1/_shard=0/0000_part_00.parquet", meta: { record_count: 10 } },
        { url: "s3://b/m/driver_hourly_stats/run-1/_shard=2/0001_part_00.parquet", meta: { record_count: 7 } },
        { url: "s3://b/m/driver_hourly_stats/run-1/_shard=2/0002_part_00.parquet", meta: { record_count: 5 } },
      ],
    };
    expect(unloadedRows(manifest, 3)).toEqual([10, 0, 12]);
    expect(() => unloadedRows({ entries: [{ url: "s3://b/_shard=3/x.parquet" }] }, 3)).toThrow("_shard=<0..2>");
  });
});
