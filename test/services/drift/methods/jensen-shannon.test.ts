import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jensenShannonDistance } from "../../../../services/drift/methods/jensen-shannon";

const bins = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 12 });

describe("Jensen-Shannon distance", () => {
  it("is symmetric and within [0, sqrt(ln 2)] in natural log, its default", () => {
    fc.assert(
      fc.property(bins, bins, (p, q) => {
        const n = Math.min(p.length, q.length);
        const a = jensenShannonDistance(p.slice(0, n), q.slice(0, n));
        const b = jensenShannonDistance(q.slice(0, n), p.slice(0, n));
        return Math.abs(a - b) < 1e-12 && a >= 0 && a <= Math.sqrt(Math.LN2) + 1e-12;
      }),
    );
  });
  it("is zero for identical distributions, whatever their scale", () => {
    fc.assert(
      fc.property(
        bins,
        (p) =>
          jensenShannonDistance(
            p,
            p.map((x) => x * 3),
          ) < 1e-7,
      ),
    );
  });
  it("is sqrt(ln 2) for disjoint supports by default, as Evidently's (which passes no base), and 1 in base 2", () => {
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 12);
    expect(jensenShannonDistance([1, 0], [0, 1], 2)).toBeCloseTo(1, 12);
  });
});
