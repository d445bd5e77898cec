/**
 * A drift check: every profiled feature of the current window against the reference profile,
 * with the default method choice (choose.ts) or the catalog's override, PSI alongside, and
 * dataset drift when the share of drifted features reaches `driftShare`. Bad data never throws
 * and never yields NaN: missing values, constant columns, unseen categories and empty windows
 * are counted and explained in `notes`.
 */
import type { DriftMethod } from "../../definition";
import { chooseMethod, DEFAULT_THRESHOLDS, FEW_VALUES, isPValueMethod, METHOD_NAMES, type MethodChoice } from "./choose";
import { chiSquareHomogeneity } from "./methods/chisquare";
import { jensenShannonDistance } from "./methods/jensen-shannon";
import { ksTest } from "./methods/ks";
import { binCountsSorted, type PsiLevel, psi, psiLevel } from "./methods/psi";
import { normedWasserstein } from "./methods/wasserstein";
import { twoProportionZTest } from "./methods/ztest";
import {
  categoryValues,
  type CategoricalProfile,
  DISTINCT_LIMIT,
  histogramCounts,
  type NumericProfile,
  numericValues,
  OTHER_CATEGORY,
  type Profile,
} from "./profile";
import type { FeatureType, Table } from "./table";

export const RESULT_FORMAT = "mlops-drift-result";
export const RESULT_VERSION = 1;
/** Evidently's default share of drifted features for dataset drift. */
export const DEFAULT_DRIFT_SHARE = 0.5;
/** Categories drawn per feature in the report; the rest are pooled. */
const REPORT_CATEGORIES = 15;

export interface FeatureOverride {
  method?: DriftMethod;
  threshold?: number;
}

export interface CheckOptions {
  /** Model name, for metrics and the report. */
  model?: string;
  /** Dataset drift when drifted / checked features >= this share. Defaults to 0.5. */
  driftShare?: number;
  /** Per-feature method and threshold (the catalog's `drift.features`). */
  features?: Readonly<Record<string, FeatureOverride>>;
  /** The time window the current data covers, when it came from prediction logs. */
  window?: { start: string; end: string };
  now?: Date;
}

export type Histogram =
  | { kind: "numeric"; edges: number[]; reference: number[]; current: number[] }
  | { kind: "categorical"; labels: string[]; reference: number[]; current: number[] };

export interface FeatureResult {
  name: string;
  type: FeatureType;
  /** `skipped` when the current window has no usable value for the feature. */
  status: "checked" | "skipped";
  method: DriftMethod | null;
  method_name: string | null;
  /** Why this method (default rule or catalog override). */
  reason: string;
  /** Test statistic (KS D, chi-square, z) or the distance itself. */
  statistic: number | null;
  /** p-value of a test; null for distances. */
  p_value: number | null;
  threshold: number | null;
  drifted: boolean;
  psi: { value: number; level: PsiLevel } | null;
  reference: { n: number; missing: number };
  current: { n: number; missing: number; unseen_categories: string[]; out_of_range: number };
  notes: string[];
  /** Shares per bin, for the report's charts. */
  histogram: Histogram | null;
}

export interface DriftResult {
  format: typeof RESULT_FORMAT;
  version: typeof RESULT_VERSION;
  model: string | null;
  checked_at: string;
  window: { start: string; end: string } | null;
  reference: { rows: number; source: string | null; created_at: string; profile_version: number };
  current: { rows: number };
  dataset_drift: boolean;
  /** Share of checked features that drifted. */
  drift_share: number;
  /** The share that makes dataset drift. */
  drift_share_threshold: number;
  counts: { features: number; checked: number; skipped: number; drifted: number; psi_warn: number; psi_drift: number };
  features: FeatureResult[];
  /** Columns present in the current data but not in the profile (not checked). */
  unprofiled_columns: string[];
  notes: string[];
}

/** Methods that need numbers; a catalog asking for them on a categorical feature is a configuration error. */
const NUMERIC_ONLY: readonly DriftMethod[] = ["ks", "wasserstein"];

/**
 * Throws one error listing every override that cannot apply to its feature (a configuration
 * error). An override naming a feature the profile lacks only earns a warning, returned: a
 * stale catalog entry must not stop the other features from being checked.
 */
export function validateOverrides(
  profile: Profile,
  overrides: Readonly<Record<string, FeatureOverride>>,
  where = "drift.features",
): string[] {
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [name, override] of Object.entries(overrides)) {
    const feature = profile.features[name];
    if (!feature) {
      warnings.push(
        `${where}.${name}: the reference profile has no feature "${name}" (it has ${Object.keys(profile.features).slice(0, 10).join(", ")}); fix the name or rebuild the profile`,
      );
      continue;
    }
    if (override.method && feature.type === "categorical" && NUMERIC_ONLY.includes(override.method)) {
      problems.push(
        `${where}.${name}.method: "${override.method}" needs a numeric feature but "${name}" is categorical; use chisquare, ztest, jensenshannon or psi`,
      );
    }
    if (override.threshold !== undefined && !(override.threshold > 0)) {
      problems.push(`${where}.${name}.threshold: ${override.threshold} must be a positive number`);
    }
  }
  if (problems.length) throw new Error(problems.join("\n"));
  return warnings;
}

/** Discrete view of a feature: counts per bin for reference and current over the same bins. */
interface Binned {
  labels: string[];
  reference: number[];
  current: number[];
  /** True when bins are the feature's values (categories); false for histogram bins. */
  byValue: boolean;
}

function categoricalBins(feature: CategoricalProfile, current: string[]): Binned & { unseen: string[] } {
  const curCounts = new Map<string, number>();
  const unseen = new Set<string>();
  for (const raw of current) {
    const label = raw in feature.counts ? raw : feature.truncated ? OTHER_CATEGORY : raw;
    if (!(label in feature.counts)) unseen.add(label);
    curCounts.set(label, (curCounts.get(label) ?? 0) + 1);
  }
  const labels = [...new Set([...Object.keys(feature.counts), ...curCounts.keys()])];
  return {
    labels,
    reference: labels.map((l) => feature.counts[l] ?? 0),
    current: labels.map((l) => curCounts.get(l) ?? 0),
    byValue: true,
    unseen: [...unseen].sort(),
  };
}

/** Values as categories when reference and current together have few distinct values, else the display histogram bins. */
function numericBins(feature: NumericProfile, sorted: Float64Array): Binned {
  if (feature.distinct) {
    const current = new Map<number, number>();
    for (let i = 0; i < sorted.length && current.size <= 2 * DISTINCT_LIMIT; i++)
      current.set(sorted[i]!, (current.get(sorted[i]!) ?? 0) + 1);
    if (current.size <= 2 * DISTINCT_LIMIT) {
      const values = [...new Set([...feature.distinct.values, ...current.keys()])].sort((a, b) => a - b);
      const refCounts = new Map(feature.distinct.values.map((v, i) => [v, feature.distinct!.counts[i]!]));
      return {
        labels: values.map(String),
        reference: values.map((v) => refCounts.get(v) ?? 0),
        current: values.map((v) => current.get(v) ?? 0),
        byValue: true,
      };
    }
  }
  // Histogram bins of the reference plus open bins below and above its range.
  const edges = feature.histogram.edges;
  const inRange = sorted.subarray(lowerBound(sorted, feature.min), upperBound(sorted, feature.max));
  const below = lowerBound(sorted, feature.min);
  const above = sorted.length - upperBound(sorted, feature.max);
  const inner = histogramCounts(inRange, edges);
  return {
    labels: ["below range", ...inner.map((_, i) => `[${edges[i]}, ${edges[i + 1]}]`), "above range"],
    reference: [0, ...feature.histogram.counts, 0],
    current: [below, ...inner, above],
    byValue: false,
  };
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > x in an ascending array. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function uniqueCount(binned: Binned): number {
  let unique = 0;
  for (let i = 0; i < binned.labels.length; i++) if (binned.reference[i]! + binned.current[i]! > 0) unique++;
  return unique;
}

/** Runs a binned method (chi-square, Z-test, Jensen-Shannon, PSI) on counts. */
function binnedTest(
  method: DriftMethod,
  binned: Binned,
  notes: string[],
): { method: DriftMethod; statistic: number; pValue: number | null } {
  if (method === "ztest") {
    const present = binned.labels.map((l, i) => ({ l, i })).filter(({ i }) => binned.reference[i]! + binned.current[i]! > 0);
    if (present.length <= 2) {
      // Evidently: the first value in sorted order is "0", the other "1"; z compares the shares of "1".
      const order =
        binned.byValue && present.every(({ l }) => l !== "" && Number.isFinite(Number(l)))
          ? present.sort((a, b) => Number(a.l) - Number(b.l))
          : present.sort((a, b) => (a.l < b.l ? -1 : a.l > b.l ? 1 : 0));
      const first = order[0]?.i ?? 0;
      const refTotal = binned.reference.reduce((s, v) => s + v, 0);
      const curTotal = binned.current.reduce((s, v) => s + v, 0);
      const z = twoProportionZTest(refTotal - (binned.reference[first] ?? 0), refTotal, curTotal - (binned.current[first] ?? 0), curTotal);
      return { method, statistic: z.statistic, pValue: z.pValue };
    }
    notes.push(`Z-test needs a binary feature but ${present.length} values were seen; chi-square used instead`);
    method = "chisquare";
  }
  if (method === "chisquare") {
    const r = chiSquareHomogeneity(binned.reference, binned.current);
    if (r.dof === 0) notes.push("only one category present in reference and current together: no test possible, p-value 1");
    return { method, statistic: r.statistic, pValue: r.pValue };
  }
  if (method === "jensenshannon") return { method, statistic: jensenShannonDistance(binned.reference, binned.current), pValue: null };
  return { method: "psi", statistic: psi(binned.reference, binned.current), pValue: null };
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((s, v) => s + v, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

function categoricalHistogram(binned: Binned): Histogram {
  const order = binned.labels
    .map((_, i) => i)
    .sort((a, b) => binned.reference[b]! + binned.current[b]! - (binned.reference[a]! + binned.current[a]!));
  const keep = order.slice(0, REPORT_CATEGORIES);
  const rest = order.slice(REPORT_CATEGORIES);
  const labels = keep.map((i) => binned.labels[i]!);
  const reference = keep.map((i) => binned.reference[i]!);
  const current = keep.map((i) => binned.current[i]!);
  if (rest.length) {
    labels.push(`(${rest.length} more)`);
    reference.push(rest.reduce((s, i) => s + binned.reference[i]!, 0));
    current.push(rest.reduce((s, i) => s + binned.current[i]!, 0));
  }
  return { kind: "categorical", labels, reference: shares(reference), current: shares(current) };
}

function checkFeature(name: string, profile: Profile, table: Table, override: FeatureOverride | undefined): FeatureResult {
  const feature = profile.features[name]!;
  const base: FeatureResult = {
    name,
    type: feature.type,
    status: "skipped",
    method: null,
    method_name: null,
    reason: "",
    statistic: null,
    p_value: null,
    threshold: null,
    drifted: false,
    psi: null,
    reference: { n: feature.n, missing: feature.missing },
    current: { n: 0, missing: 0, unseen_categories: [], out_of_range: 0 },
    notes: [],
    histogram: null,
  };
  const column = table.columns[name];
  if (!column) {
    base.current.missing = table.rows;
    base.reason = table.rows === 0 ? "the current window is empty" : `the current data has no column "${name}"`;
    base.notes.push(base.reason);
    return base;
  }
  if (feature.n === 0) {
    base.reason = "the reference has no value for this feature";
    base.notes.push(base.reason);
    return base;
  }

  if (feature.type === "categorical") {
    const { values, missing } = categoryValues(column);
    base.current.n = values.length;
    base.current.missing = missing;
    if (values.length === 0) return skipEmpty(base, table.rows);
    const binned = categoricalBins(feature, values);
    base.current.unseen_categories = binned.unseen;
    if (binned.unseen.length)
      base.notes.push(
        `${binned.unseen.length} categor${binned.unseen.length === 1 ? "y" : "ies"} not in the reference: ${binned.unseen.slice(0, 5).join(", ")}${binned.unseen.length > 5 ? ", ..." : ""}`,
      );
    const choice = resolveChoice(override, () => chooseMethod("categorical", feature.n, uniqueCount(binned)));
    const outcome = binnedTest(choice.method, binned, base.notes);
    const psiValue = psi(binned.reference, binned.current);
    return finish(base, choice, outcome, override, psiValue, categoricalHistogram(binned));
  }

  const { values, missing } = numericValues(column);
  base.current.n = values.length;
  base.current.missing = missing;
  if (missing > 0) {
    const nonNumeric = column.filter(
      (v) =>
        v !== null &&
        !(typeof v === "number" && Number.isFinite(v)) &&
        !(typeof v === "string" && Number.isFinite(Number(v)) && v.trim() !== "") &&
        typeof v !== "boolean",
    ).length;
    if (nonNumeric) base.notes.push(`${nonNumeric} non-numeric value${nonNumeric === 1 ? "" : "s"} counted as missing`);
  }
  if (values.length === 0) return skipEmpty(base, table.rows);
  const sorted = values.slice().sort();
  base.current.out_of_range = lowerBound(sorted, feature.min) + sorted.length - upperBound(sorted, feature.max);
  const binned = numericBins(feature, sorted);
  const unique = binned.byValue ? uniqueCount(binned) : FEW_VALUES + 1;
  if (feature.std === 0) base.notes.push(`the reference is constant (${feature.min})`);
  const choice = resolveChoice(override, () => chooseMethod("numeric", feature.n, unique));
  let outcome: { method: DriftMethod; statistic: number; pValue: number | null };
  const reference = Float64Array.from(feature.sample);
  // Profiles store the sample sorted; sort only one written by hand or by an older tool.
  if (!reference.every((x, i) => i === 0 || reference[i - 1]! <= x)) reference.sort();
  if (choice.method === "ks" || choice.method === "wasserstein") {
    if (feature.sample.length < feature.n)
      base.notes.push(`reference: a uniform sample of ${feature.sample.length} of ${feature.n} values`);
    if (choice.method === "ks") {
      const ks = ksTest(reference, sorted);
      outcome = { method: "ks", statistic: ks.statistic, pValue: ks.pValue };
      base.notes.push(
        `KS p-value: ${ks.mode === "exact" ? "exact distribution" : "asymptotic (Kolmogorov distribution at n1*n2/(n1+n2))"}`,
      );
    } else {
      outcome = { method: "wasserstein", statistic: normedWasserstein(reference, sorted, feature.std), pValue: null };
    }
  } else {
    outcome = binnedTest(
      choice.method === "psi" ? "psi" : choice.method,
      choice.method === "psi" ? psiBins(feature, sorted) : binned,
      base.notes,
    );
  }
  const psiBinned = psiBins(feature, sorted);
  const psiValue = psi(psiBinned.reference, psiBinned.current);
  const histogram: Histogram = binned.byValue
    ? categoricalHistogram(binned)
    : {
        kind: "numeric",
        edges: feature.histogram.edges,
        reference: shares(feature.histogram.counts),
        current: shares(histogramCounts(sorted, feature.histogram.edges)),
      };
  if (base.current.out_of_range)
    base.notes.push(
      `${base.current.out_of_range} current value${base.current.out_of_range === 1 ? "" : "s"} outside the reference range [${feature.min}, ${feature.max}]`,
    );
  return finish(base, choice, outcome, override, psiValue, histogram);
}

function psiBins(feature: NumericProfile, sorted: Float64Array): Binned {
  const current = binCountsSorted(sorted, feature.psi.edges);
  return { labels: current.map((_, i) => `bin ${i + 1}`), reference: feature.psi.counts, current, byValue: false };
}

function resolveChoice(override: FeatureOverride | undefined, byDefault: () => MethodChoice): MethodChoice {
  if (override?.method) return { method: override.method, reason: `set in the catalog (drift.features): ${METHOD_NAMES[override.method]}` };
  return byDefault();
}

function skipEmpty(base: FeatureResult, rows: number): FeatureResult {
  base.reason = rows === 0 ? "the current window is empty" : `all ${rows} current values are missing`;
  base.notes.push(base.reason);
  return base;
}

function finish(
  base: FeatureResult,
  choice: MethodChoice,
  outcome: { method: DriftMethod; statistic: number; pValue: number | null },
  override: FeatureOverride | undefined,
  psiValue: number,
  histogram: Histogram,
): FeatureResult {
  const method = outcome.method;
  const threshold = method === choice.method ? (override?.threshold ?? DEFAULT_THRESHOLDS[method]) : DEFAULT_THRESHOLDS[method];
  const statistic = finiteOr(outcome.statistic, 0, base.notes, "statistic");
  const pValue = outcome.pValue === null ? null : finiteOr(outcome.pValue, 1, base.notes, "p-value");
  const score = isPValueMethod(method) ? (pValue ?? 1) : statistic;
  const psiFinite = finiteOr(psiValue, 0, base.notes, "PSI");
  return {
    ...base,
    status: "checked",
    method,
    method_name: METHOD_NAMES[method],
    reason: choice.reason,
    statistic,
    p_value: pValue,
    threshold,
    drifted: isPValueMethod(method) ? score < threshold : score >= threshold,
    psi: { value: psiFinite, level: psiLevel(psiFinite) },
    histogram,
  };
}

/** The score compared with the threshold: the p-value for tests, the distance otherwise. */
export function driftScore(feature: FeatureResult): number | null {
  if (feature.status !== "checked" || !feature.method) return null;
  return isPValueMethod(feature.method) ? feature.p_value : feature.statistic;
}

function finiteOr(value: number, fallback: number, notes: string[], what: string): number {
  if (Number.isFinite(value)) return value;
  notes.push(`${what} was not a finite number (${value}); reported as ${fallback}`);
  return fallback;
}

/** Compares a current window with the reference profile. */
export function checkDrift(profile: Profile, current: Table, options: CheckOptions = {}): DriftResult {
  const overrides = options.features ?? {};
  const warnings = validateOverrides(profile, overrides);
  const threshold = options.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`drift share must be between 0 and 1, got ${threshold}`);
  const features = Object.keys(profile.features).map((name) => checkFeature(name, profile, current, overrides[name]));
  const checked = features.filter((f) => f.status === "checked");
  const drifted = checked.filter((f) => f.drifted).length;
  const share = checked.length ? drifted / checked.length : 0;
  const notes: string[] = [...warnings];
  if (current.rows === 0) notes.push("the current window is empty: nothing to compare, no drift reported");
  else if (!checked.length) notes.push("no feature of the profile had usable values in the current data");
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    model: options.model ?? null,
    checked_at: (options.now ?? new Date()).toISOString(),
    window: options.window ?? null,
    reference: { rows: profile.rows, source: profile.source ?? null, created_at: profile.created_at, profile_version: profile.version },
    current: { rows: current.rows },
    dataset_drift: checked.length > 0 && share >= threshold,
    drift_share: share,
    drift_share_threshold: threshold,
    counts: {
      features: features.length,
      checked: checked.length,
      skipped: features.length - checked.length,
      drifted,
      psi_warn: checked.filter((f) => f.psi?.level === "warn").length,
      psi_drift: checked.filter((f) => f.psi?.level === "drift").length,
    },
    features,
    unprofiled_columns: Object.keys(current.columns).filter((c) => !(c in profile.features)),
    notes,
  };
}

/** JSON for machines: non-finite numbers (never expected) become null rather than invalid JSON. */
export function resultToJson(result: DriftResult, space?: number): string {
  return JSON.stringify(result, (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? null : value), space);
}
