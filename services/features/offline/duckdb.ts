import { mkdirSync, rmSync } from "node:fs";
import { dirname, extname } from "node:path";
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { duckdbExportSql, type ExportQuery, latestRowsQuery } from "./export";
import { countLocalShards } from "./shard-files";
import { quote, sourceRelation, type SqlView, trainingSetSql } from "./sql";
import {
  type ExportManifest,
  type ExportRequest,
  entitySqlType,
  type OfflineRow,
  type OfflineStore,
  type TrainingSetRequest,
  type TrainingSetResult,
} from "./store";

const q = (s: string) => quote("duckdb", s);
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `COPY ... TO` options for an output file, by extension. */
export function copyFormat(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") return "(FORMAT parquet)";
  if (ext === ".csv") return "(FORMAT csv, HEADER)";
  throw new Error(`output "${path}" must end in .parquet or .csv`);
}

/** Relation reading a CSV/Parquet file, by extension. */
export function fileRelation(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") return `read_parquet(${literal(path)})`;
  if (ext === ".csv") return `read_csv_auto(${literal(path)})`;
  throw new Error(`entity file "${path}" must end in .parquet or .csv`);
}

/**
 * DuckDB offline store: a database file whose tables (or views over Parquet/CSV), or file paths
 * named directly by a view's `source.table`, hold feature history. Local runs and tests.
 */
export class DuckDBOfflineStore implements OfflineStore {
  readonly dialect = "duckdb" as const;
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(path: string): Promise<DuckDBOfflineStore> {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    // Event times are UTC everywhere in the platform.
    await connection.run("SET TimeZone='UTC'");
    return new DuckDBOfflineStore(instance, connection);
  }

  /** Runs a statement (setup, tests, benchmarks). */
  async run(sql: string, values?: DuckDBValue[]): Promise<void> {
    await this.connection.run(sql, values);
  }

  async query(sql: string, values?: DuckDBValue[]): Promise<OfflineRow[]> {
    return (await this.connection.runAndReadAll(sql, values)).getRowObjectsJS() as OfflineRow[];
  }

  latestRows(view: SqlView, features: string[], start: Date, end: Date): AsyncIterable<OfflineRow[]> {
    return this.streamRows(latestRowsQuery(view, features, start, end));
  }

  async *streamRows(query: ExportQuery): AsyncIterable<OfflineRow[]> {
    // A streaming result hands over one DuckDB chunk (2048 rows) at a time.
    const result = await this.connection.stream(query.sql({ dialect: "duckdb" }));
    for await (const rows of result.yieldRowObjectJs()) yield rows as OfflineRow[];
  }

  /** One COPY writes every shard; a rerun of an export replaces the directory, never mixes with a partial one. */
  async exportShards(request: ExportRequest): Promise<ExportManifest> {
    rmSync(request.uri, { recursive: true, force: true });
    mkdirSync(dirname(request.uri), { recursive: true });
    const { query, start, end, shards, uri } = request;
    await this.connection.run(duckdbExportSql(query, shards, uri));
    return { uri, shards, rows: await countLocalShards(this.connection, uri, shards), start: start.toISOString(), end: end.toISOString() };
  }

  async trainingSet(request: TrainingSetRequest): Promise<TrainingSetResult> {
    const table = `__entities_${process.pid}_${Date.now()}`;
    if ("file" in request.entities) {
      await this.connection.run(
        `CREATE TEMP TABLE ${q(table)} AS SELECT row_number() OVER () AS _entity_row, * FROM ${fileRelation(request.entities.file)}`,
      );
    } else {
      await this.loadRows(table, request, request.entities.rows);
    }
    try {
      const columns = (await this.connection.runAndReadAll(`SELECT * FROM ${q(table)} LIMIT 0`))
        .columnNames()
        .filter((c) => c !== "_entity_row");
      if (!columns.includes(request.timestampColumn))
        throw new Error(`the entity rows have no "${request.timestampColumn}" column (their columns: ${columns.join(", ")})`);
      const sql = trainingSetSql(
        { dialect: "duckdb" },
        {
          entityRelation: q(table),
          entityColumns: columns,
          timestampColumn: request.timestampColumn,
          views: request.views,
          features: request.features,
          fullFeatureNames: request.fullFeatureNames,
        },
      );
      if (request.out) {
        mkdirSync(dirname(request.out), { recursive: true });
        const copied = await this.connection.run(`COPY (${sql}) TO ${literal(request.out)} ${copyFormat(request.out)}`);
        return { rows: copied.rowsChanged, sql };
      }
      const records = ((await this.connection.runAndReadAll(sql)).getRowObjectsJS() as OfflineRow[]).map(plainRow);
      return { rows: records.length, sql, records };
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${q(table)}`);
    }
  }

  private async loadRows(table: string, request: TrainingSetRequest, rows: OfflineRow[]): Promise<void> {
    const names = Object.keys(rows[0] ?? {});
    const typeOf = (name: string) =>
      name === request.timestampColumn
        ? "TIMESTAMP"
        : request.joinKeyTypes[name]
          ? entitySqlType("duckdb", request.joinKeyTypes[name])
          : "VARCHAR";
    await this.connection.run(`CREATE TEMP TABLE ${q(table)} (_entity_row BIGINT, ${names.map((n) => `${q(n)} ${typeOf(n)}`).join(", ")})`);
    await insertRows(this.connection, table, names, typeOf, rows, true);
  }

  async append(view: SqlView, rows: OfflineRow[]): Promise<number> {
    if (!view.source.table || /\.(parquet|csv)$|[*/]/i.test(view.source.table)) {
      throw new Error(
        `feature view "${view.name}" reads ${view.source.table ? `the file ${view.source.table}` : "a query"}; pushing offline needs a table source`,
      );
    }
    const relation = sourceRelation({ dialect: "duckdb" }, view.source);
    const described = (await this.connection.runAndReadAll(`DESCRIBE ${relation}`)).getRowObjectsJS() as {
      column_name: string;
      column_type: string;
    }[];
    const types = new Map(described.map((d) => [d.column_name, d.column_type]));
    const names = Object.keys(rows[0] ?? {}).filter((n) => types.has(n));
    await insertRows(this.connection, view.source.table, names, (n) => types.get(n) as string, rows, false);
    return rows.length;
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Inserts rows with typed casts, 500 per statement (parameters bound, never spliced into SQL). */
async function insertRows(
  connection: DuckDBConnection,
  table: string,
  names: string[],
  typeOf: (name: string) => string,
  rows: OfflineRow[],
  withRowNumber: boolean,
): Promise<void> {
  const target = table.split(".").map(q).join(".");
  const columns = [...(withRowNumber ? ["_entity_row"] : []), ...names];
  for (let start = 0; start < rows.length; start += 500) {
    const batch = rows.slice(start, start + 500);
    const values: DuckDBValue[] = [];
    const tuples = batch.map((row, i) => {
      const cells = names.map((n) => {
        values.push(toParameter(row[n]));
        return `CAST($${values.length} AS ${typeOf(n)})`;
      });
      return `(${withRowNumber ? `${start + i + 1}, ` : ""}${cells.join(", ")})`;
    });
    await connection.run(`INSERT INTO ${target} (${columns.map(q).join(", ")}) VALUES ${tuples.join(", ")}`, values);
  }
}

/** BIGINT comes back as bigint; rows leave the store with JS numbers where exact, bigint beyond 2^53 (values.ts Int64). */
function plainRow(row: OfflineRow): OfflineRow {
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === "bigint") row[k] = exactInteger(v);
    else if (Array.isArray(v) && typeof v[0] === "bigint") row[k] = v.map(exactInteger);
  }
  return row;
}

function exactInteger(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function toParameter(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean" || typeof value === "bigint") return value;
  return JSON.stringify(value);
}
