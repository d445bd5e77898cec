/**
 * Two-proportion Z-test for a binary feature, as Evidently's `z` stattest: the share of the
 * first category (in sorted order) in reference vs current, pooled variance, two-sided p-value
 * from @stdlib's normal CDF. When the pooled share is 0 or 1 both samples hold one and the same
 * value: there is no evidence of drift (z = 0, p = 1) rather than 0/0.
 */
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";

export interface ZTestResult {
  statistic: number;
  pValue: number;
}

/** `refCount` of `refTotal` reference rows (and `curCount` of `curTotal` current rows) hold the first category. */
export function twoProportionZTest(refCount: number, refTotal: number, curCount: number, curTotal: number): ZTestResult {
  if (refTotal <= 0 || curTotal <= 0) return { statistic: 0, pValue: 1 };
  const p1 = refCount / refTotal;
  const p2 = curCount / curTotal;
  const pooled = (refCount + curCount) / (refTotal + curTotal);
  const variance = pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal);
  if (!(variance > 0)) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / Math.sqrt(variance);
  // 2 * Phi(-|z|) equals Evidently's 2 * (1 - Phi(|z|)) without the cancellation in the far tail.
  return { statistic: z, pValue: Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1)) };
}
