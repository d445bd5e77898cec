/**
 * A column-oriented batch of rows, the shape both training sets (CSV/Parquet, read with DuckDB)
 * and prediction-log windows arrive in. Values stay as they came (number, string, boolean,
 * null); each feature is coerced to its profiled type when it is checked.
 */
import { existsSync } from "node:fs";
import { extname } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export type CellValue = number | string | boolean | null;

export interface Table {
  /** Number of rows. */
  rows: number;
  /** Values by column name; every column has `rows` entries (null for missing). */
  columns: Record<string, CellValue[]>;
}

export type FeatureType = "numeric" | "categorical";

/**
 * Builds a Table one row at a time, so a stream of records (a log window) is held as columns
 * only, never as row objects. A column first seen at row k is back-filled with k nulls.
 */
export class TableBuilder {
  private readonly columns: Record<string, CellValue[]> = {};
  private rows = 0;

  add(row: Readonly<Record<string, unknown>>): void {
    for (const [name, value] of Object.entries(row)) {
      let column = this.columns[name];
      if (!column) {
        column = new Array<CellValue>(this.rows).fill(null);
        this.columns[name] = column;
      }
      column.push(toCell(value));
    }
    this.rows++;
    for (const column of Object.values(this.columns)) if (column.length < this.rows) column.push(null);
  }

  build(): Table {
    return { rows: this.rows, columns: this.columns };
  }
}

/** Turns row objects into a Table; a column missing from a row counts as null. */
export function tableFromRows(rows: readonly Record<string, unknown>[]): Table {
  const builder = new TableBuilder();
  for (const row of rows) builder.add(row);
  return builder.build();
}

/** Normalises a value from JSON or DuckDB: bigint -> number, Date -> ISO string, objects -> null. */
export function toCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  return null;
}

/** Numeric when every present value is a number; otherwise categorical (strings, booleans). */
export function inferType(values: readonly CellValue[]): FeatureType {
  let seen = false;
  for (const v of values) {
    if (v === null) continue;
    if (typeof v !== "number") return "categorical";
    seen = true;
  }
  return seen ? "numeric" : "categorical";
}

export function isTabularFile(path: string): boolean {
  return [".csv", ".parquet", ".pq", ".tsv"].includes(extname(path).toLowerCase());
}

/** Reads a CSV or Parquet file (chosen by extension) with DuckDB into a Table. */
export async function readTableFile(path: string): Promise<Table> {
  if (!existsSync(path)) throw new Error(`${path}: file not found; pass a CSV or Parquet file`);
  const ext = extname(path).toLowerCase();
  const literal = `'${path.replace(/'/g, "''")}'`;
  const source =
    ext === ".parquet" || ext === ".pq"
      ? `read_parquet(${literal})`
      : ext === ".csv" || ext === ".tsv"
        ? `read_csv(${literal}, header = true)`
        : undefined;
  if (!source) throw new Error(`${path}: unsupported extension "${ext}"; use .csv or .parquet`);
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT * FROM ${source}`);
    const raw = reader.getColumnsObjectJS() as Record<string, unknown[]>;
    const columns: Record<string, CellValue[]> = {};
    let rows = 0;
    for (const [name, values] of Object.entries(raw)) {
      columns[name] = values.map(toCell);
      rows = values.length;
    }
    return { rows, columns };
  } catch (error) {
    throw new Error(`${path}: could not be read as ${ext.slice(1)}: ${(error as Error).message}`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
