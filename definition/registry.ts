import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { featuresOf } from "./aggregations";
import { parseExpression, referencesOf } from "./expressions/parse";
import type { Entity, FeatureService, FeatureView, Field, ModelParsed, OnDemandFeatureView, PushSource } from "./catalog";

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
  /** Features computed at request time (never stored); feature services reference them like views. */
  onDemandFeatureViews?: Record<string, OnDemandFeatureView & { origin: Origin }>;
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

/** Resolves "view:feature" against the registry (feature views, then on-demand views); throws with the reason when it does not exist. */
export function resolveFeatureRef(catalog: Catalog, ref: string): ResolvedFeature {
  const [viewName, name] = ref.split(":") as [string, string];
  const view = catalog.featureViews[viewName];
  const onDemand = catalog.onDemandFeatureViews?.[viewName];
  if (!view && !onDemand) throw new Error(`feature view "${viewName}" (in "${ref}") is not in the catalog`);
  const fields: Pick<Field, "name" | "dtype">[] = view ? featuresOf(view) : (onDemand?.features ?? []);
  const field = fields.find((f) => f.name === name);
  if (!field) throw new Error(`feature "${name}" is not a field of feature view "${viewName}"`);
  return { featureView: viewName, name, dtype: field.dtype, ref, fullName: `${viewName}__${name}` };
}

/** The join keys of a feature view, sorted as Feast sorts them in entity keys. */
export function joinKeysOf(catalog: Catalog, viewName: string): string[] {
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
  return view.entities.flatMap((e) => catalog.entities[e]?.joinKeys ?? []);
}

/**
 * What a caller sends to read a feature service online: the join keys of its feature views (and of
 * the views its on-demand features read), and the request fields its on-demand views take.
 */
export function serviceInputsOf(
  catalog: Catalog,
  serviceName: string,
): { joinKeys: string[]; requestFields: Pick<Field, "name" | "dtype">[] } {
  const resolved = resolveFeatureService(catalog, serviceName);
  const views = new Set<string>();
  const requestFields = new Map<string, Pick<Field, "name" | "dtype">>();
  for (const f of resolved) {
    const onDemand = catalog.featureViews[f.featureView] ? undefined : catalog.onDemandFeatureViews?.[f.featureView];
    if (!onDemand) {
      views.add(f.featureView);
      continue;
    }
    for (const field of onDemand.request) requestFields.set(field.name, { name: field.name, dtype: field.dtype });
    const feature = onDemand.features.find((x) => x.name === f.name);
    for (const ref of feature ? referencesOf(parseExpression(feature.expression)) : [])
      if (ref.view && catalog.featureViews[ref.view]) views.add(ref.view);
  }
  return { joinKeys: [...new Set([...views].flatMap((v) => joinKeysOf(catalog, v)))], requestFields: [...requestFields.values()] };
}

/** The live (weighted) versions of a model, and its shadow, if any. */
export function trafficOf(model: ModelSpec): {
  weighted: { version: string; weight: number }[];
  shadow?: { version: string; mirrorPercentage: number };
} {
  return {
    weighted: model.versions.filter((v) => v.weight > 0).map((v) => ({ version: v.name, weight: v.weight })),
    shadow: model.shadow,
  };
}

/**
 * The runtime config: the merged catalog as the platform mounts it into pods (ConfigMap
 * `mlops-catalog`, rendered by components/k8s/runtime-config.ts). Rendering and reading live
 * side by side here, so the format is written once.
 */
export const RUNTIME_FILES = { registry: "registry.json", models: "models.json", project: "project" } as const;

/**
 * Renders the catalog into the runtime config files. Keys are sorted so the same catalog always
 * renders the same bytes (and the same checksum on the pods).
 */
export function renderRuntimeFiles(catalog: Catalog, stack: { name: string; featureStore: { project: string } }): Record<string, string> {
  const project = stack.featureStore.project;
  const { entities, featureViews, featureServices, pushSources, onDemandFeatureViews } = catalog;
  return {
    [RUNTIME_FILES.registry]: stableJson({ project, entities, featureViews, featureServices, pushSources, onDemandFeatureViews }),
    [RUNTIME_FILES.models]: stableJson({ project, stack: stack.name, models: catalog.models }),
    [RUNTIME_FILES.project]: project,
  };
}

/**
 * Reads a mounted runtime config back into the Catalog it was rendered from, or returns
 * undefined when the directory holds no registry.json (a catalog source directory instead).
 */
export function readRuntimeCatalog(dir: string): Catalog | undefined {
  const registryFile = join(dir, RUNTIME_FILES.registry);
  if (!existsSync(registryFile)) return undefined;
  const read = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw new Error(
        `${file}: cannot be read as the platform's runtime config (${(error as Error).message}); re-render it with pulumi up, or point --catalog at a catalog/ directory`,
      );
    }
  };
  const registry = read(registryFile);
  const modelsFile = join(dir, RUNTIME_FILES.models);
  const models = existsSync(modelsFile) ? read(modelsFile) : { models: {} };
  for (const key of ["entities", "featureViews", "featureServices", "pushSources"]) {
    if (typeof registry[key] !== "object" || registry[key] === null) {
      throw new Error(
        `${registryFile}: has no "${key}" object, so it was not rendered by this platform version; re-render it with pulumi up`,
      );
    }
  }
  return {
    project: String(registry.project),
    entities: registry.entities as Catalog["entities"],
    featureViews: registry.featureViews as Catalog["featureViews"],
    featureServices: registry.featureServices as Catalog["featureServices"],
    pushSources: registry.pushSources as Catalog["pushSources"],
    onDemandFeatureViews: (registry.onDemandFeatureViews ?? {}) as Catalog["onDemandFeatureViews"],
    models: (models.models ?? {}) as Catalog["models"],
  };
}

function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
