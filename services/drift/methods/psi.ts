/**
 * Population Stability Index: sum over bins of (ref% - cur%) * ln(ref% / cur%).
 * Numeric bins are the reference's deciles (edges from its quantiles, duplicates merged, open
 * ends), so each reference bin holds about 10% of rows; categorical bins are the categories.
 * Empty bins: a share of 0 would make ln infinite, so as Evidently does, a zero share is replaced
 * by 0.0001, or by (smallest non-zero share) / 1e6 when that smallest share is itself <= 0.0001.
 * Reading (industry convention): < 0.1 stable, 0.1-0.2 worth a look, >= 0.2 drifted.
 */

export const PSI_BINS = 10;
export const PSI_EPSILON = 0.0001;
export const PSI_WARN = 0.1;
export const PSI_DRIFT = 0.2;

export type PsiLevel = "ok" | "warn" | "drift";

export function psiLevel(value: number): PsiLevel {
  return value >= PSI_DRIFT ? "drift" : value >= PSI_WARN ? "warn" : "ok";
}

/** Inner bin edges at the reference's quantiles (linear interpolation, numpy's default), deduplicated. */
export function quantileEdges(sorted: Float64Array, bins = PSI_BINS): number[] {
  const edges: number[] = [];
  if (sorted.length === 0) return edges;
  for (let k = 1; k < bins; k++) {
    const edge = quantileSorted(sorted, k / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/** numpy.quantile(sorted, q) with the default linear method. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const fraction = position - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}

/** Counts per bin (-inf, e0], (e0, e1], ..., (e_last, inf) of ascending-sorted values. */
export function binCountsSorted(sorted: Float64Array, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    while (bin < edges.length && x > edges[bin]!) bin++;
    counts[bin]!++;
  }
  return counts;
}

/** Evidently's zero fill, applied to one vector of shares. */
export function fillEmptyShares(shares: readonly number[]): number[] {
  let smallest = Number.POSITIVE_INFINITY;
  for (const s of shares) if (s > 0 && s < smallest) smallest = s;
  if (!Number.isFinite(smallest)) return shares.map(() => 1 / Math.max(shares.length, 1));
  const fill = smallest <= PSI_EPSILON ? smallest / 1e6 : PSI_EPSILON;
  return shares.map((s) => (s > 0 ? s : fill));
}

/** PSI from counts (or shares) over the same bins. */
export function psi(reference: readonly number[], current: readonly number[]): number {
  const toShares = (counts: readonly number[]) => {
    const total = counts.reduce((s, v) => s + v, 0);
    return counts.map((c) => (total > 0 ? c / total : 0));
  };
  const ref = fillEmptyShares(toShares(reference));
  const cur = fillEmptyShares(toShares(current));
  let value = 0;
  for (let i = 0; i < ref.length; i++) value += (ref[i]! - cur[i]!) * Math.log(ref[i]! / cur[i]!);
  return value;
}
