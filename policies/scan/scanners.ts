import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse, stringify } from "yaml";
import { type Finding, parseCheckov, parseKubeScore, parseTrivy } from "./findings";

/**
 * The real scanners, run as their own programs over the files the plan wrote: Checkov (its
 * kubernetes and terraform_plan frameworks in one process, the Python start-up being most of its
 * time), trivy's misconfiguration checks over the same manifests and tfplan.json, kube-score over
 * the manifests, and promtool over the PrometheusRules. They are installed by
 * scripts/test-env.d/40-scanners.sh; a missing one is an error naming that command.
 */

const cache = () => process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops");

function installed(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`${what} is not installed at ${path}; run: bash scripts/test-env.sh`);
  return path;
}

export const scannerPaths = {
  checkov: () => installed(join(cache(), "venv-checkov", "bin", "checkov"), "Checkov (venv-checkov)"),
  kubeScore: () => installed(join(cache(), "bin", "kube-score"), "kube-score"),
  trivy: () => installed(join(cache(), "bin", "trivy"), "trivy"),
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

export interface TrivyResult {
  /** `file` is the scanned file as trivy names it (relative to the scanned directory). */
  findings: (Finding & { file: string })[];
  /** Files trivy scanned per config type (kubernetes, terraformplan). */
  targets: Record<string, number>;
  seconds: number;
}

/**
 * The flags that keep `trivy config` offline and deterministic (each run adds a fresh `--cache-dir`
 * and `--misconfig-scanners`: only the config types the plan writes). Its checks come from the
 * trivy-checks bundle it would download from an OCI registry; with `--skip-check-update` it looks
 * for a bundle in `--cache-dir` instead, and when that is empty (a fresh directory per run) it
 * falls back to the copy of the checks embedded in the binary at build time, so the checks are
 * exactly those of the pinned trivy release. `trivy config` has no vulnerability database to fetch
 * (`--skip-db-update` and `--offline-scan` belong to the image/fs scans); the version notice and
 * telemetry would call out, so both are off.
 */
export const TRIVY_OFFLINE_FLAGS = ["--skip-check-update", "--skip-version-check", "--disable-telemetry", "--format", "json", "--quiet"];

/** `Kind.namespace.name` of every manifest under `dir` (any depth), keyed by its path relative to `dir`. */
function manifestNames(dir: string): Map<string, string> {
  const names = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".yaml") && at.endsWith("manifests")) {
        const object = parse(readFileSync(path, "utf8")) as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
        if (object?.kind)
          names.set(relative(dir, path), `${object.kind}.${object.metadata?.namespace ?? "default"}.${object.metadata?.name}`);
      }
    }
  };
  walk(dir);
  return names;
}

/** One `trivy config` process over `target` (relative to `dir`) with the given misconfiguration scanners. */
async function trivy(dir: string, target: string, scanners: string, timeoutMs: number): Promise<TrivyResult> {
  const cacheDir = mkdtempSync(join(tmpdir(), "trivy-cache-"));
  try {
    const args = ["config", ...TRIVY_OFFLINE_FLAGS, "--misconfig-scanners", scanners, "--cache-dir", cacheDir, target];
    const ran = await run(scannerPaths.trivy(), args, { cwd: dir, timeoutMs });
    if (ran.code !== 0 || !ran.stdout.trim().startsWith("{"))
      throw new Error(`trivy exited ${ran.code} in ${dir}: ${ran.stderr.slice(-2000)}`);
    const planFile = target.endsWith(".json") ? target : join(target, "tfplan.json");
    return { ...parseTrivy(ran.stdout, manifestNames(dir), planFile), seconds: ran.seconds };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * `trivy config` over a stack's plan in `dir`, in one process: the manifests (its Kubernetes
 * checks, KSV) and tfplan.json (its AWS/GCP checks, the ids tfsec had). Exit 0 with findings in the
 * report; anything else, or output that is not its JSON report, is an error.
 */
export function runTrivy(dir: string, timeoutMs = 600_000): Promise<TrivyResult> {
  return trivy(dir, ".", "kubernetes,terraformplan-json", timeoutMs);
}

/**
 * trivy over the coverage table's copies under `dir`: one process for every manifest of every
 * copy, and one per copy with a tfplan.json (two at a time), because trivy makes ONE virtual
 * main.tf of all the plans it finds in a directory, so copies scanned together would merge.
 * Loading its 563 embedded checks costs each process a few seconds.
 */
export async function runTrivyTree(dir: string, timeoutMs = 600_000): Promise<TrivyResult> {
  const started = performance.now();
  const plans = readdirSync(dir).filter((copy) => existsSync(join(dir, copy, "tfplan.json")));
  const results = [await trivy(dir, ".", "kubernetes", timeoutMs)];
  for (let i = 0; i < plans.length; i += 2)
    results.push(
      ...(await Promise.all(plans.slice(i, i + 2).map((copy) => trivy(dir, join(copy, "tfplan.json"), "terraformplan-json", timeoutMs)))),
    );
  const targets: Record<string, number> = {};
  for (const r of results) for (const [type, n] of Object.entries(r.targets)) targets[type] = (targets[type] ?? 0) + n;
  return { findings: results.flatMap((r) => r.findings), targets, seconds: (performance.now() - started) / 1000 };
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
