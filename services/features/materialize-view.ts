import { isAggregated, retentionSeconds } from "../../definition/aggregations";
import type { FeatureView } from "../../definition/catalog";
import type { Catalog } from "../../definition/registry";
import { isAggregatedView, tileExport, writeMaterializedTiles } from "./aggregations";
import type { TileStore } from "./aggregations/tile-store";
import { type ExportQuery, latestRowsQuery } from "./offline/export";
import type { OfflineRow } from "./offline/store";
import { sqlViewOf } from "./offline/view";
import type { OnlineStore, OnlineView, OnlineWrite, WriteResult } from "./online/store";
import { onlineViewOf } from "./online/view";
import { toEpochNanos } from "./timestamp";
import { coerceEntityValue, coerceValue } from "./values";

/**
 * What materializing one view runs in the offline store and how its rows are written, so the
 * streamed path (one process) and the sharded path (export, N writers, durable state) treat both
 * kinds of view alike:
 *   - a plain view: the latest row per key in the window (`latestRowsSql`), written as Feast's
 *     hashes by `OnlineStore.writeFeatures` (a row not newer than the stored one is skipped);
 *   - an aggregated view: fe's tile rows (`tileExport`: whole tiles of every tile size, reaching
 *     back by allowedLateness), written by `TileStore.writeTiles`; a tile row holds the tile's
 *     complete state, so writing it again overwrites with the same bytes (resume-safe).
 * The view's recorded end is the window's end for both.
 */
export interface ViewMaterialization {
  kind: "plain" | "aggregated";
  query: ExportQuery;
  /** The columns a shard reader selects (every column `write` reads). */
  columns: string[];
  /** Writes one batch of the query's rows; resolves once the store acknowledged them. */
  write(rows: OfflineRow[]): Promise<WriteResult>;
}

/**
 * Where a view's first (or state-less) run starts: a plain view's TTL back from the end (0 = all
 * history); an aggregated view's retention (its longest window plus one tile), as older tiles are
 * never read.
 */
export function defaultStart(view: FeatureView, end: Date): Date {
  const seconds = isAggregated(view) ? retentionSeconds(view) : view.ttl;
  return new Date(seconds > 0 ? end.getTime() - seconds * 1000 : 0);
}

export interface ViewStores {
  online: OnlineStore;
  /** Required for aggregated views (openTileStore on the online store's URL). */
  tiles?: TileStore;
}

export function viewMaterialization(
  catalog: Catalog,
  viewName: string,
  stores: ViewStores,
  window: { start: Date; end: Date },
  options: { disableEventTimestamp?: boolean } = {},
): ViewMaterialization {
  if (isAggregatedView(catalog, viewName)) {
    const tiles = stores.tiles;
    if (!tiles)
      throw new Error(
        `feature view "${viewName}" is aggregated: materializing it needs a tile store (openTileStore on the online store's URL)`,
      );
    // The columns and the encoder do not depend on the dialect; the SQL is generated for the store that runs it.
    const exported = tileExport(catalog, viewName, { dialect: "duckdb" }, window);
    return {
      kind: "aggregated",
      query: { sql: (ctx) => tileExport(catalog, viewName, ctx, window).sql, keyColumns: exported.keyColumns },
      columns: exported.columns,
      async write(rows) {
        const { written } = await writeMaterializedTiles(
          catalog,
          tiles,
          viewName,
          rows.map((row) => exported.encode(row)),
          window.end.getTime() * 1000,
        );
        return { written, skipped: 0 };
      },
    };
  }
  const online = onlineViewOf(catalog, viewName);
  const features = online.features.map((f) => f.name);
  return {
    kind: "plain",
    query: latestRowsQuery(sqlViewOf(catalog, viewName), features, window.start, window.end),
    columns: [...online.joinKeys.map((j) => j.name), ...features, "event_timestamp"],
    write(rows) {
      return stores.online.writeFeatures(
        online,
        rows.map((row) => {
          const write = onlineWriteOf(online, row);
          // Feast's disable_event_timestamp: the write's time is now.
          return options.disableEventTimestamp ? { ...write, eventTimestamp: BigInt(Date.now()) * 1_000_000n } : write;
        }),
      );
    },
  };
}

/** An offline row as an online write, values checked against the feature view's dtypes. */
export function onlineWriteOf(view: OnlineView, row: OfflineRow, timestampColumn = "event_timestamp"): OnlineWrite {
  const values: OnlineWrite["values"] = {};
  for (const f of view.features) {
    if (!(f.name in row)) continue;
    try {
      values[f.name] = coerceValue(f.dtype, row[f.name]);
    } catch (error) {
      throw new Error(`feature view "${view.name}", feature "${f.name}" (${f.dtype}): ${(error as Error).message}`);
    }
  }
  return {
    key: view.joinKeys.map((k) => {
      const value = row[k.name];
      if (value === undefined || value === null)
        throw new Error(`feature view "${view.name}": a row has no value for join key "${k.name}"`);
      return coerceEntityValue(k.type, value);
    }),
    eventTimestamp: toEpochNanos(row[timestampColumn]),
    values,
  };
}
