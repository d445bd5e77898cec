import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError } from "../../core/errors";
import type { EntityKey } from "../online/store";
import { compileView } from "./online";
import { entityKeyId, type TileStore, type TileUpdate, type TileWrite } from "./tile-store";
import {
  type BlockGroup,
  blockEndMicros,
  encodeHead,
  blockOf,
  blockTileFields,
  firstTileOf,
  headField,
  rebuildBlock,
} from "./window-blocks";

/** Compare-and-set attempts per batch before giving up (a push racing the rebuild of the same blocks). */
const REBUILD_ATTEMPTS = 8;
/** Entities per rebuild round trip: each reads up to two blocks' tiles per (tile, L) group (~400 fields for a 7-day window on 1h tiles). */
const REBUILD_CHUNK = 50;

/**
 * Writes materialized tiles (complete states, overwriting) and rebuilds the window blocks they fall
 * in from all the blocks' tiles as stored (window-blocks.ts): the head of each, and the suffixes of
 * blocks that ended by `endUs` (epoch microseconds, the materialization's end); only blocks a read
 * at or after `endUs` can reach (at most two per group and entity), 50 entities a round trip. Each head is set by
 * compare-and-set over the head read, so a push into the same block meanwhile makes it re-read.
 */
export async function writeMaterializedTiles(
  catalog: Catalog,
  tiles: TileStore,
  viewName: string,
  writes: TileWrite[],
  endUs: number,
): Promise<{ written: number }> {
  const view = compileView(catalog, viewName);
  const { written } = await tiles.writeTiles(viewName, writes);
  const byKey = new Map<string, { key: EntityKey; blocks: Map<string, { group: BlockGroup; block: number }> }>();
  for (const w of writes) {
    const id = entityKeyId(w.key);
    const entry = byKey.get(id) ?? { key: w.key, blocks: new Map() };
    byKey.set(id, entry);
    for (const group of view.groups) {
      if (group.tileSeconds !== w.tileSeconds) continue;
      const block = blockOf(group, w.tileStart / w.tileSeconds);
      // A read at or after endUs starts its window at most L tiles back: older blocks are never read.
      if (blockEndMicros(group, block) <= endUs - group.blockTiles * group.tileSeconds * 1_000_000) continue;
      entry.blocks.set(headField(group, block), { group, block });
    }
  }
  const entities = [...byKey.values()].filter((e) => e.blocks.size > 0);
  for (let from = 0; from < entities.length; from += REBUILD_CHUNK)
    await rebuild(tiles, viewName, entities.slice(from, from + REBUILD_CHUNK), endUs);
  return { written };
}

/** Rebuilds the given blocks of some entities by compare-and-set on their heads, re-reading those that raced a push. */
async function rebuild(
  tiles: TileStore,
  viewName: string,
  entities: { key: EntityKey; blocks: Map<string, { group: BlockGroup; block: number }> }[],
  endUs: number,
): Promise<void> {
  let pending = entities.map((e) => ({
    ...e,
    fields: [...new Set([...e.blocks.values()].flatMap(({ group, block }) => [headField(group, block), ...blockTileFields(group, block)]))],
  }));
  for (let attempt = 0; attempt < REBUILD_ATTEMPTS && pending.length > 0; attempt++) {
    const stored = await tiles.readTileFields(viewName, pending);
    const updates: TileUpdate[] = pending.map((p, i) => {
      const record = stored[i] as Map<string, string>;
      const update: TileUpdate = { key: p.key, set: new Map(), expected: new Map(), also: new Map() };
      for (const [head, { group, block }] of p.blocks) {
        const blockTiles = new Map<number, { json: string; states: Record<string, never> }>();
        blockTileFields(group, block).forEach((field, k) => {
          const json = record.get(field);
          if (json !== undefined) blockTiles.set(firstTileOf(group, block) + k, { json, states: JSON.parse(json) });
        });
        const rebuilt = rebuildBlock(group, block, blockTiles, blockEndMicros(group, block) <= endUs);
        if (!rebuilt) continue;
        update.set.set(head, encodeHead(group, rebuilt.head));
        update.expected.set(head, record.get(head));
        for (const [field, json] of rebuilt.suffixes) update.also?.set(field, json);
      }
      return update;
    });
    const applied = await tiles.updateTiles(viewName, updates);
    pending = pending.filter((_, i) => !applied[i]);
  }
  if (pending.length > 0)
    throw new StoreUnavailableError("tile store", new Error(`${pending.length} entities changed concurrently ${REBUILD_ATTEMPTS} times`));
}
