import type { Aggregation, AggregationFunction, Dtype, FeatureView, Field } from "./catalog";
import { parseDuration } from "./duration";

/**
 * Window and tile semantics of aggregated feature views, written once (docs/features.md) and used
 * by every path: the training-set SQL, materialization, pushes and online reads.
 *
 * - Tile k of size s covers event times (k*s, (k+1)*s] in epoch seconds (microseconds kept).
 * - The value at time t of an aggregation with window W and tile s aggregates the events with
 *   floor_s(t - W) < event_timestamp <= t, where floor_s(x) = floor(x / s) * s: exactly
 *   t - W < event_timestamp <= t when t - W falls on a tile edge, else up to one tile more at
 *   the old edge (never less), so a window is whole tiles plus the head tile up to t.
 */

/** An aggregation with its defaults resolved. */
export interface ResolvedAggregation {
  /** Index in the view's aggregations list (tile states are keyed by name, this is for messages). */
  index: number;
  name: string;
  function: AggregationFunction;
  column?: string;
  where?: string;
  /** last_n only. */
  n?: number;
  windowSeconds: number;
  tileSeconds: number;
  /** Output dtype. */
  dtype: Dtype;
}

const HOUR = 3600;
/** allowedLateness when a view does not set it: an hour, enough for retried pushes and queue lag. */
export const DEFAULT_ALLOWED_LATENESS = HOUR;
const DAY = 86400;

/** Default tile for a window: 5m under 12h, 1h under 12d, 1d above (Chronon's resolutions). */
export function defaultTileSeconds(windowSeconds: number): number {
  if (windowSeconds < 12 * HOUR) return 300;
  if (windowSeconds < 12 * DAY) return HOUR;
  return DAY;
}

/** The default feature name: <column>_<function>_<window>, or count_<window> without a column. */
export function aggregationName(aggregation: Pick<Aggregation, "name" | "column" | "function" | "window">): string {
  if (aggregation.name) return aggregation.name;
  return [aggregation.column, aggregation.function, aggregation.window].filter(Boolean).join("_");
}

/** Dtype of a raw event column of an aggregated view: as declared in fields, else Float64. */
export function rawColumnDtype(view: Pick<FeatureView, "fields">, column: string): Dtype {
  return view.fields.find((f) => f.name === column)?.dtype ?? "Float64";
}

/** Output dtype of an aggregation over a column of the given dtype. */
export function aggregationDtype(fn: AggregationFunction, columnDtype: Dtype): Dtype {
  switch (fn) {
    case "count":
    case "count_distinct":
      return "Int64";
    case "sum":
    case "mean":
    case "stddev":
    case "variance":
      return "Float64";
    case "last_n":
      return `Array(${columnDtype.replace(/^Array\((.*)\)$/, "$1")})` as Dtype;
    default:
      return columnDtype;
  }
}

/** Whether a view aggregates raw events (as opposed to serving precomputed columns). */
export function isAggregated(view: Pick<FeatureView, "aggregations">): boolean {
  return (view.aggregations?.length ?? 0) > 0;
}

/** The aggregations of a view with names, windows, tiles and dtypes resolved. */
export function resolveAggregations(view: Pick<FeatureView, "aggregations" | "fields" | "tile">): ResolvedAggregation[] {
  const viewTile = view.tile ? parseDuration(view.tile) : undefined;
  return (view.aggregations ?? []).map((a, index) => {
    const windowSeconds = parseDuration(a.window) ?? 0;
    const tileSeconds = (a.tile ? parseDuration(a.tile) : undefined) ?? viewTile ?? defaultTileSeconds(windowSeconds);
    return {
      index,
      name: aggregationName(a),
      function: a.function,
      ...(a.column ? { column: a.column } : {}),
      ...(a.where ? { where: a.where } : {}),
      ...(a.function === "last_n" ? { n: a.n ?? 1 } : {}),
      windowSeconds,
      tileSeconds,
      dtype: aggregationDtype(a.function, a.column ? rawColumnDtype(view, a.column) : "Int64"),
    };
  });
}

/**
 * The features a view serves, in order: its fields for a plain view; for an aggregated view its
 * aggregations then its derived features (its fields are then the raw event columns).
 */
export function featuresOf(view: Pick<FeatureView, "aggregations" | "derived" | "fields" | "tile">): Field[] {
  if (!isAggregated(view)) return view.fields;
  return [
    ...resolveAggregations(view).map((a) => ({ name: a.name, dtype: a.dtype, description: "" })),
    ...(view.derived ?? []).map((d) => ({ name: d.name, dtype: d.dtype, description: d.description })),
  ];
}

/** Seconds of state an aggregated view keeps: its longest window plus that aggregation's tile. */
export function retentionSeconds(view: Pick<FeatureView, "aggregations" | "fields" | "tile">): number {
  return Math.max(0, ...resolveAggregations(view).map((a) => a.windowSeconds + a.tileSeconds));
}

/** floor_s(x): the tile edge at or before x, in microseconds. */
export function tileFloorMicros(us: number, tileSeconds: number): number {
  const size = tileSeconds * 1_000_000;
  return Math.floor(us / size) * size;
}

/** Index k of the tile (k*s, (k+1)*s] that holds an event time (microseconds). */
export function tileIndexOf(us: number, tileSeconds: number): number {
  return Math.ceil(us / (tileSeconds * 1_000_000)) - 1;
}

/**
 * The tile indexes an aggregation reads at time t (microseconds): from the tile just after
 * floor_s(t - W) to the tile holding t.
 */
export function tileRange(tUs: number, windowSeconds: number, tileSeconds: number): { first: number; last: number } {
  const start = tileFloorMicros(tUs - windowSeconds * 1_000_000, tileSeconds);
  return { first: start / (tileSeconds * 1_000_000), last: tileIndexOf(tUs, tileSeconds) };
}
