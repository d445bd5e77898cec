import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDrift, type DriftResult } from "../../../services/drift/check";
import { buildProfile } from "../../../services/drift/profile";
import { tableFromRows } from "../../../services/drift/table";
import { peerPython } from "../../support/peers";
import { generator } from "./generate";

/**
 * Our default drift checks beside Evidently's DataDriftPreset (venv-evidently, 0.7.23) on the same
 * data: per column the method each picks, and the verdict. Small reference (500 rows: tests) and
 * large (2000 rows: distances); numeric, binary, three-valued and categorical columns, missing
 * values, a constant column, and a category that only current has.
 */
type Row = Record<string, number | string | null>;
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "evidently-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EVIDENTLY_METHOD: Record<string, string> = {
  ks: "K-S p_value",
  chisquare: "chi-square p_value",
  ztest: "Z-test p_value",
  wasserstein: "Wasserstein distance (normed)",
  jensenshannon: "Jensen-Shannon distance",
};

function dataset(seed: number, n: number, shifted: boolean): Row[] {
  const g = generator(seed);
  const amount = g.normal(n, shifted ? 0.6 : 0, 1);
  const stable = g.normal(n, 0, 1);
  return amount.map((a, i) => ({
    amount: a,
    stable: stable[i] as number,
    with_missing: i % 7 === 0 ? null : (stable[(i + 1) % n] as number),
    constant: 3,
    flag: (i * 7919 + seed) % 10 < (shifted ? 5 : 3) ? 1 : 0,
    channel: ["pos", "web", "atm"][(i * 31 + seed) % 3] as string,
    region: shifted && i % 5 === 0 ? "mars" : (["eu", "us"][(i * 17 + seed) % 2] as string),
  }));
}

function csv(path: string, rows: Row[]): void {
  const cols = Object.keys(rows[0] as object);
  writeFileSync(path, `${cols.join(",")}\n${rows.map((r) => cols.map((c) => r[c] ?? "").join(",")).join("\n")}\n`);
}

interface Evidently {
  columns: Record<string, { method: string; value: number | null; threshold: number; drifted: boolean }>;
  share: number;
}

async function side(name: string, referenceRows: number, currentRows: number): Promise<{ ours: DriftResult; theirs: Evidently }> {
  const dir = join(work, name);
  const reference = dataset(1, referenceRows, false);
  const current = dataset(2, currentRows, true);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  csv(join(dir, "reference.csv"), reference);
  csv(join(dir, "current.csv"), current);
  writeFileSync(
    join(dir, "types.json"),
    JSON.stringify({ numerical: ["amount", "stable", "with_missing", "constant", "flag"], categorical: ["channel", "region"] }),
  );
  const { stdout } = await run(peerPython("evidently"), [join(__dirname, "evidently", "evidently_drift.py"), dir], { timeout: 400_000 });
  const ours = checkDrift(buildProfile(tableFromRows(reference)), tableFromRows(current));
  return { ours, theirs: JSON.parse(stdout.trim().split("\n").pop() as string) as Evidently };
}

describe("drift defaults beside Evidently's DataDriftPreset", () => {
  let small: { ours: DriftResult; theirs: Evidently };
  let large: { ours: DriftResult; theirs: Evidently };
  beforeAll(async () => {
    [small, large] = await Promise.all([side("small", 500, 300), side("large", 2000, 2000)]);
  }, 600_000);

  it.each(["small", "large"])("%s reference: the same method and the same verdict per column", (which) => {
    const { ours, theirs } = which === "small" ? small : large;
    const table = ours.features.map((f) => [f.name, EVIDENTLY_METHOD[f.method ?? ""], f.drifted]);
    const evidently = ours.features.map((f) => [f.name, theirs.columns[f.name]?.method, theirs.columns[f.name]?.drifted]);
    console.log(which, JSON.stringify({ ours: table, evidently, share: [ours.drift_share, theirs.share] }));
    expect(table).toEqual(evidently);
    expect(ours.drift_share).toBeCloseTo(theirs.share, 12);
  });
});
