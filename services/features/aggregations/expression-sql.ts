import type { Dtype } from "../../../definition/catalog";
import type { Expr } from "../../../definition/expressions/parse";
import type { Dialect } from "../offline/sql";

/**
 * SQL per dialect for the aggregation and expression compilers. Time is compared as epoch
 * microseconds (BIGINT) in every dialect, so tile edges are exact integers everywhere and no
 * engine's interval or time-zone rules can move an event across an edge.
 */

/** Epoch microseconds of a timestamp expression. */
export function epochMicros(dialect: Dialect, ts: string): string {
  switch (dialect) {
    case "duckdb":
      return `epoch_us(${ts})`;
    case "bigquery":
      return `UNIX_MICROS(${ts})`;
    case "redshift":
      return `DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', ${ts})`;
    default:
      // EXTRACT(EPOCH ...) is numeric (exact to the microsecond) since PostgreSQL 14.
      return `CAST(EXTRACT(EPOCH FROM ${ts}) * 1000000 AS BIGINT)`;
  }
}

/** Integer division of non-negative BIGINTs (every time here is after 1970). */
export function intDiv(dialect: Dialect, a: string, b: string): string {
  if (dialect === "duckdb") return `((${a}) // ${b})`;
  if (dialect === "bigquery") return `DIV(${a}, ${b})`;
  return `((${a}) / ${b})`;
}

export function doubleType(dialect: Dialect): string {
  return dialect === "duckdb" ? "DOUBLE" : dialect === "bigquery" ? "FLOAT64" : "DOUBLE PRECISION";
}

/** SQL type of a scalar dtype, for casting request fields read from the entity rows. */
export function scalarSqlType(dialect: Dialect, dtype: Dtype): string {
  const big = dialect === "bigquery";
  switch (dtype) {
    case "Int32":
    case "Int64":
      return big ? "INT64" : "BIGINT";
    case "Float32":
    case "Float64":
      return doubleType(dialect);
    case "Bool":
      return big ? "BOOL" : "BOOLEAN";
    case "UnixTimestamp":
      return "TIMESTAMP";
    default:
      return big ? "STRING" : "VARCHAR";
  }
}

export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function numberLiteral(dialect: Dialect, value: number, integer: boolean): string {
  // Float literals are doubles in every engine (PostgreSQL would read 2.5 as numeric otherwise).
  return integer ? String(value) : `CAST(${value} AS ${doubleType(dialect)})`;
}

const US_PER_DAY = 86_400_000_000;
const US_PER_HOUR = 3_600_000_000;

/**
 * Compiles a type-checked expression to SQL with the same null rules as the evaluator
 * (definition/expressions/evaluate.ts): NULLIF for division and modulo by zero, CASE for log,
 * least/greatest null when any argument is, so no engine turns a null into a number or an error.
 * `ref` renders a reference (a column, or a request field with its cast).
 */
export function expressionSql(dialect: Dialect, expr: Expr, ref: (r: { view?: string; name: string }) => string): string {
  const sql = (e: Expr): string => {
    switch (e.kind) {
      case "number":
        return numberLiteral(dialect, e.value, e.integer);
      case "string":
        return stringLiteral(e.value);
      case "bool":
        return e.value ? "TRUE" : "FALSE";
      case "null":
        return "NULL";
      case "ref":
        return ref(e);
      case "neg":
        return `(- ${sql(e.operand)})`;
      case "not":
        return `(NOT ${sql(e.operand)})`;
      case "binary": {
        const l = sql(e.left);
        const r = sql(e.right);
        switch (e.op) {
          case "/":
            return `(CAST(${l} AS ${doubleType(dialect)}) / NULLIF(CAST(${r} AS ${doubleType(dialect)}), 0))`;
          case "%":
            return modSql(dialect, l, `NULLIF(${r}, 0)`);
          case "||": {
            const text = dialect === "bigquery" ? "STRING" : "VARCHAR";
            return dialect === "bigquery"
              ? `CONCAT(CAST(${l} AS ${text}), CAST(${r} AS ${text}))`
              : `(CAST(${l} AS ${text}) || CAST(${r} AS ${text}))`;
          }
          case "!=":
            return `(${l} <> ${r})`;
          case "and":
            return `(${l} AND ${r})`;
          case "or":
            return `(${l} OR ${r})`;
          default:
            return `(${l} ${e.op} ${r})`;
        }
      }
      case "call":
        return callSql(dialect, e, e.args.map(sql));
      case "case": {
        const whens = e.whens.map(([c, v]) => `WHEN ${sql(c)} THEN ${sql(v)}`).join(" ");
        return `(CASE ${whens}${e.otherwise ? ` ELSE ${sql(e.otherwise)}` : ""} END)`;
      }
    }
  };
  return sql(expr);
}

function callSql(dialect: Dialect, e: Expr & { kind: "call" }, args: string[]): string {
  const [x = "NULL"] = args;
  const anyNull = args.map((a) => `${a} IS NULL`).join(" OR ");
  switch (e.fn) {
    case "coalesce":
      return `COALESCE(${args.join(", ")})`;
    case "least":
    case "greatest":
      return `(CASE WHEN ${anyNull} THEN NULL ELSE ${e.fn.toUpperCase()}(${args.join(", ")}) END)`;
    case "abs":
      return `ABS(${x})`;
    case "log":
      return `(CASE WHEN ${x} > 0 THEN LN(${x}) END)`;
    case "bucket": {
      const edges = e.edges ?? [];
      const whens = edges.map((edge, i) => `WHEN ${x} < ${edge} THEN ${i}`).join(" ");
      return `(CASE WHEN ${x} IS NULL THEN NULL ${whens} ELSE ${edges.length} END)`;
    }
    case "day_of_week":
      return dayOfWeekSql(dialect, x);
    case "hour_of_day":
      return modSql(dialect, intDiv(dialect, epochMicros(dialect, x), String(US_PER_HOUR)), "24");
    case "is_weekend":
      return `(${dayOfWeekSql(dialect, x)} >= 5)`;
    default:
      throw new Error(`unknown function "${e.fn}"`);
  }
}

/** 0 = Monday: 1970-01-01 was a Thursday (3), counted in whole UTC days. */
function dayOfWeekSql(dialect: Dialect, ts: string): string {
  return modSql(dialect, `(${intDiv(dialect, epochMicros(dialect, ts), String(US_PER_DAY))} + 3)`, "7");
}

/** a mod b (BigQuery has MOD() only). */
export function modSql(dialect: Dialect, a: string, b: string): string {
  return dialect === "bigquery" ? `MOD(${a}, ${b})` : `(${a} % ${b})`;
}
