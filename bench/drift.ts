/**
 * `npm run bench -- drift [--repeats N (default 3)] [--max-rows N (default 1000000)]`
 *
 * 1. Headline: a check of 50 numeric + 10 categorical features, reference 100k rows vs current
 *    100k rows, timed in this service (checkDrift against the stored profile) and in SciPy doing
 *    the same tests on the same arrays (bench/drift_scipy.py, called in the same run): normed
 *    Wasserstein and PSI per numeric feature, Jensen-Shannon and PSI per categorical feature.
 *    Also the same with KS forced on every numeric feature (scipy.stats.ks_2samp).
 * 2. Scaling: profile and check time and memory as rows grow 10k -> 1M (10 numeric + 2 categorical).
 * Medians of repeated runs; the last line is the headline ratio (SciPy time / our time).
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
  options: { repeats: { type: "string", default: "3" }, "max-rows": { type: "string", default: "1000000" } },
});
const repeats = Number(flags.repeats);
const maxRows = Number(flags["max-rows"]);

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

function headline(): number {
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
      const worst = Math.max(...scores.map((s, i) => Math.abs(s - scipy.scores[i]!) / Math.max(Math.abs(scipy.scores[i]!), 1e-12)));
      const label =
        numericMethod === "default" ? "default methods (Wasserstein + JS, PSI alongside)" : "KS on every numeric feature (PSI alongside)";
      const r = scipy.median_s / ours.median;
      console.log(`${label}:`);
      console.log(`  this service  median ${ours.median.toFixed(3)} s  (runs ${ours.all.map((t) => t.toFixed(3)).join(", ")})`);
      console.log(`  SciPy         median ${scipy.median_s.toFixed(3)} s  peak RSS ${scipy.peak_rss_mib.toFixed(0)} MiB`);
      console.log(
        `  ratio (SciPy / ours) ${r.toFixed(2)}x; dataset drift ${result.dataset_drift} (${result.counts.drifted}/${result.counts.checked}); max relative score difference vs SciPy ${worst.toExponential(1)}`,
      );
      if (numericMethod === "default") ratio = r;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`peak RSS of this process so far: ${mib(process.resourceUsage().maxRSS * 1024)} MiB`);
  return ratio;
}

function scaling(): void {
  console.log("\n== scaling: 10 numeric + 2 categorical features, reference and current of N rows ==");
  console.log("rows      profile s   check s   check us/row   heap after check MiB   profile JSON MiB");
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
    console.log(
      `${String(rows).padEnd(9)} ${profileTime.median.toFixed(2).padStart(9)} ${check.median.toFixed(3).padStart(9)} ${((check.median / rows) * 1e6).toFixed(2).padStart(14)} ${mib(heap).padStart(22)} ${(JSON.stringify(profile).length / 2 ** 20).toFixed(2).padStart(18)}${growth}`,
    );
    previous = { rows, check: check.median };
  }
  console.log(
    `peak RSS: ${mib(process.resourceUsage().maxRSS * 1024)} MiB (the profile is bounded by the reservoir: its size does not grow with rows)`,
  );
}

console.log(`drift benchmark on ${machine()}; ${repeats} repeats, medians`);
const ratio = headline();
scaling();
console.log(
  `drift: 60-feature check of 100k vs 100k rows is ${ratio.toFixed(2)}x SciPy's speed (SciPy time / ours, same tests, same data)`,
);
