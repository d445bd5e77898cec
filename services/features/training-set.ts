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
  const viewNames = [...new Set(features.map((f) => f.featureView))];
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
    views: viewNames.map((name) => sqlViewOf(catalog, name)),
    features,
    fullFeatureNames: options.fullFeatureNames ?? false,
    out: options.out,
  });
}
