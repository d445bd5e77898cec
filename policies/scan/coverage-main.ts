/**
 * `npm run coverage -- [--only ID,...] [--out DIR] [--json] [--render]`: regenerates policies/COVERAGE.md from
 * what the scanners and our policies report on a broken copy of each stack per mapped rule
 * (policies/scan/coverage-*.ts). Plans each stack the rows break in-process (as `npm run scan`),
 * runs every breakage of a stack through one Checkov process, one trivy process and kube-score, records the result in
 * policies/scan/coverage-result.json and renders COVERAGE.md from it. `--only` reruns some rows and
 * keeps the recorded result of the others.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { helpText, parseCommand, UsageError } from "../../services/core/cli";
import { runProgram } from "../../stacks/plan/run";
import { type Breakage, runBreakages } from "./coverage";
import { allRows, COVERAGE_FILE, type CoverageResult, loadResult, RESULT_FILE, renderCoverage, verdict } from "./coverage-table";
import { scannerPaths } from "./scanners";

const FLAGS = [
  { name: "only", type: "string" as const, description: "comma-separated row ids to rerun (the others keep their recorded result)" },
  { name: "out", type: "string" as const, description: "directory for the broken copies (default out/coverage)" },
  { name: "json", type: "boolean" as const, description: "print the result as JSON on stdout (progress goes to stderr)" },
  {
    name: "render",
    type: "boolean" as const,
    description: "only re-render COVERAGE.md from the recorded result (after editing a row's text)",
  },
];

const root = resolve(__dirname, "..", "..");

function version(command: string, args: string[]): string {
  const ran = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  return `${ran.stdout ?? ""}${ran.stderr ?? ""}`.match(/v?\d+\.\d+\.\d+/)?.[0]?.replace(/^v/, "") ?? "unknown";
}

function pinnedGoTool(name: string): string {
  const scripts = join(root, "scripts", "test-env.d");
  for (const file of readdirSync(scripts)) {
    const pinned = readFileSync(join(scripts, file), "utf8").match(new RegExp(`go_tool ${name} \\S+@v([\\d.]+)`))?.[1];
    if (pinned) return pinned;
  }
  return "unknown";
}

async function main(argv: string[]): Promise<number> {
  const usage = "npm run coverage -- [--only ID,...] [--out DIR] [--json] [--render]";
  const description = "Regenerates policies/COVERAGE.md from broken copies of the stacks judged by the scanners and the policy pack.";
  let args: ReturnType<typeof parseCommand>;
  try {
    args = parseCommand(argv, FLAGS);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`coverage: ${error.message}\n\n${helpText(usage, description, FLAGS)}`);
      return 2;
    }
    throw error;
  }
  if (args.values.help) {
    console.log(helpText(usage, description, FLAGS));
    return 0;
  }
  if (args.values.render) {
    writeFileSync(COVERAGE_FILE, renderCoverage(allRows, loadResult()));
    console.log(`coverage: rendered ${COVERAGE_FILE} from ${RESULT_FILE}`);
    return 0;
  }
  const json = args.values.json === true;
  const say = (text: string) => (json ? console.error : console.log)(`coverage: ${text}`);
  const only = args.values.only ? String(args.values.only).split(",").filter(Boolean) : undefined;
  const unknown = (only ?? []).filter((id) => !allRows.some((r) => r.id === id && r.breakage));
  if (unknown.length) {
    console.error(`coverage: no row with a breakage named ${unknown.join(", ")}`);
    return 2;
  }
  const rows = allRows.filter((r) => r.breakage && (!only || only.includes(r.id)));
  const previous: CoverageResult = only && existsSync(RESULT_FILE) ? loadResult() : { scanners: {}, results: {} };
  const out = resolve(String(args.values.out ?? join(root, "out", "coverage")));
  const result: CoverageResult = {
    scanners: {
      Checkov: version(scannerPaths.checkov(), ["--version"]),
      // go install builds them without the release's version stamp: the version is the one scripts/test-env.d pins.
      "kube-score": pinnedGoTool("kube-score"),
      trivy: `${pinnedGoTool("trivy")} (its embedded checks, offline)`,
      Polaris:
        'not installed (the Go module proxy answers "403 Forbidden / server response: This module version is not available." for github.com/fairwindsops/polaris)',
    },
    results: { ...previous.results },
  };
  for (const id of Object.keys(result.results)) if (!allRows.some((r) => r.id === id && r.breakage)) delete result.results[id];

  for (const stack of [...new Set(rows.map((r) => (r.breakage as Breakage).stack))].sort()) {
    const started = performance.now();
    const plan = await runProgram(root, stack, (line) => say(`${stack}: ${line}`));
    if (plan.errors.length || plan.invalid.length) {
      console.error(`coverage: the plan of ${stack} failed; run npm run plan -- ${stack}`);
      return 1;
    }
    const breakages = Object.fromEntries(rows.filter((r) => r.breakage?.stack === stack).map((r) => [r.id, r.breakage as Breakage]));
    const results = await runBreakages(
      join(out, stack),
      { resources: plan.resources, stack: plan.stack, catalog: plan.catalog },
      breakages,
      (l) => say(`${stack}: ${l}`),
    );
    Object.assign(result.results, results);
    say(`${stack}: ${Object.keys(breakages).length} broken copies in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  result.results = Object.fromEntries(Object.entries(result.results).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(RESULT_FILE, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(COVERAGE_FILE, renderCoverage(allRows, result));
  if (json) console.log(JSON.stringify(result, null, 2));
  else for (const row of rows) console.log(`${row.id}: ${verdict(row, result.results[row.id])}`);
  say(`wrote ${RESULT_FILE} and ${COVERAGE_FILE}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`coverage: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
