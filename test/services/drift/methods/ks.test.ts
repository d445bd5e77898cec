import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { kolmogorovSf, smirnovSf, twoSampleExactSf } from "../../../../services/drift/methods/kolmogorov";
import { ksStatistic, ksTest, sortedCopy } from "../../../../services/drift/methods/ks";

const sample = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 });

describe("two-sample Kolmogorov-Smirnov", () => {
  it("is symmetric in its two samples", () => {
    fc.assert(
      fc.property(
        sample,
        sample,
        (a, b) => ksTest(sortedCopy(a), sortedCopy(b)).statistic === ksTest(sortedCopy(b), sortedCopy(a)).statistic,
      ),
    );
  });
  it("keeps the statistic in [0, 1] and the p-value in [0, 1]", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = ksTest(sortedCopy(a), sortedCopy(b));
        return r.statistic >= 0 && r.statistic <= 1 && r.pValue >= 0 && r.pValue <= 1;
      }),
    );
  });
  it("is zero with p-value 1 for identical samples", () => {
    fc.assert(
      fc.property(sample, (a) => {
        const r = ksTest(sortedCopy(a), sortedCopy(a));
        return r.statistic === 0 && r.pValue === 1;
      }),
    );
  });
  it("is 1 for samples with disjoint ranges", () => {
    expect(ksStatistic(sortedCopy([1, 2, 3]), sortedCopy([4, 5]))).toBe(1);
  });
  it("gives the known exact p-value for two fully separated samples of 5", () => {
    // P(D = 1) = 2 / C(10, 5) = 2 / 252.
    expect(ksTest(sortedCopy([1, 2, 3, 4, 5]), sortedCopy([6, 7, 8, 9, 10])).pValue).toBeCloseTo(2 / 252, 15);
  });
  it("uses the asymptotic distribution above 10000 values, as scipy's method='auto'", () => {
    const a = sortedCopy(Array.from({ length: 10001 }, (_, i) => i));
    expect(ksTest(a, sortedCopy([1, 2, 3])).mode).toBe("asymp");
    expect(ksTest(sortedCopy([1, 2]), sortedCopy([1, 3])).mode).toBe("exact");
  });
});

describe("Kolmogorov distributions", () => {
  it("tail probabilities decrease as the statistic grows", () => {
    for (const n of [3, 50, 141, 5000, 200_000]) {
      let previous = 1;
      for (let x = 0.001; x < 1; x += 0.013) {
        const p = kolmogorovSf(n, x);
        expect(p).toBeLessThanOrEqual(previous + 1e-12);
        previous = p;
      }
    }
  });
  it("one-sided Smirnov tail matches its closed form for n = 1: P(D+ >= d) = 1 - d", () => {
    expect(smirnovSf(1, 0.3)).toBeCloseTo(0.7, 14);
  });
  it("the exact two-sample tail is 1 at h = 0 and stays a probability", () => {
    expect(twoSampleExactSf(7, 9, 0)).toBe(1);
    for (let h = 1; h <= 63; h += 5) {
      const p = twoSampleExactSf(7, 9, h);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });
});
