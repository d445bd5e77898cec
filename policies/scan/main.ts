/**
 * `npm run scan -- <stack> [--out DIR] [--json]`: the stack's plan judged by the scanners security
 * teams run. Plans the stack (as `npm run plan` does, writing out/<stack>/plan.json and
 * manifests/), writes the cloud resources as a Terraform plan (tfplan.json), then runs Checkov
 * (kubernetes + terraform_plan), trivy (`trivy config`, offline, over the same files), kube-score
 * and promtool concurrently. Every finding must be
 * covered by policies/scanner-waivers.yaml; an unexplained finding or a stale waiver exits 1.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { listStacks } from "../../definition";
import { writePlan } from "../../stacks/plan/output";
import { runProgram } from "../../stacks/plan/run";
import { stackCommand, stop } from "../../stacks/plan/stack-command";
import { type Finding, findingKey } from "./findings";
import { runCheckov, runKubeScore, runPromtool, runTrivy } from "./scanners";
import { terraformPlan } from "./terraform-plan";
import { judge, loadWaivers } from "./waivers";

const FLAGS = [
  {
    name: "out",
    type: "string" as const,
    description: "directory for plan.json, manifests/ and tfplan.json (default out/<stack>)",
    env: "SCAN_OUT",
  },
  {
    name: "json",
    type: "boolean" as const,
    description: "print the judgement as JSON on stdout (progress goes to stderr)",
    env: "SCAN_JSON",
  },
];

const root = resolve(__dirname, "..", "..");

const line = (f: Finding) => `${f.scanner} ${f.check} ${f.resource}${f.detail ? ` (${f.detail.slice(0, 160)})` : ""}`;

async function main(argv: string[]): Promise<number> {
  const stacks = listStacks(join(root, "stacks"));
  const usage = "npm run scan -- <stack> [--out DIR] [--json]";
  const description = `Checkov, trivy, kube-score and promtool over a stack's plan; findings must be fixed or waived in\npolicies/scanner-waivers.yaml. Stacks: ${stacks.join(", ")}`;
  const parsed = stackCommand("scan", argv, { usage, description, flags: FLAGS, stacks });
  if ("exit" in parsed) return stop(parsed);
  const { stackName, values } = parsed;
  const json = values.json === true;
  const say = (text: string) => (json ? console.error : console.log)(`scan ${stackName}: ${text}`);
  const waivers = loadWaivers();
  const started = performance.now();

  const plan = await runProgram(root, stackName, say);
  if (plan.errors.length || plan.invalid.length) {
    console.error(
      `scan ${stackName}: the plan failed (${plan.errors.length} errors, ${plan.invalid.length} invalid objects); run npm run plan -- ${stackName}`,
    );
    return 1;
  }
  const out = resolve(String(values.out ?? join(root, "out", stackName)));
  writePlan(out, { resources: plan.resources, objects: plan.objects, summary: { stack: stackName } });
  const tfplan = terraformPlan(plan.resources);
  writeFileSync(join(out, "tfplan.json"), `${JSON.stringify(tfplan, null, 1)}\n`);
  const planSeconds = (performance.now() - started) / 1000;
  say(
    `plan: ${plan.objects.length} manifests, ${tfplan.planned_values.root_module.resources.length} cloud resources in tfplan.json (${planSeconds.toFixed(1)} s)`,
  );

  const [checkov, trivy, kubeScore, promtool] = await Promise.all([
    runCheckov(out),
    runTrivy(out),
    runKubeScore(out),
    runPromtool(out, join(root, "policies", "alerts")),
  ]);
  const findings = [...checkov.findings, ...trivy.findings, ...kubeScore.findings, ...promtool.findings];
  const verdict = judge(findings, waivers, stackName);
  const cloudResources = tfplan.planned_values.root_module.resources.length;
  const scanned = checkov.frameworks.terraform_plan?.resources ?? 0;
  const problems: string[] = [];
  for (const [framework, f] of Object.entries(checkov.frameworks)) {
    if (f.parsingErrors) problems.push(`checkov ${framework}: ${f.parsingErrors} parsing errors`);
  }
  if (cloudResources > 0 && scanned !== cloudResources)
    problems.push(`checkov scanned ${scanned} of the ${cloudResources} cloud resources in tfplan.json`);
  if (plan.objects.length > 0 && !(checkov.frameworks.kubernetes?.resources ?? 0)) problems.push("checkov scanned no Kubernetes manifest");
  // trivy lists every file it recognised, failed or not: each manifest, and tfplan.json when there are cloud resources.
  if ((trivy.targets.kubernetes ?? 0) !== plan.objects.length)
    problems.push(`trivy scanned ${trivy.targets.kubernetes ?? 0} of the ${plan.objects.length} manifests`);
  if (cloudResources > 0 && trivy.targets.terraformplan !== 1) problems.push("trivy did not scan tfplan.json");

  const summary = {
    stack: stackName,
    ok: verdict.unexplained.length === 0 && verdict.stale.length === 0 && problems.length === 0,
    manifests: plan.objects.length,
    cloudResources,
    checkov: { frameworks: checkov.frameworks, findings: checkov.findings.length, seconds: Number(checkov.seconds.toFixed(1)) },
    trivy: { targets: trivy.targets, findings: trivy.findings.length, seconds: Number(trivy.seconds.toFixed(1)) },
    kubeScore: { findings: kubeScore.findings.length, seconds: Number(kubeScore.seconds.toFixed(1)) },
    promtool: { ruleFiles: promtool.ruleFiles.length, testFiles: promtool.testFiles.length, findings: promtool.findings.length },
    waived: verdict.waived.length,
    unexplained: verdict.unexplained,
    stale: verdict.stale,
    problems,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  if (json) console.log(JSON.stringify(summary, null, 2));
  else {
    for (const f of verdict.unexplained) console.log(`UNEXPLAINED ${line(f)}`);
    for (const w of verdict.stale)
      console.log(
        `STALE WAIVER ${w.scanner} ${w.check} ${w.resources.join(", ")}: covers nothing in ${stackName}; delete it or narrow its stacks`,
      );
    for (const p of problems) console.log(`PROBLEM ${p}`);
    console.log(
      `${summary.ok ? "PASS" : "FAIL"}: ${new Set(findings.map(findingKey)).size} findings (${verdict.waived.length} waived, ${verdict.unexplained.length} unexplained), ` +
        `${verdict.stale.length} stale waivers; checkov ${checkov.seconds.toFixed(1)} s, trivy ${trivy.seconds.toFixed(1)} s, kube-score ${kubeScore.seconds.toFixed(1)} s, ` +
        `promtool ${promtool.ruleFiles.length} rule files / ${promtool.testFiles.length} test files; ${summary.seconds} s`,
    );
  }
  return summary.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`scan: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
