import { nanosFromSeconds } from "../../../services/features/timestamp";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Catalog } from "../../../definition/registry";
import { FileMaterializationState, materialize, MemoryMaterializationState } from "../../../services/features/materialize";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { EmbeddedOnlineStore } from "../../../services/features/online/embedded";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { driverStatsTableSql, fixtureCatalog, type StatsRow, offlineStoresUnderTest } from "./support";

const catalog = fixtureCatalog();
const view = onlineViewOf(catalog, "driver_hourly_stats");
const at = (iso: string) => new Date(`${iso}Z`);
const seconds = (iso: string) => at(iso).getTime() / 1000;

const ROWS: StatsRow[] = [
  // Driver 1: three versions in the window; the latest event wins.
  {
    driver_id: 1,
    event_timestamp: "2024-05-01 10:00:00",
    created: "2024-05-01 10:00:00",
    conv_rate: 0.1,
    acc_rate: 0.1,
    avg_daily_trips: 10,
  },
  {
    driver_id: 1,
    event_timestamp: "2024-05-01 12:00:00",
    created: "2024-05-01 12:00:00",
    conv_rate: 0.3,
    acc_rate: 0.3,
    avg_daily_trips: 30,
  },
  {
    driver_id: 1,
    event_timestamp: "2024-05-01 11:00:00",
    created: "2024-05-01 13:00:00",
    conv_rate: 0.2,
    acc_rate: 0.2,
    avg_daily_trips: 20,
  },
  // Driver 2: two rows with the same event time; the later created timestamp wins.
  {
    driver_id: 2,
    event_timestamp: "2024-05-01 09:00:00",
    created: "2024-05-01 09:30:00",
    conv_rate: 0.5,
    acc_rate: 0.5,
    avg_daily_trips: 50,
  },
  {
    driver_id: 2,
    event_timestamp: "2024-05-01 09:00:00",
    created: "2024-05-01 09:45:00",
    conv_rate: 0.6,
    acc_rate: null,
    avg_daily_trips: 60,
  },
  // Driver 3: only after the window's end; driver 4: only before its start.
  {
    driver_id: 3,
    event_timestamp: "2024-05-02 01:00:00",
    created: "2024-05-02 01:00:00",
    conv_rate: 0.9,
    acc_rate: 0.9,
    avg_daily_trips: 90,
  },
  {
    driver_id: 4,
    event_timestamp: "2024-04-01 00:00:00",
    created: "2024-04-01 00:00:00",
    conv_rate: 0.4,
    acc_rate: 0.4,
    avg_daily_trips: 40,
  },
];

const stores = offlineStoresUnderTest("features_mat");

describe.each(stores)("materialization from %s", (_name, open) => {
  let ctx: Awaited<ReturnType<(typeof stores)[number][1]>>;
  beforeAll(async () => {
    ctx = await open();
    await ctx.setup(driverStatsTableSql(ROWS));
  });
  afterAll(async () => ctx?.done());

  it("keeps the latest row per entity key in the window, ties broken by the created timestamp", async () => {
    const online = new EmbeddedOnlineStore();
    const lines: string[] = [];
    const summary = await materialize({
      catalog,
      online,
      offline: ctx.offline,
      state: new MemoryMaterializationState(),
      views: ["driver_hourly_stats"],
      start: at("2024-05-01 00:00:00"),
      end: at("2024-05-01 23:59:59"),
      progress: (l) => lines.push(l),
    });
    const rows = await online.readFeatures(view, [[1], [2], [3], [4]], ["conv_rate", "acc_rate", "avg_daily_trips"]);
    expect(rows[0]).toEqual({
      eventTimestamp: nanosFromSeconds(seconds("2024-05-01 12:00:00")),
      values: { conv_rate: Math.fround(0.3), acc_rate: 0.3, avg_daily_trips: 30 },
    });
    expect(rows[1]).toEqual({
      eventTimestamp: nanosFromSeconds(seconds("2024-05-01 09:00:00")),
      values: { conv_rate: Math.fround(0.6), acc_rate: null, avg_daily_trips: 60 },
    });
    expect(rows[2]).toBeUndefined();
    expect(rows[3]).toBeUndefined();
    expect(summary).toMatchObject({ rowsRead: 2, keysWritten: 2 });
    expect(lines.at(-1)).toMatch(/2 rows read, 2 keys written in [\d.]+ s/);
  });

  it("materializes incrementally from the last recorded end, and the state survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mat-state-"));
    const path = join(dir, "state.json");
    const online = new EmbeddedOnlineStore();
    const first = await materialize({
      catalog,
      online,
      offline: ctx.offline,
      state: new FileMaterializationState(path),
      views: ["driver_hourly_stats"],
      end: at("2024-05-01 23:59:59"),
    });
    // No previous run: starts at end minus the view's 2 h TTL, so only driver 1's 12:00 row is in.
    expect(first.views[0]).toMatchObject({ start: "2024-05-01T21:59:59.000Z", rowsRead: 0 });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ driver_hourly_stats: "2024-05-01T23:59:59.000Z" });
    const second = await materialize({
      catalog,
      online,
      offline: ctx.offline,
      state: new FileMaterializationState(path),
      views: ["driver_hourly_stats"],
      end: at("2024-05-02 02:00:00"),
    });
    expect(second.views[0]).toMatchObject({
      start: "2024-05-01T23:59:59.000Z",
      end: "2024-05-02T02:00:00.000Z",
      rowsRead: 1,
      keysWritten: 1,
    });
    expect((await online.readFeatures(view, [[3]], ["avg_daily_trips"]))[0]?.values).toEqual({ avg_daily_trips: 90 });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("materialization at scale (DuckDB)", () => {
  it("streams the offline rows in chunks instead of loading them at once", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    await offline.run(`CREATE TABLE driver_hourly_stats AS SELECT i AS driver_id, TIMESTAMP '2024-05-01 00:00:00' + to_seconds(i % 3600) AS event_timestamp, TIMESTAMP '2024-05-01 00:00:00' AS created,
      (i / 7)::REAL AS conv_rate, i / 3.0 AS acc_rate, i::BIGINT AS avg_daily_trips FROM range(10000) t(i)`);
    const sizes: number[] = [];
    for await (const batch of offline.latestRows(
      {
        name: "driver_hourly_stats",
        joinKeys: ["driver_id"],
        source: catalog.featureViews.driver_hourly_stats?.source as never,
        ttlSeconds: 0,
      },
      ["conv_rate"],
      at("2024-01-01 00:00:00"),
      at("2024-06-01 00:00:00"),
    )) {
      sizes.push(batch.length);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2048);
    const online = new EmbeddedOnlineStore();
    const summary = await materialize({
      catalog,
      online,
      offline,
      state: new MemoryMaterializationState(),
      views: ["driver_hourly_stats"],
      start: at("2024-01-01 00:00:00"),
      end: at("2024-06-01 00:00:00"),
    });
    expect(summary.keysWritten).toBe(10_000);
    expect((await online.readFeatures(view, [[9999]], ["avg_daily_trips"]))[0]?.values.avg_daily_trips).toBe(9999);
    await offline.close();
  });

  it("reads a Parquet file named by the view's source", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mat-parquet-"));
    const file = join(dir, "stats.parquet");
    const offline = await DuckDBOfflineStore.open(":memory:");
    for (const s of driverStatsTableSql(ROWS, "staging")) await offline.run(s);
    await offline.run(`COPY staging TO '${file}' (FORMAT parquet)`);
    const definition = catalog.featureViews.driver_hourly_stats as Catalog["featureViews"][string];
    const fileCatalog: Catalog = {
      ...catalog,
      featureViews: { ...catalog.featureViews, driver_hourly_stats: { ...definition, source: { ...definition.source, table: file } } },
    };
    const online = new EmbeddedOnlineStore();
    await materialize({
      catalog: fileCatalog,
      online,
      offline,
      state: new MemoryMaterializationState(),
      views: ["driver_hourly_stats"],
      start: at("2024-05-01 00:00:00"),
      end: at("2024-05-01 23:59:59"),
    });
    expect((await online.readFeatures(view, [[2]], ["avg_daily_trips"]))[0]?.values).toEqual({ avg_daily_trips: 60 });
    await offline.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("materialization over HTTP", () => {
  it("POST /materialize and /materialize-incremental take Feast's bodies and return the summary", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    for (const s of driverStatsTableSql(ROWS)) await offline.run(s);
    const online = new EmbeddedOnlineStore();
    const app = await createFeaturesServer({ catalog, onlineStore: online, offlineStore: offline });
    const range = await app.inject({
      method: "POST",
      url: "/materialize",
      payload: { start_ts: "2024-05-01T00:00:00", end_ts: "2024-05-01T23:59:59", feature_views: ["driver_hourly_stats"] },
    });
    expect(range.statusCode).toBe(200);
    expect(range.json()).toMatchObject({ rowsRead: 2, keysWritten: 2 });
    const incremental = await app.inject({
      method: "POST",
      url: "/materialize-incremental",
      payload: { end_ts: "2024-05-02T02:00:00", feature_views: ["driver_hourly_stats"] },
    });
    expect(incremental.json()).toMatchObject({ rowsRead: 1, keysWritten: 1 });
    const unknown = await app.inject({
      method: "POST",
      url: "/materialize",
      payload: { start_ts: "2024-05-01", end_ts: "2024-05-02", feature_views: ["nope"] },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toContain('feature view "nope"');
    await app.close();
    await offline.close();
  });

  it("POST /push with to=online_and_offline appends to the offline table as well, so training sets see it", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    for (const s of driverStatsTableSql(ROWS)) await offline.run(s);
    const online = new EmbeddedOnlineStore();
    const app = await createFeaturesServer({ catalog, onlineStore: online, offlineStore: offline });
    const pushed = await app.inject({
      method: "POST",
      url: "/push",
      payload: {
        push_source_name: "driver_hourly_stats_push_source",
        to: "online_and_offline",
        df: {
          driver_id: [77],
          event_timestamp: ["2024-05-03 08:00:00"],
          created: ["2024-05-03 08:00:00"],
          conv_rate: [0.25],
          acc_rate: [0.5],
          avg_daily_trips: [7],
        },
      },
    });
    expect(pushed.statusCode).toBe(200);
    expect(pushed.json()).toMatchObject({ rows: 1, online: { written: 1 }, offline: { rows: 1 } });
    const stored = await offline.query("SELECT driver_id, event_timestamp, avg_daily_trips FROM driver_hourly_stats WHERE driver_id = 77");
    expect(stored).toEqual([{ driver_id: 77n, event_timestamp: at("2024-05-03 08:00:00"), avg_daily_trips: 7n }]);
    const historical = await app.inject({
      method: "POST",
      url: "/get-historical-features",
      payload: { feature_service: "driver_activity", entity_df: { driver_id: [77], event_timestamp: ["2024-05-03T09:00:00Z"] } },
    });
    expect(historical.json()).toMatchObject({ driver_id: [77], avg_daily_trips: [7], acc_rate: [0.5] });
    // A column that is not a list, or lists of different lengths: 400 with the column, never a 500 (schemathesis found it).
    for (const entity_df of [
      { driver_id: null, event_timestamp: ["2024-05-03T09:00:00Z"] },
      { driver_id: [77, 78], event_timestamp: ["2024-05-03T09:00:00Z"] },
    ]) {
      const bad = await app.inject({
        method: "POST",
        url: "/get-historical-features",
        payload: { feature_service: "driver_activity", entity_df },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/entity_df\.(driver_id|event_timestamp)/);
    }
    await app.close();
    await offline.close();
  });
});
