import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CASES,
  compareColumns,
  DIFFERENCES,
  renderTable,
  type SideBySide,
  sideBySide,
  TABLE_END,
  TABLE_START,
} from "./evidently/side-by-side";

/**
 * Our default drift checks beside Evidently's DataDriftPreset (venv-evidently, 0.7.23) on the same
 * data (side-by-side.ts): per column the method, the statistic within the stated tolerance (or a
 * listed difference with its reason), the threshold and the verdict; the dataset share; and the
 * table in docs/drift.md is the one this run produces.
 */
const work = mkdtempSync(join(tmpdir(), "evidently-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("drift defaults beside Evidently's DataDriftPreset", () => {
  let cases: SideBySide[] = [];
  beforeAll(async () => {
    cases = await Promise.all(CASES.map((c) => sideBySide(work, c)));
  }, 600_000);
  const byName = (name: string) => cases.find((c) => c.name === name) as SideBySide;

  it.each(CASES.map((c) => c.name))("%s reference: the same method, threshold and verdict for every column", (name) => {
    const rows = compareColumns(byName(name));
    expect(rows).toHaveLength(7);
    for (const r of rows) {
      expect(r.method[0], `${r.column}: method`).toBe(r.method[1]);
      expect(r.threshold[0], `${r.column}: threshold`).toBe(r.threshold[1]);
      expect(r.drifted[0], `${r.column}: verdict`).toBe(r.drifted[1]);
    }
  });

  it.each(CASES.map((c) => c.name))("%s reference: the same statistic within tolerance, except the listed differences", (name) => {
    for (const r of compareColumns(byName(name))) {
      // A listed difference must still be one (else the doc overstates it), an unlisted one is a bug.
      expect(r.statisticAgrees, `${r.column} (${r.method[0]}): ours ${r.statistic[0]}, Evidently ${r.statistic[1]}`).toBe(
        r.difference === undefined,
      );
    }
  });

  it("shows the chi-square difference where it matters: a category only in current is p = 0 for Evidently, finite for us", () => {
    const region = compareColumns(byName("small")).find((r) => r.column === "region");
    expect(region?.statistic[1]).toBe(0);
    expect(region?.statistic[0]).toBeGreaterThan(0);
    expect(region?.statistic[0]).toBeLessThan(1e-20);
    expect(Object.keys(DIFFERENCES)).toEqual(["chisquare"]);
  });

  it.each(CASES.map((c) => c.name))("%s reference: the same dataset drift share and verdict", (name) => {
    const s = byName(name);
    expect(s.ours.drift_share).toBeCloseTo(s.theirs.share, 12);
    expect(s.ours.counts.drifted).toBe(s.theirs.count);
    expect(s.ours.drift_share_threshold).toBe(s.theirs.share_threshold);
    expect(s.ours.dataset_drift).toBe(s.theirs.share >= s.theirs.share_threshold);
  });

  it("docs/drift.md carries the table this run produces", () => {
    const doc = readFileSync(join(__dirname, "../../../docs/drift.md"), "utf8");
    const table = doc.slice(doc.indexOf(TABLE_START) + TABLE_START.length + 1, doc.indexOf(TABLE_END));
    expect(table, "run npx tsx scripts/gen-drift-evidently.ts and commit docs/drift.md").toBe(renderTable(cases));
  });
});
