import { DEFAULT_ALLOWED_LATENESS, type ResolvedAggregation, resolveAggregations } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import { quote, type SqlContext, sourceRelation } from "../offline/sql";
import type { OfflineRow } from "../offline/store";
import { onlineViewOf } from "../online/view";
import { coerceEntityValue } from "../values";
import { doubleType, epochMicros, intDiv } from "./expression-sql";
import type { AggregationState } from "./state";
import { type TileWrite, tileField } from "./tile-store";
import { filtered, newestValues, whereSql } from "./training-sql";
import { jsonScalar } from "./values";

const US = 1_000_000;

/** What materialization runs and writes for one aggregated view (the seam with materialize*.ts). */
export interface TileExport {
  view: string;
  /** The range the SQL covers: range.start minus allowedLateness, down to the smallest tile edge. */
  start: Date;
  end: Date;
  /**
   * One row per (entity key, tile size, tile) with an event in (start, end]; each row holds the
   * complete state of its tile up to `end` (also events before `start`), so writing it overwrites
   * and is idempotent. Columns: the join keys, "_tile_seconds", "_tile_start" (epoch seconds),
   * then the state columns `encode` reads.
   */
  sql: string;
  keyColumns: string[];
  /** Every column of the rows, in order (what a shard reader selects). */
  columns: string[];
  encode(row: OfflineRow): TileWrite;
}

/** State columns of one aggregation, by state field (see state.ts), as SQL over the source alias. */
function stateColumns(ctx: SqlContext, a: ResolvedAggregation, i: number): [string, string][] {
  const d = ctx.dialect;
  const q = (s: string) => quote(d, s);
  const src = q("source");
  const us = `${src}.${q("__us")}`;
  const condition = whereSql(d, a, src) ?? "TRUE";
  const column = a.column ? `${src}.${q(a.column)}` : us;
  const double = doubleType(d);
  const name = (field: string) => `a${i}_${field}`;
  switch (a.function) {
    case "count":
      return [[name("c"), filtered(d, "COUNT", column, condition)]];
    case "sum":
    case "mean":
      return [
        [name("n"), filtered(d, "COUNT", column, condition)],
        [name("s"), `CAST(${filtered(d, "SUM", column, condition)} AS ${double})`],
      ];
    case "min":
    case "max":
      return [[name("v"), filtered(d, a.function.toUpperCase(), column, condition)]];
    case "variance":
    case "stddev":
      return [
        [name("n"), filtered(d, "COUNT", column, condition)],
        [name("m"), filtered(d, "AVG", `CAST(${column} AS ${double})`, condition)],
        [name("q"), `(${filtered(d, "VAR_POP", `CAST(${column} AS ${double})`, condition)} * ${filtered(d, "COUNT", column, condition)})`],
      ];
    case "count_distinct":
      return [[name("d"), distinctValues(ctx, column, condition)]];
    default: {
      const n = a.n ?? 1;
      return [
        [name("lv"), newestValues(d, column, us, condition, n, false)],
        [name("lt"), newestValues(d, us, us, condition, n, false, column)],
      ];
    }
  }
}

function distinctValues(ctx: SqlContext, column: string, condition: string): string {
  const where = `${condition} AND ${column} IS NOT NULL`;
  switch (ctx.dialect) {
    case "duckdb":
      return `list(DISTINCT ${column}) FILTER (WHERE ${where})`;
    case "postgres":
      return `ARRAY_AGG(DISTINCT ${column}) FILTER (WHERE ${where})`;
    case "bigquery":
      return `ARRAY_AGG(DISTINCT IF(${where}, ${column}, NULL) IGNORE NULLS)`;
    default:
      throw new Error(
        "count_distinct tiles have no Redshift SQL yet (no array aggregate); materialize this view from another offline store",
      );
  }
}

const numberOf = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A tile state from its SQL columns (the inverse of stateColumns). */
function stateOf(a: ResolvedAggregation, i: number, row: OfflineRow): AggregationState {
  const col = (field: string) => row[`a${i}_${field}`];
  switch (a.function) {
    case "count":
      return { c: numberOf(col("c")) };
    case "sum":
    case "mean":
      return { n: numberOf(col("n")), s: numberOf(col("s")) };
    case "min":
    case "max": {
      const v = col("v");
      return { v: v === null || v === undefined ? null : v instanceof Date ? v.getTime() * 1000 : Number(v) };
    }
    case "variance":
    case "stddev":
      return { n: numberOf(col("n")), m: numberOf(col("m")), q: numberOf(col("q")) };
    case "count_distinct":
      return { d: [...new Set(((col("d") as unknown[] | null) ?? []).map((v) => String(jsonScalar(v))))].sort() };
    default: {
      const values = (col("lv") as unknown[] | null) ?? [];
      const times = (col("lt") as unknown[] | null) ?? [];
      return { l: values.map((v, k) => [Number(times[k]), jsonScalar(v)]) };
    }
  }
}

/**
 * The materialization query of an aggregated view for (range.start, range.end]: whole tiles of
 * every tile size the view uses, recomputed from the raw events, reaching back by allowedLateness
 * so late events that arrived in the offline store since the last run are included.
 */
export function tileExport(
  catalog: Catalog,
  viewName: string,
  ctx: SqlContext,
  /** `endMicros` (epoch microseconds) refines `end` below the millisecond a Date holds. */
  range: { start: Date; end: Date; endMicros?: number },
): TileExport {
  const definition = catalog.featureViews[viewName];
  if (!definition) throw new Error(`feature view "${viewName}" is not in the catalog`);
  const aggregations = resolveAggregations(definition);
  if (aggregations.length === 0) throw new Error(`feature view "${viewName}" has no aggregations; materialize it as a plain view`);
  const view = onlineViewOf(catalog, viewName);
  const d = ctx.dialect;
  const q = (s: string) => quote(d, s);
  const lateness = (definition.allowedLateness ?? DEFAULT_ALLOWED_LATENESS) * US;
  const endUs = range.endMicros ?? range.end.getTime() * 1000;
  const sizes = [...new Set(aggregations.map((a) => a.tileSeconds))].sort((a, b) => a - b);
  const startUs = range.start.getTime() * 1000 - lateness;
  const keys = view.joinKeys.map((k) => q(k.name));
  const states = aggregations.flatMap((a, i) => stateColumns(ctx, a, i));
  const branches = sizes.map((s) => {
    const size = s * US;
    const from = Math.floor(startUs / size) * size;
    return [
      `SELECT ${keys.map((k) => `${q("source")}.${k}`).join(", ")}, CAST(${s} AS BIGINT) AS ${q("_tile_seconds")},`,
      `  (${q("source")}.${q("__k")} * ${s}) AS ${q("_tile_start")},`,
      `  ${states.map(([name, sql]) => `${sql} AS ${q(name)}`).join(",\n  ")}`,
      `FROM (SELECT *, ${intDiv(d, `${q("__us")} + ${size - 1}`, String(size))} - 1 AS ${q("__k")}`,
      `  FROM (SELECT *, ${epochMicros(d, q(definition.source.timestampField))} AS ${q("__us")} FROM ${sourceRelation(ctx, definition.source)} AS ${q("raw")}) AS ${q("timed")}`,
      `  WHERE ${q("__us")} > ${from} AND ${q("__us")} <= ${endUs}) AS ${q("source")}`,
      `GROUP BY ${[...keys.map((k) => `${q("source")}.${k}`), `${q("source")}.${q("__k")}`].join(", ")}`,
    ].join("\n");
  });
  const smallest = (sizes[0] as number) * US;
  return {
    view: viewName,
    start: new Date(Math.floor(Math.floor(startUs / smallest) * smallest) / 1000),
    end: range.end,
    sql: branches.join("\nUNION ALL\n"),
    keyColumns: view.joinKeys.map((k) => k.name),
    columns: [...view.joinKeys.map((k) => k.name), "_tile_seconds", "_tile_start", ...states.map(([name]) => name)],
    encode(row) {
      const tileSeconds = Number(row._tile_seconds);
      const state: Record<string, AggregationState> = {};
      aggregations.forEach((a, i) => {
        if (a.tileSeconds === tileSeconds) state[a.name] = stateOf(a, i, row);
      });
      const key = view.joinKeys.map((k) => {
        const value = row[k.name];
        if (value === undefined || value === null)
          throw new Error(`feature view "${viewName}": a tile row has no value for join key "${k.name}"`);
        return coerceEntityValue(k.type, value);
      });
      const tileStart = Number(row._tile_start);
      return { key, tileSeconds, tileStart, field: tileField(tileSeconds, tileStart), state: JSON.stringify(state) };
    },
  };
}
