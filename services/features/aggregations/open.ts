import type { Catalog } from "../../../definition/registry";
import { isRedisUrl, parseRedisUrl } from "../online/redis-client";
import { dynamoOptionsOf } from "../online/dynamodb-client";
import { DynamoTileStore } from "./dynamodb-tiles";
import { RedisTileStore } from "./redis-tiles";
import { MemoryTileStore, type TileStore } from "./tile-store";

/**
 * Opens the tile store of aggregated views from the online store's URL (the same Redis holds
 * Feast's hashes and our tiles) with the online store's client: redis://, rediss:// (tlsCa=<PEM file>),
 * redis+cluster:// and rediss+cluster://, dynamodb://<region>[?endpoint=][&tableNameTemplate=] (the view's own
 * table, aggregations/dynamodb-tiles.ts), embedded (in-process).
 */
export async function openTileStore(url: string, catalog: Catalog, options: { timeoutMs?: number } = {}): Promise<TileStore> {
  if (isRedisUrl(url)) {
    const { target, tlsCa, iamAuth } = parseRedisUrl(url);
    const store = new RedisTileStore(target, catalog, { ...options, tlsCa, iamAuth });
    await store.connect();
    return store;
  }
  if (url.startsWith("dynamodb://")) return new DynamoTileStore({ ...options, ...dynamoOptionsOf(url) }, catalog);
  if (url === "embedded" || url.startsWith("embedded:")) return new MemoryTileStore();
  return new UnsupportedTileStore(url);
}

/** Stores without a tile layout yet: plain views work; aggregated views answer with the reason. */
class UnsupportedTileStore implements TileStore {
  readonly kind = "unsupported";
  constructor(private readonly url: string) {}
  private refuse(): never {
    throw new Error(
      `aggregated feature views need a tile store; "${this.url.split("?")[0]}" has none yet (use redis://, dynamodb:// or embedded for the online store)`,
    );
  }
  async writeTiles(): Promise<{ written: number }> {
    this.refuse();
  }
  async readTiles(): Promise<never> {
    this.refuse();
  }
  async readTileFields(): Promise<never> {
    this.refuse();
  }
  async updateTiles(): Promise<never> {
    this.refuse();
  }
  async close(): Promise<void> {}
}
