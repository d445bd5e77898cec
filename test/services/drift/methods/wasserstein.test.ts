import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sortedCopy } from "../../../../services/drift/methods/ks";
import { normedWasserstein, wassersteinDistance } from "../../../../services/drift/methods/wasserstein";

const sample = fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 80 });

describe("Wasserstein-1 distance", () => {
  it("is symmetric and non-negative", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = wassersteinDistance(sortedCopy(a), sortedCopy(b));
        const ba = wassersteinDistance(sortedCopy(b), sortedCopy(a));
        return ab >= 0 && Math.abs(ab - ba) <= 1e-9 * Math.max(1, ab);
      }),
    );
  });
  it("is zero for identical samples", () => {
    fc.assert(fc.property(sample, (a) => wassersteinDistance(sortedCopy(a), sortedCopy(a)) === 0));
  });
  it("equals the shift when a sample is translated", () => {
    fc.assert(
      fc.property(sample, fc.double({ min: 0, max: 100, noNaN: true }), (a, shift) => {
        const d = wassersteinDistance(sortedCopy(a), sortedCopy(a.map((x) => x + shift)));
        return Math.abs(d - shift) <= 1e-6 * Math.max(1, shift) + 1e-7;
      }),
    );
  });
  it("is divided by the reference std, floored at 0.001 for a constant reference as Evidently does", () => {
    expect(normedWasserstein(sortedCopy([0, 0]), sortedCopy([1, 1]), 2)).toBe(0.5);
    expect(normedWasserstein(sortedCopy([0, 0]), sortedCopy([1, 1]), 0)).toBe(1000);
  });
});
