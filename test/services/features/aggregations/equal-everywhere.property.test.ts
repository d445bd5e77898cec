import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeatureFile } from "../../../../definition/catalog";
import { type ResolvedAggregation, resolveAggregations } from "../../../../definition/aggregations";
import type { Catalog } from "../../../../definition/registry";
import {
  MemoryTileStore,
  pushEvents,
  readAggregates,
  tileExport,
  writeMaterializedTiles,
} from "../../../../services/features/aggregations";
import { RedisTileStore } from "../../../../services/features/aggregations/redis-tiles";
import type { TileStore } from "../../../../services/features/aggregations/tile-store";
import { readShard } from "../../../../services/features/offline/shard-files";
import type { OfflineStore } from "../../../../services/features/offline/store";
import { buildTrainingSet } from "../../../../services/features/training-set";
import { type RedisServer, startRedis } from "../../../support/redis";
import { type OfflineUnderTest, offlineStoresUnderTest } from "../support";

/**
 * The proof of issue 16: for random raw event streams (out of order, equal timestamps, nulls,
 * negatives, empty windows, events exactly on window and tile edges) and every function, window
 * and derived expression, the value at t is the same
 *   - online after pushing the events (Redis, compare-and-set tiles),
 *   - materialized (tile SQL run on DuckDB and PostgreSQL, tiles written, read back),
 *   - in the training set (DuckDB and PostgreSQL, for real),
 * and equal to the independent reference below (1e-9 relative).
 */
const file = FeatureFile.parse({
  entities: [{ name: "card", joinKeys: ["card_id"] }],
  featureViews: [
    {
      name: "ev",
      entities: ["card"],
      allowedLateness: "2d",
      source: { table: "events", timestampField: "ts" },
      fields: [
        { name: "amount", dtype: "Float64" },
        { name: "merchant", dtype: "Int64" },
      ],
      aggregations: [
        { function: "count", window: "1h" },
        { column: "amount", function: "count", window: "30m" },
        { column: "amount", function: "sum", window: "2h", tile: "15m" },
        { column: "amount", function: "mean", window: "1h" },
        { column: "amount", function: "min", window: "30m" },
        { column: "amount", function: "max", window: "1h", tile: "1h" },
        { column: "amount", function: "stddev", window: "2h" },
        { column: "amount", function: "variance", window: "1h" },
        { column: "merchant", function: "count_distinct", window: "1h" },
        { column: "amount", function: "last", window: "1h" },
        { column: "amount", function: "last_n", n: 3, window: "30m" },
        { column: "amount", function: "sum", window: "1h", where: "amount > 0 and merchant != 2", name: "positive_sum_1h" },
      ],
      derived: [
        { name: "mean_over_max", dtype: "Float64", expression: "amount_mean_1h / amount_max_1h" },
        { name: "busy", dtype: "Bool", expression: "count_1h >= 3 or coalesce(amount_min_30m, 0) < -40" },
      ],
    },
  ],
});
const catalog: Catalog = {
  project: "prop",
  entities: Object.fromEntries(file.entities.map((e) => [e.name, { ...e, origin: { file: "prop", path: "" } }])),
  featureViews: Object.fromEntries(file.featureViews.map((v) => [v.name, { ...v, origin: { file: "prop", path: "" } }])),
  featureServices: {},
  pushSources: {},
  models: {},
};
const view = catalog.featureViews.ev as Catalog["featureViews"][string];
const aggregations = resolveAggregations(view);
const FEATURES = [...aggregations.map((a) => a.name), "mean_over_max", "busy"];

interface Event {
  card: number;
  us: number;
  amount: number | null;
  merchant: number | null;
}

const T0_US = Date.UTC(2024, 5, 1, 8) * 1000;
const US = 1_000_000;

/** Times on a 30 s grid (so many fall exactly on tile and window edges), some moved by microseconds. */
const eventArb = fc.record({
  card: fc.integer({ min: 1, max: 2 }),
  us: fc.oneof(
    fc.integer({ min: 0, max: 36 }).map((k) => T0_US + k * 5 * 60 * US),
    fc.integer({ min: 0, max: 360 }).map((k) => T0_US + k * 30 * US),
    fc.integer({ min: 0, max: 360 }).map((k) => T0_US + k * 30 * US + 1),
    fc.integer({ min: 0, max: 3 * 3600 * US }).map((d) => T0_US + d),
  ),
  amount: fc.oneof(
    fc.constant(null),
    fc.integer({ min: -50, max: 50 }),
    fc.integer({ min: -100, max: 100 }).map((x) => x / 4),
  ),
  merchant: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4 })),
});
const caseArb = fc.record({
  events: fc.array(eventArb, { minLength: 0, maxLength: 40 }),
  /** t: an event's time, a window after one, a tile edge, or anywhere. */
  t: fc.oneof(
    fc.integer({ min: 0, max: 39 }).map((i) => ({ event: i })),
    // An event exactly on the old edge t - W of one of the windows.
    fc.record({ event: fc.integer({ min: 0, max: 39 }), plus: fc.constantFrom(30 * 60 * US, 3600 * US, 2 * 3600 * US) }),
    fc.integer({ min: 0, max: 36 }).map((k) => ({ us: T0_US + k * 5 * 60 * US })),
    fc.integer({ min: 0, max: 4 * 3600 * US }).map((d) => ({ us: T0_US + d })),
  ),
  pushBatches: fc.integer({ min: 1, max: 4 }),
});

// --- the independent reference: straight from the documented rule, no tiles, no merging ---

function reference(a: ResolvedAggregation, events: Event[], tUs: number): unknown {
  const size = a.tileSeconds * US;
  const lower = Math.floor((tUs - a.windowSeconds * US) / size) * size;
  const inWindow = events.filter((e) => e.us > lower && e.us <= tUs);
  const passing = inWindow.filter(
    (e) => a.name !== "positive_sum_1h" || (e.amount !== null && e.amount > 0 && e.merchant !== 2 && e.merchant !== null),
  );
  const col = (e: Event) => (a.column === "merchant" ? e.merchant : a.column === "amount" ? e.amount : 1);
  const values = passing.map(col).filter((v): v is number => v !== null);
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
  const newest = passing
    .filter((e) => col(e) !== null)
    .sort((x, y) => y.us - x.us || (col(y) as number) - (col(x) as number))
    .map((e) => col(e) as number);
  switch (a.function) {
    case "count":
      return a.column ? values.length : passing.length;
    case "sum":
      return values.length ? values.reduce((s, x) => s + x, 0) : null;
    case "mean":
      return values.length ? mean : null;
    case "min":
      return values.length ? Math.min(...values) : null;
    case "max":
      return values.length ? Math.max(...values) : null;
    case "variance":
      return values.length > 1 ? variance : null;
    case "stddev":
      return values.length > 1 ? Math.sqrt(variance) : null;
    case "count_distinct":
      return new Set(values).size;
    case "last":
      return newest[0] ?? null;
    default:
      return newest.slice(0, a.n);
  }
}

function referenceRow(events: Event[], card: number, tUs: number): Record<string, unknown> {
  const mine = events.filter((e) => e.card === card);
  const row: Record<string, unknown> = Object.fromEntries(aggregations.map((a) => [a.name, reference(a, mine, tUs)]));
  const mean = row.amount_mean_1h as number | null;
  const max = row.amount_max_1h as number | null;
  row.mean_over_max = mean === null || max === null || max === 0 ? null : mean / max;
  const min = (row.amount_min_30m as number | null) ?? 0;
  row.busy = (row.count_1h as number) >= 3 || min < -40;
  return row;
}

function close(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "number" && typeof actual === "number")
    return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected), Math.abs(actual));
  if (Array.isArray(expected) && Array.isArray(actual))
    return expected.length === actual.length && expected.every((x, i) => close(actual[i], x));
  return actual === expected;
}

function expectClose(where: string, actual: Record<string, unknown>, expected: Record<string, unknown>, context: unknown): void {
  for (const name of FEATURES) {
    if (!close(actual[name], expected[name]))
      expect.fail(
        `${where}: ${name} is ${JSON.stringify(actual[name])}, the reference says ${JSON.stringify(expected[name])}\n${JSON.stringify(context)}`,
      );
  }
}

const iso = (us: number) => {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}.${String(us % US).padStart(6, "0")}`;
};

async function loadEvents(store: OfflineUnderTest, events: Event[]): Promise<void> {
  const rows = events.map((e) => `(${e.card}, TIMESTAMP '${iso(e.us)}', ${e.amount ?? "NULL"}, ${e.merchant ?? "NULL"})`);
  await store.setup([
    "DROP TABLE IF EXISTS events",
    "CREATE TABLE events (card_id BIGINT, ts TIMESTAMP, amount DOUBLE PRECISION, merchant BIGINT)",
    ...(rows.length ? [`INSERT INTO events VALUES ${rows.join(", ")}`] : []),
  ]);
}

/** Materialization as the pipeline runs it: the tile SQL exported by the store (one shard), read back, encoded, written. */
async function materialized(offline: OfflineStore, tUs: number): Promise<TileStore> {
  const tiles = new MemoryTileStore();
  const range = { start: new Date(T0_US / 1000 - 3600_000), end: new Date(Math.floor(tUs / 1000)), endMicros: tUs };
  const exported = tileExport(catalog, "ev", { dialect: offline.dialect }, range);
  const uri = mkdtempSync(join(tmpdir(), "tiles-export-"));
  try {
    await offline.exportShards({
      query: { sql: (ctx) => tileExport(catalog, "ev", ctx, range).sql, keyColumns: exported.keyColumns },
      ...range,
      shards: 1,
      uri,
    });
    for await (const batch of readShard(uri, 0, exported.columns, 0, 1000))
      await writeMaterializedTiles(
        catalog,
        tiles,
        "ev",
        batch.map((r) => exported.encode(r)),
        tUs,
      );
  } finally {
    rmSync(uri, { recursive: true, force: true });
  }
  return tiles;
}

describe("an aggregation's value at t", () => {
  const stores: [string, OfflineUnderTest][] = [];
  let redis: RedisServer;
  let online: RedisTileStore;
  let flush: Redis;
  beforeAll(async () => {
    for (const [name, open] of offlineStoresUnderTest("agg_prop")) stores.push([name, await open()]);
    redis = await startRedis();
    online = new RedisTileStore(redis.url, catalog);
    await online.connect();
    flush = new Redis(redis.url);
  }, 60_000);
  afterAll(async () => {
    flush?.disconnect();
    await online?.close();
    await redis?.stop();
    for (const [, store] of stores) await store.done();
  });

  it("is the same online after pushing, materialized, in DuckDB and PostgreSQL training sets, and in the reference", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ events, t, pushBatches }) => {
        const tUs = "event" in t ? (events[t.event % Math.max(1, events.length)]?.us ?? T0_US) + ("plus" in t ? t.plus : 0) : t.us;
        await flush.flushall();
        const runCatalog = catalog;
        const expected = [1, 2].map((card) => referenceRow(events, card, tUs));
        const context = { tUs, events };

        // Online: push the events up to t, shuffled into batches, then read as of t.
        const pushed = events.filter((e) => e.us <= tUs);
        for (let b = 0; b < pushBatches; b++) {
          const batch = pushed.filter((_, i) => i % pushBatches === b).reverse();
          const result = await pushEvents(
            runCatalog,
            online,
            "ev",
            batch.map((e) => ({ card_id: e.card, ts: iso(e.us), amount: e.amount, merchant: e.merchant })),
            tUs,
          );
          expect(result.refused).toEqual([]);
        }
        const onlineRows = await readAggregates(runCatalog, online, "ev", [[1], [2]], tUs);
        onlineRows.forEach((row, i) => expectClose(`online card ${i + 1}`, row, expected[i] as Record<string, unknown>, context));

        for (const [name, store] of stores) {
          await loadEvents(store, events);
          const tiles = await materialized(store.offline, tUs);
          const rows = await readAggregates(catalog, tiles, "ev", [[1], [2]], tUs);
          rows.forEach((row, i) =>
            expectClose(`materialized on ${name}, card ${i + 1}`, row, expected[i] as Record<string, unknown>, context),
          );
          const training = await buildTrainingSet(catalog, store.offline, {
            entities: { rows: [1, 2].map((card) => ({ card_id: card, event_timestamp: iso(tUs) })) },
            features: FEATURES.map((f) => `ev:${f}`),
          });
          training.records?.forEach((row, i) =>
            expectClose(`training set on ${name}, card ${i + 1}`, row, expected[i] as Record<string, unknown>, context),
          );
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 25), endOnFailure: true },
    );
  }, 300_000);
});
