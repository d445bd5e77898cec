import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { twoProportionZTest } from "../../../../services/drift/methods/ztest";

describe("two-proportion Z-test", () => {
  it("matches Evidently's formula evaluated with SciPy: 45/100 vs 60/100 gives z = -2.12398, p = 0.033672", () => {
    const r = twoProportionZTest(45, 100, 60, 100);
    expect(r.statistic).toBeCloseTo(-2.1239769762143657, 12);
    expect(r.pValue).toBeCloseTo(0.03367206885634588, 12);
  });
  it("answers p = 1 instead of NaN when both samples hold one value", () => {
    expect(twoProportionZTest(0, 50, 0, 70)).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZTest(50, 50, 70, 70)).toEqual({ statistic: 0, pValue: 1 });
  });
  it("is antisymmetric in z and symmetric in p", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n1, n2, s1, s2) => {
          const c1 = Math.round(s1 * n1);
          const c2 = Math.round(s2 * n2);
          const x = twoProportionZTest(c1, n1, c2, n2);
          const y = twoProportionZTest(c2, n2, c1, n1);
          return Math.abs(x.statistic + y.statistic) < 1e-9 && Math.abs(x.pValue - y.pValue) < 1e-12 && x.pValue >= 0 && x.pValue <= 1;
        },
      ),
    );
  });
});
