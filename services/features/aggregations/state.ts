import type { ResolvedAggregation } from "../../../definition/aggregations";
import type { FeatureValue } from "../values";
import type { JsonScalar } from "./values";

/**
 * The partial state of one aggregation over one tile, and how states combine. Tiles written by
 * materialization (computed in SQL) and tiles updated by pushes (computed here) hold the same
 * state, so a read merges them without caring where they came from. Stored as JSON
 * (docs/online-store-format.md, "Aggregated views").
 *
 *   count            { c }          events (or non-null values) passing `where`
 *   sum, mean        { n, s }       non-null values, their sum
 *   min, max         { v }          the extreme, null when none
 *   variance, stddev { n, m, q }    count, mean and M2 (sum of squared deviations; Welford/Chan)
 *   count_distinct   { d }          the distinct values as canonical strings, sorted
 *   last, last_n     { l }          [event time in us, value] pairs, newest first, at most n
 */
export type AggregationState =
  | { c: number }
  | { n: number; s: number }
  | { v: number | null }
  | { n: number; m: number; q: number }
  | { d: string[] }
  | { l: [number, JsonScalar][] };

/** A raw event as the aggregations see it: time in epoch microseconds and its column values. */
export interface RawEvent {
  us: number;
  values: Record<string, JsonScalar | null>;
}

export function emptyState(a: ResolvedAggregation): AggregationState {
  switch (a.function) {
    case "count":
      return { c: 0 };
    case "sum":
    case "mean":
      return { n: 0, s: 0 };
    case "min":
    case "max":
      return { v: null };
    case "variance":
    case "stddev":
      return { n: 0, m: 0, q: 0 };
    case "count_distinct":
      return { d: [] };
    default:
      return { l: [] };
  }
}

/** The canonical text of a distinct value: the same for a number and for the bigint or string a driver returns. */
export function distinctKey(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return String(value);
}

/** Orders [us, value] newest first; equal times: the larger value first (docs/feature-engineering.md). */
function newerFirst(x: [number, JsonScalar], y: [number, JsonScalar]): number {
  if (x[0] !== y[0]) return y[0] - x[0];
  return x[1] === y[1] ? 0 : (x[1] as number) > (y[1] as number) ? -1 : 1;
}

/**
 * Adds one event that passed the aggregation's `where` filter. `value` is the event's value of the
 * aggregated column (null when absent; ignored for count without a column).
 */
export function addValue(a: ResolvedAggregation, state: AggregationState, us: number, value: JsonScalar | null): AggregationState {
  if (a.function === "count") return a.column && value === null ? state : { c: (state as { c: number }).c + 1 };
  if (value === null) return state;
  switch (a.function) {
    case "sum":
    case "mean": {
      const s = state as { n: number; s: number };
      return { n: s.n + 1, s: s.s + (value as number) };
    }
    case "min":
    case "max": {
      const v = (state as { v: number | null }).v;
      const x = value as number;
      return { v: v === null || (a.function === "min" ? x < v : x > v) ? x : v };
    }
    case "variance":
    case "stddev":
      return mergeStates(a, state, { n: 1, m: value as number, q: 0 });
    case "count_distinct":
      return mergeStates(a, state, { d: [distinctKey(value)] });
    default:
      return mergeStates(a, state, { l: [[us, value]] });
  }
}

/** Combines the states of two disjoint sets of events (two tiles, or a tile and new events). */
export function mergeStates(a: ResolvedAggregation, x: AggregationState, y: AggregationState): AggregationState {
  switch (a.function) {
    case "count":
      return { c: (x as { c: number }).c + (y as { c: number }).c };
    case "sum":
    case "mean": {
      const p = x as { n: number; s: number };
      const r = y as { n: number; s: number };
      return { n: p.n + r.n, s: p.s + r.s };
    }
    case "min":
    case "max": {
      const p = (x as { v: number | null }).v;
      const r = (y as { v: number | null }).v;
      if (p === null) return { v: r };
      if (r === null) return { v: p };
      return { v: a.function === "min" ? Math.min(p, r) : Math.max(p, r) };
    }
    case "variance":
    case "stddev": {
      // Chan et al.'s parallel update: exact for merging, stable for large means.
      const p = x as { n: number; m: number; q: number };
      const r = y as { n: number; m: number; q: number };
      if (p.n === 0) return r;
      if (r.n === 0) return p;
      const n = p.n + r.n;
      const delta = r.m - p.m;
      return { n, m: p.m + (delta * r.n) / n, q: p.q + r.q + (delta * delta * p.n * r.n) / n };
    }
    case "count_distinct": {
      const set = new Set([...(x as { d: string[] }).d, ...(y as { d: string[] }).d]);
      return { d: [...set].sort() };
    }
    default: {
      const all = [...(x as { l: [number, JsonScalar][] }).l, ...(y as { l: [number, JsonScalar][] }).l].sort(newerFirst);
      return { l: all.slice(0, a.n ?? 1) };
    }
  }
}

/** The feature value of a merged state (docs/feature-engineering.md, "empty window" column). */
export function finalize(a: ResolvedAggregation, state: AggregationState): FeatureValue {
  switch (a.function) {
    case "count":
      return (state as { c: number }).c;
    case "sum": {
      const s = state as { n: number; s: number };
      return s.n === 0 ? null : s.s;
    }
    case "mean": {
      const s = state as { n: number; s: number };
      return s.n === 0 ? null : s.s / s.n;
    }
    case "min":
    case "max":
      return (state as { v: number | null }).v;
    case "variance":
    case "stddev": {
      const s = state as { n: number; m: number; q: number };
      if (s.n < 2) return null;
      const variance = Math.max(0, s.q) / (s.n - 1);
      return a.function === "variance" ? variance : Math.sqrt(variance);
    }
    case "count_distinct":
      return (state as { d: string[] }).d.length;
    case "last":
      return (state as { l: [number, JsonScalar][] }).l[0]?.[1] ?? null;
    default:
      return (state as { l: [number, JsonScalar][] }).l.map(([, v]) => v);
  }
}

/**
 * A state without its field names, for the window blocks a read parses (docs/online-store-format.md,
 * "Window blocks"): count `c`; sum, mean `[n, s]`; min, max `v`; variance, stddev `[n, m, q]`;
 * count_distinct `[values...]`; last, last_n `[[us, value], ...]`.
 */
export function packState(a: ResolvedAggregation, state: AggregationState | undefined): unknown {
  const s = (state ?? emptyState(a)) as Record<string, unknown>;
  switch (a.function) {
    case "count":
      return s.c;
    case "sum":
    case "mean":
      return [s.n, s.s];
    case "min":
    case "max":
      return s.v;
    case "variance":
    case "stddev":
      return [s.n, s.m, s.q];
    case "count_distinct":
      return s.d;
    default:
      return s.l;
  }
}

export function unpackState(a: ResolvedAggregation, packed: unknown): AggregationState {
  switch (a.function) {
    case "count":
      return { c: packed as number };
    case "sum":
    case "mean": {
      const [n, s] = packed as [number, number];
      return { n, s };
    }
    case "min":
    case "max":
      return { v: packed as number | null };
    case "variance":
    case "stddev": {
      const [n, m, q] = packed as [number, number, number];
      return { n, m, q };
    }
    case "count_distinct":
      return { d: packed as string[] };
    default:
      return { l: packed as [number, JsonScalar][] };
  }
}
