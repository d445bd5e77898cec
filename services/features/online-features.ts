import { isAggregated } from "../../definition/aggregations";
import type { OnDemandFeatureView } from "../../definition/catalog";
import { evaluate, type ExprValue } from "../../definition/expressions/evaluate";
import { parseExpression, referencesOf } from "../../definition/expressions/parse";
import type { Catalog } from "../../definition/registry";
import { resolveFeatureRef, resolveFeatureService, type ResolvedFeature } from "../../definition/registry";
import { HttpError } from "../core/errors";
import { readAggregates } from "./aggregations/read";
import type { TileStore } from "./aggregations/tile-store";
import type { EntityKey, OnlineRow, OnlineStore, OnlineView } from "./online/store";
import { onlineViewOf } from "./online/view";
import { type EpochNanos, formatTimestamp, nanosFromSeconds, toEpochNanos } from "./timestamp";
import { coerceEntityValue, type FeatureValue, UndecodableValue, valueToJson } from "./values";

/** Body of `POST /get-online-features`, field names exactly as Feast's feature server takes them. */
export interface GetOnlineFeaturesRequest {
  features?: string[];
  feature_service?: string;
  entities: Record<string, unknown[]>;
  full_feature_names?: boolean;
}

/** Feast's FieldStatus names (INVALID: a stored value of a type this service cannot answer, never a silent null). */
export type FieldStatus = "INVALID" | "PRESENT" | "NULL_VALUE" | "NOT_FOUND" | "OUTSIDE_MAX_AGE";

/** Feast's response: one result (column) per name in `metadata.feature_names`, values across entity rows. */
export interface GetOnlineFeaturesResponse {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: FieldStatus[]; event_timestamps: string[] }[];
}

const formatted = new Map<bigint, string>();

/** An event time as Feast's feature server prints it (services/features/timestamp.ts), memoised: rows share times. */
function timestampText(at: EpochNanos): string {
  let text = formatted.get(at);
  if (text === undefined) {
    text = formatTimestamp(at);
    if (formatted.size > 100_000) formatted.clear();
    formatted.set(at, text);
  }
  return text;
}
const EPOCH = formatTimestamp(0n);

interface ViewPlan {
  view: OnlineView;
  features: ResolvedFeature[];
  /** Features read for on-demand features but not answered. */
  extra?: string[];
  /** Aggregated views read tiles; on-demand views are computed from the others and the request. */
  kind?: "aggregated" | "onDemand";
  onDemand?: OnDemandFeatureView;
}

/** An on-demand view as a plan: no join keys, its features computed per row. */
function onDemandPlan(view: OnDemandFeatureView): ViewPlan {
  const features = view.features.map((f) => ({ name: f.name, dtype: f.dtype }));
  return { view: { project: "", name: view.name, joinKeys: [], features, ttlSeconds: 0 }, features: [], kind: "onDemand", onDemand: view };
}

/**
 * How cells are answered. "platform" (default): NOT_FOUND for a missing row, NULL_VALUE for a
 * missing value, OUTSIDE_MAX_AGE and null past the view's TTL, as a training set would give.
 * "feast": what Feast 0.67's Redis read path answers, so a switch changes no client-visible value:
 * every cell PRESENT (null where nothing is stored), no TTL applied.
 */
export type StatusMode = "platform" | "feast";

/** Options of the entity columns: Feast ignores columns that are no join key; strict answers 400 naming them. */
export interface EntityOptions {
  strictEntities?: boolean;
}

/**
 * Resolves which features a request asks for, grouped by feature view. As Feast: a feature service
 * wins over a features list when both are given, repeated refs are read once, and an unknown
 * feature view, feature or service is 404.
 */
export function planFeatures(catalog: Catalog, request: Pick<GetOnlineFeaturesRequest, "features" | "feature_service">): ViewPlan[] {
  const hasList = Array.isArray(request.features) && request.features.length > 0;
  if (!hasList && request.feature_service === undefined) {
    throw new HttpError(400, 'give "features" (a list of "<feature_view>:<feature>") or "feature_service"');
  }
  let features: ResolvedFeature[];
  try {
    features =
      request.feature_service !== undefined
        ? resolveFeatureService(catalog, request.feature_service)
        : [...new Set(request.features as string[])].map((ref) => resolveFeatureRef(catalog, ref));
  } catch (error) {
    throw new HttpError(404, (error as Error).message);
  }
  const plans = new Map<string, ViewPlan>();
  const planOf = (name: string): ViewPlan => {
    let plan = plans.get(name);
    if (!plan) {
      const onDemand = catalog.onDemandFeatureViews?.[name];
      plan = onDemand
        ? onDemandPlan(onDemand)
        : {
            view: onlineViewOf(catalog, name),
            features: [],
            ...(isAggregated(catalog.featureViews[name] ?? {}) ? { kind: "aggregated" as const } : {}),
          };
      plans.set(name, plan);
    }
    return plan;
  };
  for (const feature of features) planOf(feature.featureView).features.push(feature);
  // What on-demand features read from other views is read too (not answered unless asked for).
  for (const plan of [...plans.values()]) {
    for (const f of plan.onDemand?.features.filter((x) => plan.features.some((p) => p.name === x.name)) ?? []) {
      for (const ref of referencesOf(parseExpression(f.expression))) {
        if (!ref.view) continue;
        const source = planOf(ref.view);
        if (!source.features.some((x) => x.name === ref.name) && !source.extra?.includes(ref.name))
          source.extra = [...(source.extra ?? []), ref.name];
      }
    }
  }
  // On-demand views last: they are computed from the others.
  return [...plans.values()].sort((a, b) => Number(a.kind === "onDemand") - Number(b.kind === "onDemand"));
}

/**
 * Checks the `entities` columns against the planned views and returns the typed entity keys per
 * view. A column may be named by the join key or, as Feast allows, by an entity with one join key;
 * other columns are ignored (Feast) or refused (`strictEntities`).
 */
export function entityKeysFor(
  plans: ViewPlan[],
  entities: Record<string, unknown[]>,
  maxRows: number,
  options: EntityOptions & { catalog?: Catalog; requestFields?: Set<string> } = {},
): { rows: number; keys: EntityKey[][]; columns: Record<string, unknown[]> } {
  if (typeof entities !== "object" || entities === null || Array.isArray(entities))
    throw new HttpError(400, '"entities" must be an object of join key -> list of values, like {"driver_id": [1001, 1002]}');
  const names = Object.keys(entities);
  if (names.length === 0) throw new HttpError(400, '"entities" is empty; give at least one join key column');
  const joinKeyTypes = new Map(plans.flatMap((p) => p.view.joinKeys.map((k) => [k.name, k.type] as const)));
  let rows = -1;
  const columns: Record<string, unknown[]> = {};
  for (const name of names) {
    const column = entities[name];
    const joinKey = joinKeyTypes.has(name) ? name : joinKeyOfEntity(options.catalog, name, joinKeyTypes);
    const type = joinKey === undefined ? undefined : joinKeyTypes.get(joinKey);
    if (!type || joinKey === undefined) {
      if (!options.strictEntities || options.requestFields?.has(name)) continue;
      const known = plans.map((p) => `${p.view.name}: ${p.view.joinKeys.map((k) => k.name).join(", ")}`).join("; ");
      throw new HttpError(400, `entities.${name} is not a join key of the requested feature views (${known})`);
    }
    if (!Array.isArray(column)) throw new HttpError(400, `entities.${name} must be a list of values`);
    if (rows >= 0 && column.length !== rows)
      throw new HttpError(
        400,
        `entities.${name} has ${column.length} values but other columns have ${rows}; every column needs one value per row`,
      );
    rows = column.length;
    columns[joinKey] = column.map((value, i) => {
      try {
        return coerceEntityValue(type, value);
      } catch (error) {
        throw new HttpError(400, `entities.${name}[${i}]: ${(error as Error).message}; join key ${name} is ${type}`);
      }
    });
  }
  if (rows === 0) throw new HttpError(400, "entities has no rows");
  if (rows > maxRows) throw new HttpError(413, `${rows} entity rows is over the limit of ${maxRows} per request; split the request`);
  const keys = plans.map(({ view }) => {
    const missing = view.joinKeys.filter((k) => !(k.name in columns));
    if (missing.length) {
      throw new HttpError(
        400,
        `feature view "${view.name}" needs join key ${missing.map((k) => `"${k.name}"`).join(", ")} in "entities"; the request gave ${names.map((n) => `"${n}"`).join(", ")}`,
      );
    }
    return Array.from({ length: rows }, (_, r) => view.joinKeys.map((k) => (columns[k.name] as EntityKey)[r] as EntityKey[number]));
  });
  return { rows, keys, columns };
}

/** The join key an entity name stands for, when the entity has exactly one join key among the requested ones. */
function joinKeyOfEntity(catalog: Catalog | undefined, name: string, joinKeys: Map<string, unknown>): string | undefined {
  const keys = catalog?.entities[name]?.joinKeys.filter((k) => joinKeys.has(k)) ?? [];
  return keys.length === 1 ? keys[0] : undefined;
}

/** A request's features resolved: the views to read, in answer order, and how each is read. */
interface RequestPlan {
  plans: ViewPlan[];
  /** Views read by entity key (plain and aggregated), in `plans` order. */
  keyed: ViewPlan[];
  /** Request fields on-demand views take from `entities`. */
  requestFields: Set<string>;
  /** Plain views (one store read for all): index in `plans` and the features read. */
  plain: { index: number; features: string[] }[];
}

/**
 * Plans depend only on the catalog and on which features a request names, and clients ask for the
 * same few lists again and again: resolving them anew took about 5% of a 1-entity lookup's CPU samples. So
 * they are kept per catalog (at most PLANS_KEPT lists each). A plan is never changed once made.
 */
const requestPlans = new WeakMap<Catalog, Map<string, RequestPlan>>();
const PLANS_KEPT = 1000;

function requestPlanOf(catalog: Catalog, request: Pick<GetOnlineFeaturesRequest, "features" | "feature_service">): RequestPlan {
  const id = planId(request);
  let kept = requestPlans.get(catalog);
  const known = id === undefined ? undefined : kept?.get(id);
  if (known) return known;
  const plans = planFeatures(catalog, request);
  const plan: RequestPlan = {
    plans,
    keyed: plans.filter((p) => p.kind !== "onDemand"),
    requestFields: new Set(plans.flatMap((p) => p.onDemand?.request.map((r) => r.name) ?? [])),
    plain: plans.flatMap((p, index) => (p.kind ? [] : [{ index, features: [...p.features.map((f) => f.name), ...(p.extra ?? [])] }])),
  };
  if (id !== undefined) {
    if (!kept) {
      kept = new Map();
      requestPlans.set(catalog, kept);
    }
    if (kept.size >= PLANS_KEPT) kept.clear();
    kept.set(id, plan);
  }
  return plan;
}

/** What a plan depends on in a request; undefined when the request is malformed (planFeatures answers it). */
function planId(request: Pick<GetOnlineFeaturesRequest, "features" | "feature_service">): string | undefined {
  // A feature service wins over a features list (planFeatures), so it alone names the plan.
  if (typeof request.feature_service === "string") return `service:${request.feature_service}`;
  if (request.feature_service !== undefined) return undefined;
  const features: unknown = request.features;
  if (!Array.isArray(features) || !features.every((f) => typeof f === "string")) return undefined;
  return JSON.stringify(features);
}

/** Serves one request: one store round trip for all views, then Feast's column-per-feature response. */
export async function getOnlineFeatures(
  catalog: Catalog,
  store: OnlineStore,
  request: GetOnlineFeaturesRequest,
  options: EntityOptions & {
    maxRows: number;
    now: () => number;
    statuses?: StatusMode;
    onKeys?: (view: string, count: number) => void;
    /** Tiles of aggregated views, and the clock (epoch microseconds) their windows end at. */
    aggregations?: { tiles: TileStore; nowUs: () => number };
  },
): Promise<GetOnlineFeaturesResponse> {
  const { plans, keyed, requestFields, plain } = requestPlanOf(catalog, request);
  const entityKeys = entityKeysFor(keyed, request.entities, options.maxRows, {
    strictEntities: options.strictEntities,
    catalog,
    requestFields,
  });
  const { columns } = entityKeys;
  const rows = keyed.length ? entityKeys.rows : requestRows(request.entities, requestFields);
  const keys = plans.map((p) => (p.kind === "onDemand" ? [] : (entityKeys.keys[keyed.indexOf(p)] as EntityKey[])));
  const feastStatuses = options.statuses === "feast";
  const read = await store.readMany(
    plain.map(({ index, features }) => ({ view: (plans[index] as ViewPlan).view, keys: keys[index] as EntityKey[], features })),
  );
  const fetched: (OnlineRow | undefined)[][] = plans.map(() => []);
  plain.forEach(({ index }, n) => {
    fetched[index] = read[n] as (OnlineRow | undefined)[];
  });
  const nowUs = options.aggregations?.nowUs() ?? Date.now() * 1000;
  for (const [i, plan] of plans.entries()) {
    if (plan.kind !== "aggregated") continue;
    if (!options.aggregations)
      throw new HttpError(501, `feature view "${plan.view.name}" aggregates raw events, and this server has no tile store`);
    const values = await readAggregates(catalog, options.aggregations.tiles, plan.view.name, keys[i] as EntityKey[], nowUs);
    fetched[i] = values.map((v) => ({ eventTimestamp: BigInt(nowUs) * 1000n, values: v }));
  }
  for (const [i, plan] of plans.entries()) {
    if (plan.onDemand) fetched[i] = onDemandRows(plan.onDemand, plans, fetched, request.entities, rows, nowUs);
  }
  const now = options.now();
  const featureNames: string[] = Object.keys(columns);
  const results: GetOnlineFeaturesResponse["results"] = featureNames.map((name) => ({
    values: (columns[name] as FeatureValue[]).map(valueToJson),
    statuses: new Array<FieldStatus>(rows).fill("PRESENT"),
    event_timestamps: new Array<string>(rows).fill(EPOCH),
  }));
  plans.forEach((plan, p) => {
    options.onKeys?.(plan.view.name, rows);
    const viewRows = fetched[p] as (OnlineRow | undefined)[];
    // One timestamp string per row, shared by the view's features (formatting is the hot spot at 100 rows).
    const rowTimestamps = viewRows.map((row) => (row ? timestampText(row.eventTimestamp) : EPOCH));
    // Rows older than this are outside the view's TTL (computed once per view, compared in nanoseconds).
    const oldest = plan.view.ttlSeconds > 0 && !feastStatuses ? nanosFromSeconds(now - plan.view.ttlSeconds) : undefined;
    for (const feature of plan.features) {
      featureNames.push(request.full_feature_names ? feature.fullName : feature.name);
      const values = new Array<unknown>(rows);
      const statuses = new Array<FieldStatus>(rows);
      if (feastStatuses) feastCells(viewRows, feature.name, values, statuses);
      else cells(viewRows, feature.name, oldest, values, statuses);
      results.push({ values, statuses, event_timestamps: rowTimestamps.slice() });
    }
  });
  return { metadata: { feature_names: featureNames }, results };
}

/** A stored value as JSON (values.ts valueToJson), finite numbers and bigints without the call: most cells are one. */
function jsonOf(value: FeatureValue): unknown {
  return (typeof value === "number" && Number.isFinite(value)) || typeof value === "bigint" ? value : valueToJson(value);
}

/**
 * One feature's cells across rows. Status rules: no row -> NOT_FOUND; row without the value ->
 * NULL_VALUE; older than the TTL -> OUTSIDE_MAX_AGE and null, as a training set would give.
 */
function cells(
  rows: (OnlineRow | undefined)[],
  feature: string,
  oldest: EpochNanos | undefined,
  values: unknown[],
  statuses: FieldStatus[],
): void {
  for (let r = 0; r < values.length; r++) {
    const row = rows[r];
    const value = row?.values[feature];
    let status: FieldStatus = "PRESENT";
    if (!row) status = "NOT_FOUND";
    else if (value === undefined || value === null) status = "NULL_VALUE";
    else if (value instanceof UndecodableValue) status = "INVALID";
    else if (oldest !== undefined && row.eventTimestamp < oldest) status = "OUTSIDE_MAX_AGE";
    values[r] = status === "PRESENT" ? jsonOf(value as FeatureValue) : null;
    statuses[r] = status;
  }
}

/** Feast 0.67's Redis read path: every cell PRESENT, null where nothing (or null) is stored, no TTL. */
function feastCells(rows: (OnlineRow | undefined)[], feature: string, values: unknown[], statuses: FieldStatus[]): void {
  for (let r = 0; r < values.length; r++) {
    const value = rows[r]?.values[feature];
    const invalid = value instanceof UndecodableValue;
    values[r] = invalid || value === undefined || value === null ? null : jsonOf(value);
    statuses[r] = invalid ? "INVALID" : "PRESENT";
  }
}

/** Rows of a request that reads only on-demand features (no join keys): the request fields' length. */
function requestRows(entities: Record<string, unknown[]>, fields: Set<string>): number {
  const lengths = [...fields]
    .map((f) => entities?.[f])
    .filter(Array.isArray)
    .map((c) => c.length);
  if (lengths.length === 0) throw new HttpError(400, `"entities" must carry the request fields ${[...fields].join(", ")}`);
  return Math.max(...lengths);
}

/** A request field's value for expressions: numbers as numbers, timestamps as epoch microseconds. */
function requestValue(view: OnDemandFeatureView, name: string, value: unknown, row: number): ExprValue {
  if (value === undefined || value === null) return null;
  const dtype = view.request.find((r) => r.name === name)?.dtype;
  try {
    if (dtype === "UnixTimestamp") return Number(toEpochNanos(value) / 1000n);
    if (dtype === "String") return String(value);
    if (dtype === "Bool") {
      if (typeof value === "boolean") return value;
      throw new TypeError(`${JSON.stringify(value)} is not a boolean`);
    }
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : typeof value === "bigint" ? Number(value) : value;
    if (typeof n !== "number" || Number.isNaN(n)) throw new TypeError(`${JSON.stringify(value)} is not a number`);
    return n;
  } catch (error) {
    throw new HttpError(400, `entities.${name}[${row}]: ${(error as Error).message}; request field ${name} of "${view.name}" is ${dtype}`);
  }
}

/** On-demand features per row, from the request fields and the other views' rows just read. */
function onDemandRows(
  view: OnDemandFeatureView,
  plans: ViewPlan[],
  fetched: (OnlineRow | undefined)[][],
  entities: Record<string, unknown[]>,
  rows: number,
  nowUs: number,
): OnlineRow[] {
  const exprs = view.features.map((f) => ({ name: f.name, expr: parseExpression(f.expression) }));
  const source = new Map(plans.map((p, i) => [p.view.name, fetched[i] as (OnlineRow | undefined)[]]));
  return Array.from({ length: rows }, (_, r) => {
    const values: Record<string, FeatureValue> = {};
    for (const { name, expr } of exprs) {
      values[name] = evaluate(expr, (ref) => {
        if (!ref.view) return requestValue(view, ref.name, entities?.[ref.name]?.[r], r);
        const v = source.get(ref.view)?.[r]?.values[ref.name];
        return v === undefined || v === null || v instanceof UndecodableValue ? null : typeof v === "bigint" ? Number(v) : (v as ExprValue);
      });
    }
    return { eventTimestamp: BigInt(nowUs) * 1000n, values };
  });
}
