import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type Finding, parseCheckov, parseKubeScore } from "./findings";

/**
 * The real scanners, run as their own programs over the files the plan wrote: Checkov (its
 * kubernetes and terraform_plan frameworks in one process, the Python start-up being most of its
 * time), kube-score over the manifests, and promtool over the PrometheusRules. They are installed
 * by scripts/test-env.d/40-scanners.sh; a missing one is an error naming that command.
 */

const cache = () => process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops");

function installed(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} is not installed at ${path}; run: bash scripts/test-env.sh`);
  return path;
}

export const scannerPaths = {
  checkov: () => installed(join(cache(), "venv-checkov", "bin", "checkov"), "Checkov (venv-checkov)"),
  kubeScore: () => installed(join(cache(), "bin", "kube-score"), "kube-score"),
  promtool: () => {
    for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "promtool"))) return join(dir, "promtool");
    return installed("/usr/bin/promtool", "promtool (Debian's prometheus package)");
  },
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a program to completion (bounded by `timeoutMs`), keeping its output. */
function run(command: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, LOG_LEVEL: "ERROR" }, timeout: options.timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal) reject(new Error(`${command} ${args.join(" ")}: killed by ${signal} after ${options.timeoutMs / 1000} s`));
      else resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

export interface CheckovResult {
  /** `file` is the scanned file as Checkov names it (relative to the scanned directory). */
  findings: (Finding & { file: string })[];
  /** Resources Checkov parsed per framework: a bridge that loses resources shows here. */
  frameworks: Record<string, { resources: number; parsingErrors: number }>;
  seconds: number;
}

/**
 * Checkov over `manifests/` (kubernetes) and `tfplan.json` (terraform_plan) in `dir`. Exit 1 means
 * "found failures"; anything else non-zero, or output that is not its JSON report, is an error.
 * `--skip-download` keeps it offline (it would fetch guideline links from its vendor's API).
 */
export async function runCheckov(dir: string, timeoutMs = 600_000): Promise<CheckovResult> {
  return checkov(dir, ["-d", "manifests", "-f", "tfplan.json"], timeoutMs);
}

/** Checkov over every manifest and tfplan.json under `dir`, in one process (the coverage table's many copies). */
export function runCheckovTree(dir: string, timeoutMs = 1_800_000): Promise<CheckovResult> {
  return checkov(dir, ["-d", "."], timeoutMs);
}

async function checkov(dir: string, targets: string[], timeoutMs: number): Promise<CheckovResult> {
  const args = [...targets, "--framework", "kubernetes", "terraform_plan"];
  const ran = await run(scannerPaths.checkov(), [...args, "-o", "json", "--quiet", "--compact", "--skip-download"], {
    cwd: dir,
    timeoutMs,
  });
  if ((ran.code !== 0 && ran.code !== 1) || (!ran.stdout.trim().startsWith("[") && !ran.stdout.trim().startsWith("{"))) {
    throw new Error(`checkov exited ${ran.code} in ${dir}: ${ran.stderr.slice(-2000)}`);
  }
  return { ...parseCheckov(ran.stdout), seconds: ran.seconds };
}

/** kube-score over every manifest in `dir/manifests` (exit 1 means critical findings, not an error). */
export async function runKubeScore(dir: string, timeoutMs = 120_000): Promise<{ findings: Finding[]; seconds: number }> {
  const files = readdirSync(join(dir, "manifests"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join("manifests", f));
  return kubeScore(dir, files, timeoutMs);
}

/** kube-score over the named manifests (paths relative to `dir`). */
export async function runKubeScoreFiles(dir: string, files: string[], timeoutMs = 120_000): Promise<Finding[]> {
  return (await kubeScore(dir, files, timeoutMs)).findings;
}

async function kubeScore(dir: string, files: string[], timeoutMs: number): Promise<{ findings: Finding[]; seconds: number }> {
  const ran = await run(scannerPaths.kubeScore(), ["score", "-o", "json", ...files], { cwd: dir, timeoutMs });
  if (ran.code !== 0 && ran.code !== 1) throw new Error(`kube-score exited ${ran.code}: ${ran.stderr.slice(-2000)}`);
  return { findings: parseKubeScore(ran.stdout), seconds: ran.seconds };
}

export interface PromtoolResult {
  findings: Finding[];
  /** Rule files checked (one per PrometheusRule) and unit-test files run. */
  ruleFiles: string[];
  testFiles: string[];
  seconds: number;
}

/**
 * `promtool check rules` over each PrometheusRule's spec, then `promtool test rules` for each
 * alert test file in `testsDir` (policies/alerts/<rule name>.test.yaml), with the rendered rules
 * as its rule file. A failure is a finding named after the PrometheusRule.
 */
export async function runPromtool(dir: string, testsDir: string, timeoutMs = 120_000): Promise<PromtoolResult> {
  const started = performance.now();
  const findings: Finding[] = [];
  const ruleFiles: string[] = [];
  const testFiles: string[] = [];
  for (const file of readdirSync(join(dir, "manifests")).filter((f) => f.includes(".prometheusrule."))) {
    const object = parse(readFileSync(join(dir, "manifests", file), "utf8")) as {
      metadata: { name: string; namespace?: string };
      spec: unknown;
    };
    const name = object.metadata.name;
    const rules = join(dir, `${name}.rules.yaml`);
    writeFileSync(rules, stringify(object.spec, { lineWidth: 0 }));
    ruleFiles.push(rules);
    const resource = `PrometheusRule.${object.metadata.namespace ?? "default"}.${name}`;
    const checked = await run(scannerPaths.promtool(), ["check", "rules", rules], { timeoutMs });
    if (checked.code !== 0)
      findings.push({ scanner: "promtool", check: "check-rules", resource, detail: (checked.stdout + checked.stderr).trim() });
    const tests = join(testsDir, `${name}.test.yaml`);
    if (!existsSync(tests)) {
      findings.push({ scanner: "promtool", check: "test-rules", resource, detail: `no alert unit tests at ${tests}` });
      continue;
    }
    const suite = parse(readFileSync(tests, "utf8")) as Record<string, unknown>;
    const rendered = join(dir, `${name}.test.yaml`);
    writeFileSync(rendered, stringify({ ...suite, rule_files: [rules] }, { lineWidth: 0 }));
    testFiles.push(tests);
    const tested = await run(scannerPaths.promtool(), ["test", "rules", rendered], { timeoutMs });
    if (tested.code !== 0)
      findings.push({ scanner: "promtool", check: "test-rules", resource, detail: (tested.stdout + tested.stderr).trim() });
  }
  return { findings, ruleFiles, testFiles, seconds: (performance.now() - started) / 1000 };
}
