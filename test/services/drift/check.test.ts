import { describe, expect, it } from "vitest";
import { checkDrift, resultToJson } from "../../../services/drift/check";
import { buildProfile } from "../../../services/drift/profile";
import { type Table, tableFromRows } from "../../../services/drift/table";
import { generator } from "./generate";

function table(columns: Record<string, (number | string | boolean | null)[]>): Table {
  const rows = Math.max(0, ...Object.values(columns).map((c) => c.length));
  return { rows, columns };
}

const g = generator(7);
const letters = (n: number, shares: number[]) =>
  Array.from({ length: n }, () => {
    let u = g.random();
    let k = 0;
    while (k < shares.length - 1 && u >= shares[k]!) u -= shares[k++]!;
    return "abcdefgh"[k]!;
  });

describe("default method choice (Evidently's rules)", () => {
  const small = buildProfile(
    table({
      x: g.normal(800),
      few: g.ties(800).map((v) => Math.abs(v) % 4),
      flag: g.normal(800).map((v) => v > 0),
      color: letters(800, [0.5, 0.3, 0.2]),
    }),
  );
  const large = buildProfile(
    table({ x: g.normal(5000), few: g.ties(5000).map((v) => Math.abs(v) % 4), color: letters(5000, [0.5, 0.3, 0.2]) }),
  );

  it("a reference of at most 1000 rows gets KS for numeric, chi-square for few values or categories, Z-test for binary", () => {
    const r = checkDrift(
      small,
      table({
        x: g.normal(300),
        few: g.ties(300).map((v) => Math.abs(v) % 4),
        flag: g.normal(300).map((v) => v > 0),
        color: letters(300, [0.5, 0.3, 0.2]),
      }),
    );
    const method = Object.fromEntries(r.features.map((f) => [f.name, f.method]));
    expect(method).toEqual({ x: "ks", few: "chisquare", flag: "ztest", color: "chisquare" });
    expect(r.features.find((f) => f.name === "x")!.p_value).not.toBeNull();
  });
  it("a reference over 1000 rows gets Wasserstein for numeric and Jensen-Shannon otherwise, with p_value null", () => {
    const r = checkDrift(
      large,
      table({ x: g.normal(3000), few: g.ties(3000).map((v) => Math.abs(v) % 4), color: letters(3000, [0.5, 0.3, 0.2]) }),
    );
    const byName = Object.fromEntries(r.features.map((f) => [f.name, f]));
    expect([byName.x!.method, byName.few!.method, byName.color!.method]).toEqual(["wasserstein", "jensenshannon", "jensenshannon"]);
    expect(byName.x!.p_value).toBeNull();
    expect(byName.x!.threshold).toBe(0.1);
    expect(r.dataset_drift).toBe(false);
  });
  it("the catalog overrides the method and threshold per feature", () => {
    const r = checkDrift(large, table({ x: g.normal(3000, 0.05), few: [], color: letters(3000, [0.5, 0.3, 0.2]) }), {
      features: { x: { method: "psi", threshold: 0.001 }, color: { method: "chisquare" } },
    });
    const x = r.features.find((f) => f.name === "x")!;
    expect([x.method, x.threshold, x.reason]).toEqual(["psi", 0.001, expect.stringContaining("catalog")]);
    expect(r.features.find((f) => f.name === "color")!.method).toBe("chisquare");
  });
  it("notes an override for a feature the profile lacks instead of failing the whole check", () => {
    const r = checkDrift(large, table({ x: g.normal(100) }), { features: { merchant_risk: { method: "psi" } } });
    expect(r.notes.join(" ")).toMatch(/drift\.features\.merchant_risk: the reference profile has no feature "merchant_risk"/);
    expect(r.features.find((f) => f.name === "x")!.status).toBe("checked");
  });
  it("refuses a numeric-only method on a categorical feature, naming the catalog field", () => {
    expect(() => checkDrift(large, table({ color: ["a"] }), { features: { color: { method: "ks" } } })).toThrow(
      /drift\.features\.color\.method: "ks" needs a numeric feature/,
    );
  });
});

describe("dataset drift", () => {
  const profile = buildProfile(table({ a: g.normal(4000), b: g.normal(4000), c: g.normal(4000), d: g.normal(4000) }));
  it("is found when the share of drifted features reaches drift_share (default 0.5)", () => {
    const r = checkDrift(profile, table({ a: g.normal(2000, 1), b: g.normal(2000, 1), c: g.normal(2000), d: g.normal(2000) }));
    expect(r.counts.drifted).toBe(2);
    expect(r.drift_share).toBe(0.5);
    expect(r.dataset_drift).toBe(true);
    expect(r.features.find((f) => f.name === "a")!.psi!.level).toBe("drift");
  });
  it("is not found below the share", () => {
    const r = checkDrift(profile, table({ a: g.normal(2000, 1), b: g.normal(2000), c: g.normal(2000), d: g.normal(2000) }), {
      driftShare: 0.5,
    });
    expect([r.drift_share, r.dataset_drift]).toEqual([0.25, false]);
  });
});

describe("bad data is reported, never a crash or NaN", () => {
  const profile = buildProfile(
    table({
      x: g.normal(2000),
      constant: Array(2000).fill(3),
      color: letters(2000, [0.6, 0.4]),
      sparse: g.normal(2000).map((v, i) => (i % 2 ? null : v)),
    }),
  );
  const noNaN = (json: string) => expect(json).not.toMatch(/NaN|Infinity/);

  it("an empty window skips every feature and reports no drift", () => {
    const r = checkDrift(profile, { rows: 0, columns: {} });
    expect(r.counts.skipped).toBe(4);
    expect(r.dataset_drift).toBe(false);
    expect(r.drift_share).toBe(0);
    expect(r.notes.join(" ")).toMatch(/empty/);
    noNaN(resultToJson(r));
  });
  it("missing values and non-numeric strings are counted as missing", () => {
    const r = checkDrift(
      profile,
      table({
        x: [1, null, "oops", 2, "3.5"],
        constant: [3, 3, 3, 3, 3],
        color: ["a", "b", null, "a", "a"],
        sparse: [null, null, null, null, null],
      }),
    );
    const x = r.features.find((f) => f.name === "x")!;
    expect([x.current.n, x.current.missing]).toEqual([3, 2]);
    expect(x.notes.join(" ")).toMatch(/1 non-numeric value/);
    const sparse = r.features.find((f) => f.name === "sparse")!;
    expect(sparse.status).toBe("skipped");
    expect(sparse.reason).toMatch(/all 5 current values are missing/);
    noNaN(resultToJson(r));
  });
  it("a constant reference column is compared without dividing by zero", () => {
    const r = checkDrift(profile, table({ constant: Array(500).fill(4) }));
    const c = r.features.find((f) => f.name === "constant")!;
    expect(c.status).toBe("checked");
    expect(c.drifted).toBe(true);
    expect(Number.isFinite(c.statistic)).toBe(true);
    expect(c.notes.join(" ")).toMatch(/constant/);
  });
  it("unseen categories are listed and counted against the reference", () => {
    const r = checkDrift(profile, table({ color: [...Array(300).fill("a"), ...Array(300).fill("zebra")] }));
    const c = r.features.find((f) => f.name === "color")!;
    expect(c.current.unseen_categories).toEqual(["zebra"]);
    expect(c.drifted).toBe(true);
    noNaN(resultToJson(r));
  });
  it("columns absent from the profile are listed, and profile columns absent from the data skipped", () => {
    const r = checkDrift(profile, tableFromRows([{ x: 1, extra: 2 }]));
    expect(r.unprofiled_columns).toEqual(["extra"]);
    expect(r.features.find((f) => f.name === "color")!.reason).toMatch(/no column "color"/);
  });
});
