import betaln = require("@stdlib/math/base/special/betaln");
import normalCdf = require("@stdlib/stats/base/dists/normal/cdf");
import normalQuantile = require("@stdlib/stats/base/dists/normal/quantile");

/** Successes out of trials for one arm (a model version). */
export interface Arm {
  version: string;
  successes: number;
  trials: number;
}

export interface ZTestResult {
  /** Conversion (success) rates of A and B. */
  rateA: number;
  rateB: number;
  /** B minus A, absolute and relative to A. */
  lift: number;
  relativeLift: number | null;
  /** Pooled two-proportion z statistic (as statsmodels' proportions_ztest, pooled variance). */
  z: number;
  /** Two-sided p-value, 2 * (1 - Phi(|z|)), computed as 2 * Phi(-|z|) to keep precision in the tail. */
  pValue: number;
  significant: boolean;
  alpha: number;
}

/**
 * Two-proportion z-test with pooled variance. Matches statsmodels.stats.proportion.proportions_ztest
 * (alternative="two-sided") and SciPy's normal distribution figures.
 */
export function twoProportionZTest(a: Arm, b: Arm, alpha = 0.05): ZTestResult {
  if (a.trials <= 0 || b.trials <= 0) throw new Error(`both versions need trials (got ${a.version}=${a.trials}, ${b.version}=${b.trials})`);
  if (a.successes < 0 || a.successes > a.trials || b.successes < 0 || b.successes > b.trials)
    throw new Error("successes must be between 0 and trials");
  const rateA = a.successes / a.trials;
  const rateB = b.successes / b.trials;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  const z = se === 0 ? 0 : (rateB - rateA) / se;
  const pValue = se === 0 ? 1 : 2 * normalCdf(-Math.abs(z), 0, 1);
  return {
    rateA,
    rateB,
    lift: rateB - rateA,
    relativeLift: rateA === 0 ? null : (rateB - rateA) / rateA,
    z,
    pValue,
    significant: pValue < alpha,
    alpha,
  };
}

/**
 * P(rate_B > rate_A) under independent Beta(1 + successes, 1 + failures) posteriors (uniform
 * priors). Exact closed form (Evan Miller, "Formulas for Bayesian A/B testing"):
 *   sum_{i=0}^{alphaB-1} exp(lnB(alphaA+i, betaA+betaB) - ln(betaB+i) - lnB(1+i, betaB) - lnB(alphaA, betaA))
 * No library offers it; it is O(successes of B) with log-beta from @stdlib.
 */
export function probabilityBBeatsA(a: Arm, b: Arm): number {
  const alphaA = 1 + a.successes;
  const betaA = 1 + a.trials - a.successes;
  const alphaB = 1 + b.successes;
  const betaB = 1 + b.trials - b.successes;
  let total = 0;
  for (let i = 0; i < alphaB; i++) {
    total += Math.exp(betaln(alphaA + i, betaA + betaB) - Math.log(betaB + i) - betaln(1 + i, betaB) - betaln(alphaA, betaA));
  }
  return Math.min(1, Math.max(0, total));
}

/**
 * Sample size per arm to detect an absolute change `mde` from `baseRate` with a two-sided test
 * at `alpha` and `power` (normal approximation, unpooled alternative variance):
 *   n = (z_{1-alpha/2} sqrt(2 p(1-p)) + z_{power} sqrt(p1(1-p1) + p2(1-p2)))^2 / mde^2
 */
export function sampleSizePerArm(baseRate: number, mde: number, alpha = 0.05, power = 0.8): number {
  if (!(baseRate > 0 && baseRate < 1)) throw new Error(`baseRate must be in (0, 1), got ${baseRate}`);
  const p2 = baseRate + mde;
  if (!(mde !== 0 && p2 > 0 && p2 < 1)) throw new Error(`baseRate + mde must stay in (0, 1), got ${p2}`);
  const pBar = (baseRate + p2) / 2;
  const zAlpha = normalQuantile(1 - alpha / 2, 0, 1);
  const zBeta = normalQuantile(power, 0, 1);
  const n = (zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zBeta * Math.sqrt(baseRate * (1 - baseRate) + p2 * (1 - p2))) ** 2 / mde ** 2;
  return Math.ceil(n);
}

export interface AbReport {
  a: Arm;
  b: Arm;
  test: ZTestResult;
  probabilityBBeatsA: number;
  /** Minimum detectable effect (absolute) the sample size is computed for. */
  mde: number;
  requiredPerArm: number;
  /** Trials still needed on the smaller arm (0 when enough). */
  stillNeeded: number;
  verdict: "B is better" | "A is better" | "no significant difference" | "keep collecting";
}

export function abReport(a: Arm, b: Arm, options: { alpha?: number; power?: number; mde?: number } = {}): AbReport {
  const alpha = options.alpha ?? 0.05;
  const mde = options.mde ?? 0.01;
  const test = twoProportionZTest(a, b, alpha);
  const base = Math.min(Math.max(test.rateA, 1e-6), 1 - 1e-6 - Math.abs(mde));
  const requiredPerArm = sampleSizePerArm(base, Math.abs(mde), alpha, options.power ?? 0.8);
  const stillNeeded = Math.max(0, requiredPerArm - Math.min(a.trials, b.trials));
  let verdict: AbReport["verdict"];
  if (test.significant) verdict = test.lift > 0 ? "B is better" : "A is better";
  else verdict = stillNeeded > 0 ? "keep collecting" : "no significant difference";
  return { a, b, test, probabilityBBeatsA: probabilityBBeatsA(a, b), mde, requiredPerArm, stillNeeded, verdict };
}
