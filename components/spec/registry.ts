import type { Entity, FeatureService, FeatureView, Field, ModelParsed, PushSource } from "./catalog";

/** Where a catalog object was declared, for error messages. */
export interface Origin {
  /** Catalog file relative to the repository root. */
  file: string;
  /** Field path of the object inside that file, e.g. `featureViews[2]`. */
  path: string;
}

/** A model from `catalog/models/<team>/<model>.yaml` with its name and team resolved. */
export type ModelSpec = ModelParsed & { name: string; team: string; origin: Origin };

/**
 * The merged catalog: the feature registry (entities, feature views, feature services, push
 * sources) and the model catalog. Pulumi components, the policy pack and the three services all
 * read this one object, so deployed and served definitions cannot disagree.
 */
export interface Catalog {
  /** Feast project name; part of every online-store key. */
  project: string;
  entities: Record<string, Entity & { origin: Origin }>;
  featureViews: Record<string, FeatureView & { origin: Origin }>;
  featureServices: Record<string, FeatureService & { origin: Origin }>;
  pushSources: Record<string, PushSource & { origin: Origin }>;
  models: Record<string, ModelSpec>;
}

/** A resolved feature reference of a feature service, in order. */
export interface ResolvedFeature {
  featureView: string;
  name: string;
  dtype: Field["dtype"];
  /** "view:feature", Feast's reference form. */
  ref: string;
  /** "view__feature", Feast's full_feature_names form. */
  fullName: string;
}

/** The features a feature service reads, in declaration order (= the model's input order). */
export function resolveFeatureService(catalog: Catalog, serviceName: string): ResolvedFeature[] {
  const service = catalog.featureServices[serviceName];
  if (!service) throw new Error(`feature service "${serviceName}" is not in the catalog`);
  return service.features.map((ref) => resolveFeatureRef(catalog, ref));
}

/** Resolves "view:feature" against the registry; throws with the reason when it does not exist. */
export function resolveFeatureRef(catalog: Catalog, ref: string): ResolvedFeature {
  const [viewName, name] = ref.split(":") as [string, string];
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" (in "${ref}") is not in the catalog`);
  const field = view.fields.find((f) => f.name === name);
  if (!field) throw new Error(`feature "${name}" is not a field of feature view "${viewName}"`);
  return { featureView: viewName, name, dtype: field.dtype, ref, fullName: `${viewName}__${name}` };
}

/** The join keys of a feature view, sorted as Feast sorts them in entity keys. */
export function joinKeysOf(catalog: Catalog, viewName: string): string[] {
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
  return view.entities.flatMap((e) => catalog.entities[e]?.joinKeys ?? []);
}

/** The live (weighted) versions of a model, and its shadow, if any. */
export function trafficOf(model: ModelSpec): { weighted: { version: string; weight: number }[]; shadow?: { version: string; mirrorPercentage: number } } {
  return {
    weighted: model.versions.filter((v) => v.weight > 0).map((v) => ({ version: v.name, weight: v.weight })),
    shadow: model.shadow,
  };
}
