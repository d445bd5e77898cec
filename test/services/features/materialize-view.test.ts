import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import { MemoryTileStore } from "../../../services/features/aggregations/tile-store";
import { materialize, MemoryMaterializationState } from "../../../services/features/materialize";
import { materializeShard } from "../../../services/features/materialize-shard";
import { MemoryStateStore } from "../../../services/features/materialize-state";
import { defaultStart, viewMaterialization } from "../../../services/features/materialize-view";
import { EmbeddedOnlineStore } from "../../../services/features/online/embedded";
import { type OfflineUnderTest, offlineStoresUnderTest } from "./support";

/**
 * An aggregated view goes through the same two paths as a plain one: streamed from the offline
 * store by one process (what a 1-shard Job runs), or exported in shards and written by writers.
 * Both must leave the same tiles, on DuckDB and on PostgreSQL (whose rows reach the encoder
 * straight from the driver on the streamed path, through Parquet on the sharded one).
 */
const catalog = loadCatalog("test/definition/fixtures/aggregations", "cards");
const CARDS = 40;
const end = new Date("2024-06-01T12:00:00Z");

/** 6 events per card over the two days before `end`, some on tile edges, nulls and negatives among the amounts. */
const events = (): string[] => {
  const rows: string[] = [];
  for (let i = 0; i < CARDS * 6; i++) {
    const card = i % CARDS;
    const minutes = (i * 541) % 2880;
    const ts = new Date(end.getTime() - minutes * 60_000).toISOString().replace("T", " ").replace("Z", "");
    const amount = i % 13 === 0 ? "NULL" : String(((i * 37) % 400) - 50 + 0.25);
    rows.push(`(${card}, TIMESTAMP '${ts}', ${amount}, ${i % 5})`);
  }
  return [
    "CREATE TABLE transactions (card_id BIGINT, event_timestamp TIMESTAMP, amount DOUBLE PRECISION, merchant_id BIGINT)",
    `INSERT INTO transactions VALUES ${rows.join(", ")}`,
  ];
};

async function allTiles(tiles: MemoryTileStore): Promise<[string, string][][]> {
  const records = await tiles.readTiles(
    "card_txn",
    Array.from({ length: CARDS }, (_, i) => [i]),
  );
  return records.map((r) => [...r.tiles].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe.each(offlineStoresUnderTest("mat_view"))("an aggregated view materialized from %s", (_name, open) => {
  let store: OfflineUnderTest;
  const dir = mkdtempSync(join(tmpdir(), "materialize-view-"));
  beforeAll(async () => {
    store = await open();
    await store.setup(events());
  }, 60_000);
  afterAll(async () => {
    await store?.done();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the same tiles streamed by one process as exported in 3 shards by 3 writers", async () => {
    const streamed = new MemoryTileStore();
    const summary = await materialize({
      catalog,
      online: new EmbeddedOnlineStore(),
      tiles: streamed,
      offline: store.offline,
      state: new MemoryMaterializationState(),
      views: ["card_txn"],
      end,
    });
    const sharded = new MemoryTileStore();
    const state = new MemoryStateStore();
    let written = 0;
    for (let index = 0; index < 3; index++) {
      const shard = await materializeShard({
        catalog,
        offline: store.offline,
        online: new EmbeddedOnlineStore(),
        tiles: sharded,
        state,
        view: "card_txn",
        shard: { index, count: 3 },
        end,
        exportRoot: dir,
      });
      written += shard.keysWritten;
    }
    expect(summary.keysWritten).toBeGreaterThan(CARDS);
    expect(written).toBe(summary.keysWritten);
    const tiles = await allTiles(streamed);
    expect(tiles.every((t) => t.length > 0)).toBe(true);
    expect(await allTiles(sharded)).toEqual(tiles);
    // The tiles hold the events: card 0's day tiles count its non-null amounts of the mean.
    const states = tiles[0]?.map(([, s]) => JSON.parse(s) as Record<string, { n?: number }>) ?? [];
    const counted = states.reduce((n, s) => n + (s.amount_mean_30d?.n ?? 0), 0);
    expect(counted).toBe(Array.from({ length: 6 }, (_, k) => k * CARDS).filter((i) => i % 13 !== 0).length);
  }, 60_000);
});

describe("a view's materialization", () => {
  it("needs a tile store for an aggregated view, and says so", () => {
    expect(() => viewMaterialization(catalog, "card_txn", { online: new EmbeddedOnlineStore() }, { start: new Date(0), end })).toThrow(
      'feature view "card_txn" is aggregated: materializing it needs a tile store',
    );
  });

  it("starts a first run of an aggregated view one retention (longest window + its tile) before the end", () => {
    const view = catalog.featureViews.card_txn;
    if (!view) throw new Error("fixture has no card_txn");
    // 30d windows on 1d tiles: 31 days.
    expect(defaultStart(view, end).toISOString()).toBe("2024-05-01T12:00:00.000Z");
    expect(defaultStart({ ...view, aggregations: [], ttl: 3600 }, end).toISOString()).toBe("2024-06-01T11:00:00.000Z");
    expect(defaultStart({ ...view, aggregations: [], ttl: 0 }, end).getTime()).toBe(0);
  });
});
