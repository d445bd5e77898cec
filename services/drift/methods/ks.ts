/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, matching `scipy.stats.ks_2samp`:
 * statistic D = max |F_ref(x) - F_cur(x)| over all observed x (right-continuous ECDFs, so ties
 * are handled as scipy's `searchsorted(side="right")` does); p-value `exact` for
 * max(n1, n2) <= 10000 (scipy's method="auto" rule), otherwise `asymp`: kstwo.sf(D, round(n1*n2/(n1+n2))).
 * The statistic is a sorted merge, written by hand because it is the statistic itself.
 */
import { gcd, kolmogorovSf, twoSampleExactSf } from "./kolmogorov";

/** scipy's MAX_AUTO_N: `auto` is exact when both samples have at most this many values. */
export const KS_EXACT_MAX_N = 10000;

export type KsMode = "auto" | "exact" | "asymp";

export interface KsResult {
  statistic: number;
  pValue: number;
  /** The p-value method actually used (scipy falls back from exact to asymp on overflow, so do we). */
  mode: "exact" | "asymp";
}

/** Sorts a copy (numeric order; NaN must have been removed by the caller). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** D statistic of two ascending-sorted samples. */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = 0;
  let minS = 0;
  while (i < n1 || j < n2) {
    const x = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return Math.min(Math.max(-minS, maxS), 1);
}

/** numpy's round: half to even (matters when n1*n2/(n1+n2) ends in .5). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Two-sided two-sample KS test on ascending-sorted samples (both non-empty). */
export function ksTest(a: Float64Array, b: Float64Array, mode: KsMode = "auto"): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("ksTest: both samples must be non-empty");
  let d = ksStatistic(a, b);
  let use: "exact" | "asymp" = mode === "auto" ? (Math.max(n1, n2) <= KS_EXACT_MAX_N ? "exact" : "asymp") : mode;
  const g = gcd(n1, n2);
  if (use === "exact" && n1 / g >= 2147483647 / (n2 / g)) use = "asymp";
  if (use === "exact") {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    const p = twoSampleExactSf(n1, n2, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pValue: p, mode: "exact" };
    use = "asymp";
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const p = kolmogorovSf(Math.max(1, roundHalfEven(en)), d);
  return { statistic: d, pValue: Math.min(Math.max(p, 0), 1), mode: "asymp" };
}
