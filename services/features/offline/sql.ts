import type { FeatureView, OnDemandFeatureView } from "../../../definition/catalog";
import { parseExpression } from "../../../definition/expressions/parse";
import type { ResolvedFeature } from "../../../definition/registry";
import { expressionSql, scalarSqlType } from "../aggregations/expression-sql";
import { type AggregatedDefinition, aggregatedViewCte } from "../aggregations/training-sql";

/**
 * SQL for the offline stores, generated per dialect from the same feature view definitions, so
 * materialization and training sets read features exactly the same way everywhere.
 *
 * Dialect differences handled here:
 *   - identifiers: BigQuery quotes with backticks; DuckDB, PostgreSQL and Redshift with "";
 *   - time arithmetic: PostgreSQL and DuckDB `ts - INTERVAL 'N seconds'`; Redshift `DATEADD(second, -N, ts)`
 *     (Redshift's INTERVAL literals do not mix with TIMESTAMPTZ columns the same way, and DATEADD is its
 *     idiom); BigQuery `TIMESTAMP_SUB(ts, INTERVAL N SECOND)`;
 *   - timestamp literals: `TIMESTAMP '...'` except BigQuery's `TIMESTAMP('...')`;
 *   - sources: DuckDB reads a file path with read_parquet/read_csv_auto; BigQuery qualifies bare
 *     table names with project.dataset.
 * PostgreSQL stands in for Redshift's SQL in tests: both run the same statement shape (CTEs,
 * ROW_NUMBER windows with ORDER BY, LEFT JOINs); only the time arithmetic above differs.
 */
export type Dialect = "duckdb" | "postgres" | "bigquery" | "redshift";

/** A feature view as the SQL needs it. */
export interface SqlView {
  name: string;
  joinKeys: string[];
  source: FeatureView["source"];
  ttlSeconds: number;
  /** Aggregated views: their aggregations and derived features (services/features/aggregations). */
  aggregated?: AggregatedDefinition;
  /** On-demand views: computed in the training set's final SELECT from entity columns and other views. */
  onDemand?: OnDemandFeatureView;
  /** Features a plain view's CTE selects besides the requested ones (read by on-demand features). */
  extraFeatures?: string[];
}

export interface SqlContext {
  dialect: Dialect;
  /** BigQuery only: "project.dataset" used for bare table names. */
  defaultDataset?: string;
}

export function quote(dialect: Dialect, identifier: string): string {
  return dialect === "bigquery" ? `\`${identifier.replace(/`/g, "")}\`` : `"${identifier.replace(/"/g, '""')}"`;
}

const FILE = /\.(parquet|csv|tsv)(\.gz)?$|[*/]/i;

/** The FROM-clause relation of a view's source. */
export function sourceRelation(ctx: SqlContext, source: FeatureView["source"]): string {
  if (source.query) return `(${source.query})`;
  const table = source.table as string;
  if (ctx.dialect === "duckdb" && FILE.test(table)) {
    const literal = `'${table.replace(/'/g, "''")}'`;
    return /\.parquet$|\*$/i.test(table) ? `read_parquet(${literal})` : `read_csv_auto(${literal})`;
  }
  if (ctx.dialect === "bigquery") {
    const qualified = table.split(".").length >= 3 || !ctx.defaultDataset ? table : `${ctx.defaultDataset}.${table}`;
    return `\`${qualified.replace(/`/g, "")}\``;
  }
  return table
    .split(".")
    .map((part) => quote(ctx.dialect, part))
    .join(".");
}

/** A UTC timestamp literal. */
export function timestampLiteral(dialect: Dialect, at: Date): string {
  const text = at.toISOString().replace("T", " ").replace("Z", "");
  return dialect === "bigquery" ? `TIMESTAMP('${text}+00:00')` : `TIMESTAMP '${text}'`;
}

/** `ts` minus a number of seconds. */
export function minusSeconds(dialect: Dialect, ts: string, seconds: number): string {
  switch (dialect) {
    case "bigquery":
      return `TIMESTAMP_SUB(${ts}, INTERVAL ${seconds} SECOND)`;
    case "redshift":
      return `DATEADD(second, -${seconds}, ${ts})`;
    default:
      return `${ts} - INTERVAL '${seconds} seconds'`;
  }
}

/**
 * The latest row per entity key with event time in [start, end] (Feast's pull_latest_from_table_or_query):
 * ties on event time are broken by the created timestamp, later wins. Columns: join keys, the
 * features, `event_timestamp`.
 */
export function latestRowsSql(ctx: SqlContext, view: SqlView, features: string[], start: Date, end: Date): string {
  const q = (s: string) => quote(ctx.dialect, s);
  const ts = q(view.source.timestampField);
  const keys = view.joinKeys.map(q);
  const order = [`${ts} DESC`, ...(view.source.createdTimestampField ? [`${q(view.source.createdTimestampField)} DESC`] : [])];
  const columns = [...keys, ...features.map(q)];
  return [
    `SELECT ${columns.join(", ")}, ${ts} AS ${q("event_timestamp")}`,
    "FROM (",
    `  SELECT ${columns.join(", ")}, ${ts},`,
    `    ROW_NUMBER() OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${order.join(", ")}) AS ${q("_feast_row")}`,
    `  FROM ${sourceRelation(ctx, view.source)} AS ${q("source")}`,
    `  WHERE ${ts} BETWEEN ${timestampLiteral(ctx.dialect, start)} AND ${timestampLiteral(ctx.dialect, end)}`,
    `) AS ${q("latest")}`,
    `WHERE ${q("_feast_row")} = 1`,
  ].join("\n");
}

export interface TrainingSetSql {
  /** Relation holding the entity rows: their columns plus `_entity_row` (input order). */
  entityRelation: string;
  /** Entity columns to return, in order (without `_entity_row`). */
  entityColumns: string[];
  /** The entity dataframe's event time column. */
  timestampColumn: string;
  views: SqlView[];
  features: ResolvedFeature[];
  fullFeatureNames: boolean;
}

/**
 * Point-in-time-correct join (Feast's get_historical_features): for each entity row and feature
 * view, the latest feature row with event time <= the entity row's time and, when the view has a
 * TTL, >= that time minus the TTL; otherwise null. Ties are broken by the created timestamp.
 * Output rows keep the entity dataframe's order.
 */
export function trainingSetSql(ctx: SqlContext, spec: TrainingSetSql): string {
  const q = (s: string) => quote(ctx.dialect, s);
  const entityTs = `${q("entity")}.${q(spec.timestampColumn)}`;
  const ctes: string[] = [`${q("entity")} AS (SELECT * FROM ${spec.entityRelation} AS ${q("entity_rows")})`];
  const selects = spec.entityColumns.map((c) => `${q("entity")}.${q(c)}`);
  const joins: string[] = [];
  for (const view of spec.views) {
    if (view.onDemand) continue;
    if (view.aggregated) {
      const cte = q(`${view.name}__asof`);
      const asked = [...spec.features.filter((f) => f.featureView === view.name).map((f) => f.name), ...(view.extraFeatures ?? [])];
      ctes.push(aggregatedViewCte(ctx, view, view.aggregated, spec.timestampColumn, asked));
      joins.push(`LEFT JOIN ${cte} ON ${cte}.${q("_entity_row")} = ${q("entity")}.${q("_entity_row")}`);
      continue;
    }
    const requested = spec.features.filter((f) => f.featureView === view.name);
    const features = [
      ...requested,
      ...(view.extraFeatures ?? [])
        .filter((name) => !requested.some((f) => f.name === name))
        .map((name) => ({ name, fullName: `${view.name}__${name}` })),
    ];
    if (features.length === 0) continue;
    const cte = q(`${view.name}__asof`);
    const ts = `${q("source")}.${q(view.source.timestampField)}`;
    const order = [
      `${ts} DESC`,
      ...(view.source.createdTimestampField ? [`${q("source")}.${q(view.source.createdTimestampField)} DESC`] : []),
    ];
    const on = [...view.joinKeys.map((k) => `${q("source")}.${q(k)} = ${q("entity")}.${q(k)}`), `${ts} <= ${entityTs}`];
    if (view.ttlSeconds > 0) on.push(`${ts} >= ${minusSeconds(ctx.dialect, entityTs, view.ttlSeconds)}`);
    ctes.push(
      [
        `${cte} AS (`,
        `  SELECT ${q("entity")}.${q("_entity_row")}, ${features.map((f) => `${q("source")}.${q(f.name)} AS ${q(f.fullName)}`).join(", ")},`,
        `    ROW_NUMBER() OVER (PARTITION BY ${q("entity")}.${q("_entity_row")} ORDER BY ${order.join(", ")}) AS ${q("_feast_rank")}`,
        `  FROM ${q("entity")}`,
        `  JOIN ${sourceRelation(ctx, view.source)} AS ${q("source")}`,
        `    ON ${on.join("\n    AND ")}`,
        ")",
      ].join("\n"),
    );
    joins.push(`LEFT JOIN ${cte} ON ${cte}.${q("_entity_row")} = ${q("entity")}.${q("_entity_row")} AND ${cte}.${q("_feast_rank")} = 1`);
  }
  const onDemand = new Map(spec.views.filter((v) => v.onDemand).map((v) => [v.name, v.onDemand as OnDemandFeatureView]));
  for (const f of spec.features) {
    const odfv = onDemand.get(f.featureView);
    const column = odfv ? onDemandSql(ctx, odfv, f.name) : `${q(`${f.featureView}__asof`)}.${q(f.fullName)}`;
    selects.push(`${column} AS ${q(spec.fullFeatureNames ? f.fullName : f.name)}`);
  }
  return [
    `WITH ${ctes.join(",\n")}`,
    `SELECT ${selects.join(",\n  ")}`,
    `FROM ${q("entity")}`,
    ...joins,
    `ORDER BY ${q("entity")}.${q("_entity_row")}`,
  ].join("\n");
}

/**
 * An on-demand feature in SQL: request fields are the entity rows' columns (cast to their
 * declared dtype), "view:feature" references the view's as-of column.
 */
function onDemandSql(ctx: SqlContext, view: OnDemandFeatureView, feature: string): string {
  const q = (s: string) => quote(ctx.dialect, s);
  const definition = view.features.find((f) => f.name === feature);
  if (!definition) throw new Error(`on-demand feature view "${view.name}" has no feature "${feature}"`);
  return expressionSql(ctx.dialect, parseExpression(definition.expression), (ref) => {
    if (ref.view) return `${q(`${ref.view}__asof`)}.${q(`${ref.view}__${ref.name}`)}`;
    const field = view.request.find((r) => r.name === ref.name);
    return `CAST(${q("entity")}.${q(ref.name)} AS ${scalarSqlType(ctx.dialect, field?.dtype ?? "String")})`;
  });
}
