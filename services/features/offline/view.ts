import { isAggregated, resolveAggregations } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import type { SqlView } from "./sql";

export type { SqlView };

/** The SqlView of a catalog feature view. */
export function sqlViewOf(catalog: Catalog, viewName: string): SqlView {
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
  return {
    name: view.name,
    joinKeys: view.entities.flatMap((e) => catalog.entities[e]?.joinKeys ?? []),
    source: view.source,
    ttlSeconds: view.ttl,
    ...(isAggregated(view) ? { aggregated: { aggregations: resolveAggregations(view), derived: view.derived ?? [] } } : {}),
  };
}
