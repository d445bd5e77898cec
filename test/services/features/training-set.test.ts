import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecords } from "../../../services/features/offline/files";
import type { OfflineRow } from "../../../services/features/offline/store";
import { buildTrainingSet } from "../../../services/features/training-set";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { driverStatsTableSql, fixtureCatalog, type StatsRow, offlineStoresUnderTest } from "./support";

const catalog = fixtureCatalog();
const at = (iso: string) => new Date(`${iso}Z`);

// driver_hourly_stats has a 2 h TTL.
const STATS: StatsRow[] = [
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
    acc_rate: 0.6,
    avg_daily_trips: 60,
  },
];
const RIDERS = [
  "CREATE TABLE rider_profile (rider_id VARCHAR, event_timestamp TIMESTAMP, rating DOUBLE PRECISION, home_city VARCHAR)",
  "INSERT INTO rider_profile VALUES ('r1', '2020-01-01 00:00:00', 4.5, 'Oslo'), ('r1', '2024-05-01 11:00:00', 4.7, 'Bergen')",
];

// Each entity row names the case it checks; `expected` is avg_daily_trips at that time.
const ENTITIES: (OfflineRow & { expected: number | null })[] = [
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 09:59:59"), expected: null }, // before any value
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 10:00:00"), expected: 10 }, // at the event time: included
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 11:59:59"), expected: 10 }, // never a value from the future
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 13:00:00"), expected: 30 },
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 14:00:00"), expected: 30 }, // exactly the TTL old: still valid
  { driver_id: 1, rider_id: "r1", event_timestamp: at("2024-05-01 14:00:01"), expected: null }, // older than the TTL: null
  { driver_id: 2, rider_id: "r2", event_timestamp: at("2024-05-01 10:00:00"), expected: 60 }, // tie on event time: later created wins
  { driver_id: 3, rider_id: "r1", event_timestamp: at("2024-05-01 10:00:00"), expected: null }, // unknown entity
];

const stores = offlineStoresUnderTest("features_pit");

describe.each(stores)("point-in-time training sets on %s", (_name, open) => {
  let ctx: Awaited<ReturnType<(typeof stores)[number][1]>>;
  beforeAll(async () => {
    ctx = await open();
    await ctx.setup([...driverStatsTableSql(STATS), ...RIDERS]);
  });
  afterAll(async () => ctx?.done());

  const entities = ENTITIES.map(({ expected: _e, ...row }) => row);

  it("never returns a value from the future, nulls values older than the TTL, and breaks ties by created time", async () => {
    const result = await buildTrainingSet(catalog, ctx.offline, {
      entities: { rows: entities },
      features: ["driver_hourly_stats:avg_daily_trips"],
    });
    expect(result.records?.map((r) => r.avg_daily_trips)).toEqual(ENTITIES.map((e) => e.expected));
  });

  it("keeps the entity rows' order and columns, joins several views, and a 0s TTL means forever", async () => {
    const result = await buildTrainingSet(catalog, ctx.offline, {
      entities: { rows: entities },
      features: ["rider_profile:home_city", "driver_hourly_stats:conv_rate"],
      fullFeatureNames: true,
    });
    const records = result.records ?? [];
    expect(Object.keys(records[0] ?? {})).toEqual([
      "driver_id",
      "rider_id",
      "event_timestamp",
      "rider_profile__home_city",
      "driver_hourly_stats__conv_rate",
    ]);
    expect(records.map((r) => (r.event_timestamp as Date).toISOString())).toEqual(
      ENTITIES.map((e) => (e.event_timestamp as Date).toISOString()),
    );
    expect(records.map((r) => r.rider_profile__home_city)).toEqual(["Oslo", "Oslo", "Bergen", "Bergen", "Bergen", "Bergen", null, "Oslo"]);
    // REAL/FLOAT columns hold float32 values.
    expect(records[3]?.driver_hourly_stats__conv_rate).toBeCloseTo(0.3, 6);
  });

  it("answers the same rows for a feature service as for its feature list", async () => {
    const byService = await buildTrainingSet(catalog, ctx.offline, { entities: { rows: entities }, featureService: "driver_activity" });
    const byList = await buildTrainingSet(catalog, ctx.offline, {
      entities: { rows: entities },
      features: ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"],
    });
    expect(byService.records).toEqual(byList.records);
  });
});

describe("training-set files (DuckDB)", () => {
  let dir: string;
  let offline: DuckDBOfflineStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "training-set-"));
    offline = await DuckDBOfflineStore.open(":memory:");
    for (const s of driverStatsTableSql(STATS)) await offline.run(s);
    await offline.run(
      `COPY (SELECT * FROM (VALUES (1, TIMESTAMP '2024-05-01 13:00:00'), (2, TIMESTAMP '2024-05-01 10:00:00'), (1, TIMESTAMP '2024-05-01 10:30:00')) t(driver_id, event_timestamp)) TO '${join(dir, "entities.csv")}' (FORMAT csv, HEADER)`,
    );
  });
  afterAll(async () => {
    await offline?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["parquet", "csv"])("reads entity rows from CSV and writes the training set as %s", async (format) => {
    const out = join(dir, `train.${format}`);
    const result = await buildTrainingSet(catalog, offline, {
      entities: { file: join(dir, "entities.csv") },
      featureService: "driver_activity",
      out,
    });
    expect(result.rows).toBe(3);
    const rows = await readRecords(out);
    expect(rows.map((r) => Number(r.avg_daily_trips))).toEqual([30, 60, 10]);
    expect(Object.keys(rows[0] ?? {})).toEqual(["driver_id", "event_timestamp", "conv_rate", "acc_rate", "avg_daily_trips"]);
  });

  it("names a missing timestamp column", async () => {
    await expect(
      buildTrainingSet(catalog, offline, {
        entities: { file: join(dir, "entities.csv") },
        featureService: "driver_activity",
        timestampColumn: "ts",
      }),
    ).rejects.toThrow('no "ts" column');
  });
});
