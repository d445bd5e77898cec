import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chiSquareHomogeneity } from "../../../../services/drift/methods/chisquare";

const counts = fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 2, maxLength: 8 });

describe("chi-square test of homogeneity", () => {
  it("is symmetric in reference and current", () => {
    fc.assert(
      fc.property(counts, counts, (a, b) => {
        const n = Math.min(a.length, b.length);
        const x = chiSquareHomogeneity(a.slice(0, n), b.slice(0, n));
        const y = chiSquareHomogeneity(b.slice(0, n), a.slice(0, n));
        return Math.abs(x.statistic - y.statistic) <= 1e-9 * Math.max(1, x.statistic) && Math.abs(x.pValue - y.pValue) <= 1e-12;
      }),
    );
  });
  it("is zero with p-value 1 when the shares are identical", () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 1, max: 5 }), (a, k) => {
        const r = chiSquareHomogeneity(
          a,
          a.map((c) => c * k),
        );
        return r.statistic < 1e-9 && r.pValue > 0.999999;
      }),
    );
  });
  it("drops categories absent from both sides and answers p = 1 for a single category (dof 0)", () => {
    expect(chiSquareHomogeneity([10, 0], [5, 0])).toEqual({ statistic: 0, pValue: 1, dof: 0 });
  });
  it("finds a clear shift between category shares", () => {
    expect(chiSquareHomogeneity([500, 300, 200], [200, 300, 500]).pValue).toBeLessThan(1e-10);
  });
});
