import { readFileSync } from "node:fs";
import type { Catalog } from "../../../definition/registry";
import { RedisTileStore } from "./redis-tiles";
import { MemoryTileStore, type TileStore } from "./tile-store";

/**
 * Opens the tile store of aggregated views from the online store's URL (the same Redis holds
 * Feast's hashes and our tiles): redis://, rediss:// (tlsCa=<PEM file>), embedded (in-process).
 */
export async function openTileStore(url: string, catalog: Catalog, options: { timeoutMs?: number } = {}): Promise<TileStore> {
  if (url.startsWith("redis://") || url.startsWith("rediss://")) {
    const parsed = new URL(url);
    const tlsCaFile = parsed.searchParams.get("tlsCa");
    parsed.search = "";
    const store = new RedisTileStore(parsed.toString(), catalog, {
      ...options,
      ...(tlsCaFile ? { tlsCa: readFileSync(tlsCaFile, "utf8") } : {}),
    });
    await store.connect();
    return store;
  }
  if (url === "embedded" || url.startsWith("embedded:")) return new MemoryTileStore();
  return new UnsupportedTileStore(url);
}

/** Stores without a tile layout yet: plain views work; aggregated views answer with the reason. */
class UnsupportedTileStore implements TileStore {
  readonly kind = "unsupported";
  constructor(private readonly url: string) {}
  private refuse(): never {
    throw new Error(
      `aggregated feature views need a tile store; "${this.url.split("?")[0]}" has none yet (use redis:// or embedded for the online store)`,
    );
  }
  async writeTiles(): Promise<{ written: number }> {
    this.refuse();
  }
  async readTiles(): Promise<never> {
    this.refuse();
  }
  async updateTiles(): Promise<never> {
    this.refuse();
  }
  async close(): Promise<void> {}
}
