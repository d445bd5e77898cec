/**
 * Jensen-Shannon distance between two discrete distributions given as counts or shares over the
 * same bins, as `scipy.spatial.distance.jensenshannon(p, q, base)`: both are normalised, then
 * sqrt((KL(p||m) + KL(q||m)) / 2 / ln(base)) with m = (p + q) / 2. Evidently calls it without a
 * base, so in natural log (the distance lies in [0, sqrt(ln 2) = 0.833]), and its threshold 0.1 is
 * meant for that scale; so do we by default (base 2 would read 1.2x higher and drift earlier).
 * Empty bins contribute 0 (x log x -> 0), so no epsilon is needed here, unlike PSI.
 */

/** x * ln(x / y) with scipy's rel_entr conventions for zeros. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, base = Math.E): number {
  if (p.length !== q.length) throw new RangeError(`jensenShannonDistance: ${p.length} bins vs ${q.length} bins`);
  let pSum = 0;
  let qSum = 0;
  for (let i = 0; i < p.length; i++) {
    pSum += p[i]!;
    qSum += q[i]!;
  }
  if (!(pSum > 0) || !(qSum > 0)) return 0;
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / pSum;
    const qi = q[i]! / qSum;
    const mi = (pi + qi) / 2;
    left += relativeEntropy(pi, mi);
    right += relativeEntropy(qi, mi);
  }
  const divergence = (left + right) / Math.log(base);
  // Rounding can leave a tiny negative divergence for identical inputs; the distance is then 0.
  return Math.sqrt(Math.max(divergence / 2, 0));
}
