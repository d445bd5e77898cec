/**
 * `npm run mutate -- policies [FILE ...]`: Stryker over the policy pack with the policy tests
 * (policies/stryker.config.mjs). Optional files (or `file:from-to` line ranges) narrow the run
 * (`policies/security-mesh.ts`). Not part of CI: a full run takes far longer than the suite.
 *
 * First the policy test files that build a real platform run once, each in its own fork, which
 * fills the platform cache (test/policies/fixtures/platform-cache.ts): Stryker's runs share one
 * fork between test files and must not build one. Stryker runs incrementally: the
 * incremental file in reports/mutation/ is kept, so a rerun only tests what changed.
 */
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");
const targets: Record<string, { stryker: string; vitest: string }> = {
  policies: { stryker: "policies/stryker.config.mjs", vitest: "policies/vitest.mutate.config.mts" },
};
const [target, ...files] = process.argv.slice(2);
const config = target ? targets[target] : undefined;
if (!config) {
  console.error(`mutate: name what to mutate: ${Object.keys(targets).join(", ")} (got ${target ?? "nothing"})`);
  process.exit(2);
}
// Stryker's sandbox links the checkout's node_modules only when it is a directory: a symlinked one
// (a git worktree sharing another's) leaves the sandbox without node_modules/.cache, so every mutant's
// tests would miss the platform cache and the run would fail its dry run or take hours.
const modules = join(root, "node_modules");
if (lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) {
  const target = readlinkSync(modules);
  console.error(
    `mutate: ${modules} is a symlink (to ${target}), which Stryker's sandbox does not link; make it a directory: rm node_modules && cp -al ${target} node_modules (or npm ci)`,
  );
  process.exit(2);
}
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } }).status ?? 1;

// The files that build a platform: through fixtures/real.ts or real-rules.ts, or the cache directly.
const builders = readdirSync(join(root, "test/policies"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/policies/${f}`)
  .filter((f) => /fixtures\/(real|real-rules|platform-cache)"/.test(readFileSync(join(root, f), "utf8")));
const warmed = run([join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", config.vitest, ...builders], { MUTATE_ISOLATE: "1" });
if (warmed !== 0) {
  console.error("mutate: the policy tests fail unmutated; fix them first");
  process.exit(warmed);
}
const status = run([join(root, "node_modules/@stryker-mutator/core/bin/stryker.js"), "run", config.stryker], {
  MUTATE_FILES: files.join(","),
});
if (status === 0) {
  const summary = summaryTable(JSON.parse(readFileSync(join(root, "reports/mutation/policies.json"), "utf8")), files);
  writeFileSync(join(root, "reports/mutation/summary.md"), summary);
  console.log(`\n${summary}`);
}
process.exit(status);

interface StrykerReport {
  files: Record<string, { mutants: { status: string }[] }>;
}

/** The per-file table policies/MUTATION.md cites: mutants by status, the score and the score of covered mutants. */
function summaryTable(report: StrykerReport, only: string[]): string {
  const row = (name: string, statuses: string[]) => {
    const n = (status: string) => statuses.filter((s) => s === status).length;
    const [killed, timedOut, survived, noCoverage] = [n("Killed"), n("Timeout"), n("Survived"), n("NoCoverage")];
    const all = killed + timedOut + survived + noCoverage;
    const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : "-");
    return `| ${name} | ${all} | ${killed} | ${timedOut} | ${survived} | ${noCoverage} | ${pct(killed + timedOut, all)} | ${pct(killed + timedOut, all - noCoverage)} |`;
  };
  // An incremental report keeps files of earlier runs (even interrupted ones): show the ones asked for.
  const asked = new Set(only.map((f) => f.split(":")[0]));
  const files = Object.entries(report.files)
    .filter(([file]) => asked.size === 0 || asked.has(file))
    .sort(([a], [b]) => a.localeCompare(b));
  return [
    "| file | mutants | killed | timed out | survived | no coverage | score | of covered |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...files.map(([file, f]) =>
      row(
        `\`${file}\``,
        f.mutants.map((m) => m.status),
      ),
    ),
    row(
      "**total**",
      files.flatMap(([, f]) => f.mutants.map((m) => m.status)),
    ),
    "",
  ].join("\n");
}
