import { tileRange } from "../../../definition/aggregations";
import { evaluate, type ExprValue } from "../../../definition/expressions/evaluate";
import type { Catalog } from "../../../definition/registry";
import type { EntityKey } from "../online/store";
import type { FeatureValue } from "../values";
import { type CompiledView, compileView } from "./online";
import { type AggregationState, emptyState, finalize, mergeStates } from "./state";
import type { TileStore } from "./tile-store";
import {
  type BlockGroup,
  type BlockHead,
  type BlockSuffix,
  blockOf,
  type CompiledAggregation,
  firstTileOf,
  headField,
  parseHead,
  parseSuffix,
  suffixField,
  tileFieldAt,
} from "./window-blocks";

/** How one aggregation is read as of t (window-blocks.ts). */
interface AggregationRead {
  a: CompiledAggregation;
  group: BlockGroup;
  first: number;
  last: number;
  /** "prefix": the head of the window's block; "span": a sealed suffix of the older block and the newer block's head; "tiles": the window's tiles. */
  mode: "prefix" | "span" | "tiles";
  head: string;
  olderHead?: string;
  suffix?: string;
}

/** The fields one read asks every entity for (the same for all: they depend on t only). */
export interface ReadPlan {
  reads: AggregationRead[];
  fields: string[];
}

export function readPlanOf(view: CompiledView, nowUs: number): ReadPlan {
  const fields = new Set<string>();
  const reads = view.groups.flatMap((group) =>
    group.aggregations.map((a): AggregationRead => {
      const { first, last } = tileRange(nowUs, a.windowSeconds, a.tileSeconds);
      const [older, newer] = [blockOf(group, first), blockOf(group, last)];
      const head = headField(group, newer);
      if (older < newer) {
        const read = {
          a,
          group,
          first,
          last,
          mode: "span" as const,
          head,
          olderHead: headField(group, older),
          suffix: suffixField(group, first),
        };
        fields.add(read.head).add(read.olderHead).add(read.suffix);
        return read;
      }
      if (first === firstTileOf(group, newer)) {
        fields.add(head);
        return { a, group, first, last, mode: "prefix", head };
      }
      return { a, group, first, last, mode: "tiles", head };
    }),
  );
  return { reads, fields: [...fields] };
}

/** `k` and `z` of a head without parsing its states (the older block's head is read for them only). */
function sealOf(json: string | undefined): { k: number; z?: string } | undefined {
  if (json === undefined) return undefined;
  const match = HEAD_START.exec(json) as RegExpExecArray;
  return match[3] === undefined ? { k: Number(match[1]) } : { k: Number(match[1]), z: match[3] };
}
/** How a head's JSON starts: `[k,0` or `[k,"z"` (window-blocks.ts). */
const HEAD_START = /^\[(-?\d+),(0|"([^"]*)")/;

/** A feature value from two disjoint states (count_distinct: the size of the union, without sorting). */
function valueOf(a: CompiledAggregation, x: AggregationState | undefined, y: AggregationState | undefined): FeatureValue {
  if (a.function === "count_distinct") {
    const [p, q] = [(x as { d: string[] } | undefined)?.d ?? [], (y as { d: string[] } | undefined)?.d ?? []];
    if (p.length === 0 || q.length === 0) return p.length + q.length;
    const union = new Set(p);
    for (const v of q) union.add(v);
    return union.size;
  }
  if (!x) return finalize(a, y ?? emptyState(a));
  return finalize(a, y ? mergeStates(a, x, y) : x);
}

/**
 * Sets the aggregates of one entity from its block fields; returns the reads that need the
 * window's tiles instead (their values are left null).
 */
function fromBlocks(plan: ReadPlan, record: Map<string, string>, values: Record<string, FeatureValue>): AggregationRead[] {
  // Each head and suffix is parsed once, however many aggregations read it.
  const parsed: Record<string, BlockHead | BlockSuffix | undefined> = {};
  const head = (read: AggregationRead): BlockHead | undefined => {
    if (!(read.head in parsed)) parsed[read.head] = parseHead(read.group, record.get(read.head));
    return parsed[read.head] as BlockHead | undefined;
  };
  const suffix = (read: AggregationRead, name: string): BlockSuffix | undefined => {
    if (!(name in parsed)) parsed[name] = parseSuffix(read.group, record.get(name));
    return parsed[name] as BlockSuffix | undefined;
  };
  const fromTiles: AggregationRead[] = [];
  for (const read of plan.reads) {
    const { a } = read;
    const newer = read.mode === "tiles" ? undefined : head(read);
    // An event after t (within the clock skew) is in the head: the head is not the prefix up to t.
    if (read.mode === "tiles" || (newer && newer.k > read.last)) {
      fromTiles.push(read);
      continue;
    }
    const older = read.mode === "span" ? sealOf(record.get(read.olderHead as string)) : undefined;
    if (!older || older.k < read.first) {
      values[a.name] = valueOf(a, newer?.st[a.name], undefined);
      continue;
    }
    const trailing = suffix(read, read.suffix as string);
    if (older.z === undefined || trailing?.z !== older.z) {
      fromTiles.push(read);
      continue;
    }
    values[a.name] = valueOf(a, trailing.st[a.name], newer?.st[a.name]);
  }
  return fromTiles;
}

/** The value of one aggregation merged from the window's tiles (field -> JSON of the tile's states). */
function fromTilesValue(read: AggregationRead, tiles: Map<string, string>): FeatureValue {
  const { a } = read;
  const distinct = a.function === "count_distinct" ? new Set<string>() : undefined;
  let state = emptyState(a);
  for (let k = read.first; k <= read.last; k++) {
    const json = tiles.get(tileFieldAt(read.group, k));
    const tileState = json === undefined ? undefined : (JSON.parse(json) as Record<string, AggregationState>)[a.name];
    if (!tileState) continue;
    if (distinct) for (const v of (tileState as { d: string[] }).d) distinct.add(v);
    else state = mergeStates(a, state, tileState);
  }
  return distinct ? distinct.size : finalize(a, state);
}

/**
 * Reads aggregated features for entity keys as of `nowUs`: one round trip for the block fields of
 * every key (a few per tile size and window length), and a second only for keys whose windows the
 * blocks do not cover (window-blocks.ts), with the window's tiles by name.
 */
export async function readAggregates(
  catalog: Catalog,
  tiles: TileStore,
  viewName: string,
  keys: EntityKey[],
  nowUs: number,
): Promise<Record<string, FeatureValue>[]> {
  const view = compileView(catalog, viewName);
  const plan = readPlanOf(view, nowUs);
  const records = plan.fields.length
    ? await tiles.readTileFields(
        viewName,
        keys.map((key) => ({ key, fields: plan.fields })),
      )
    : keys.map(() => new Map<string, string>());
  const values = keys.map(() => {
    // In the view's order (aggregations, then derived), as the tiles-only read answered.
    const row: Record<string, FeatureValue> = {};
    for (const a of view.aggregations) row[a.name] = null;
    return row;
  });
  const pending: { row: number; reads: AggregationRead[] }[] = [];
  records.forEach((record, row) => {
    const fromTiles = fromBlocks(plan, record, values[row] as Record<string, FeatureValue>);
    if (fromTiles.length) pending.push({ row, reads: fromTiles });
  });
  if (pending.length) {
    const tileFields = pending.map(({ row, reads }) => ({
      key: keys[row] as EntityKey,
      fields: [...new Set(reads.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, i) => tileFieldAt(r.group, r.first + i))))],
    }));
    const stored = await tiles.readTileFields(viewName, tileFields);
    pending.forEach(({ row, reads }, i) => {
      for (const read of reads)
        (values[row] as Record<string, FeatureValue>)[read.a.name] = fromTilesValue(read, stored[i] as Map<string, string>);
    });
  }
  for (const row of values) for (const d of view.derived) row[d.name] = evaluate(d.expr, (ref) => row[ref.name] as ExprValue);
  return values;
}
