import { parseExpression, referencesOf } from "../../definition/expressions/parse";
import type { Catalog } from "../../definition/registry";
import { resolveFeatureRef, resolveFeatureService } from "../../definition/registry";
import type { EntitySource, OfflineStore, TrainingSetResult } from "./offline/store";
import { sqlViewOf } from "./offline/view";

export interface TrainingSetOptions {
  entities: EntitySource;
  /** A feature service name, or a list of "<view>:<feature>" refs; exactly one. */
  featureService?: string;
  features?: string[];
  /** Name columns "<view>__<feature>" (Feast's full_feature_names). Defaults to false. */
  fullFeatureNames?: boolean;
  /** The entity rows' event time column. Defaults to "event_timestamp". */
  timestampColumn?: string;
  out?: string;
}

/**
 * A point-in-time-correct training set (Feast's get_historical_features) from the same feature
 * view definitions the online path serves; the offline store runs the SQL of its dialect.
 */
export async function buildTrainingSet(catalog: Catalog, offline: OfflineStore, options: TrainingSetOptions): Promise<TrainingSetResult> {
  if ((options.featureService === undefined) === (options.features === undefined))
    throw new Error("give exactly one of a feature service and a list of features");
  const features = options.featureService
    ? resolveFeatureService(catalog, options.featureService)
    : (options.features as string[]).map((ref) => resolveFeatureRef(catalog, ref));
  // On-demand features read request columns of the entity rows and features of other views:
  // those views join too, with the features the expressions read.
  const extra = new Map<string, Set<string>>();
  for (const f of features) {
    const odfv = catalog.onDemandFeatureViews?.[f.featureView];
    const expression = odfv?.features.find((x) => x.name === f.name)?.expression;
    for (const ref of expression ? referencesOf(parseExpression(expression)) : []) {
      if (ref.view) extra.set(ref.view, (extra.get(ref.view) ?? new Set()).add(ref.name));
    }
  }
  const viewNames = [...new Set([...features.map((f) => f.featureView), ...extra.keys()])].filter((v) => catalog.featureViews[v]);
  const onDemandViews = [...new Set(features.map((f) => f.featureView))].flatMap((name) => {
    const odfv = catalog.onDemandFeatureViews?.[name];
    return odfv ? [{ name, joinKeys: [], source: { timestampField: "" }, ttlSeconds: 0, onDemand: odfv }] : [];
  });
  const joinKeyTypes: Record<string, "INT64" | "INT32" | "STRING" | "BYTES"> = {};
  for (const name of viewNames) {
    for (const entityName of catalog.featureViews[name]?.entities ?? []) {
      const entity = catalog.entities[entityName];
      for (const key of entity?.joinKeys ?? []) joinKeyTypes[key] = entity?.valueType ?? "INT64";
    }
  }
  return offline.trainingSet({
    entities: options.entities,
    timestampColumn: options.timestampColumn ?? "event_timestamp",
    joinKeyTypes,
    views: [...viewNames.map((name) => ({ ...sqlViewOf(catalog, name), extraFeatures: [...(extra.get(name) ?? [])] })), ...onDemandViews],
    features,
    fullFeatureNames: options.fullFeatureNames ?? false,
    out: options.out,
  });
}
