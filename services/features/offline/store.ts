import type { ResolvedFeature } from "../../../definition/registry";
import type { ExportQuery } from "./export";
import type { Dialect, SqlView } from "./sql";

/** A row from the offline store, keyed by column name (values as the driver returns them). */
export type OfflineRow = Record<string, unknown>;

/** Entity rows for a training set: a CSV/Parquet file (by extension), or rows in memory. */
export type EntitySource = { file: string } | { rows: OfflineRow[] };

export interface TrainingSetRequest {
  entities: EntitySource;
  /** The entity rows' event time column. Defaults to "event_timestamp" (Feast's name). */
  timestampColumn: string;
  /** Entity columns' SQL types when rows are given in memory: join key -> entity value type. */
  joinKeyTypes: Record<string, "INT64" | "INT32" | "STRING" | "BYTES">;
  views: SqlView[];
  features: ResolvedFeature[];
  fullFeatureNames: boolean;
  /** Write the result here (CSV or Parquet by extension); when absent the rows are returned. */
  out?: string;
}

export interface TrainingSetResult {
  rows: number;
  /** The statement that produced it (for logs and --json). */
  sql: string;
  /** The rows, when no `out` file was asked for. */
  records?: OfflineRow[];
}

export interface ExportRequest {
  /** The rows to export and their key columns (offline/export.ts). */
  query: ExportQuery;
  /** The window, recorded in the manifest. */
  start: Date;
  end: Date;
  shards: number;
  /** Local directory (DuckDB, PostgreSQL), gs://bucket/prefix (BigQuery) or s3://bucket/prefix (Redshift). */
  uri: string;
}

/** What an export wrote: kept in the materialization state so every writer reads the same one. */
export interface ExportManifest {
  uri: string;
  shards: number;
  /** Rows per shard, index = shard. */
  rows: number[];
  /** The window exported (ISO). */
  start: string;
  end: string;
}

/**
 * An offline store: where feature history lives. Adding one is a file implementing this and a
 * case in `openOfflineStore`; the SQL comes from offline/sql.ts for its dialect.
 */
export interface OfflineStore {
  readonly dialect: Dialect;
  /** Latest row per entity key with event time in [start, end], streamed in batches; never all rows at once. */
  latestRows(view: SqlView, features: string[], start: Date, end: Date): AsyncIterable<OfflineRow[]>;
  /** Any export query's rows (an aggregated view's tiles), streamed in batches like latestRows. */
  streamRows(query: ExportQuery): AsyncIterable<OfflineRow[]>;
  /**
   * Pushdown of materialization: the store itself writes the latest row per key in the window as
   * Parquet under `uri`, split into `shards` by the stable key hash (offline/export.ts), and
   * returns how many rows each shard holds. Writers then read only their shard.
   */
  exportShards(request: ExportRequest): Promise<ExportManifest>;
  /** Point-in-time-correct training set. */
  trainingSet(request: TrainingSetRequest): Promise<TrainingSetResult>;
  /** Appends pushed rows to the view's source table; returns rows written. */
  append(view: SqlView, rows: OfflineRow[]): Promise<number>;
  close(): Promise<void>;
}

/** SQL type for an entity join key column. */
export function entitySqlType(dialect: Dialect, type: "INT64" | "INT32" | "STRING" | "BYTES"): string {
  const bytes = dialect === "postgres" ? "BYTEA" : dialect === "bigquery" ? "BYTES" : "BLOB";
  return { INT64: "BIGINT", INT32: "INTEGER", STRING: dialect === "bigquery" ? "STRING" : "VARCHAR", BYTES: bytes }[type];
}

export { openOfflineStore } from "./open";
