import type { AddressInfo } from "node:net";
import { loadCatalog } from "../../../definition/load";
import type { Catalog } from "../../../definition/registry";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { type OfflineStore, openOfflineStore } from "../../../services/features/offline/store";
import type { FeatureValue } from "../../../services/features/values";
import { withSchema } from "../../support/postgres";

export const FIXTURE_CATALOG = "test/services/features/fixtures/catalog";
export const PROJECT = "rides_project";

export function fixtureCatalog(): Catalog {
  return loadCatalog(FIXTURE_CATALOG, PROJECT);
}

/** dynalite (a DynamoDB implementation on LevelDB) in this process, on a free port. */
export async function startDynalite(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dynalite = require("dynalite") as (options: { createTableMs: number; deleteTableMs?: number }) => import("node:http").Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** One value of every dtype of `driver_all_types`, with edges (negatives, unicode, empty lists, float32 rounding). */
export const ALL_TYPES_ROW: Record<string, FeatureValue> = {
  f_int32: -2147483648,
  f_int64: 9007199254740991,
  f_float32: Math.fround(0.1),
  f_float64: 0.30000000000000004,
  f_string: "zoë ✓",
  f_bytes: new Uint8Array([0, 1, 254, 255]),
  f_bool: false,
  f_ts: 1700000000,
  f_int32_list: [1, -2, 3],
  f_int64_list: [-9007199254740991, 0],
  f_float32_list: [Math.fround(1.5), Math.fround(-0.2)],
  f_float64_list: [],
  f_string_list: ["a", ""],
  f_bytes_list: [new Uint8Array([7]), new Uint8Array([])],
  f_bool_list: [true, false, true],
  f_ts_list: [0, 1700000001],
};

/** One row of the driver_hourly_stats offline table. */
export interface StatsRow {
  driver_id: number;
  event_timestamp: string;
  created: string;
  conv_rate: number | null;
  acc_rate: number | null;
  avg_daily_trips: number | null;
}

const sqlLiteral = (v: unknown) => (v === null ? "NULL" : typeof v === "string" ? `'${v}'` : String(v));

/** SQL (valid in DuckDB and PostgreSQL) creating driver_hourly_stats with these rows. */
export function driverStatsTableSql(rows: StatsRow[], table = "driver_hourly_stats"): string[] {
  const statements = [
    `CREATE TABLE ${table} (driver_id BIGINT, event_timestamp TIMESTAMP, created TIMESTAMP, conv_rate REAL, acc_rate DOUBLE PRECISION, avg_daily_trips BIGINT)`,
  ];
  for (let i = 0; i < rows.length; i += 1000) {
    const tuples = rows
      .slice(i, i + 1000)
      .map(
        (r) => `(${[r.driver_id, r.event_timestamp, r.created, r.conv_rate, r.acc_rate, r.avg_daily_trips].map(sqlLiteral).join(", ")})`,
      );
    statements.push(`INSERT INTO ${table} VALUES ${tuples.join(", ")}`);
  }
  return statements;
}

/** A real offline store for a test file, with a way to load its source tables and to drop it. */
export interface OfflineUnderTest {
  offline: OfflineStore;
  setup(sql: string[]): Promise<void>;
  done(): Promise<void>;
}

/**
 * The offline stores every offline test runs against, for real: DuckDB in memory and PostgreSQL
 * (Redshift's SQL stand-in) in a fresh schema named with `schemaPrefix`.
 */
export function offlineStoresUnderTest(schemaPrefix: string): [string, () => Promise<OfflineUnderTest>][] {
  return [
    [
      "duckdb",
      async () => {
        const offline = await DuckDBOfflineStore.open(":memory:");
        return {
          offline,
          setup: async (sql) => {
            for (const s of sql) await offline.run(s);
          },
          done: () => offline.close(),
        };
      },
    ],
    [
      "postgres",
      async () => {
        const schema = await withSchema(schemaPrefix);
        const offline = await openOfflineStore(schema.url);
        return {
          offline,
          setup: async (sql) => {
            for (const s of sql) await schema.client.query(s);
          },
          done: async () => {
            await offline.close();
            await schema.drop();
          },
        };
      },
    ],
  ];
}
