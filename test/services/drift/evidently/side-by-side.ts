/**
 * Our default drift checks beside Evidently's DataDriftPreset (venv-evidently, 0.7.23, its defaults)
 * on the same data, column by column: the method, the statistic (p-value of a test, or distance),
 * the threshold and the verdict, and the dataset drift share. Used by
 * test/services/drift/evidently-parity.test.ts (which keeps the agreement and the doc current) and
 * by scripts/gen-drift-evidently.ts (which writes the table into docs/drift.md).
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkDrift, type DriftResult } from "../../../../services/drift/check";
import { buildProfile } from "../../../../services/drift/profile";
import { tableFromRows } from "../../../../services/drift/table";
import { peerPython } from "../../../support/peers";
import { generator } from "../generate";

type Row = Record<string, number | string | null>;
const run = promisify(execFile);

/** The columns of every case, with what each exercises. */
export const COLUMNS: Record<string, string> = {
  amount: "numeric, shifted by 0.6 sd",
  stable: "numeric, not shifted",
  with_missing: "numeric, 1 in 7 missing",
  constant: "constant (3)",
  flag: "0/1, share of 1 from 0.3 to 0.5",
  channel: "3 categories, not shifted",
  region: "2 categories; 1 in 5 current rows `mars`, only in current",
};
const NUMERICAL = ["amount", "stable", "with_missing", "constant", "flag"];
const CATEGORICAL = ["channel", "region"];

/** Reference rows vs current rows: Evidently (and we) run tests up to 1000 reference rows, distances above. */
export const CASES = [
  { name: "small", reference: 500, current: 300 },
  { name: "large", reference: 2000, current: 2000 },
] as const;

/** Evidently's display name for each of our methods. */
export const EVIDENTLY_METHOD: Record<string, string> = {
  ks: "K-S p_value",
  chisquare: "chi-square p_value",
  ztest: "Z-test p_value",
  wasserstein: "Wasserstein distance (normed)",
  jensenshannon: "Jensen-Shannon distance",
  psi: "PSI",
};

/**
 * How close our statistic must be to Evidently's, per method: both call the same SciPy formula
 * (KS p-values to scipy's 1e-6 absolute, see scipy-parity.test.ts; the rest to rounding).
 */
export const TOLERANCE: Record<string, { absolute: number; relative: number }> = {
  ks: { absolute: 1e-6, relative: 0 },
  ztest: { absolute: 1e-12, relative: 1e-9 },
  wasserstein: { absolute: 1e-12, relative: 1e-9 },
  jensenshannon: { absolute: 1e-12, relative: 1e-9 },
};

/**
 * Every place our statistic differs from Evidently's beyond the tolerance, and why. The test fails
 * when a listed difference disappears or an unlisted one appears, so this list is the whole truth.
 */
export const DIFFERENCES: Record<string, string> = {
  chisquare:
    "documented choice: we run the chi-square test of homogeneity on the 2 x k table (scipy.stats.chi2_contingency), which treats the reference as the finite sample it is; Evidently runs a goodness-of-fit test against the reference shares scaled to the current size (scipy.stats.chisquare), so with a category only in current its expected count is 0 and its p-value 0",
};

export interface EvidentlyColumn {
  method: string;
  value: number | null;
  threshold: number;
  drifted: boolean;
}
export interface EvidentlyResult {
  columns: Record<string, EvidentlyColumn>;
  share: number;
  count: number;
  share_threshold: number;
}
export interface SideBySide {
  name: string;
  reference: number;
  current: number;
  ours: DriftResult;
  theirs: EvidentlyResult;
}

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
  // 17 significant digits: Evidently reads back exactly the doubles we check.
  const cell = (v: number | string | null) => (v === null ? "" : typeof v === "number" ? v.toPrecision(17) : v);
  writeFileSync(path, `${cols.join(",")}\n${rows.map((r) => cols.map((c) => cell(r[c] ?? null)).join(",")).join("\n")}\n`);
}

/** Runs one case through both: CSVs into `work/<name>`, Evidently in its venv, ours in process. */
export async function sideBySide(work: string, c: (typeof CASES)[number]): Promise<SideBySide> {
  const dir = join(work, c.name);
  const reference = dataset(1, c.reference, false);
  const current = dataset(2, c.current, true);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  csv(join(dir, "reference.csv"), reference);
  csv(join(dir, "current.csv"), current);
  writeFileSync(join(dir, "types.json"), JSON.stringify({ numerical: NUMERICAL, categorical: CATEGORICAL }));
  const { stdout } = await run(peerPython("evidently"), [join(__dirname, "evidently_drift.py"), dir], { timeout: 400_000 });
  const theirs = JSON.parse(stdout.trim().split("\n").pop() as string) as EvidentlyResult;
  const ours = checkDrift(buildProfile(tableFromRows(reference)), tableFromRows(current));
  return { ...c, ours, theirs };
}

export interface ColumnComparison {
  column: string;
  method: [string, string];
  statistic: [number | null, number | null];
  threshold: [number | null, number];
  drifted: [boolean | null, boolean];
  /** Within TOLERANCE of each other. */
  statisticAgrees: boolean;
  difference: string | undefined;
}

/** Our statistic as Evidently reports it: the p-value of a test, else the distance. */
function ourScore(f: DriftResult["features"][number]): number | null {
  return f.p_value ?? f.statistic ?? null;
}

export function compareColumns(s: SideBySide): ColumnComparison[] {
  return s.ours.features.map((f) => {
    const t = s.theirs.columns[f.name];
    if (!t) throw new Error(`Evidently reported no column ${f.name} in case ${s.name}`);
    const ours = ourScore(f);
    const tolerance = TOLERANCE[f.method ?? ""];
    const statisticAgrees =
      tolerance !== undefined &&
      ours !== null &&
      t.value !== null &&
      Math.abs(ours - t.value) <= Math.max(tolerance.absolute, tolerance.relative * Math.abs(t.value));
    return {
      column: f.name,
      method: [EVIDENTLY_METHOD[f.method ?? ""] ?? String(f.method), t.method],
      statistic: [ours, t.value],
      threshold: [f.threshold ?? null, t.threshold],
      drifted: [f.drifted ?? null, t.drifted],
      statisticAgrees,
      difference: DIFFERENCES[f.method ?? ""],
    };
  });
}

/** Four significant digits (a p-value of 1e-30 stays readable); null for "none". */
function num(v: number | null): string {
  if (v === null) return "none";
  if (v === 0) return "0";
  return Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
}
const yes = (b: boolean | null) => (b === null ? "-" : b ? "yes" : "no");

/** The markdown table docs/drift.md carries (between its evidently-table markers). */
export function renderTable(cases: SideBySide[]): string {
  const lines = [
    "| case | column | method (both) | statistic: ours | Evidently | threshold (both) | drifted (both) |",
    "|---|---|---|---|---|---|---|",
  ];
  const notes: string[] = [];
  for (const s of cases) {
    for (const c of compareColumns(s)) {
      const method = c.method[0] === c.method[1] ? c.method[0] : `${c.method[0]} / Evidently ${c.method[1]}`;
      const threshold = c.threshold[0] === c.threshold[1] ? num(c.threshold[1]) : `${num(c.threshold[0])} / ${num(c.threshold[1])}`;
      const drifted = c.drifted[0] === c.drifted[1] ? yes(c.drifted[1]) : `${yes(c.drifted[0])} / Evidently ${yes(c.drifted[1])}`;
      const mark = c.statisticAgrees ? "" : " (a)";
      if (!c.statisticAgrees && c.difference && !notes.includes(c.difference)) notes.push(c.difference);
      lines.push(
        `| ${s.name} (${s.reference} vs ${s.current} rows) | ${c.column}: ${COLUMNS[c.column]} | ${method} | ${num(c.statistic[0])}${mark} | ${num(c.statistic[1])}${mark} | ${threshold} | ${drifted} |`,
      );
    }
    const pair = (a: number, b: number) => (a === b ? num(b) : `${num(a)} / Evidently ${num(b)}`);
    const dataset = s.ours.dataset_drift === s.theirs.share >= s.theirs.share_threshold ? yes(s.ours.dataset_drift) : "differs";
    lines.push(
      `| ${s.name} | **dataset**: share of drifted columns (ours ${s.ours.counts.drifted} of ${s.ours.counts.checked}, Evidently ${s.theirs.count}) | share | ${num(s.ours.drift_share)} | ${num(s.theirs.share)} | ${pair(s.ours.drift_share_threshold, s.theirs.share_threshold)} | ${dataset} |`,
    );
  }
  return `${lines.join("\n")}\n\n${notes.map((n) => `(a) ${n}.`).join("\n")}\n`;
}

/** docs/drift.md with the text between the markers replaced by `table`. */
export function withTable(doc: string, table: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`docs/drift.md: the markers ${TABLE_START} ... ${TABLE_END} are missing; put them back around the table`);
  return `${doc.slice(0, start + TABLE_START.length)}\n${table}${doc.slice(end)}`;
}

export const TABLE_START = "<!-- evidently-table: generated by `npx tsx scripts/gen-drift-evidently.ts`; do not edit -->";
export const TABLE_END = "<!-- /evidently-table -->";
