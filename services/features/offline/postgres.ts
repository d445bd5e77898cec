import pg from "pg";
import { type ExportQuery, latestRowsQuery, shardedSql } from "./export";
import { readRecords, writeRecords } from "./files";
import { writeShardsFromRows } from "./shard-files";
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

const q = (s: string) => quote("postgres", s);
/** Rows fetched per cursor round trip while materializing. */
const FETCH_ROWS = 5000;

// Event times are UTC: read `timestamp without time zone` as UTC (node-pg would use local time),
// and int8 as a number like every other store's integers.
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 1114) return (text: string) => new Date(`${text.replace(" ", "T")}Z`);
    if (oid === 20) return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format as "text");
  }) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL offline store: feature history in tables; the local stand-in for Redshift's SQL.
 * Materialization reads through a server-side cursor, so memory stays flat.
 */
export class PostgresOfflineStore implements OfflineStore {
  readonly dialect = "postgres" as const;
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresOfflineStore> {
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 600_000, max: 4, types });
    pool.on("connect", (client) => void client.query("SET TIME ZONE 'UTC'"));
    pool.on("error", () => {});
    const store = new PostgresOfflineStore(pool);
    await pool.query("SELECT 1");
    return store;
  }

  latestRows(view: SqlView, features: string[], start: Date, end: Date): AsyncIterable<OfflineRow[]> {
    return this.streamRows(latestRowsQuery(view, features, start, end));
  }

  streamRows(query: ExportQuery): AsyncIterable<OfflineRow[]> {
    return this.cursor(query.sql({ dialect: "postgres" }));
  }

  /**
   * PostgreSQL computes the latest rows and their shard (the pushdown); it cannot write Parquet,
   * so the rows stream through a cursor into DuckDB's partitioned writer on local disk.
   */
  async exportShards(request: ExportRequest): Promise<ExportManifest> {
    const { query, start, end, shards, uri } = request;
    let fields: pg.FieldDef[] = [];
    const sql = shardedSql({ dialect: "postgres" }, query, shards);
    const rows = await writeShardsFromRows(
      this.cursor(sql, (f) => {
        fields = f;
      }),
      () => Object.fromEntries(fields.map((f) => [f.name, duckdbTypeOf(f.dataTypeID)])),
      uri,
      shards,
    );
    return { uri, shards, rows, start: start.toISOString(), end: end.toISOString() };
  }

  /** A server-side cursor over a query, FETCH_ROWS at a time: memory stays flat. */
  private async *cursor(sql: string, onFields?: (fields: pg.FieldDef[]) => void): AsyncIterable<OfflineRow[]> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN READ ONLY");
      await client.query(`DECLARE features_latest NO SCROLL CURSOR FOR ${sql}`);
      for (;;) {
        const { rows, fields } = await client.query(`FETCH ${FETCH_ROWS} FROM features_latest`);
        onFields?.(fields);
        if (rows.length === 0) break;
        yield rows as OfflineRow[];
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async trainingSet(request: TrainingSetRequest): Promise<TrainingSetResult> {
    const rows = "file" in request.entities ? await readRecords(request.entities.file) : request.entities.rows;
    const names = Object.keys(rows[0] ?? {});
    if (!names.includes(request.timestampColumn))
      throw new Error(`the entity rows have no "${request.timestampColumn}" column (their columns: ${names.join(", ")})`);
    const typeOf = (n: string) =>
      n === request.timestampColumn ? "TIMESTAMPTZ" : request.joinKeyTypes[n] ? entitySqlType("postgres", request.joinKeyTypes[n]) : "TEXT";
    const client = await this.pool.connect();
    const table = `features_entities_${process.pid}_${Date.now()}`;
    try {
      await client.query(`CREATE TEMP TABLE ${q(table)} (_entity_row BIGINT, ${names.map((n) => `${q(n)} ${typeOf(n)}`).join(", ")})`);
      for (let start = 0; start < rows.length; start += 1000) {
        const values: unknown[] = [];
        const tuples = rows.slice(start, start + 1000).map((row, i) => {
          values.push(start + i + 1);
          const rowNumber = values.length;
          const cells = names.map((n) => `${parameter(values, toParameter(row[n]))}::${typeOf(n)}`);
          return `($${rowNumber}, ${cells.join(", ")})`;
        });
        await client.query(`INSERT INTO ${q(table)} VALUES ${tuples.join(", ")}`, values);
      }
      const sql = trainingSetSql(
        { dialect: "postgres" },
        {
          entityRelation: q(table),
          entityColumns: names,
          timestampColumn: request.timestampColumn,
          views: request.views,
          features: request.features,
          fullFeatureNames: request.fullFeatureNames,
        },
      );
      const result = await client.query(sql);
      if (request.out) {
        await writeRecords(request.out, result.rows);
        return { rows: result.rows.length, sql };
      }
      return { rows: result.rows.length, sql, records: result.rows };
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${q(table)}`).catch(() => {});
      client.release();
    }
  }

  async append(view: SqlView, rows: OfflineRow[]): Promise<number> {
    if (!view.source.table) throw new Error(`feature view "${view.name}" reads a query; pushing offline needs a table source`);
    // Only columns the table has: a push payload may carry extra columns (Feast ignores them too).
    const { fields } = await this.pool.query(`SELECT * FROM ${sourceRelation({ dialect: "postgres" }, view.source)} LIMIT 0`);
    const columns = new Set(fields.map((f) => f.name));
    const names = Object.keys(rows[0] ?? {}).filter((n) => columns.has(n));
    const values: unknown[] = [];
    const tuples = rows.map((row) => `(${names.map((n) => parameter(values, toParameter(row[n]))).join(", ")})`);
    await this.pool.query(
      `INSERT INTO ${sourceRelation({ dialect: "postgres" }, view.source)} (${names.map(q).join(", ")}) VALUES ${tuples.join(", ")}`,
      values,
    );
    return rows.length;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Adds a bound parameter and returns its placeholder ($n). */
function parameter(values: unknown[], value: unknown): string {
  values.push(value);
  return `$${values.length}`;
}

function toParameter(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "bigint") return value.toString();
  return value ?? null;
}

/** DuckDB column type for a PostgreSQL type oid (what the staged rows are read back as). */
function duckdbTypeOf(oid: number): string {
  const types: Record<number, string> = {
    16: "BOOLEAN",
    17: "BLOB",
    20: "BIGINT",
    21: "SMALLINT",
    23: "INTEGER",
    700: "FLOAT",
    701: "DOUBLE",
    1114: "TIMESTAMP",
    1184: "TIMESTAMP",
    1700: "DOUBLE",
    1007: "INTEGER[]",
    1016: "BIGINT[]",
    1021: "FLOAT[]",
    1022: "DOUBLE[]",
    1009: "VARCHAR[]",
    1000: "BOOLEAN[]",
  };
  return types[oid] ?? "VARCHAR";
}
