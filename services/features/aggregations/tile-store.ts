import type { EntityKey } from "../online/store";

/**
 * Tile state of aggregated views in the online store, under our own keys next to Feast's hashes
 * (docs/online-store-format.md, "Aggregated views"): one record per (view, entity key), one field
 * per tile, `<tile seconds>:<tile start epoch seconds>`, holding the JSON states of the view's
 * aggregations with that tile size. A push reads and rewrites only the tiles its events fall in,
 * guarded per tile by compare-and-set on the tile's previous state.
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

/** One entity's record: tile fields -> JSON state. */
export interface TileRecord {
  tiles: Map<string, string>;
}

/**
 * A change to some tiles of one entity's record, applied only if every field of `expected` still
 * holds that state (undefined: the field is absent). When a field is created and `pruneBefore` is
 * given, tiles whose end (start + seconds, epoch seconds) is before it are removed: no window
 * reaches them any more.
 */
export interface TileUpdate {
  key: EntityKey;
  set: Map<string, string>;
  expected: Map<string, string | undefined>;
  /** Set too when the update applies, unconditionally: fields derived from what `set` holds (sealed blocks' suffixes). */
  also?: Map<string, string>;
  pruneBefore?: number;
}

export interface TileStore {
  readonly kind: string;
  /** Overwrites tiles (materialization); one round trip per call where the backend allows. */
  writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }>;
  /** Reads whole records, one per key, in one round trip where the backend allows (online reads). */
  readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]>;
  /** Reads only these tiles of each record (pushes): field -> state; absent fields are missing from the map. */
  readTileFields(viewName: string, reads: { key: EntityKey; fields: string[] }[]): Promise<Map<string, string>[]>;
  /** Applies updates whose expected tiles still match; returns which were applied (false: re-read and retry). */
  updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]>;
  close(): Promise<void>;
}

export function tileField(tileSeconds: number, tileStart: number): string {
  return `${tileSeconds}:${tileStart}`;
}

/**
 * Fields of a record: tiles `<s>:<start>`, and window blocks (window-blocks.ts) `p<L>:<s>:<start>`
 * (a block's head) and `s<L>:<s>:<start>` (a suffix from a tile), all times in epoch seconds.
 */
export const RECORD_FIELD = /^(?:[ps](\d+):)?(\d+):(-?\d+)$/;

/**
 * Epoch seconds after which no window reaches a field: a tile's end; for a block field, its start
 * plus L tiles (a block's end; for a suffix, at or after its block's end).
 */
export function fieldEnd(field: string): number | undefined {
  const match = RECORD_FIELD.exec(field);
  if (!match) return undefined;
  return Number(match[3]) + Number(match[1] ?? 1) * Number(match[2]);
}

/** A stable text id of an entity key (for maps; the stores use the serialized bytes). */
export function entityKeyId(key: EntityKey): string {
  return JSON.stringify(key.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : String(v))));
}

/** In-process tile store (tests, embedded runs), with the same compare-and-set and pruning rules as Redis. */
export class MemoryTileStore implements TileStore {
  readonly kind = "memory";
  private readonly records = new Map<string, Map<string, string>>();

  private record(viewName: string, key: EntityKey): Map<string, string> {
    const id = `${viewName}|${entityKeyId(key)}`;
    let record = this.records.get(id);
    if (!record) {
      record = new Map();
      this.records.set(id, record);
    }
    return record;
  }

  async writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }> {
    for (const w of writes) this.record(viewName, w.key).set(w.field, w.state);
    return { written: writes.length };
  }

  async readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]> {
    return keys.map((key) => ({ tiles: new Map(this.records.get(`${viewName}|${entityKeyId(key)}`)) }));
  }

  async readTileFields(viewName: string, reads: { key: EntityKey; fields: string[] }[]): Promise<Map<string, string>[]> {
    return reads.map(({ key, fields }) => {
      const record = this.records.get(`${viewName}|${entityKeyId(key)}`);
      return new Map(fields.flatMap((f) => (record?.has(f) ? [[f, record.get(f) as string] as const] : [])));
    });
  }

  async updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]> {
    return updates.map((u) => {
      const record = this.record(viewName, u.key);
      if ([...u.expected].some(([field, state]) => record.get(field) !== state)) return false;
      const created = [...u.set.keys()].some((field) => !record.has(field));
      for (const [field, state] of u.set) record.set(field, state);
      for (const [field, state] of u.also ?? []) record.set(field, state);
      if (created && u.pruneBefore !== undefined) for (const field of prunable([...record.keys()], u.pruneBefore)) record.delete(field);
      return true;
    });
  }

  async close(): Promise<void> {}
}

/** Fields no window reaches once `before` (epoch seconds) is the oldest time kept (fieldEnd before it). */
export function prunable(fields: string[], before: number): string[] {
  return fields.filter((field) => {
    const end = fieldEnd(field);
    return end !== undefined && end < before;
  });
}
