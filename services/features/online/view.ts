import type { Dtype } from "../../../definition/catalog";
import { featuresOf } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import type { OnlineRow, OnlineStore, OnlineView, ViewRead } from "./store";

/** The OnlineView of a catalog feature view. */
export function onlineViewOf(catalog: Catalog, viewName: string): OnlineView {
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
  const joinKeys = view.entities.flatMap((entityName) => {
    const entity = catalog.entities[entityName];
    if (!entity) throw new Error(`feature view "${viewName}" names entity "${entityName}", which is not in the catalog`);
    return entity.joinKeys.map((name) => ({ name, type: entity.valueType }));
  });
  return {
    project: catalog.project,
    name: view.name,
    joinKeys,
    features: featuresOf(view).map((f) => ({ name: f.name, dtype: f.dtype })),
    ttlSeconds: view.ttl,
  };
}

/** The dtype of a feature of a view; throws naming both when absent. */
export function dtypeOf(view: OnlineView, feature: string): Dtype {
  const f = view.features.find((x) => x.name === feature);
  if (!f) throw new Error(`feature "${feature}" is not a field of feature view "${view.name}"`);
  return f.dtype;
}

/** Default read of several views: one call per view, concurrently (adapters with pipelines override). */
export async function readEachView(store: Pick<OnlineStore, "readFeatures">, reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]> {
  return Promise.all(reads.map((r) => store.readFeatures(r.view, r.keys, r.features)));
}
