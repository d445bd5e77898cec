/**
 * Chi-square test of homogeneity on a 2 x k contingency table (reference counts, current counts
 * per category), as `scipy.stats.chi2_contingency(table)` with its default `correction=True`:
 * Yates' continuity correction when the table has one degree of freedom (2 x 2), and the
 * degenerate dof = 0 case (a single category) answered with statistic 0 and p-value 1.
 * Evidently runs a goodness-of-fit test against the reference shares instead; the homogeneity
 * test treats the reference as a sample too, which is what a reference of finite size is.
 */
import gammainc from "@stdlib/math-base-special-gammainc";

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

/**
 * Upper tail of the chi-square distribution. @stdlib's upper regularised incomplete gamma is what
 * its chi-square CDF evaluates; calling the upper tail directly keeps tiny p-values accurate
 * instead of losing them to `1 - cdf` (scipy does the same with `chdtrc`).
 */
export function chiSquareSf(x: number, dof: number): number {
  if (!(x > 0)) return 1;
  return gammainc(x / 2, dof / 2, true, true);
}

/** `reference[i]` and `current[i]` count category i; categories absent from both are dropped. */
export function chiSquareHomogeneity(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquareResult {
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] ?? 0;
    const c = current[i] ?? 0;
    if (r + c > 0) {
      ref.push(r);
      cur.push(c);
    }
  }
  const refTotal = ref.reduce((s, v) => s + v, 0);
  const curTotal = cur.reduce((s, v) => s + v, 0);
  const total = refTotal + curTotal;
  const k = ref.length;
  const dof = refTotal > 0 && curTotal > 0 ? k - 1 : 0;
  if (dof === 0) return { statistic: 0, pValue: 1, dof: 0 };
  let statistic = 0;
  for (let i = 0; i < k; i++) {
    const column = ref[i]! + cur[i]!;
    for (const [observed, rowTotal] of [
      [ref[i]!, refTotal],
      [cur[i]!, curTotal],
    ] as const) {
      const expected = (rowTotal * column) / total;
      let o = observed;
      if (dof === 1) {
        // Yates: move each observed count towards its expectation by at most 0.5.
        const diff = expected - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      statistic += ((o - expected) * (o - expected)) / expected;
    }
  }
  return { statistic, pValue: chiSquareSf(statistic, dof), dof };
}
