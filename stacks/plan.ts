/**
 * `npm run plan -- <stack> [--out DIR] [--json]`: the credential-free plan. Runs the real program
 * as the Pulumi engine loads it (stacks/plan/language-host.ts: @pulumi/pulumi's cmd/run, ts-node
 * with type checking) with only resource registration mocked, prints the resource tree, validates every Kubernetes object against its
 * schema, runs the policy pack, writes plan.json and the rendered manifests, and exits non-zero
 * on a spec error (2), an invalid object, a program error or a mandatory policy violation (1).
 */
import { join, resolve } from "node:path";
import { listStacks, SpecError } from "../definition";
import { formatPolicyReport } from "../policies/harness";
import { formatCompileError } from "./plan/diagnostics";
import { readProject } from "./plan/language-host";
import { writePlan } from "./plan/output";
import { type PolicyPackRun, runPolicyPack } from "./plan/policy-pack";
import { runProgram } from "./plan/run";
import { stackCommand, stop } from "./plan/stack-command";
import { countByType, renderTree, shortType } from "./plan/tree";

const FLAGS = [
  { name: "out", type: "string" as const, description: "directory for plan.json and manifests/ (default out/<stack>)", env: "PLAN_OUT" },
  { name: "json", type: "boolean" as const, description: "print a JSON summary on stdout (progress goes to stderr)", env: "PLAN_JSON" },
  { name: "depth", type: "string" as const, description: "depth of the printed component tree", default: "3", env: "PLAN_DEPTH" },
];

const root = resolve(__dirname, "..");

async function main(argv: string[]): Promise<number> {
  const stacks = listStacks(join(root, "stacks"));
  const usage = "npm run plan -- <stack> [--out DIR] [--json]";
  const description = `Credential-free plan of a stack: runs the Pulumi program as the engine loads it (registration mocked), validates\nevery Kubernetes object, runs the policy pack, writes plan.json and manifests.\nStacks: ${stacks.join(", ")}`;
  const parsed = stackCommand("plan", argv, { usage, description, flags: FLAGS, stacks });
  if ("exit" in parsed) return stop(parsed);
  const { stackName, values } = parsed;
  const json = values.json === true;
  const say = (line: string) => (json ? console.error : console.log)(`plan ${stackName}: ${line}`);
  const started = performance.now();

  let run: Awaited<ReturnType<typeof runProgram>>;
  try {
    run = await runProgram(root, stackName, say);
  } catch (error) {
    if (error instanceof SpecError) {
      console.error(error.message);
      if (json) console.log(JSON.stringify({ stack: stackName, ok: false, specErrors: error.issues }, null, 2));
      return 2;
    }
    throw error;
  }

  const policyStarted = performance.now();
  // The pack as the engine runs it (cmd/run-policy-pack, Analyzer over gRPC), not the in-process harness.
  // A program that failed to load registered nothing worth checking: the pack would only report noise.
  const report: PolicyPackRun = run.errors.length
    ? { violations: [], mandatory: 0, advisory: 0, policiesRun: 0, seconds: 0, compileErrors: [] }
    : await runPolicyPack(root, run.resources, {
        stack: run.stack,
        catalog: run.catalog,
        project: readProject(root).name,
        organization: "organization",
      });
  if (report.error) run.errors.push(report.error);
  for (const e of report.compileErrors) if (!report.error) run.errors.push(formatCompileError(e));
  const policySeconds = (performance.now() - policyStarted) / 1000;
  say(
    `policy pack: ${report.policiesRun} policies, ${report.mandatory} mandatory and ${report.advisory} advisory violations (${policySeconds.toFixed(2)} s)`,
  );

  const out = resolve(String(values.out ?? join(root, "out", stackName)));
  const byType = countByType(run.resources);
  const custom = run.resources.filter((r) => r.custom).length;
  const ok = run.invalid.length === 0 && run.errors.length === 0 && report.mandatory === 0;
  const seconds = (performance.now() - started) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const summary = {
    stack: stackName,
    cloud: run.stack.cloud,
    environment: run.stack.environment,
    ok,
    resources: custom,
    components: run.resources.length - custom,
    byType: Object.fromEntries(byType),
    kubernetes: { objects: run.objects.length, invalid: run.invalid },
    policies: { run: report.policiesRun, mandatory: report.mandatory, advisory: report.advisory, violations: report.violations },
    errors: run.errors,
    compileErrors: [...run.compileErrors, ...report.compileErrors],
    seconds: Number(seconds.toFixed(2)),
    programSeconds: Number(run.programSeconds.toFixed(2)),
    policySeconds: Number(policySeconds.toFixed(3)),
    peakRssMb: Number(peakRssMb.toFixed(0)),
  };
  const { planFile, manifestsDir } = writePlan(out, { resources: run.resources, objects: run.objects, summary });

  if (json) {
    console.log(JSON.stringify({ ...summary, out: { plan: planFile, manifests: manifestsDir } }, null, 2));
  } else {
    console.log(`\n${renderTree(run.resources, { maxDepth: Number(values.depth) })}\n`);
    console.log(`Resources by type (${custom} resources, ${summary.components} components):`);
    for (const [type, n] of byType) console.log(`  ${String(n).padStart(5)}  ${shortType(type)}`);
    console.log("");
    if (report.violations.length) console.log(`${formatPolicyReport(report)}\n`);
    for (const p of run.invalid)
      console.log(`INVALID ${p.apiVersion} ${p.kind} ${p.namespace ? `${p.namespace}/` : ""}${p.name}: ${p.message}`);
    for (const e of run.errors) console.log(`ERROR ${e.split("\n").slice(0, 3).join("\n      ")}`);
    console.log(`Wrote ${planFile} and ${run.objects.length} manifests to ${manifestsDir}`);
    console.log(
      `${ok ? "PASS" : "FAIL"}: ${custom} resources, ${run.objects.length} Kubernetes objects (${run.invalid.length} invalid), ` +
        `${report.mandatory} mandatory / ${report.advisory} advisory policy violations, ${run.errors.length} program errors; ` +
        `${seconds.toFixed(1)} s, peak ${peakRssMb.toFixed(0)} MiB`,
    );
  }
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`plan: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
