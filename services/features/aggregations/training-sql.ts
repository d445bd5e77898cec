import type { ResolvedAggregation } from "../../../definition/aggregations";
import type { DerivedFeature } from "../../../definition/catalog";
import { parseExpression, referencesOf } from "../../../definition/expressions/parse";
import { type Dialect, quote, type SqlContext, sourceRelation, type SqlView } from "../offline/sql";
import { doubleType, epochMicros, expressionSql, intDiv } from "./expression-sql";

/** What the SQL needs of an aggregated view, on top of its SqlView. */
export interface AggregatedDefinition {
  aggregations: ResolvedAggregation[];
  derived: DerivedFeature[];
}

const US = 1_000_000;

/** DuckDB and PostgreSQL filter aggregates with FILTER (WHERE ...); BigQuery and Redshift with CASE inside. */
const hasFilter = (d: Dialect) => d === "duckdb" || d === "postgres";

/** `fn(value)` over the rows where `condition` holds, in the dialect's idiom. */
export function filtered(dialect: Dialect, fn: string, value: string, condition: string): string {
  const distinct = fn.endsWith(" DISTINCT");
  const name = distinct ? fn.slice(0, -" DISTINCT".length) : fn;
  const inner = hasFilter(dialect) ? value : `CASE WHEN ${condition} THEN ${value} END`;
  const call = `${name}(${distinct ? "DISTINCT " : ""}${inner})`;
  return hasFilter(dialect) ? `${call} FILTER (WHERE ${condition})` : call;
}

/**
 * The newest non-null values (newest first; equal times: larger value first), at most n, as a
 * list; `first` takes the first one instead.
 */
export function newestValues(
  dialect: Dialect,
  value: string,
  us: string,
  condition: string,
  n: number,
  first: boolean,
  /** The aggregated column, when `value` is something else in its order (the times of a tile's values). */
  column = value,
): string {
  const order = `${us} DESC, ${column} DESC`;
  const where = `${condition} AND ${column} IS NOT NULL`;
  switch (dialect) {
    case "duckdb": {
      const list = `list(${value} ORDER BY ${order}) FILTER (WHERE ${where})`;
      return first ? `(${list})[1]` : `COALESCE(list_slice(${list}, 1, ${n}), [])`;
    }
    case "postgres": {
      const list = `(ARRAY_AGG(${value} ORDER BY ${order}) FILTER (WHERE ${where}))`;
      return first ? `${list}[1]` : `COALESCE(${list}[1:${n}], '{}')`;
    }
    case "bigquery": {
      const list = `ARRAY_AGG(IF(${where}, ${value}, NULL) IGNORE NULLS ORDER BY ${order} LIMIT ${n})`;
      // (IGNORE NULLS drops exactly the rows `where` excludes: value is non-null where it holds.)
      return first ? `${list}[SAFE_OFFSET(0)]` : `IFNULL(${list}, [])`;
    }
    default:
      throw new Error(
        "last and last_n have no Redshift SQL yet (Redshift has no ordered array aggregate); use another function, or another offline store for this view",
      );
  }
}

/** The SQL of one aggregation over the joined rows; `condition` selects the rows in its window. */
function aggregateSql(dialect: Dialect, a: ResolvedAggregation, column: string | undefined, us: string, condition: string): string {
  const double = doubleType(dialect);
  const value = column ?? us;
  switch (a.function) {
    case "count":
      return filtered(dialect, "COUNT", value, condition);
    case "sum":
      return `CAST(${filtered(dialect, "SUM", value, condition)} AS ${double})`;
    case "mean":
      return filtered(dialect, "AVG", `CAST(${value} AS ${double})`, condition);
    case "min":
      return filtered(dialect, "MIN", value, condition);
    case "max":
      return filtered(dialect, "MAX", value, condition);
    case "variance":
      return filtered(dialect, "VAR_SAMP", `CAST(${value} AS ${double})`, condition);
    case "stddev":
      return filtered(dialect, "STDDEV_SAMP", `CAST(${value} AS ${double})`, condition);
    case "count_distinct":
      return filtered(dialect, "COUNT DISTINCT", value, condition);
    case "last":
      return newestValues(dialect, value, us, condition, 1, true);
    default:
      return newestValues(dialect, value, us, condition, a.n ?? 1, false);
  }
}

/** `where` compiled against the raw event columns of the source alias. */
export function whereSql(dialect: Dialect, a: ResolvedAggregation, source: string): string | undefined {
  if (!a.where) return undefined;
  return expressionSql(dialect, parseExpression(a.where), (ref) => `${source}.${quote(dialect, ref.name)}`);
}

/**
 * The CTE `<view>__asof` of a training set for an aggregated view: for each entity row, every
 * aggregation as of the row's time t over the events with floor_s(t - W) < event time <= t
 * (definition/aggregations.ts), then the derived features. Columns: `_entity_row` and
 * `<view>__<feature>` for the features asked for. A LEFT JOIN keeps rows without events
 * (counts 0, others null, last_n []).
 */
export function aggregatedViewCte(
  ctx: SqlContext,
  view: SqlView,
  definition: AggregatedDefinition,
  timestampColumn: string,
  features: string[],
): string {
  const d = ctx.dialect;
  // Only what is asked for (and what the asked derived features read) is computed.
  const derivedNeeded = definition.derived.filter((f) => features.includes(f.name));
  const read = new Set([...features, ...derivedNeeded.flatMap((f) => referencesOf(parseExpression(f.expression)).map((r) => r.name))]);
  definition = { aggregations: definition.aggregations.filter((a) => read.has(a.name)), derived: derivedNeeded };
  const q = (s: string) => quote(d, s);
  const src = q("source");
  const us = `${src}.${q("__us")}`;
  const entityUs = `${q("e")}.${q("__entity_us")}`;
  const span = Math.max(...definition.aggregations.map((a) => (a.windowSeconds + a.tileSeconds) * US));
  const full = (name: string) => q(`${view.name}__${name}`);
  const columns = definition.aggregations.map((a) => {
    const lower = `(${intDiv(d, `${entityUs} - ${a.windowSeconds * US}`, String(a.tileSeconds * US))} * ${a.tileSeconds * US})`;
    const where = whereSql(d, a, src);
    const condition = [`${us} > ${lower}`, ...(where ? [`(${where})`] : [])].join(" AND ");
    const column = a.column ? `${src}.${q(a.column)}` : undefined;
    return `    ${aggregateSql(d, a, column, us, condition)} AS ${full(a.name)}`;
  });
  const derived = definition.derived.map(
    (f) => `${expressionSql(d, parseExpression(f.expression), (ref) => `${q("agg")}.${full(ref.name)}`)} AS ${full(f.name)}`,
  );
  const keys = view.joinKeys.map(q);
  const ts = q(view.source.timestampField);
  return [
    `${q(`${view.name}__asof`)} AS (`,
    `  SELECT ${[`${q("agg")}.${q("_entity_row")}`, ...definition.aggregations.map((a) => `${q("agg")}.${full(a.name)}`), ...derived].join(",\n    ")}`,
    "  FROM (",
    `    SELECT ${entityUs.replace("__entity_us", "_entity_row")},`,
    columns.join(",\n"),
    `    FROM (SELECT ${q("_entity_row")}, ${keys.join(", ")}, ${epochMicros(d, q(timestampColumn))} AS ${q("__entity_us")} FROM ${q("entity")}) AS ${q("e")}`,
    `    LEFT JOIN (SELECT *, ${epochMicros(d, ts)} AS ${q("__us")} FROM ${sourceRelation(ctx, view.source)} AS ${q("raw")}) AS ${src}`,
    `      ON ${[...view.joinKeys.map((k) => `${src}.${q(k)} = ${q("e")}.${q(k)}`), `${us} <= ${entityUs}`, `${us} > ${entityUs} - ${span}`].join("\n      AND ")}`,
    `    GROUP BY ${q("e")}.${q("_entity_row")}`,
    `  ) AS ${q("agg")}`,
    ")",
  ].join("\n");
}
