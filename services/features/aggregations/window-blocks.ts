import { createHash } from "node:crypto";
import type { ResolvedAggregation } from "../../../definition/aggregations";
import type { Expr } from "../../../definition/expressions/parse";
import { type AggregationState, mergeStates, packState, unpackState } from "./state";
import { tileField } from "./tile-store";

/**
 * Pre-merged window blocks, so an online read touches O(1) small values instead of every tile of
 * the window (docs/online-store-format.md, "Window blocks"). This is van Herk / Gil-Werman's
 * sliding-window decomposition over the tiles, with the window rule unchanged:
 *
 * An aggregation with window W and tile s reads the tiles first..last (definition/aggregations.ts,
 * tileRange), which are ceil(W/s) or ceil(W/s)+1 tiles. Cut the tile line into blocks of
 * L = ceil(W/s)+1 tiles. A window then spans at most two neighbouring blocks b1 <= b2, and
 *   - when b1 < b2, it is the suffix of b1 from tile `first` plus the prefix of b2 up to `last`;
 *   - when b1 = b2 and first is b2's first tile, it is the prefix of b2 up to `last`.
 * The prefix of the newest block is its *head*: the merge of every tile of the block, kept by
 * pushes as events arrive (events never land after `last`, except within the clock skew, which the
 * head's newest tile `k` shows). The suffixes of a block are written once, when the block has ended
 * (it is *sealed*): one field per tile j, the merge of tiles j..end of block. A sealed block
 * stamps its head and its suffixes with the same digest of its tiles, so a suffix written for
 * other tiles (a race, a rebuild) is never used. Anything else (a window inside a block not
 * starting at its first tile, which needs t exactly on a tile edge; an unsealed old block; a stale
 * suffix; an event after t in the head) is read from the tiles of the window, as before.
 *
 * Aggregations with the same tile size and the same L share their blocks (one head field and one
 * suffix field per tile hold the states of all of them).
 */

type States = Record<string, AggregationState>;

/** An aggregation as the online path runs it: resolved, its `where` parsed. */
export type CompiledAggregation = ResolvedAggregation & { filter?: Expr };

/** Aggregations that share tile size and block length, so they share heads and suffixes. */
export interface BlockGroup {
  tileSeconds: number;
  /** L: tiles per block, ceil(window / tile) + 1 (the longest window in tiles). */
  blockTiles: number;
  aggregations: CompiledAggregation[];
}

/** The head of a block: the merged states of all its tiles, its newest tile, and (sealed) the tiles' digest. */
export interface BlockHead {
  /** Index of the newest tile of the block with an event. */
  k: number;
  /** Sealed: the digest of the block's tiles its suffixes were computed from. */
  z?: string;
  st: States;
}

/** The suffix of a sealed block from one tile: the merged states of that tile and the later ones in the block. */
export interface BlockSuffix {
  z: string;
  st: States;
}

export function blockTilesOf(a: Pick<ResolvedAggregation, "windowSeconds" | "tileSeconds">): number {
  return Math.ceil(a.windowSeconds / a.tileSeconds) + 1;
}

export function blockGroupsOf(aggregations: CompiledAggregation[]): BlockGroup[] {
  const groups = new Map<string, BlockGroup>();
  for (const a of aggregations) {
    const blockTiles = blockTilesOf(a);
    const id = `${a.tileSeconds}/${blockTiles}`;
    const group = groups.get(id) ?? { tileSeconds: a.tileSeconds, blockTiles, aggregations: [] };
    group.aggregations.push(a);
    groups.set(id, group);
  }
  return [...groups.values()];
}

/** Block index of a tile index. */
export const blockOf = (g: BlockGroup, tile: number): number => Math.floor(tile / g.blockTiles);
export const firstTileOf = (g: BlockGroup, block: number): number => block * g.blockTiles;
/** Epoch microseconds at which a block ends (its last tile's end). */
export const blockEndMicros = (g: BlockGroup, block: number): number => (block + 1) * g.blockTiles * g.tileSeconds * 1_000_000;

/** `p<L>:<s>:<block start, epoch seconds>`: a block's head. */
export function headField(g: BlockGroup, block: number): string {
  return `p${g.blockTiles}:${g.tileSeconds}:${block * g.blockTiles * g.tileSeconds}`;
}

/** `s<L>:<s>:<tile start, epoch seconds>`: a sealed block's suffix from that tile. */
export function suffixField(g: BlockGroup, tile: number): string {
  return `s${g.blockTiles}:${g.tileSeconds}:${tile * g.tileSeconds}`;
}

/** The tile field of tile index k of the group's size. */
export function tileFieldAt(g: BlockGroup, tile: number): string {
  return tileField(g.tileSeconds, tile * g.tileSeconds);
}

/** Every tile field of a block, oldest first. */
export function blockTileFields(g: BlockGroup, block: number): string[] {
  return Array.from({ length: g.blockTiles }, (_, i) => tileFieldAt(g, firstTileOf(g, block) + i));
}

/**
 * Block fields are JSON arrays, states packed in the group's order (state.ts packState), so a read
 * parses no names: a head `[k, z or 0, state...]`, a suffix `[z, state...]`.
 */
export function encodeHead(g: BlockGroup, head: BlockHead): string {
  return JSON.stringify([head.k, head.z ?? 0, ...g.aggregations.map((a) => packState(a, head.st[a.name]))]);
}

export function parseHead(g: BlockGroup, json: string | undefined): BlockHead | undefined {
  if (json === undefined) return undefined;
  const [k, z, ...packed] = JSON.parse(json) as [number, string | 0, ...unknown[]];
  return { k, ...(z === 0 ? {} : { z }), st: unpacked(g, packed) };
}

export function encodeSuffix(g: BlockGroup, suffix: BlockSuffix): string {
  return JSON.stringify([suffix.z, ...g.aggregations.map((a) => packState(a, suffix.st[a.name]))]);
}

export function parseSuffix(g: BlockGroup, json: string | undefined): BlockSuffix | undefined {
  if (json === undefined) return undefined;
  const [z, ...packed] = JSON.parse(json) as [string, ...unknown[]];
  return { z, st: unpacked(g, packed) };
}

function unpacked(g: BlockGroup, packed: unknown[]): States {
  const st: States = {};
  g.aggregations.forEach((a, i) => {
    st[a.name] = unpackState(a, packed[i]);
  });
  return st;
}

/** The group's states merged: y into x (x may be changed). */
export function mergeGroupStates(g: BlockGroup, x: States, y: States | undefined): States {
  if (!y) return x;
  for (const a of g.aggregations) {
    const state = y[a.name];
    if (state) x[a.name] = x[a.name] ? mergeStates(a, x[a.name] as AggregationState, state) : state;
  }
  return x;
}

/**
 * A block's head and suffixes from its tiles (`tiles`: tile index -> the tile's states, as stored).
 * Sealed: the suffixes of every tile up to the newest, stamped with the tiles' digest; else only the head.
 * Undefined when the block has no tile.
 */
export function rebuildBlock(
  g: BlockGroup,
  block: number,
  tiles: Map<number, { json: string; states: States }>,
  sealed: boolean,
): { head: BlockHead; suffixes: Map<string, string> } | undefined {
  const present = [...tiles.keys()].filter((k) => blockOf(g, k) === block).sort((x, y) => x - y);
  if (present.length === 0) return undefined;
  const k = present[present.length - 1] as number;
  const suffixes = new Map<string, string>();
  let z: string | undefined;
  if (sealed) {
    const digest = createHash("sha1");
    for (const tile of present) digest.update(`${tile}=${tiles.get(tile)?.json}\n`);
    z = digest.digest("base64url").slice(0, 16);
  }
  // From the newest tile back: suffix(j) = tile j merged with suffix(j + 1); the last is the whole block.
  let acc: States = {};
  for (let j = k; j >= firstTileOf(g, block); j--) {
    const tile = tiles.get(j);
    if (tile) acc = mergeGroupStates(g, { ...acc }, tile.states);
    if (z !== undefined) suffixes.set(suffixField(g, j), encodeSuffix(g, { z, st: acc }));
  }
  return { head: { k, ...(z !== undefined ? { z } : {}), st: acc }, suffixes };
}

/** Only the group's states of a tile's states. */
export function groupStatesOf(g: BlockGroup, states: States): States {
  const out: States = {};
  for (const a of g.aggregations) if (states[a.name]) out[a.name] = states[a.name] as AggregationState;
  return out;
}
