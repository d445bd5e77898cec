import {
  DEFAULT_ALLOWED_LATENESS,
  rawColumnDtype,
  resolveAggregations,
  retentionSeconds,
  tileIndexOf,
} from "../../../definition/aggregations";
import type { FeatureView } from "../../../definition/catalog";
import { evaluate } from "../../../definition/expressions/evaluate";
import { type Expr, parseExpression, referencesOf } from "../../../definition/expressions/parse";
import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError } from "../../core/errors";
import type { EntityKey } from "../online/store";
import { onlineViewOf } from "../online/view";
import { toEpochNanos } from "../timestamp";
import { coerceEntityValue, coerceValue } from "../values";
import { type AggregationState, addValue, emptyState } from "./state";
import { entityKeyId, type TileStore, tileField } from "./tile-store";
import {
  type BlockGroup,
  blockEndMicros,
  blockGroupsOf,
  blockOf,
  blockTileFields,
  type CompiledAggregation,
  firstTileOf,
  headField,
  mergeGroupStates,
  encodeHead,
  parseHead,
  rebuildBlock,
} from "./window-blocks";
import { type JsonScalar, jsonScalar } from "./values";

const US = 1_000_000;
/** Pushed events may be this far ahead of the server's clock (clock skew between producers and us). */
export const MAX_CLOCK_SKEW_SECONDS = 5;
/** Compare-and-set attempts per push before answering 503 (only under heavy contention on one entity). */
const CAS_ATTEMPTS = 8;

/** An aggregated view, compiled once: aggregations, where filters and derived expressions parsed. */
export interface CompiledView {
  name: string;
  definition: FeatureView;
  aggregations: CompiledAggregation[];
  derived: { name: string; expr: Expr }[];
  /** The aggregations by tile size and block length (window-blocks.ts). */
  groups: BlockGroup[];
  lateness: number;
  retention: number;
}

const compiled = new WeakMap<FeatureView, CompiledView>();

export function compileView(catalog: Catalog, viewName: string): CompiledView {
  const definition = catalog.featureViews[viewName];
  if (!definition) throw new Error(`feature view "${viewName}" is not in the catalog`);
  let view = compiled.get(definition);
  if (!view) {
    const aggregations = resolveAggregations(definition).map((a) => ({ ...a, ...(a.where ? { filter: parseExpression(a.where) } : {}) }));
    view = {
      name: viewName,
      definition,
      aggregations,
      derived: (definition.derived ?? []).map((d) => ({ name: d.name, expr: parseExpression(d.expression) })),
      groups: blockGroupsOf(aggregations),
      lateness: definition.allowedLateness ?? DEFAULT_ALLOWED_LATENESS,
      retention: retentionSeconds(definition),
    };
    compiled.set(definition, view);
  }
  return view;
}

type TileStates = Record<string, AggregationState>;

/** A pushed row that was not applied, and why. */
export interface RefusedEvent {
  row: number;
  reason: string;
}

export interface PushEventsResult {
  applied: number;
  refused: RefusedEvent[];
  /** Of the refused, how many for lateness (the metric counts these). */
  late: number;
}

interface ParsedEvent {
  key: EntityKey;
  us: number;
  values: Record<string, JsonScalar | null>;
}

/** The fields one entity's events touch: their tiles, their blocks' heads, and the heads of the blocks before (to seal them). */
export function touchedFields(view: CompiledView, events: ParsedEvent[]): string[] {
  const fields = new Set<string>();
  for (const event of events) {
    for (const a of view.aggregations) fields.add(tileField(a.tileSeconds, tileIndexOf(event.us, a.tileSeconds) * a.tileSeconds));
    for (const g of view.groups) {
      const block = blockOf(g, tileIndexOf(event.us, g.tileSeconds));
      fields.add(headField(g, block)).add(headField(g, block - 1));
    }
  }
  return [...fields];
}

/** A block a push changes: the events' states merged (the block's aggregations) and their newest tile. */
interface BlockChange {
  group: BlockGroup;
  block: number;
  events: TileStates;
  k: number;
}

/**
 * Applies events (already parsed) to the tiles they fall in (`stored`: the touched fields as read);
 * returns the new states of those tiles and, per head field, what the events add to the block. A
 * tile an aggregation's `where` filters out everywhere is still rewritten unchanged (or created
 * empty), which keeps the compare-and-set simple.
 */
export function applyEvents(
  view: CompiledView,
  stored: Map<string, string>,
  events: ParsedEvent[],
): { tiles: Map<string, string>; blocks: Map<string, BlockChange> } {
  const changed = new Map<string, TileStates>();
  const stateOf = (field: string): TileStates => {
    let states = changed.get(field);
    if (!states) {
      const json = stored.get(field);
      states = json ? (JSON.parse(json) as TileStates) : {};
      changed.set(field, states);
    }
    return states;
  };
  const blocks = new Map<string, BlockChange>();
  for (const event of events) {
    const changes = view.groups.map((group) => {
      const tile = tileIndexOf(event.us, group.tileSeconds);
      const block = blockOf(group, tile);
      const field = headField(group, block);
      const change = blocks.get(field) ?? { group, block, events: {}, k: tile };
      change.k = Math.max(change.k, tile);
      blocks.set(field, change);
      return change;
    });
    view.groups.forEach((group, g) => {
      for (const a of group.aggregations) {
        const states = stateOf(tileField(a.tileSeconds, tileIndexOf(event.us, a.tileSeconds) * a.tileSeconds));
        if (a.filter && evaluate(a.filter, (ref) => event.values[ref.name] ?? null) !== true) continue;
        const value = a.column ? (event.values[a.column] ?? null) : null;
        states[a.name] = addValue(a, states[a.name] ?? emptyState(a), event.us, value);
        const block = (changes[g] as BlockChange).events;
        block[a.name] = addValue(a, block[a.name] ?? emptyState(a), event.us, value);
      }
    });
  }
  return { tiles: new Map([...changed].map(([field, states]) => [field, JSON.stringify(states)])), blocks };
}

/** One entity's push as a compare-and-set: tiles and heads set over what was read, sealed blocks' suffixes beside. */
interface EntityUpdate {
  set: Map<string, string>;
  expected: Map<string, string | undefined>;
  also: Map<string, string>;
  /** Blocks whose head and suffixes are rebuilt from all their tiles (sealed blocks, and ended blocks to seal). */
  rebuild: { group: BlockGroup; block: number }[];
}

function entityUpdate(view: CompiledView, stored: Map<string, string>, events: ParsedEvent[], nowUs: number): EntityUpdate {
  const { tiles, blocks } = applyEvents(view, stored, events);
  const update: EntityUpdate = { set: new Map(tiles), expected: new Map(), also: new Map(), rebuild: [] };
  for (const [field, change] of blocks) {
    const head = parseHead(change.group, stored.get(field));
    // A block that has ended is sealed (its late events rebuild it); so is one already sealed.
    if (head?.z !== undefined || blockEndMicros(change.group, change.block) <= nowUs) update.rebuild.push(change);
    else {
      const st = mergeGroupStates(change.group, { ...head?.st }, change.events);
      update.set.set(field, encodeHead(change.group, { k: Math.max(head?.k ?? change.k, change.k), st }));
    }
    // The block before, once it has ended and while it is not sealed: seal it (once per block and entity).
    const before = headField(change.group, change.block - 1);
    const previous = parseHead(change.group, stored.get(before));
    if (previous && previous.z === undefined && !blocks.has(before) && blockEndMicros(change.group, change.block - 1) <= nowUs)
      update.rebuild.push({ group: change.group, block: change.block - 1 });
  }
  for (const field of update.set.keys()) update.expected.set(field, stored.get(field));
  return update;
}

/**
 * Rebuilds blocks of an update from all their tiles (`stored`: the blocks' tiles, read after
 * `first`, the push's fields as read before). False when the push's fields changed in between
 * (the entity is read again).
 */
function rebuildBlocks(update: EntityUpdate, fields: string[], first: Map<string, string>, stored: Map<string, string>): boolean {
  if (fields.some((field) => first.get(field) !== stored.get(field))) return false;
  for (const { group, block } of update.rebuild) {
    const tiles = new Map<number, { json: string; states: TileStates }>();
    blockTileFields(group, block).forEach((field, i) => {
      const json = update.set.get(field) ?? stored.get(field);
      if (json !== undefined) tiles.set(firstTileOf(group, block) + i, { json, states: JSON.parse(json) as TileStates });
    });
    const rebuilt = rebuildBlock(group, block, tiles, true);
    const head = headField(group, block);
    if (!rebuilt) continue;
    update.set.set(head, encodeHead(group, rebuilt.head));
    update.expected.set(head, first.get(head));
    for (const [field, json] of rebuilt.suffixes) update.also.set(field, json);
  }
  return true;
}

/**
 * Pushes raw events into an aggregated view's tiles. Each row needs the join keys, the timestamp
 * and the columns the aggregations read (null or absent is a null value). Rows older than
 * now - allowedLateness, or ahead of now by more than the clock skew, are refused with the
 * reason; the rest are applied per entity with compare-and-set, so concurrent pushes lose nothing.
 */
export function parseEvents(catalog: Catalog, viewName: string, rows: Record<string, unknown>[], nowUs: number): ParsedPush {
  const view = compileView(catalog, viewName);
  const online = onlineViewOf(catalog, viewName);
  const timestampField = view.definition.source.timestampField;
  const columns = [
    ...new Set(view.aggregations.flatMap((a) => [a.column, ...(a.filter ? referencesOf(a.filter).map((r) => r.name) : [])])),
  ].filter((c): c is string => c !== undefined);
  const refused: RefusedEvent[] = [];
  let late = 0;
  const byKey = new Map<string, { key: EntityKey; events: ParsedEvent[] }>();
  rows.forEach((row, i) => {
    let event: ParsedEvent;
    try {
      const key = online.joinKeys.map((k) => {
        const value = row[k.name];
        if (value === undefined || value === null) throw new Error(`has no value for join key "${k.name}"`);
        return coerceEntityValue(k.type, value);
      });
      const raw = row[timestampField];
      if (raw === undefined || raw === null) throw new Error(`has no "${timestampField}"`);
      const us = Number(toEpochNanos(raw) / 1000n);
      const values: Record<string, JsonScalar | null> = {};
      for (const c of columns) {
        const dtype = rawColumnDtype(view.definition, c);
        const v = coerceValue(dtype, row[c]);
        values[c] = v === null ? null : dtype === "UnixTimestamp" ? Number(toEpochNanos(row[c]) / 1000n) : jsonScalar(v);
      }
      event = { key, us, values };
    } catch (error) {
      throw new PushError(`df row ${i}: ${(error as Error).message}`);
    }
    if (event.us < nowUs - view.lateness * US) {
      late += 1;
      refused.push({
        row: i,
        reason: `event time is ${Math.round((nowUs - event.us) / US)} s old, beyond allowedLateness ${view.lateness} s of feature view "${viewName}"; backfill it offline and materialize`,
      });
      return;
    }
    if (event.us > nowUs + MAX_CLOCK_SKEW_SECONDS * US) {
      refused.push({ row: i, reason: `event time is ${Math.round((event.us - nowUs) / US)} s in the future; check the producer's clock` });
      return;
    }
    const id = entityKeyId(event.key);
    const group = byKey.get(id) ?? { key: event.key, events: [] };
    group.events.push(event);
    byKey.set(id, group);
  });
  return { groups: [...byKey.values()], refused, late, rows: rows.length };
}

/** Pushed rows checked and grouped per entity, before anything is written. */
export interface ParsedPush {
  groups: { key: EntityKey; events: ParsedEvent[] }[];
  refused: RefusedEvent[];
  late: number;
  rows: number;
}

export async function pushEvents(
  catalog: Catalog,
  tiles: TileStore,
  viewName: string,
  rows: Record<string, unknown>[] | ParsedPush,
  nowUs: number,
): Promise<PushEventsResult> {
  const parsed = Array.isArray(rows) ? parseEvents(catalog, viewName, rows, nowUs) : rows;
  const view = compileView(catalog, viewName);
  const { refused, late } = parsed;
  // Tiles that no window can reach any more (their end is older than the longest window plus the lateness) go.
  const pruneBefore = Math.ceil((nowUs - (view.retention + view.lateness) * US) / US);
  let pending = parsed.groups.map((g) => ({ ...g, fields: touchedFields(view, g.events) }));
  for (let attempt = 0; attempt < CAS_ATTEMPTS && pending.length > 0; attempt++) {
    const stored = await tiles.readTileFields(viewName, pending);
    const updates = pending.map((p, i) => entityUpdate(view, stored[i] as Map<string, string>, p.events, nowUs));
    // Sealing or changing a sealed block reads all its tiles (once per block, or for late events).
    const rebuilding = updates.flatMap((u, i) => (u.rebuild.length ? [i] : []));
    const conflicted = new Set<number>();
    if (rebuilding.length) {
      const blockFields = await tiles.readTileFields(
        viewName,
        rebuilding.map((i) => ({
          key: (pending[i] as (typeof pending)[number]).key,
          fields: [
            ...new Set([
              ...(pending[i]?.fields ?? []),
              ...(updates[i] as EntityUpdate).rebuild.flatMap((r) => blockTileFields(r.group, r.block)),
            ]),
          ],
        })),
      );
      rebuilding.forEach((i, n) => {
        const fields = (pending[i] as (typeof pending)[number]).fields;
        if (!rebuildBlocks(updates[i] as EntityUpdate, fields, stored[i] as Map<string, string>, blockFields[n] as Map<string, string>))
          conflicted.add(i);
      });
    }
    const sent = updates.flatMap((_, i) => (conflicted.has(i) ? [] : [i]));
    const applied = await tiles.updateTiles(
      viewName,
      sent.map((i) => {
        const u = updates[i] as EntityUpdate;
        return { key: (pending[i] as (typeof pending)[number]).key, set: u.set, expected: u.expected, also: u.also, pruneBefore };
      }),
    );
    const done = new Set(sent.filter((_, n) => applied[n]));
    pending = pending.filter((_, i) => !done.has(i));
  }
  if (pending.length > 0)
    throw new StoreUnavailableError("tile store", new Error(`${pending.length} entities changed concurrently ${CAS_ATTEMPTS} times`));
  return { applied: parsed.rows - refused.length, refused, late };
}

/** A bad pushed row (400 with the reason). */
export class PushError extends Error {}
