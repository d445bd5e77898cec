import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sortedCopy } from "../../../../services/drift/methods/ks";
import { binCountsSorted, fillEmptyShares, psi, psiLevel, quantileEdges } from "../../../../services/drift/methods/psi";

const bins = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 12 });

describe("Population Stability Index", () => {
  it("is symmetric, non-negative and zero for identical shares", () => {
    fc.assert(
      fc.property(bins, bins, (p, q) => {
        const n = Math.min(p.length, q.length);
        const a = psi(p.slice(0, n), q.slice(0, n));
        return a >= -1e-12 && Math.abs(a - psi(q.slice(0, n), p.slice(0, n))) < 1e-9 * Math.max(1, a) && psi(p, p) < 1e-12;
      }),
    );
  });
  it("replaces an empty bin by 0.0001, as Evidently does", () => {
    expect(fillEmptyShares([0.5, 0.5, 0])).toEqual([0.5, 0.5, 0.0001]);
    // When the smallest share is itself tiny, the fill is a millionth of it.
    expect(fillEmptyShares([0.99995, 0.00005, 0])[2]).toBeCloseTo(5e-11, 20);
    expect(Number.isFinite(psi([10, 0], [0, 10]))).toBe(true);
  });
  it("puts about a tenth of the reference in each decile bin", () => {
    const ref = sortedCopy(Array.from({ length: 1000 }, (_, i) => i));
    const edges = quantileEdges(ref);
    expect(edges).toHaveLength(9);
    expect(binCountsSorted(ref, edges)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
  });
  it("merges duplicate edges of a tied column", () => {
    const edges = quantileEdges(sortedCopy([...Array(900).fill(0), ...Array(100).fill(1)]));
    expect(new Set(edges).size).toBe(edges.length);
  });
  it("reads 0.1 as a warning and 0.2 as drift", () => {
    expect([psiLevel(0.05), psiLevel(0.1), psiLevel(0.2)]).toEqual(["ok", "warn", "drift"]);
  });
});
