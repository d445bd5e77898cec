import {
  DEFAULT_ALLOWED_LATENESS,
  type ResolvedAggregation,
  rawColumnDtype,
  resolveAggregations,
  retentionSeconds,
  tileIndexOf,
  tileRange,
} from "../../../definition/aggregations";
import type { FeatureView } from "../../../definition/catalog";
import { evaluate, type ExprValue } from "../../../definition/expressions/evaluate";
import { type Expr, parseExpression, referencesOf } from "../../../definition/expressions/parse";
import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError } from "../../core/errors";
import type { EntityKey } from "../online/store";
import { onlineViewOf } from "../online/view";
import { toEpochNanos } from "../timestamp";
import { coerceEntityValue, coerceValue, type FeatureValue } from "../values";
import { type AggregationState, addValue, emptyState, finalize, mergeStates } from "./state";
import { entityKeyId, parseTileField, type TileRecord, type TileStore, tileField } from "./tile-store";
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
  aggregations: (ResolvedAggregation & { filter?: Expr })[];
  derived: { name: string; expr: Expr }[];
  lateness: number;
  retention: number;
}

const compiled = new WeakMap<FeatureView, CompiledView>();

export function compileView(catalog: Catalog, viewName: string): CompiledView {
  const definition = catalog.featureViews[viewName];
  if (!definition) throw new Error(`feature view "${viewName}" is not in the catalog`);
  let view = compiled.get(definition);
  if (!view) {
    view = {
      name: viewName,
      definition,
      aggregations: resolveAggregations(definition).map((a) => ({ ...a, ...(a.where ? { filter: parseExpression(a.where) } : {}) })),
      derived: (definition.derived ?? []).map((d) => ({ name: d.name, expr: parseExpression(d.expression) })),
      lateness: definition.allowedLateness ?? DEFAULT_ALLOWED_LATENESS,
      retention: retentionSeconds(definition),
    };
    compiled.set(definition, view);
  }
  return view;
}

type TileStates = Record<string, AggregationState>;

/** The aggregates and derived features of one entity as of `nowUs`, from its tile record. */
export function valuesAsOf(view: CompiledView, record: TileRecord, nowUs: number): Record<string, FeatureValue> {
  const bySize = new Map<number, Map<number, TileStates>>();
  for (const [field, json] of record.tiles) {
    const tile = parseTileField(field);
    if (!tile) continue;
    let tiles = bySize.get(tile.tileSeconds);
    if (!tiles) {
      tiles = new Map();
      bySize.set(tile.tileSeconds, tiles);
    }
    tiles.set(tile.tileStart / tile.tileSeconds, JSON.parse(json) as TileStates);
  }
  const values: Record<string, FeatureValue> = {};
  for (const a of view.aggregations) {
    const { first, last } = tileRange(nowUs, a.windowSeconds, a.tileSeconds);
    if (a.function === "count_distinct") {
      // One set over the window's tiles (merging tile by tile would sort the union once per tile).
      const distinct = new Set<string>();
      for (const [k, states] of bySize.get(a.tileSeconds) ?? []) {
        const tileState = states[a.name] as { d: string[] } | undefined;
        if (k >= first && k <= last && tileState) for (const v of tileState.d) distinct.add(v);
      }
      values[a.name] = distinct.size;
      continue;
    }
    let state = emptyState(a);
    for (const [k, states] of bySize.get(a.tileSeconds) ?? []) {
      const tileState = states[a.name];
      if (k >= first && k <= last && tileState) state = mergeStates(a, state, tileState);
    }
    values[a.name] = finalize(a, state);
  }
  for (const d of view.derived) values[d.name] = evaluate(d.expr, (ref) => values[ref.name] as ExprValue);
  return values;
}

/** Reads aggregated features for entity keys as of `nowUs` (one round trip). */
export async function readAggregates(
  catalog: Catalog,
  tiles: TileStore,
  viewName: string,
  keys: EntityKey[],
  nowUs: number,
): Promise<Record<string, FeatureValue>[]> {
  const view = compileView(catalog, viewName);
  const records = await tiles.readTiles(viewName, keys);
  return records.map((record) => valuesAsOf(view, record, nowUs));
}

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

/** The tile fields one entity's events fall in (what a push reads and rewrites). */
export function touchedFields(view: CompiledView, events: ParsedEvent[]): string[] {
  const fields = new Set<string>();
  for (const event of events)
    for (const a of view.aggregations) fields.add(tileField(a.tileSeconds, tileIndexOf(event.us, a.tileSeconds) * a.tileSeconds));
  return [...fields];
}

/**
 * Applies events (already parsed) to the tiles they fall in (`tiles`: those fields as stored);
 * returns the new states of those fields. A field an aggregation's `where` filters out everywhere
 * is still rewritten unchanged (or created empty), which keeps the compare-and-set simple.
 */
export function applyEvents(view: CompiledView, tiles: Map<string, string>, events: ParsedEvent[]): Map<string, string> {
  const changed = new Map<string, TileStates>();
  const stateOf = (field: string): TileStates => {
    let states = changed.get(field);
    if (!states) {
      const json = tiles.get(field);
      states = json ? (JSON.parse(json) as TileStates) : {};
      changed.set(field, states);
    }
    return states;
  };
  for (const event of events) {
    for (const a of view.aggregations) {
      const states = stateOf(tileField(a.tileSeconds, tileIndexOf(event.us, a.tileSeconds) * a.tileSeconds));
      if (a.filter && evaluate(a.filter, (ref) => event.values[ref.name] ?? null) !== true) continue;
      const value = a.column ? (event.values[a.column] ?? null) : null;
      states[a.name] = addValue(a, states[a.name] ?? emptyState(a), event.us, value);
    }
  }
  return new Map([...changed].map(([field, states]) => [field, JSON.stringify(states)]));
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
    const updates = pending.map((p, i) => {
      const before = stored[i] as Map<string, string>;
      const set = applyEvents(view, before, p.events);
      return { key: p.key, set, expected: new Map(p.fields.map((f) => [f, before.get(f)])), pruneBefore };
    });
    const applied = await tiles.updateTiles(viewName, updates);
    pending = pending.filter((_, i) => !applied[i]);
  }
  if (pending.length > 0)
    throw new StoreUnavailableError("tile store", new Error(`${pending.length} entities changed concurrently ${CAS_ATTEMPTS} times`));
  return { applied: parsed.rows - refused.length, refused, late };
}

/** A bad pushed row (400 with the reason). */
export class PushError extends Error {}
