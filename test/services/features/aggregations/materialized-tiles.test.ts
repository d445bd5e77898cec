import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { MemoryTileStore, readAggregates, writeMaterializedTiles } from "../../../../services/features/aggregations";
import { pushEvents } from "../../../../services/features/aggregations/online";
import { type TileStore, type TileWrite, tileField } from "../../../../services/features/aggregations/tile-store";

const catalog = loadCatalog(join(__dirname, "..", "..", "..", "definition", "fixtures", "aggregations"), "p");
const HOUR = 3600;
// Saturday 2024-06-01 11:03:00 UTC.
const NOW_US = Date.UTC(2024, 5, 1, 11, 3) * 1000;

/** A tile store that records the fields asked for per entity on each readTileFields. */
function recording(store: TileStore): TileStore & { reads: number[][] } {
  const reads: number[][] = [];
  return Object.assign(Object.create(store) as TileStore, {
    reads,
    readTileFields(view: string, asked: { key: (string | number | bigint | Uint8Array)[]; fields: string[] }[]) {
      reads.push(asked.map((r) => r.fields.length));
      return store.readTileFields(view, asked as Parameters<TileStore["readTileFields"]>[1]);
    },
  });
}

/** Materialization's tiles for 8 days of hourly events of one card: count_1h's 5m tiles and the 1h tiles. */
function history(card: number): TileWrite[] {
  const end = NOW_US / 1_000_000;
  return Array.from({ length: 8 * 24 }, (_, h) => end - (h + 1) * HOUR).flatMap((at) => {
    const states = (size: number) =>
      size === 300 ? { count_1h: { c: 1 } } : { amount_mean_7d: { n: 1, s: 10 }, amount_max_24h: { v: 10 } };
    return [300, HOUR].map((size) => {
      const start = Math.floor(at / size) * size;
      return { key: [card], tileSeconds: size, tileStart: start, field: tileField(size, start), state: JSON.stringify(states(size)) };
    });
  });
}

describe("materialized tiles", () => {
  it("rebuild only the window blocks a read can reach, at most two per window group, whatever the history", async () => {
    const store = recording(new MemoryTileStore());
    await writeMaterializedTiles(catalog, store, "card_txn", history(1), NOW_US);
    // Groups 5m x 13, 1h x 169 and 1h x 25 (30d's 1d tiles got no writes): two blocks each, head and tiles.
    expect(Math.max(...store.reads.flat())).toBeLessThanOrEqual(2 * (13 + 1) + 2 * (169 + 1) + 2 * (25 + 1));
  });

  it("are read from their blocks in one round trip, equal to what pushing the same events gives", async () => {
    const store = recording(new MemoryTileStore());
    await writeMaterializedTiles(catalog, store, "card_txn", history(1), NOW_US);
    store.reads.length = 0;
    const [materialized] = await readAggregates(catalog, store, "card_txn", [[1]], NOW_US);
    expect(store.reads).toHaveLength(1);
    const pushed = new MemoryTileStore();
    const lateness = {
      ...catalog,
      featureViews: {
        card_txn: { ...(catalog.featureViews.card_txn as (typeof catalog.featureViews)[string]), allowedLateness: 9 * 86400 },
      },
    };
    const events = Array.from({ length: 8 * 24 }, (_, h) => ({
      card_id: 1,
      event_timestamp: new Date(NOW_US / 1000 - (h + 1) * HOUR * 1000).toISOString(),
      amount: 10,
      merchant_id: null,
    }));
    await pushEvents(lateness, pushed, "card_txn", events, NOW_US);
    const [fromPushes] = await readAggregates(catalog, pushed, "card_txn", [[1]], NOW_US);
    expect(materialized).toMatchObject({ count_1h: 1, amount_mean_7d: 10, amount_max_24h: 10 });
    for (const name of ["count_1h", "amount_mean_7d", "amount_max_24h"]) expect(materialized?.[name]).toEqual(fromPushes?.[name]);
  });
});
