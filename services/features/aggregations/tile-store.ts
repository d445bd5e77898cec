import type { EntityKey } from "../online/store";

/**
 * Tile state of aggregated views in the online store, under our own keys next to Feast's hashes
 * (docs/online-store-format.md, "Aggregated views"): one record per (view, entity key), one field
 * per tile, `<tile seconds>:<tile start epoch seconds>`, holding the JSON states of the view's
 * aggregations with that tile size; and a version `_v` for compare-and-set.
 */

/** One tile of one entity, complete (overwrites what is stored). */
export interface TileWrite {
  key: EntityKey;
  tileSeconds: number;
  /** Epoch seconds of the tile's start (k * tileSeconds). */
  tileStart: number;
  /** The record field, tileField(tileSeconds, tileStart). */
  field: string;
  /** JSON: { <aggregation name>: state } for the view's aggregations of this tile size (state.ts). */
  state: string;
}

/** One entity's record: tile fields -> JSON state, and the version that guards updates. */
export interface TileRecord {
  tiles: Map<string, string>;
  /** The stored version ("" when the record does not exist). */
  version: string;
}

/** A change to one entity's record, applied only if the version is still `expected`. */
export interface TileUpdate {
  key: EntityKey;
  expected: string;
  set: Map<string, string>;
  remove: string[];
}

export interface TileStore {
  readonly kind: string;
  /** Overwrites tiles (materialization); one round trip per call where the backend allows. */
  writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }>;
  /** Reads whole records, one per key, in one round trip where the backend allows. */
  readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]>;
  /** Applies updates whose version still matches; returns which were applied (false: re-read and retry). */
  updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]>;
  close(): Promise<void>;
}

export function tileField(tileSeconds: number, tileStart: number): string {
  return `${tileSeconds}:${tileStart}`;
}

export function parseTileField(field: string): { tileSeconds: number; tileStart: number } | undefined {
  const match = /^(\d+):(-?\d+)$/.exec(field);
  return match ? { tileSeconds: Number(match[1]), tileStart: Number(match[2]) } : undefined;
}

/** A stable text id of an entity key (for maps; the stores use the serialized bytes). */
export function entityKeyId(key: EntityKey): string {
  return JSON.stringify(key.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : String(v))));
}

/** In-process tile store (tests, embedded runs), with the same compare-and-set rule as Redis. */
export class MemoryTileStore implements TileStore {
  readonly kind = "memory";
  private readonly records = new Map<string, { tiles: Map<string, string>; version: number }>();

  private record(viewName: string, key: EntityKey) {
    const id = `${viewName}|${entityKeyId(key)}`;
    let record = this.records.get(id);
    if (!record) {
      record = { tiles: new Map(), version: 0 };
      this.records.set(id, record);
    }
    return record;
  }

  async writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }> {
    for (const w of writes) {
      const record = this.record(viewName, w.key);
      record.tiles.set(w.field, w.state);
      record.version += 1;
    }
    return { written: writes.length };
  }

  async readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]> {
    return keys.map((key) => {
      const record = this.records.get(`${viewName}|${entityKeyId(key)}`);
      return record ? { tiles: new Map(record.tiles), version: String(record.version) } : { tiles: new Map(), version: "" };
    });
  }

  async updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]> {
    return updates.map((u) => {
      const existing = this.records.get(`${viewName}|${entityKeyId(u.key)}`);
      if ((existing ? String(existing.version) : "") !== u.expected) return false;
      const record = this.record(viewName, u.key);
      for (const [field, state] of u.set) record.tiles.set(field, state);
      for (const field of u.remove) record.tiles.delete(field);
      record.version += 1;
      return true;
    });
  }

  async close(): Promise<void> {}
}
