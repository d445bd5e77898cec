import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { copyFormat, fileRelation } from "./duckdb";
import type { OfflineRow } from "./store";

/** Reads a CSV/Parquet file (by extension) into rows, through an in-memory DuckDB. */
export async function readRecords(path: string): Promise<OfflineRow[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone='UTC'");
    return (await connection.runAndReadAll(`SELECT * FROM ${fileRelation(path)}`)).getRowObjectsJS() as OfflineRow[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Writes rows to a CSV/Parquet file (by extension) for stores whose results come back to the
 * client (PostgreSQL, BigQuery, Redshift): rows go through newline-delimited JSON into DuckDB's writer.
 */
export async function writeRecords(path: string, rows: OfflineRow[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const staging = join(tmpdir(), `features-${process.pid}-${Date.now()}.ndjson`);
  writeFileSync(staging, rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? Number(v) : v))).join("\n"));
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone='UTC'");
    await connection.run(
      `COPY (SELECT * FROM read_json_auto('${staging.replace(/'/g, "''")}')) TO '${path.replace(/'/g, "''")}' ${copyFormat(path)}`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(staging, { force: true });
  }
}
