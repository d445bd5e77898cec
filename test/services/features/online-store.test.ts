import { nanosFromSeconds } from "../../../services/features/timestamp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openOnlineStore } from "../../../services/features/online/store";
import type { OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { type RedisServer, startRedis } from "../../support/redis";
import { ALL_TYPES_ROW, fixtureCatalog, startDynalite } from "./support";

const catalog = fixtureCatalog();
const allTypes = onlineViewOf(catalog, "driver_all_types");
const driverStats = onlineViewOf(catalog, "driver_hourly_stats");
const zoneDemand = onlineViewOf(catalog, "zone_demand");
const riderProfile = onlineViewOf(catalog, "rider_profile");
const T = 1_700_000_000;

let redis: RedisServer;
let dynalite: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  [redis, dynalite] = await Promise.all([startRedis(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), dynalite?.stop()]);
});

const adapters: [string, () => string][] = [
  ["redis", () => redis.url],
  ["dynamodb (dynalite)", () => `dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}`],
  ["embedded", () => "embedded"],
];

describe.each(adapters)("online store conformance: %s", (_name, url) => {
  let store: OnlineStore;
  beforeAll(async () => {
    store = await openOnlineStore(url());
    await store.health();
  });
  afterAll(async () => store?.close());

  it("returns every dtype exactly as written, including float32 rounding, bytes and lists", async () => {
    await store.writeFeatures(allTypes, [{ key: [1], eventTimestamp: nanosFromSeconds(T), values: ALL_TYPES_ROW }]);
    const [row] = await store.readFeatures(allTypes, [[1]], Object.keys(ALL_TYPES_ROW));
    expect(row?.eventTimestamp).toBe(nanosFromSeconds(T));
    expect(row?.values).toEqual(ALL_TYPES_ROW);
  });

  it("keeps a written null as null, distinct from a feature never written", async () => {
    await store.writeFeatures(driverStats, [{ key: [2], eventTimestamp: nanosFromSeconds(T), values: { conv_rate: null, acc_rate: 0.5 } }]);
    const [row] = await store.readFeatures(driverStats, [[2]], ["conv_rate", "acc_rate", "avg_daily_trips"]);
    expect(row?.values).toEqual({ conv_rate: null, acc_rate: 0.5 });
    expect("avg_daily_trips" in (row?.values ?? {})).toBe(false);
  });

  it("answers undefined for an entity key that has no row, in request order", async () => {
    await store.writeFeatures(driverStats, [{ key: [3], eventTimestamp: nanosFromSeconds(T), values: { acc_rate: 3 } }]);
    const rows = await store.readFeatures(driverStats, [[999_999], [3], [888_888]], ["acc_rate"]);
    expect(rows.map((r) => r?.values.acc_rate)).toEqual([undefined, 3, undefined]);
  });

  it("skips a write whose event time is not newer, and applies a newer one", async () => {
    await store.writeFeatures(driverStats, [{ key: [4], eventTimestamp: nanosFromSeconds(T), values: { acc_rate: 1 } }]);
    const older = await store.writeFeatures(driverStats, [{ key: [4], eventTimestamp: nanosFromSeconds(T - 10), values: { acc_rate: 2 } }]);
    const same = await store.writeFeatures(driverStats, [{ key: [4], eventTimestamp: nanosFromSeconds(T), values: { acc_rate: 3 } }]);
    expect(older).toEqual({ written: 0, skipped: 1 });
    expect(same).toEqual({ written: 0, skipped: 1 });
    expect((await store.readFeatures(driverStats, [[4]], ["acc_rate"]))[0]?.values.acc_rate).toBe(1);
    await store.writeFeatures(driverStats, [{ key: [4], eventTimestamp: nanosFromSeconds(T + 1), values: { acc_rate: 4 } }]);
    const [row] = await store.readFeatures(driverStats, [[4]], ["acc_rate"]);
    expect(row).toEqual({ eventTimestamp: nanosFromSeconds(T + 1), values: { acc_rate: 4 } });
  });

  it("keeps views that share an entity key apart", async () => {
    await store.writeFeatures(driverStats, [{ key: [5], eventTimestamp: nanosFromSeconds(T), values: { avg_daily_trips: 50 } }]);
    await store.writeFeatures(allTypes, [{ key: [5], eventTimestamp: nanosFromSeconds(T + 100), values: { f_int64: 51 } }]);
    const [stats] = await store.readFeatures(driverStats, [[5]], ["avg_daily_trips"]);
    const [all] = await store.readFeatures(allTypes, [[5]], ["f_int64"]);
    expect(stats).toEqual({ eventTimestamp: nanosFromSeconds(T), values: { avg_daily_trips: 50 } });
    expect(all).toEqual({ eventTimestamp: nanosFromSeconds(T + 100), values: { f_int64: 51 } });
  });

  it("handles entities with two join keys and string join keys", async () => {
    await store.writeFeatures(zoneDemand, [
      { key: [7, 13], eventTimestamp: nanosFromSeconds(T), values: { demand: 713 } },
      { key: [13, 7], eventTimestamp: nanosFromSeconds(T), values: { demand: 137 } },
    ]);
    await store.writeFeatures(riderProfile, [
      { key: ["rider-ä"], eventTimestamp: nanosFromSeconds(T), values: { home_city: "Zürich", rating: 4.9 } },
    ]);
    const zones = await store.readFeatures(
      zoneDemand,
      [
        [13, 7],
        [7, 13],
      ],
      ["demand"],
    );
    expect(zones.map((r) => r?.values.demand)).toEqual([137, 713]);
    const [rider] = await store.readFeatures(riderProfile, [["rider-ä"]], ["home_city", "rating"]);
    expect(rider?.values).toEqual({ home_city: "Zürich", rating: 4.9 });
  });

  it("reads several views in one call, aligned with the request", async () => {
    const results = await store.readMany([
      { view: driverStats, keys: [[5], [4]], features: ["avg_daily_trips", "acc_rate"] },
      { view: allTypes, keys: [[5]], features: ["f_int64"] },
    ]);
    expect(results[0]?.map((r) => r?.values)).toEqual([{ avg_daily_trips: 50 }, { acc_rate: 4 }]);
    expect(results[1]?.[0]?.values).toEqual({ f_int64: 51 });
  });

  it("writes and reads batches larger than one backend call (130 keys)", async () => {
    const keys = Array.from({ length: 130 }, (_, i) => [10_000 + i]);
    const result = await store.writeFeatures(
      driverStats,
      keys.map((key, i) => ({ key, eventTimestamp: nanosFromSeconds(T), values: { avg_daily_trips: i } })),
    );
    expect(result.written).toBe(130);
    const rows = await store.readFeatures(driverStats, keys, ["avg_daily_trips"]);
    expect(rows.map((r) => r?.values.avg_daily_trips)).toEqual(keys.map((_, i) => i));
  });
});
