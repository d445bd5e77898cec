import { join } from "node:path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { openTileStore } from "../../../../services/features/aggregations";
import { pushEvents } from "../../../../services/features/aggregations/online";
import { readAggregates } from "../../../../services/features/aggregations/read";
import { fieldEnd, type TileStore } from "../../../../services/features/aggregations/tile-store";
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from "../../../support/redis";

const catalog = loadCatalog(join(__dirname, "..", "..", "..", "definition", "fixtures", "aggregations"), "p");
const US = 1_000_000;
// Saturday 2024-06-01 11:03:00 UTC.
const NOW_US = Date.UTC(2024, 5, 1, 11, 3) * 1000;

/** Calls of one command since the last CONFIG RESETSTAT (INFO commandstats). */
async function calls(admin: Redis, command: string): Promise<number> {
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await admin.info("commandstats"));
  return match ? Number(match[1]) : 0;
}

/** Fields of every record. */
async function recordFields(admin: Redis): Promise<string[]> {
  const keys = await admin.keysBuffer("agg:*");
  return (await Promise.all(keys.map((k) => admin.hkeys(k)))).flat();
}

/** Tile fields (`<s>:<start>`, not window blocks) of every record, with their start (epoch seconds). */
async function tileStarts(admin: Redis): Promise<number[]> {
  return (await recordFields(admin)).filter((f) => /^\d+:/.test(f)).map((f) => Number(f.split(":")[1]));
}

const event = (card: number, iso: string, amount: number | null) => ({
  card_id: card,
  event_timestamp: iso,
  amount,
  merchant_id: 7,
});

/** The catalog with a longer allowedLateness, to push history straight into the tiles. */
const lateness = (seconds: number) => ({
  ...catalog,
  featureViews: { card_txn: { ...(catalog.featureViews.card_txn as (typeof catalog.featureViews)[string]), allowedLateness: seconds } },
});

describe("tiles in one Redis", () => {
  let redis: RedisServer;
  let admin: Redis;
  let tiles: TileStore;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    tiles = await openTileStore(redis.url, catalog, { timeoutMs: 1000 });
  });
  afterAll(async () => {
    await tiles?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it("a push reads and rewrites only the tiles its events fall in and their blocks' heads, never the whole record", async () => {
    // A week of hourly history for card 1: 168 one-hour tiles, plus 5-minute and 1-day tiles.
    const history = Array.from({ length: 168 }, (_, h) => event(1, new Date(NOW_US / 1000 - (h + 1) * 3600_000).toISOString(), 10));
    expect((await pushEvents(lateness(8 * 86400), tiles, "card_txn", history, NOW_US)).applied).toBe(168);
    const [key] = await admin.keysBuffer("agg:*");
    expect(await admin.hlen(key as Buffer)).toBeGreaterThan(168);
    // The history's blocks that have ended are sealed by that push: their suffixes are written.
    expect((await recordFields(admin)).filter((f) => f.startsWith("s169:3600:")).length).toBeGreaterThan(0);
    await admin.config("RESETSTAT");
    await pushEvents(catalog, tiles, "card_txn", [event(1, "2024-06-01T11:01:00Z", 20)], NOW_US);
    expect(await calls(admin, "hgetall")).toBe(0);
    expect(await calls(admin, "hmget")).toBe(1);
    await admin.config("RESETSTAT");
    const pushed = await pushEvents(catalog, tiles, "card_txn", [event(1, "2024-06-01T11:02:00Z", 50)], NOW_US);
    expect(pushed.applied).toBe(1);
    expect(await calls(admin, "hgetall")).toBe(0);
    expect(await calls(admin, "hmget")).toBe(1);
    // Tiles of 5 minutes (count_1h), 1 hour (7d, 24h, 1d) and 1 day (30d): one field each; and the
    // heads of the blocks of 5m x 13 (1h), 1h x 169 (7d), 1h x 25 (24h, 1d) and 1d x 31 (30d).
    expect(await calls(admin, "hset")).toBe(3 + 4);
  });

  it("a read asks for a few block fields by name, never the whole record, and merges no tiles", async () => {
    await admin.config("RESETSTAT");
    const [values] = await readAggregates(catalog, tiles, "card_txn", [[1]], NOW_US);
    expect(values).toMatchObject({ count_1h: 3, amount_max_24h: 50, amount_last_n_1d: [50, 20, 10] });
    expect(await calls(admin, "hgetall")).toBe(0);
    expect(await calls(admin, "hmget")).toBe(1);
    // The week of history is in 7d's older block, read as one sealed suffix: equal to merging the tiles.
    expect(values?.amount_mean_7d).toBeCloseTo((168 * 10 + 20 + 50) / 170, 12);
  });

  it("a push that creates a tile removes, in Redis, the tiles no window reaches any more", async () => {
    await admin.flushall();
    await pushEvents(
      lateness(40 * 86400),
      tiles,
      "card_txn",
      [event(2, new Date(NOW_US / 1000 - 35 * 86400_000).toISOString(), 5)],
      NOW_US,
    );
    const old = NOW_US / US - 34 * 86400;
    expect((await tileStarts(admin)).filter((start) => start < old).length).toBe(3);
    // 30d window + 1d tile + 1h lateness: 35-day-old tiles go with the next push that starts a tile,
    // and so do the block fields that end before then.
    await pushEvents(catalog, tiles, "card_txn", [event(2, "2024-06-01T11:01:00Z", 1)], NOW_US);
    const starts = await tileStarts(admin);
    expect(starts.filter((start) => start < old)).toEqual([]);
    expect(starts.length).toBe(3);
    const pruneBefore = NOW_US / US - 31 * 86400 - 3600;
    expect((await recordFields(admin)).filter((f) => (fieldEnd(f) as number) < pruneBefore)).toEqual([]);
  });
});

describe("tiles in a Redis Cluster (the online store's client)", () => {
  let cluster: RedisCluster;
  let tiles: TileStore;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    tiles = await openTileStore(cluster.url, catalog, { timeoutMs: 2000 });
  }, 60_000);
  afterAll(async () => {
    await tiles?.close();
    await cluster?.stop();
  });

  it("pushes and reads entities whose records live on different shards, in one call each", async () => {
    const cards = Array.from({ length: 30 }, (_, i) => i + 1);
    const rows = cards.flatMap((card) => [event(card, "2024-06-01T10:30:00Z", card), event(card, "2024-06-01T11:00:00Z", 2 * card)]);
    const pushed = await pushEvents(catalog, tiles, "card_txn", rows, NOW_US);
    expect(pushed).toEqual({ applied: 60, refused: [], late: 0 });
    const perShard = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis({ port, host: "127.0.0.1" });
        try {
          return await node.dbsize();
        } finally {
          node.disconnect();
        }
      }),
    );
    expect(perShard.filter((n) => n > 0).length).toBe(3);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(30);
    const values = await readAggregates(
      catalog,
      tiles,
      "card_txn",
      cards.map((c) => [c]),
      NOW_US,
    );
    expect(values.map((v) => [v.count_1h, v.amount_max_24h])).toEqual(cards.map((c) => [2, 2 * c]));
  });
});
