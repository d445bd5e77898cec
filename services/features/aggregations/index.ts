export { isAggregated } from "../../../definition/aggregations";
export { openTileStore } from "./open";
export { writeMaterializedTiles } from "./materialized-tiles";
export { type PushEventsResult, pushEvents, type RefusedEvent } from "./online";
export { readAggregates } from "./read";
export { type TileExport, tileExport } from "./tile-sql";
export { MemoryTileStore, type TileRecord, type TileStore, type TileUpdate, type TileWrite, tileField } from "./tile-store";

import { isAggregated } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";

/** True when the view has aggregations (materialize it with tileExport and a TileStore). */
export function isAggregatedView(catalog: Catalog, viewName: string): boolean {
  const view = catalog.featureViews[viewName];
  return view !== undefined && isAggregated(view);
}
