/**
 * `npm run bench -- drift [--repeats N (default 3)] [--max-rows N (default 1000000)]
 *   [--evidently-repeats N (default 1)] [--evidently-max-rows N (default 100000)]`
 *
 * 1. Headline: a check of 50 numeric + 10 categorical features, reference 100k rows vs current
 *    100k rows, timed in this service (checkDrift against the stored profile) and in SciPy doing
 *    the same tests on the same arrays (bench/drift_scipy.py, called in the same run): normed
 *    Wasserstein and PSI per numeric feature, Jensen-Shannon and PSI per categorical feature.
 *    Also the same with KS forced on every numeric feature (scipy.stats.ks_2samp). Second
 *    baseline: Evidently's DataDriftPreset with its defaults (the same methods: normed Wasserstein
 *    and Jensen-Shannon) on the whole reference and current tables (bench/drift_evidently.py,
 *    venv-evidently): it keeps no profile, so it reads every reference row on every check.
 * 2. Scaling: profile and check time and memory as rows grow 10k -> 1M (10 numeric + 2 categorical),
 *    Evidently beside it up to --evidently-max-rows (its 1M-row run takes minutes on 2 cores).
 * Memory: peak RSS of each process (Evidently and SciPy run in their own; ours is this process's,
 * so it includes generating the data). Medians of repeated runs (Evidently: 1 run by default, it
 * is the slow one); the last line is the headline ratio (SciPy time / our time).
 */
import { peerPython } from "../test/support/peers";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkDrift, type FeatureOverride } from "../services/drift/check";
import { buildProfile, type Profile, seededRandom } from "../services/drift/profile";
import type { CellValue, Table } from "../services/drift/table";
import { machine, median } from "./_machine";

const { values: flags } = parseArgs({
  options: {
    repeats: { type: "string", default: "3" },
    "max-rows": { type: "string", default: "1000000" },
    "evidently-repeats": { type: "string", default: "1" },
    "evidently-max-rows": { type: "string", default: "100000" },
  },
});
const repeats = Number(flags.repeats);
const maxRows = Number(flags["max-rows"]);
const evidentlyRepeats = Number(flags["evidently-repeats"]);
const evidentlyMaxRows = Number(flags["evidently-max-rows"]);

const random = seededRandom(2026);
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** Numeric feature i: normal, log-normal, heavy-tailed or tied values; half of them shift in the current window. */
function numericColumn(i: number, rows: number, shifted: boolean): number[] {
  const shift = shifted && i % 2 === 0 ? 0.2 : 0;
  const kind = i % 4;
  return Array.from({ length: rows }, () => {
    const z = gauss() + shift;
    if (kind === 0) return z;
    if (kind === 1) return Math.exp(1 + 0.5 * z);
    if (kind === 2) return z / Math.sqrt((gauss() ** 2 + gauss() ** 2) / 2);
    return Math.round(3 * z);
  });
}

/** Categorical feature j with 4 + 3j levels (a long tail of rare ones); some tilt in the current window. */
function categoricalColumn(j: number, rows: number, shifted: boolean): string[] {
  const levels = 4 + 3 * j;
  const tilt = shifted && j % 2 === 0 ? 0.5 : 1;
  return Array.from({ length: rows }, () => `level_${Math.floor(levels * random() ** (1 + tilt))}`);
}

function dataset(rows: number, numeric: number, categorical: number, shifted: boolean): Table {
  const columns: Record<string, CellValue[]> = {};
  for (let i = 0; i < numeric; i++) columns[`num_${i}`] = numericColumn(i, rows, shifted);
  for (let j = 0; j < categorical; j++) columns[`cat_${j}`] = categoricalColumn(j, rows, shifted);
  return { rows, columns };
}

function timeMedian(run: () => void, times: number): { median: number; all: number[] } {
  const all: number[] = [];
  for (let r = 0; r < times; r++) {
    const start = process.hrtime.bigint();
    run();
    all.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { median: median(all), all };
}

/** Writes the arrays SciPy needs: the profile's reference sample and bins, the current values. */
function writeScipyInputs(dir: string, profile: Profile, current: Table, numericMethod: "default" | "ks"): void {
  const meta = { repeats, numeric_method: numericMethod, numeric: [] as object[], categorical: [] as object[] };
  let n = 0;
  let c = 0;
  for (const [name, feature] of Object.entries(profile.features)) {
    const values = current.columns[name]!;
    if (feature.type === "numeric") {
      writeFileSync(join(dir, `n${n}.ref.f64`), new Uint8Array(Float64Array.from(feature.sample).buffer));
      writeFileSync(join(dir, `n${n}.cur.f64`), new Uint8Array(Float64Array.from(values as number[]).buffer));
      meta.numeric.push({ name, std: feature.std, edges: feature.psi.edges, ref_counts: feature.psi.counts });
      n++;
    } else {
      const labels = Object.keys(feature.counts);
      const code = new Map(labels.map((l, i) => [l, i]));
      const codes = Int32Array.from(values as string[], (v) => code.get(v) ?? labels.length);
      writeFileSync(join(dir, `c${c}.cur.i32`), new Uint8Array(codes.buffer));
      meta.categorical.push({ name, ref_counts: [...labels.map((l) => feature.counts[l]!), 0] });
      c++;
    }
  }
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
}

interface ScipyRun {
  median_s: number;
  peak_rss_mib: number;
  scores: number[];
}

function runScipy(dir: string): ScipyRun {
  const out = execFileSync(process.env.PYTHON ?? peerPython("scipy"), [join(__dirname, "drift_scipy.py"), dir], { maxBuffer: 1 << 26 });
  return JSON.parse(out.toString()) as ScipyRun;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface EvidentlyRun {
  median_s: number;
  times_s: number[];
  peak_rss_mib: number;
  rss_before_mib: number;
  scores: (number | null)[];
}

/** Writes every reference and current row for Evidently (it has no profile) and runs it. */
function runEvidently(dir: string, profile: Profile, reference: Table, current: Table): EvidentlyRun {
  const meta = { evidently_repeats: evidentlyRepeats, numeric: [] as object[], categorical: [] as object[] };
  const sides = { ref: reference, cur: current };
  let n = 0;
  let c = 0;
  for (const [name, feature] of Object.entries(profile.features)) {
    if (feature.type === "numeric") {
      for (const [side, table] of Object.entries(sides))
        writeFileSync(join(dir, `n${n}.${side}.f64`), new Uint8Array(Float64Array.from(table.columns[name] as number[]).buffer));
      meta.numeric.push({ name });
      n++;
    } else {
      const labels = Object.keys(feature.counts);
      const code = new Map(labels.map((l, i) => [l, i]));
      for (const [side, table] of Object.entries(sides))
        writeFileSync(
          join(dir, `c${c}.${side}.i32`),
          new Uint8Array(Int32Array.from(table.columns[name] as string[], (v) => code.get(v) ?? labels.length).buffer),
        );
      meta.categorical.push({ name, labels });
      c++;
    }
  }
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
  const out = execFileSync(peerPython("evidently"), [join(__dirname, "drift_evidently.py"), dir], { maxBuffer: 1 << 26 });
  return JSON.parse(out.toString()) as EvidentlyRun;
}

/** The largest relative difference between our scores and a baseline's, feature by feature. */
function worstDifference(ours: number[], theirs: (number | null)[]): number {
  return Math.max(...ours.map((s, i) => Math.abs(s - (theirs[i] ?? Number.NaN)) / Math.max(Math.abs(theirs[i] ?? 0), 1e-12)));
}

function headline(): { scipy: number; evidently: number } {
  console.log("\n== 50 numeric + 10 categorical features, reference 100k rows vs current 100k rows ==");
  const reference = dataset(100_000, 50, 10, false);
  const current = dataset(100_000, 50, 10, true);
  const profiled = timeMedian(() => buildProfile(reference), 1);
  const profile = buildProfile(reference);
  console.log(
    `profile (once per training set): ${profiled.median.toFixed(2)} s, ${(JSON.stringify(profile).length / 2 ** 20).toFixed(1)} MiB JSON`,
  );
  const dir = mkdtempSync(join(tmpdir(), "bench-drift-"));
  let ratio = 0;
  let evidentlyRatio = 0;
  try {
    for (const numericMethod of ["default", "ks"] as const) {
      const overrides: Record<string, FeatureOverride> = {};
      if (numericMethod === "ks") for (let i = 0; i < 50; i++) overrides[`num_${i}`] = { method: "ks" };
      const ours = timeMedian(() => checkDrift(profile, current, { features: overrides }), repeats);
      const result = checkDrift(profile, current, { features: overrides });
      writeScipyInputs(dir, profile, current, numericMethod);
      const scipy = runScipy(dir);
      // Same tests on the same data: every score agrees with SciPy's.
      const scores = result.features.map((f) => (f.p_value ?? f.statistic) as number);
      const worst = worstDifference(scores, scipy.scores);
      const label =
        numericMethod === "default" ? "default methods (Wasserstein + JS, PSI alongside)" : "KS on every numeric feature (PSI alongside)";
      const r = scipy.median_s / ours.median;
      console.log(`${label}:`);
      console.log(`  this service  median ${ours.median.toFixed(3)} s  (runs ${ours.all.map((t) => t.toFixed(3)).join(", ")})`);
      console.log(`  SciPy         median ${scipy.median_s.toFixed(3)} s  peak RSS ${scipy.peak_rss_mib.toFixed(0)} MiB`);
      console.log(
        `  ratio (SciPy / ours) ${r.toFixed(2)}x; dataset drift ${result.dataset_drift} (${result.counts.drifted}/${result.counts.checked}); max relative score difference vs SciPy ${worst.toExponential(1)}`,
      );
      if (numericMethod === "default") {
        ratio = r;
        const rssBefore = process.memoryUsage().rss;
        const evidently = runEvidently(dir, profile, reference, current);
        console.log(
          `  Evidently     median ${evidently.median_s.toFixed(3)} s  (runs ${evidently.times_s.map((t) => t.toFixed(3)).join(", ")})  peak RSS ${evidently.peak_rss_mib.toFixed(0)} MiB (${evidently.rss_before_mib.toFixed(0)} MiB with the tables loaded, before the run)`,
        );
        evidentlyRatio = evidently.median_s / ours.median;
        // Categorical scores are the same formula on the same counts; numeric ones differ by the
        // reservoir: we compare with the profile's 10000-row sample, Evidently with all 100k rows.
        const categorical = result.features.map((f) => f.type === "categorical");
        const pick = <T>(xs: T[], want: boolean) => xs.filter((_, i) => categorical[i] === want);
        const absolute = Math.max(...pick(scores, false).map((s, i) => Math.abs(s - (pick(evidently.scores, false)[i] ?? Number.NaN))));
        const verdicts = result.features.filter(
          (f, i) => f.drifted === (evidently.scores[i] ?? Number.NaN) >= (f.threshold ?? Number.NaN),
        ).length;
        console.log(
          `  ratio (Evidently / ours) ${evidentlyRatio.toFixed(1)}x; same verdict on ${verdicts}/${scores.length} features; categorical scores: max relative difference ${worstDifference(pick(scores, true), pick(evidently.scores, true)).toExponential(1)}; numeric (our reservoir sample vs every row): max absolute difference ${absolute.toFixed(4)}`,
        );
        console.log(
          `  this process: RSS ${mib(rssBefore)} MiB before Evidently ran, peak ${mib(process.resourceUsage().maxRSS * 1024)} MiB so far (data, profile and checks)`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`peak RSS of this process so far: ${mib(process.resourceUsage().maxRSS * 1024)} MiB`);
  return { scipy: ratio, evidently: evidentlyRatio };
}

function scaling(): void {
  console.log("\n== scaling: 10 numeric + 2 categorical features, reference and current of N rows ==");
  console.log(
    "rows      profile s   check s   check us/row   heap after check MiB   profile JSON MiB   Evidently check s   Evidently peak RSS MiB",
  );
  const dir = mkdtempSync(join(tmpdir(), "bench-drift-scaling-"));
  let previous: { rows: number; check: number } | undefined;
  for (const rows of [10_000, 100_000, 1_000_000].filter((r) => r <= maxRows)) {
    const reference = dataset(rows, 10, 2, false);
    const current = dataset(rows, 10, 2, true);
    const profileTime = timeMedian(() => buildProfile(reference), 1);
    const profile = buildProfile(reference);
    const check = timeMedian(() => checkDrift(profile, current), rows >= 1_000_000 ? 1 : repeats);
    (globalThis as { gc?: () => void }).gc?.();
    const heap = process.memoryUsage().heapUsed;
    let growth = "";
    if (previous) {
      const nlogn = (rows * Math.log(rows)) / (previous.rows * Math.log(previous.rows));
      growth = `  (x${(check.median / previous.check).toFixed(1)} time for x${(rows / previous.rows).toFixed(0)} rows; n log n predicts x${nlogn.toFixed(1)})`;
    }
    let evidently = `${"-".padStart(19)} ${"-".padStart(24)}`;
    if (rows <= evidentlyMaxRows) {
      const e = runEvidently(dir, profile, reference, current);
      evidently = `${e.median_s.toFixed(3).padStart(19)} ${e.peak_rss_mib.toFixed(0).padStart(24)}`;
    }
    console.log(
      `${String(rows).padEnd(9)} ${profileTime.median.toFixed(2).padStart(9)} ${check.median.toFixed(3).padStart(9)} ${((check.median / rows) * 1e6).toFixed(2).padStart(14)} ${mib(heap).padStart(22)} ${(JSON.stringify(profile).length / 2 ** 20).toFixed(2).padStart(18)} ${evidently}${growth}`,
    );
    previous = { rows, check: check.median };
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `peak RSS: ${mib(process.resourceUsage().maxRSS * 1024)} MiB (the profile is bounded by the reservoir: its size does not grow with rows)`,
  );
}

/** The machine is shared: every run says its load. */
const load = () => execFileSync("uptime").toString().trim();
console.log(`drift benchmark on ${machine()}; ${repeats} repeats, medians (Evidently ${evidentlyRepeats}); load: ${load()}`);
const ratio = headline();
scaling();
console.log(`load after: ${load()}`);
console.log(
  `drift: 60-feature check of 100k vs 100k rows is ${ratio.scipy.toFixed(2)}x SciPy's speed and ${ratio.evidently.toFixed(1)}x Evidently's (their time / ours, same tests, same data)`,
);
