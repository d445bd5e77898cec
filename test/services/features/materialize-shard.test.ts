import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestRowsQuery, SHARD_COLUMN, shardOfKey, shardUri } from "../../../services/features/offline/export";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { openOfflineStore } from "../../../services/features/offline/store";
import { sqlViewOf } from "../../../services/features/offline/view";
import { type RedisServer, startRedis } from "../../support/redis";
import { FIXTURE_CATALOG, fixtureCatalog, PROJECT } from "./support";
import { withSchema } from "../../support/postgres";

/**
 * The fan-out for real: DuckDB exports the rows to write in N Parquet shards, N writer processes
 * (the CLI each pod runs) write their shard into one redis-server, coordinating only through the
 * state kept in that Redis. The store they leave must equal, byte for byte, the store one writer
 * leaves; a writer killed mid-shard resumes and leaves the same store. Both kinds of view: a plain
 * view (the latest row per key, Feast's hashes) and an aggregated view (fe's tile rows, tile hashes).
 */
const MAIN = "services/features/main.ts";
const KEYS = 6000;
const WINDOW = ["2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"];
const STATE_PREFIX = "mlops-materialization:";
let dir: string;

/** Two versions per key: the later event wins; key % 7 == 0 ties on event time and the later created wins. */
const SOURCE = `CREATE TABLE driver_hourly_stats AS
  SELECT i AS driver_id, TIMESTAMP '2024-05-01 10:00:00' + to_seconds(i % 3600) AS event_timestamp,
         TIMESTAMP '2024-05-01 10:00:00' AS created, (i / 8.0)::REAL AS conv_rate, i / 3.0 AS acc_rate, (i * 1000003)::BIGINT AS avg_daily_trips
  FROM range(${KEYS}) t(i)
  UNION ALL
  SELECT i, TIMESTAMP '2024-05-01 10:00:00' + to_seconds(i % 3600) + CASE WHEN i % 7 = 0 THEN INTERVAL 0 SECOND ELSE INTERVAL 60 SECOND END,
         TIMESTAMP '2024-05-01 11:00:00', (i / 16.0)::REAL, i / 9.0, (i * 7)::BIGINT
  FROM range(${KEYS}) t(i)`;

/** Raw events of the aggregated view: three per card, spread over 20 hours (several 5m, 1h and 1d tiles), one before the window. */
const EVENTS = `CREATE TABLE transactions AS
  SELECT i % ${KEYS} AS card_id, TIMESTAMP '2024-04-30 23:30:00' + to_seconds((i * 997) % 72000) AS event_timestamp,
         ((i * 37) % 500) / 4.0 AS amount, (i % 11)::BIGINT AS merchant_id
  FROM range(${3 * KEYS}) t(i)`;

interface ViewCase {
  kind: string;
  catalog: string;
  project: string;
  view: string;
}
const CASES: ViewCase[] = [
  { kind: "plain view", catalog: FIXTURE_CATALOG, project: PROJECT, view: "driver_hourly_stats" },
  { kind: "aggregated view", catalog: "test/definition/fixtures/aggregations", project: "cards_project", view: "card_txn" },
];

function features(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { ...process.env, LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function finished(proc: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (d) => {
    stdout += d;
  });
  proc.stderr?.on("data", (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => proc.once("exit", (c) => resolve(c)));
  return { code, stdout, stderr };
}

function shardArgs(c: ViewCase, redisUrl: string, shard: string, exportRoot: string, extra: string[] = []): string[] {
  return [
    "materialize",
    ...WINDOW,
    "--catalog",
    c.catalog,
    "--project",
    c.project,
    "--views",
    c.view,
    "--offline-store",
    `duckdb:${join(dir, "offline.duckdb")}`,
    "--online-store",
    redisUrl,
    "--state",
    "online",
    "--shard",
    shard,
    "--export-uri",
    exportRoot,
    ...extra,
  ];
}

/** Every entity hash in the store (state keys left out), fields and values as hex, sorted. */
async function snapshot(url: string): Promise<Map<string, [string, string][]>> {
  const redis = new Redis(url);
  try {
    const out = new Map<string, [string, string][]>();
    for (const key of await redis.keysBuffer("*")) {
      if (key.toString("latin1").startsWith(STATE_PREFIX)) continue;
      const hash = await redis.hgetallBuffer(key);
      const fields = Object.entries(hash).map(
        ([f, v]) => [Buffer.from(f, "latin1").toString("hex"), v.toString("hex")] as [string, string],
      );
      out.set(key.toString("hex"), fields.sort());
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

interface ShardJson {
  rowsRead: number;
  rowsExpected: number;
  resumedAt: number;
  keysWritten: number;
  keysSkipped: number;
  exportedHere: boolean;
  alreadyDone: boolean;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "materialize-shard-"));
  const offline = await DuckDBOfflineStore.open(join(dir, "offline.duckdb"));
  await offline.run(SOURCE);
  await offline.run(EVENTS);
  await offline.close();
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CASES)("sharded materialization of a $kind", (c) => {
  let servers: RedisServer[] = [];
  let clean: Map<string, [string, string][]>;
  let cleanRows = 0;
  const root = (name: string) => join(dir, `${c.view}-${name}`);

  beforeAll(async () => {
    servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
    // The reference: one writer, one shard.
    const one = await finished(features(shardArgs(c, (servers[0] as RedisServer).url, "0/1", root("one"), ["--json"])));
    expect(one.stderr).toBe("");
    expect(one.code).toBe(0);
    cleanRows = (JSON.parse(one.stdout).shards[0] as ShardJson).rowsRead;
    clean = await snapshot((servers[0] as RedisServer).url);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it("one writer writes one record per key (plain: the latest row, created timestamp breaking ties)", () => {
    expect(clean.size).toBe(KEYS);
    expect(cleanRows).toBeGreaterThanOrEqual(KEYS);
  });

  it("three writer processes from DuckDB-exported shards leave a store byte-identical to one writer's", async () => {
    const url = (servers[1] as RedisServer).url;
    const runs = await Promise.all(["0/3", "1/3", "2/3"].map((s) => finished(features(shardArgs(c, url, s, root("three"), ["--json"])))));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const summaries = runs.map((r) => (JSON.parse(r.stdout) as { shards: ShardJson[] }).shards[0]);
    // One pod exported; each wrote only its shard; together every row once.
    expect(summaries.filter((s) => s?.exportedHere)).toHaveLength(1);
    expect(summaries.reduce((n, s) => n + (s?.keysWritten ?? 0), 0)).toBe(cleanRows);
    for (const s of summaries) expect(s?.rowsRead).toBeLessThan(cleanRows / 2);
    expect(await snapshot(url)).toEqual(clean);
    // The view's end advanced only once all three were done, and a rerun of the window writes nothing.
    const redis = new Redis(url);
    expect(await redis.get(`${STATE_PREFIX}${c.project}:end:${c.view}`)).toBe("2024-05-02T00:00:00.000Z");
    redis.disconnect();
    const again = await finished(features(shardArgs(c, url, "1/3", root("three"), ["--json"])));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).shards[0]).toMatchObject({ alreadyDone: true, rowsRead: 0, keysWritten: 0 });
  }, 120_000);

  it("a writer killed mid-shard resumes after its last acknowledged batch and leaves the same store as a clean run", async () => {
    const url = (servers[2] as RedisServer).url;
    const args = shardArgs(c, url, "0/1", root("killed"), ["--batch-rows", "100", "--json"]);
    const victim = features(args);
    const exit = finished(victim);
    const redis = new Redis(url);
    const acked = `${STATE_PREFIX}${c.project}:acked:${c.view}:20240501T000000000Z_20240502T000000000Z:0/1`;
    let ackedRows = 0;
    for (let i = 0; i < 600 && ackedRows < 1000; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ackedRows = Number((await redis.get(acked)) ?? 0);
    }
    victim.kill("SIGKILL");
    await exit;
    ackedRows = Number(await redis.get(acked));
    expect(ackedRows).toBeGreaterThan(0);
    expect(ackedRows).toBeLessThan(cleanRows);

    const resumed = await finished(features(args));
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout).shards[0] as ShardJson;
    // It read only what was not acknowledged; a plain view skips rows written after the last
    // acknowledgement (not newer), a tile row overwrites its tile with the same state.
    expect(summary.resumedAt).toBe(ackedRows);
    expect(summary.rowsRead).toBe(cleanRows - ackedRows);
    expect(summary.keysWritten + summary.keysSkipped).toBe(cleanRows - ackedRows);
    expect(await snapshot(url)).toEqual(clean);
    redis.disconnect();
  }, 120_000);
});

describe("a sharded run", () => {
  const c = CASES[0] as ViewCase;
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("a shard whose files are missing exits non-zero and says how many rows it expected", async () => {
    const root = join(dir, "missing");
    const first = await finished(features(shardArgs(c, server.url, "0/2", root, ["--run-id", "missing-files"])));
    expect(first.code, first.stderr).toBe(0);
    rmSync(shardUri(join(root, "driver_hourly_stats", "missing-files"), 1), { recursive: true, force: true });
    const second = await finished(features(shardArgs(c, server.url, "1/2", root, ["--run-id", "missing-files"])));
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/shard 1\/2: read 0 rows but the export at .* says this shard holds \d+/);
  }, 60_000);

  it("a bad shard flag or an unknown view exits 2, which the Job's podFailurePolicy fails fast on", async () => {
    const bad = await finished(features(shardArgs(c, server.url, "3/3", join(dir, "bad"))));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard "3/3" must be <index>/<count>');
    const unknown = await finished(features([...shardArgs(c, server.url, "0/1", join(dir, "bad")), "--views", "no_such_view"]));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('feature view "no_such_view" is not in the catalog');
  }, 60_000);
});

describe("shard assignment", () => {
  const view = sqlViewOf(fixtureCatalog(), "driver_hourly_stats");
  const query = latestRowsQuery(view, ["conv_rate"], new Date(WINDOW[0] as string), new Date(WINDOW[1] as string));

  it("puts every key in the shard TypeScript computes, in DuckDB and in PostgreSQL alike", async () => {
    const duck = await DuckDBOfflineStore.open(":memory:");
    await duck.run(SOURCE);
    const manifest = await duck.exportShards({
      query,
      start: new Date(WINDOW[0] as string),
      end: new Date(WINDOW[1] as string),
      shards: 5,
      uri: join(dir, "assign-duckdb"),
    });
    expect(manifest.rows.reduce((a, b) => a + b, 0)).toBe(KEYS);
    const expected = Array.from({ length: 5 }, () => 0);
    for (let i = 0; i < KEYS; i++) expected[shardOfKey([i], 5)] = (expected[shardOfKey([i], 5)] as number) + 1;
    expect(manifest.rows).toEqual(expected);
    const placed = await duck.query(
      `SELECT driver_id, ${SHARD_COLUMN} AS shard FROM read_parquet('${join(dir, "assign-duckdb")}/*/*.parquet', hive_partitioning = true) WHERE driver_id < 50 ORDER BY driver_id`,
    );
    for (const row of placed) expect(Number(row.shard)).toBe(shardOfKey([Number(row.driver_id)], 5));
    await duck.close();

    const schema = await withSchema("features_shard");
    try {
      const rows = await pgSourceSelect();
      await schema.client.query(
        "CREATE TABLE driver_hourly_stats (driver_id BIGINT, event_timestamp TIMESTAMP, created TIMESTAMP, conv_rate REAL, acc_rate DOUBLE PRECISION, avg_daily_trips BIGINT)",
      );
      await schema.client.query(`INSERT INTO driver_hourly_stats ${rows}`);
      const pg = await openOfflineStore(schema.url);
      const pgManifest = await pg.exportShards({
        query,
        start: new Date(WINDOW[0] as string),
        end: new Date(WINDOW[1] as string),
        shards: 5,
        uri: join(dir, "assign-postgres"),
      });
      await pg.close();
      expect(pgManifest.rows).toEqual(expected);
      // The same rows, values and event times in both exports' Parquet.
      const reader = await DuckDBOfflineStore.open(":memory:");
      const shard = (root: string) =>
        reader.query(
          `SELECT driver_id, event_timestamp, conv_rate FROM read_parquet('${shardUri(join(dir, root), 2)}/*.parquet') ORDER BY driver_id`,
        );
      const fromPostgres = await shard("assign-postgres");
      expect(fromPostgres).toHaveLength(expected[2] as number);
      expect(fromPostgres).toEqual(await shard("assign-duckdb"));
      await reader.close();
    } finally {
      await schema.drop();
    }
  }, 60_000);
});

/** The test source as a PostgreSQL SELECT (generate_series instead of DuckDB's range). */
async function pgSourceSelect(): Promise<string> {
  return `SELECT i, TIMESTAMP '2024-05-01 10:00:00' + make_interval(secs => i % 3600), TIMESTAMP '2024-05-01 10:00:00', (i / 8.0)::REAL, i / 3.0, i::BIGINT * 1000003
    FROM generate_series(0, ${KEYS - 1}) AS i
    UNION ALL
    SELECT i, TIMESTAMP '2024-05-01 10:00:00' + make_interval(secs => i % 3600) + CASE WHEN i % 7 = 0 THEN INTERVAL '0 seconds' ELSE INTERVAL '60 seconds' END,
      TIMESTAMP '2024-05-01 11:00:00', (i / 16.0)::REAL, i / 9.0, i::BIGINT * 7
    FROM generate_series(0, ${KEYS - 1}) AS i`;
}
