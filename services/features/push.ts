import { isAggregated } from "../../definition/aggregations";
import type { PushSource } from "../../definition/catalog";
import type { Catalog } from "../../definition/registry";
import { HttpError, StoreUnavailableError } from "../core/errors";
import { type ParsedPush, PushError, parseEvents, pushEvents, type RefusedEvent } from "./aggregations/online";
import type { TileStore } from "./aggregations/tile-store";
import { onlineWriteOf } from "./materialize";
import type { OfflineRow, OfflineStore } from "./offline/store";
import { sqlViewOf } from "./offline/view";
import { serializeEntityKey } from "./entity-key";
import type { OnlineStore, OnlineView, OnlineWrite } from "./online/store";
import { onlineViewOf } from "./online/view";
import { toEpochNanos } from "./timestamp";

/** Body of `POST /push`, as Feast's feature server takes it. */
export interface PushRequest {
  push_source_name: string;
  /** Columns of the dataframe: name -> values (Feast sends pandas' dict-of-lists). */
  df: Record<string, unknown[]>;
  /** "online" (default), "offline", "online_and_offline" (Feast's PushMode). */
  to?: string;
  allow_registry_cache?: boolean;
  transform_on_write?: boolean;
}

export interface PushResult {
  rows: number;
  online?: { written: number; skipped: number };
  offline?: { rows: number };
  /** Raw events an aggregated view did not apply online, with the reason (late, or ahead of the clock). */
  refused?: (RefusedEvent & { feature_view: string })[];
}

/** What pushes into aggregated views need: the tile store, the clock, and a counter of late events. */
export interface AggregationPush {
  tiles: TileStore;
  /** Epoch microseconds now. */
  nowUs: () => number;
  onLate?: (featureView: string, count: number) => void;
}

/** Feast's PushMode values; anything else (the "both" some Feast docs write) is refused by Feast's server too. */
const TARGETS: Record<string, { online: boolean; offline: boolean }> = {
  online: { online: true, offline: false },
  offline: { online: false, offline: true },
  online_and_offline: { online: true, offline: true },
};

/** Every feature view a push source feeds (Feast: every view whose stream_source is the push source). */
export function pushTargets(source: PushSource): string[] {
  return [source.featureView, ...(source.featureViews ?? []).filter((v) => v !== source.featureView)];
}

/** A feature view's part of a push: the view and its writes, checked before anything is written. */
interface ViewWrite {
  view: OnlineView;
  timestampColumn: string;
  rows: OfflineRow[];
}

function viewWriteOf(
  catalog: Catalog,
  viewName: string,
  rows: OfflineRow[],
  df: Record<string, unknown>,
  fallbackTimestamp?: string,
): ViewWrite {
  const view = onlineViewOf(catalog, viewName);
  let timestampColumn = catalog.featureViews[viewName]?.source.timestampField ?? "event_timestamp";
  // Feast's remote online store always names the column event_timestamp, whatever the view's field.
  if (!(timestampColumn in df) && fallbackTimestamp && fallbackTimestamp in df) timestampColumn = fallbackTimestamp;
  for (const column of [...view.joinKeys.map((k) => k.name), timestampColumn]) {
    if (!(column in df))
      throw new HttpError(400, `df.${column} is missing; feature view "${view.name}" needs its join keys and "${timestampColumn}"`);
  }
  // An aggregated view takes raw events: its columns are checked per row by parseEvents.
  if (!isAggregated(catalog.featureViews[viewName] ?? {}) && !view.features.some((f) => f.name in df))
    throw new HttpError(400, `df has none of the features of "${view.name}" (${view.features.map((f) => f.name).join(", ")})`);
  return { view, timestampColumn, rows };
}

/** The online writes of a view's rows, the newest per key (as the store would keep after writing them in order). */
function onlineWritesOf({ view, timestampColumn, rows }: ViewWrite): OnlineWrite[] {
  const newest = new Map<string, OnlineWrite>();
  rows.forEach((row, i) => {
    let write: OnlineWrite;
    try {
      write = onlineWriteOf(view, row, timestampColumn);
    } catch (error) {
      throw new HttpError(400, `df row ${i}: ${(error as Error).message}`);
    }
    const id = serializeEntityKey(view.joinKeys, write.key).toString("base64");
    const seen = newest.get(id);
    if (!seen || write.eventTimestamp >= seen.eventTimestamp) newest.set(id, write);
  });
  return [...newest.values()];
}

/**
 * Writes pushed rows to every feature view of the push source. Offline first: when the offline
 * write fails nothing is written online, so the two stores never disagree about a push that failed.
 * Every row is checked (types, join keys) before either store is written.
 */
export async function push(
  catalog: Catalog,
  online: OnlineStore,
  offline: OfflineStore | undefined,
  request: PushRequest,
  maxRows: number,
  aggregations?: AggregationPush,
): Promise<PushResult> {
  const source = catalog.pushSources[request.push_source_name];
  if (!source)
    // Feast answers an unknown push source with 422 (PushSourceNotFoundException).
    throw new HttpError(
      422,
      `push source "${request.push_source_name}" is not in the catalog; known: ${Object.keys(catalog.pushSources).join(", ") || "none"}`,
    );
  const target = TARGETS[request.to ?? "online"];
  if (!target) throw new HttpError(400, `"to": "${request.to}" is not a push mode; use one of online, offline, online_and_offline`);
  const rows = rowsOf(request.df, maxRows);
  const views = pushTargets(source).map((name) => viewWriteOf(catalog, name, rows, request.df));
  const aggregated = new Map<string, ParsedPush>();
  const nowUs = aggregations?.nowUs() ?? Date.now() * 1000;
  for (const { view } of views) {
    if (!isAggregated(catalog.featureViews[view.name] ?? {}) || !target.online) continue;
    if (!aggregations) throw new HttpError(501, `feature view "${view.name}" aggregates raw events, and this server has no tile store`);
    try {
      aggregated.set(view.name, parseEvents(catalog, view.name, rows, nowUs));
    } catch (error) {
      if (error instanceof PushError) throw new HttpError(400, error.message);
      throw error;
    }
  }
  const writes = target.online ? views.map((v) => (aggregated.has(v.view.name) ? [] : onlineWritesOf(v))) : [];
  const result: PushResult = { rows: rows.length };
  if (target.offline) {
    if (!offline) throw new HttpError(501, "this server has no offline store; start it with --offline-store to push offline");
    let appended = 0;
    for (const { view, timestampColumn } of views) {
      const offlineRows = rows.map((row) => ({
        ...row,
        [timestampColumn]: new Date(Number(toEpochNanos(row[timestampColumn]) / 1_000_000n)),
      }));
      try {
        appended += await offline.append(sqlViewOf(catalog, view.name), offlineRows);
      } catch (error) {
        if (error instanceof HttpError || error instanceof StoreUnavailableError) throw error;
        throw new HttpError(400, `offline write to "${view.name}" failed, nothing was written online: ${(error as Error).message}`);
      }
    }
    result.offline = { rows: appended };
  }
  if (target.online) {
    result.online = { written: 0, skipped: 0 };
    for (const [i, { view }] of views.entries()) {
      const parsed = aggregated.get(view.name);
      if (parsed && aggregations) {
        const pushed = await pushEvents(catalog, aggregations.tiles, view.name, parsed, nowUs);
        result.online.written += pushed.applied;
        if (pushed.late) aggregations.onLate?.(view.name, pushed.late);
        if (pushed.refused.length)
          result.refused = [...(result.refused ?? []), ...pushed.refused.map((r) => ({ ...r, feature_view: view.name }))];
        continue;
      }
      const written = await online.writeFeatures(view, writes[i] as OnlineWrite[]);
      result.online.written += written.written;
      result.online.skipped += written.skipped;
    }
  }
  return result;
}

/** Body of `POST /write-to-online-store`, what Feast's `remote` online store sends. */
export interface WriteToOnlineStoreRequest {
  feature_view_name: string;
  df: Record<string, unknown[]>;
  allow_registry_cache?: boolean;
  transform_on_write?: boolean;
}

/** Writes rows to one feature view online (Feast's FeatureStore.write_to_online_store); unknown columns are ignored. */
export async function writeToOnlineStore(
  catalog: Catalog,
  online: OnlineStore,
  request: WriteToOnlineStoreRequest,
  maxRows: number,
): Promise<{ written: number; skipped: number }> {
  if (!catalog.featureViews[request.feature_view_name])
    throw new HttpError(
      404,
      `feature view "${request.feature_view_name}" is not in the catalog; known: ${Object.keys(catalog.featureViews).join(", ")}`,
    );
  const rows = rowsOf(request.df, maxRows);
  const write = viewWriteOf(catalog, request.feature_view_name, rows, request.df, "event_timestamp");
  return online.writeFeatures(write.view, onlineWritesOf(write));
}

function rowsOf(df: Record<string, unknown[]>, maxRows: number): OfflineRow[] {
  const columns = Object.entries(df ?? {});
  if (columns.length === 0)
    throw new HttpError(400, '"df" is empty; give columns like {"driver_id": [1001], "event_timestamp": ["2022-05-13 10:59:42"], ...}');
  // Feast (pandas) broadcasts a scalar column over the rows; so do we.
  const length = Math.max(...columns.map(([, v]) => (Array.isArray(v) ? v.length : 1)));
  if (length > maxRows) throw new HttpError(413, `${length} rows is over the limit of ${maxRows} per push; split it`);
  for (const [name, values] of columns) {
    if (Array.isArray(values) && values.length !== length)
      throw new HttpError(400, `df.${name} has ${values.length} values but other columns have ${length}`);
  }
  return Array.from({ length }, (_, i) =>
    Object.fromEntries(columns.map(([name, values]) => [name, Array.isArray(values) ? values[i] : values])),
  );
}
