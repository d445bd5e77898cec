import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CoverageRow } from "../../../policies/scan/coverage-rows";
import { allRows, COVERAGE_FILE, loadResult, renderCoverage, verdict } from "../../../policies/scan/coverage-table";

const row = (over: Partial<CoverageRow>): CoverageRow => ({
  id: "r",
  section: "aws",
  rule: "CKV_X_1",
  checks: "something",
  policies: ["ours"],
  scanners: ["checkov CKV_X_1"],
  breakage: { stack: "aws-prod", what: "broken", apply: (r) => r },
  ...over,
});
const fired = (scanners: string[], policies: string[]) => ({ stack: "aws-prod", scanners, policies });

describe("policies/COVERAGE.md", () => {
  it("is the rendering of the recorded result of every broken copy (regenerate with npm run coverage)", () => {
    expect(readFileSync(COVERAGE_FILE, "utf8")).toBe(renderCoverage(allRows, loadResult()));
  });

  it("has a recorded result for every row with a breakage and none for rows that are gone", () => {
    const withBreakage = allRows.filter((r) => r.breakage).map((r) => r.id);
    expect(Object.keys(loadResult().results).sort()).toEqual([...withBreakage].sort());
    expect(new Set(allRows.map((r) => r.id)).size).toBe(allRows.length);
  });

  it("names only policies of the pack", async () => {
    const { allPolicies } = await import("../../../policies/policies");
    const names = new Set(allPolicies.map((p) => p.name));
    for (const r of allRows) for (const p of r.policies) expect(names.has(p), `${r.id}: ${p}`).toBe(true);
  });
});

describe("a row's verdict", () => {
  it("is covered only when the scanner rule and one of our mapped policies both fire", () => {
    expect(verdict(row({}), fired(["checkov CKV_X_1"], ["ours"]))).toBe("covered");
    expect(verdict(row({}), fired(["checkov CKV_X_1"], []))).toMatch(/partial/);
    expect(verdict(row({}), fired([], ["ours"]))).toMatch(/ours only/);
    expect(verdict(row({}), fired(["checkov CKV_Y_2"], ["other"]))).toMatch(/NOT CAUGHT/);
  });

  it("wants every scanner id the row names", () => {
    const two = row({ scanners: ["checkov CKV_X_1", "checkov CKV_X_2"] });
    expect(verdict(two, fired(["checkov CKV_X_1", "checkov CKV_X_2"], ["ours"]))).toBe("covered");
    expect(verdict(two, fired(["checkov CKV_X_1"], ["ours"]))).toBe("covered (some of the scanner ids)");
  });

  it("tells rows without a policy or without a scanner rule apart", () => {
    expect(verdict(row({ policies: [] }), fired(["checkov CKV_X_1"], []))).toMatch(/scanner only/);
    expect(verdict(row({ policies: [] }), fired([], []))).toMatch(/scanner silent/);
    expect(verdict(row({ scanners: [] }), fired([], ["ours"]))).toMatch(/ours alone/);
    expect(verdict(row({ scanners: [] }), fired([], []))).toMatch(/NOT CAUGHT/);
    expect(verdict(row({ breakage: undefined, status: "not applicable" }), undefined)).toBe("not applicable");
    expect(verdict(row({}), undefined)).toMatch(/NOT RUN/);
  });
});
