/**
 * The reference profile: everything a drift check needs from the training set, computed once and
 * stored beside it as versioned JSON (format in docs/drift.md), so a check never re-reads the
 * training data. Numeric features keep exact summary statistics, the PSI decile edges with the
 * reference's counts, a display histogram, value counts when there are few distinct values, and
 * a uniform reservoir sample (bounded size) for KS and Wasserstein. Categorical features keep
 * category counts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { binCountsSorted, quantileEdges, quantileSorted } from "./methods/psi";
import { type CellValue, type FeatureType, inferType, type Table } from "./table";

export const PROFILE_FORMAT = "mlops-drift-profile";
/** Bump when a field changes meaning; loaders refuse versions they do not know. */
export const PROFILE_VERSION = 1;
/** Default reservoir size: large enough that KS is exact against any reference Evidently would test with KS (<= 1000 rows). */
export const DEFAULT_SAMPLE_SIZE = 10_000;
/** A numeric feature with at most this many distinct values keeps its value counts (few-valued: chi-square, Z-test, JS). */
export const DISTINCT_LIMIT = 20;
/** Categories kept per feature; the rest are pooled into OTHER_CATEGORY so a profile stays small. */
export const MAX_CATEGORIES = 1000;
export const OTHER_CATEGORY = "(other)";
export const HISTOGRAM_BINS = 30;
const QUANTILES = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];

const counts = z.array(z.number().int().min(0));
const NumericProfile = z.object({
  type: z.literal("numeric"),
  n: z.number().int().min(0),
  missing: z.number().int().min(0),
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  /** Population standard deviation (ddof = 0, as numpy's std and Evidently's Wasserstein norm). */
  std: z.number().min(0),
  quantiles: z.object({ p: z.array(z.number()), values: z.array(z.number()) }),
  /** PSI bins: (-inf, e0], (e0, e1], ..., (e_last, inf); counts has edges.length + 1 entries. */
  psi: z.object({ edges: z.array(z.number()), counts }),
  /** Display histogram: equal-width bins over the 1st..99th percentile, outer bins open; counts has edges.length - 1 entries. */
  histogram: z.object({ edges: z.array(z.number()), counts }),
  /** Value counts when the feature has at most DISTINCT_LIMIT distinct values, else null. */
  distinct: z.object({ values: z.array(z.number()), counts }).nullable(),
  /** Uniform reservoir sample of the non-missing values (all of them when n <= sample size), ascending. */
  sample: z.array(z.number()),
});
const CategoricalProfile = z.object({
  type: z.literal("categorical"),
  n: z.number().int().min(0),
  missing: z.number().int().min(0),
  counts: z.record(z.string(), z.number().int().min(0)),
  /** True when categories beyond MAX_CATEGORIES were pooled into "(other)". */
  truncated: z.boolean().default(false),
});
export const FeatureProfile = z.discriminatedUnion("type", [NumericProfile, CategoricalProfile]);
export type FeatureProfile = z.infer<typeof FeatureProfile>;
export type NumericProfile = z.infer<typeof NumericProfile>;
export type CategoricalProfile = z.infer<typeof CategoricalProfile>;

export const Profile = z.object({
  format: z.literal(PROFILE_FORMAT),
  version: z.literal(PROFILE_VERSION),
  created_at: z.string(),
  /** The training set this profile was computed from (informational). */
  source: z.string().optional(),
  rows: z.number().int().min(0),
  sample_size: z.number().int().min(1),
  seed: z.number().int(),
  features: z.record(z.string(), FeatureProfile),
});
export type Profile = z.infer<typeof Profile>;

export interface ProfileOptions {
  /** Reservoir size per numeric feature. Defaults to 10000. */
  sampleSize?: number;
  /** PRNG seed for the reservoir, so a profile is reproducible. Defaults to 42. */
  seed?: number;
  /** Columns to leave out (ids, timestamps, labels). */
  exclude?: readonly string[];
  /** Force a type per column instead of inferring it. */
  types?: Readonly<Record<string, FeatureType>>;
  source?: string;
  now?: Date;
}

/** mulberry32: a small seeded PRNG; Math.random cannot be seeded. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Algorithm R: a uniform sample of at most `size` values in one pass. */
export function reservoirSample(values: Iterable<number>, size: number, random: () => number): number[] {
  const sample: number[] = [];
  let seen = 0;
  for (const value of values) {
    if (sample.length < size) sample.push(value);
    else {
      const j = Math.floor(random() * (seen + 1));
      if (j < size) sample[j] = value;
    }
    seen++;
  }
  return sample;
}

/** Numeric values of a column: numbers and numeric strings; NaN, null and anything else count as missing. */
export function numericValues(values: readonly CellValue[]): { values: Float64Array; missing: number } {
  const out = new Float64Array(values.length);
  let n = 0;
  for (const v of values) {
    const x =
      typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
    if (Number.isFinite(x)) out[n++] = x;
  }
  return { values: out.subarray(0, n), missing: values.length - n };
}

/** Category labels of a column (booleans and numbers as their text); null counts as missing. */
export function categoryValues(values: readonly CellValue[]): { values: string[]; missing: number } {
  const out: string[] = [];
  for (const v of values) if (v !== null && v !== "") out.push(String(v));
  return { values: out, missing: values.length - out.length };
}

function numericProfile(values: readonly CellValue[], sampleSize: number, random: () => number): NumericProfile {
  const { values: present, missing } = numericValues(values);
  // Stored ascending, so a check can use it without sorting.
  const sample = reservoirSample(present, sampleSize, random).sort((a, b) => a - b);
  const sorted = present.slice().sort();
  const n = sorted.length;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    // Welford: stable for large n and large offsets.
    const delta = sorted[i]! - mean;
    mean += delta / (i + 1);
    m2 += delta * (sorted[i]! - mean);
  }
  const min = n ? sorted[0]! : 0;
  const max = n ? sorted[n - 1]! : 0;
  const edges = quantileEdges(sorted);
  // Display bins span the 1st..99th percentile so one outlier cannot squash the chart; the
  // outer bins also hold the values beyond (counts clamp), so every value is drawn somewhere.
  let low = n ? quantileSorted(sorted, 0.01) : 0;
  let high = n ? quantileSorted(sorted, 0.99) : 0;
  if (!(high > low)) [low, high] = [min, max];
  const histogramEdges =
    high > low ? Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => low + ((high - low) * i) / HISTOGRAM_BINS) : [min, min];
  const distinct = distinctCounts(sorted);
  return {
    type: "numeric",
    n,
    missing,
    min,
    max,
    mean: n ? mean : 0,
    std: n ? Math.sqrt(m2 / n) : 0,
    quantiles: { p: QUANTILES, values: n ? QUANTILES.map((q) => quantileSorted(sorted, q)) : [] },
    psi: { edges, counts: binCountsSorted(sorted, edges) },
    histogram: { edges: histogramEdges, counts: histogramCounts(sorted, histogramEdges) },
    distinct,
    sample,
  };
}

/** Value counts of ascending-sorted values, or null past DISTINCT_LIMIT distinct values. */
function distinctCounts(sorted: Float64Array): NumericProfile["distinct"] {
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    if (values.length && values[values.length - 1] === x) counts[counts.length - 1]!++;
    else {
      if (values.length === DISTINCT_LIMIT) return null;
      values.push(x);
      counts.push(1);
    }
  }
  return { values, counts };
}

/**
 * Counts per display bin of ascending-sorted values; values outside [edges[0], edges[last]] land
 * in the first or last bin (the check reports how many current values were out of range).
 */
export function histogramCounts(sorted: Float64Array, edges: readonly number[]): number[] {
  const bins = Math.max(edges.length - 1, 1);
  const counts = new Array<number>(bins).fill(0);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    while (bin < bins - 1 && x >= edges[bin + 1]!) bin++;
    counts[bin]!++;
  }
  return counts;
}

function categoricalProfile(values: readonly CellValue[]): CategoricalProfile {
  const { values: present, missing } = categoryValues(values);
  const tally = new Map<string, number>();
  for (const v of present) tally.set(v, (tally.get(v) ?? 0) + 1);
  const ordered = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const counts: Record<string, number> = {};
  let other = 0;
  ordered.forEach(([k, c], i) => {
    if (i < MAX_CATEGORIES) counts[k] = c;
    else other += c;
  });
  if (other) counts[OTHER_CATEGORY] = (counts[OTHER_CATEGORY] ?? 0) + other;
  return { type: "categorical", n: present.length, missing, counts, truncated: other > 0 };
}

/** Computes the reference profile of a training set. */
export function buildProfile(table: Table, options: ProfileOptions = {}): Profile {
  const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new Error(`sample size must be a positive integer, got ${sampleSize}`);
  const seed = options.seed ?? 42;
  const random = seededRandom(seed);
  const exclude = new Set(options.exclude ?? []);
  const features: Record<string, FeatureProfile> = {};
  for (const [name, values] of Object.entries(table.columns)) {
    if (exclude.has(name)) continue;
    const type = options.types?.[name] ?? inferType(values);
    features[name] = type === "numeric" ? numericProfile(values, sampleSize, random) : categoricalProfile(values);
  }
  return {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    created_at: (options.now ?? new Date()).toISOString(),
    source: options.source,
    rows: table.rows,
    sample_size: sampleSize,
    seed,
    features,
  };
}

/** Validates a parsed profile; errors name the file, the field and what to do. */
export function parseProfile(raw: unknown, file = "profile"): Profile {
  const header = raw as { format?: unknown; version?: unknown } | null;
  if (!header || header.format !== PROFILE_FORMAT) {
    throw new Error(
      `${file}: not a drift profile (format is ${JSON.stringify(header?.format)}, expected "${PROFILE_FORMAT}"); create one with "drift profile --data FILE --out PROFILE"`,
    );
  }
  if (header.version !== PROFILE_VERSION) {
    throw new Error(
      `${file}: profile version ${JSON.stringify(header.version)} is not supported (this build reads version ${PROFILE_VERSION}); rebuild it with "drift profile"`,
    );
  }
  const parsed = Profile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join(".")}: ${issue.message}; rebuild the profile with "drift profile"`);
  }
  return parsed.data;
}

export function readProfile(path: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: cannot read the profile: ${(error as Error).message}`);
  }
  return parseProfile(raw, path);
}

export function writeProfile(path: string, profile: Profile): void {
  writeFileSync(path, `${JSON.stringify(profile)}\n`);
}
