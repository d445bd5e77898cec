import { createHash } from "node:crypto";
import { type Dialect, latestRowsSql, quote, type SqlContext, type SqlView } from "./sql";

/**
 * Pushdown of materialization: the warehouse computes the latest row per entity key (the same
 * `latestRowsSql` every path uses) and writes it, split into N shards, as Parquet where writers
 * can read it: DuckDB `COPY ... PARTITION_BY`, BigQuery `EXPORT DATA` to GCS, Redshift `UNLOAD ...
 * PARTITION BY` to S3. A shard is a directory `<uri>/_shard=<i>/` of Parquet files.
 *
 * The shard of a key is the same in every dialect and in TypeScript (`shardOfKey`), so a view
 * moved between warehouses keeps its shards, and tests can check the split:
 *   shard = uint32(first 8 hex digits of md5(text of join key 1 || '|' || join key 2 ...)) mod N
 * md5 and hex parsing exist in all four dialects; a warehouse's own hash (FARM_FINGERPRINT,
 * DuckDB's hash) would not agree with the others.
 */
export const SHARD_COLUMN = "_shard";

const TEXT: Record<Dialect, string> = { duckdb: "VARCHAR", postgres: "TEXT", redshift: "VARCHAR", bigquery: "STRING" };

/** The SQL expression of a row's shard in [0, shards), over the view's join key columns. */
export function shardExpression(dialect: Dialect, joinKeys: string[], shards: number): string {
  const text = joinKeys.map((k) => `COALESCE(CAST(${quote(dialect, k)} AS ${TEXT[dialect]}), '')`).join(" || '|' || ");
  switch (dialect) {
    case "duckdb":
      return `CAST(('0x' || substr(md5(${text}), 1, 8)) AS UBIGINT) % ${shards}`;
    case "postgres":
      return `('x' || substr(md5(${text}), 1, 8))::bit(32)::bigint % ${shards}`;
    case "redshift":
      return `MOD(STRTOL(SUBSTRING(MD5(${text}), 1, 8), 16), ${shards})`;
    case "bigquery":
      return `MOD(CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(${text})), 1, 8)) AS INT64), ${shards})`;
  }
}

/**
 * What an export runs: a query of one row per thing to write (the latest row per key of a plain
 * view, or fe's tile rows of an aggregated view) over `keyColumns`, generated for the store's SQL
 * context (BigQuery qualifies tables with the store's dataset).
 */
export interface ExportQuery {
  sql(ctx: SqlContext): string;
  keyColumns: string[];
}

/** The latest row per key in the window of a plain view. */
export function latestRowsQuery(view: SqlView, features: string[], start: Date, end: Date): ExportQuery {
  return { sql: (ctx) => latestRowsSql(ctx, view, features, start, end), keyColumns: view.joinKeys };
}

/** The export's rows with their shard as a column (what every export writes, split by it). */
export function shardedSql(ctx: SqlContext, query: ExportQuery, shards: number): string {
  const q = (s: string) => quote(ctx.dialect, s);
  return [
    `SELECT ${q("export_rows")}.*, ${shardExpression(ctx.dialect, query.keyColumns, shards)} AS ${q(SHARD_COLUMN)}`,
    `FROM (\n${query.sql(ctx)}\n) AS ${q("export_rows")}`,
  ].join("\n");
}

/** Where one run of one view exports: `<root>/<view>/<run>`; runs never share a prefix. */
export function exportUri(root: string, view: string, runId: string): string {
  return `${root.replace(/\/+$/, "")}/${view}/${runId.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/** The directory (prefix) of one shard under an export. */
export function shardUri(uri: string, shard: number): string {
  return `${uri}/${SHARD_COLUMN}=${shard}`;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** DuckDB: one statement writes every shard's directory (hive partitioning on the shard column). */
export function duckdbExportSql(query: ExportQuery, shards: number, uri: string): string {
  return [
    `COPY (\n${shardedSql({ dialect: "duckdb" }, query, shards)}\n)`,
    `TO ${literal(uri)} (FORMAT parquet, PARTITION_BY (${quote("duckdb", SHARD_COLUMN)}), OVERWRITE_OR_IGNORE)`,
  ].join("\n");
}

/**
 * BigQuery: `EXPORT DATA` has no partitioning, so a script computes the rows once into a temporary
 * table and exports each shard from it (the window is scanned once, not N times), then returns
 * the row count per shard for the manifest. `uri` is `gs://bucket/prefix`; the wildcard lets
 * BigQuery split a large shard into several files.
 */
export function bigqueryExportSql(ctx: SqlContext, query: ExportQuery, shards: number, uri: string): string {
  if (!uri.startsWith("gs://")) throw new Error(`BigQuery exports to GCS: the export URI "${uri}" must start with gs://`);
  const q = (s: string) => quote("bigquery", s);
  const statements = [`CREATE TEMP TABLE ${q("materialize_export")} AS\n${shardedSql(ctx, query, shards)};`];
  for (let shard = 0; shard < shards; shard++) {
    statements.push(
      [
        `EXPORT DATA OPTIONS (uri = ${literal(`${shardUri(uri, shard)}/part-*.parquet`)}, format = 'PARQUET', overwrite = true) AS`,
        `SELECT * EXCEPT (${q(SHARD_COLUMN)}) FROM ${q("materialize_export")} WHERE ${q(SHARD_COLUMN)} = ${shard};`,
      ].join("\n"),
    );
  }
  statements.push(
    `SELECT ${q(SHARD_COLUMN)} AS shard, COUNT(*) AS \`rows\` FROM ${q("materialize_export")} GROUP BY ${q(SHARD_COLUMN)} ORDER BY shard;`,
  );
  return statements.join("\n");
}

/**
 * Redshift: one `UNLOAD` writes every shard as Parquet under `s3://bucket/prefix/_shard=<i>/`
 * (PARTITION BY), with a verbose manifest whose `meta.record_count` per file gives the row count
 * per shard. The query is a string literal inside UNLOAD, so its quotes are doubled. `iamRole`
 * is the role Redshift assumes to write the bucket (`default` for the cluster's default role).
 */
export function redshiftUnloadSql(query: ExportQuery, shards: number, uri: string, iamRole = "default"): string {
  if (!uri.startsWith("s3://")) throw new Error(`Redshift unloads to S3: the export URI "${uri}" must start with s3://`);
  const role = iamRole === "default" ? "IAM_ROLE default" : `IAM_ROLE ${literal(iamRole)}`;
  return [
    `UNLOAD (${literal(shardedSql({ dialect: "redshift" }, query, shards))})`,
    `TO ${literal(`${uri}/`)}`,
    role,
    "FORMAT AS PARQUET",
    `PARTITION BY (${quote("redshift", SHARD_COLUMN)})`,
    // Files of at most 256 MB: a writer downloads and reads one file at a time.
    "MAXFILESIZE 256 MB",
    "MANIFEST VERBOSE",
    "ALLOWOVERWRITE",
  ].join("\n");
}

/** The shard of an entity key, computed as the SQL computes it (for tests, tools and docs). */
export function shardOfKey(values: (string | number | bigint)[], shards: number): number {
  const digest = createHash("md5").update(values.map(String).join("|"), "utf8").digest();
  return digest.readUInt32BE(0) % shards;
}
