import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { PlanResource } from "../../components/plan-resource";
import type { Catalog, StackSpec } from "../../definition";
import { type K8sObject, toK8sObject } from "../../stacks/plan/k8s-objects";
import { manifestFileName, maskSecretObject } from "../../stacks/plan/output";
import { evaluatePolicies } from "../harness";
import type { Finding } from "./findings";
import { runCheckovTree, runKubeScoreFiles, runTrivyTree } from "./scanners";
import { referencesOf, type TerraformPlan, terraformPlan } from "./terraform-plan";

/**
 * The coverage table's ground truth: for each mapped scanner rule, a deliberately broken copy of
 * a stack's resources, judged by the real scanners and by our policies. A mapping is "covered"
 * only when both fire on the same broken copy; what fires is what is new against the unbroken
 * copy of the same stack (findings the stack already has, waived, do not count).
 *
 * All breakages of a stack are scanned by ONE Checkov process (its start-up is most of its time)
 * and by trivy (one process for the manifests, one per copy's plan: policies/scan/scanners.ts),
 * and each copy holds only what the breakage touched, since Checkov's time grows with every
 * resource it reads (50 whole copies of aws-prod took it over half an hour on this machine): the
 * manifests the breakage changed, and the cloud resources it changed or removed together with
 * what they refer to and what refers to those (a bucket with all its settings, an instance with its
 * key), which is the context Checkov's graph checks read. kube-score gets the whole set of manifests.
 */

/** A change to a stack's resources: returns the broken copy (never changes its argument). */
export type Break = (resources: PlanResource[]) => PlanResource[];

export interface Breakage {
  /** Which stack's plan is broken. */
  stack: string;
  /** What the breakage does, for the table ("the artifact bucket loses its encryption"). */
  what: string;
  apply: Break;
}

export interface BreakageResult {
  stack: string;
  /** Scanner checks that fired on the broken copy and not on the unbroken one: "checkov CKV_AWS_19". */
  scanners: string[];
  /** Our policies that fired on the broken copy and not on the unbroken one. */
  policies: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: engine inputs are untyped JSON that breakages change by path
export type Props = Record<string, any>;

/** A deep copy of `r` with `change` applied to its inputs and its outputs (stack policies read outputs). */
export function changedResource(r: PlanResource, change: (props: Props) => void): PlanResource {
  const inputs = structuredClone(r.inputs);
  change(inputs);
  const outputs = structuredClone(r.outputs);
  change(outputs);
  return { ...r, inputs, outputs };
}

const first = (resources: PlanResource[], type: string, match?: (r: PlanResource) => boolean): number => {
  const i = resources.findIndex((r) => r.type === type && (match?.(r) ?? true));
  if (i < 0) throw new Error(`coverage breakage: the plan has no ${type}${match ? " that matches" : ""} to break`);
  return i;
};

/** Changes the first resource of `type` that `match`es (every one with `all`). */
export function edit(type: string, change: (props: Props) => void, match?: (r: PlanResource) => boolean, all = false): Break {
  return (resources) => {
    const at = first(resources, type, match);
    return resources.map((r, i) => (i === at || (all && r.type === type && (match?.(r) ?? true)) ? changedResource(r, change) : r));
  };
}

/** Removes the first resource of `type` that `match`es. */
export function remove(type: string, match?: (r: PlanResource) => boolean): Break {
  return (resources) => {
    const at = first(resources, type, match);
    return resources.filter((_, i) => i !== at);
  };
}

/** Adds resources (a resource type the stack can create but this stack's configuration does not). */
export function add(...extra: PlanResource[]): Break {
  return (resources) => [...resources, ...extra];
}

export const both =
  (...breaks: Break[]): Break =>
  (resources) =>
    breaks.reduce((rs, b) => b(rs), resources);

/** Matches a resource whose name contains `part`. */
export const named = (part: string) => (r: PlanResource) => r.name.includes(part);

interface Copy {
  manifests: Map<string, string>;
  tfplan: TerraformPlan;
}

function render(resources: PlanResource[]): Copy {
  const manifests = new Map<string, string>();
  for (const r of resources) {
    const object: K8sObject | undefined = toK8sObject(r);
    if (object) manifests.set(manifestFileName(object), stringify(maskSecretObject(object, object.kind), { lineWidth: 0, version: "1.1" }));
  }
  return { manifests, tfplan: terraformPlan(resources) };
}

/**
 * The part of `broken` a breakage touched: the cloud resources whose values differ from `base` or
 * that it removed, with every resource that refers to one of them or that one of them refers to
 * (in either plan). Undefined when the breakage changed no cloud resource.
 */
export function touchedPlan(base: TerraformPlan, broken: TerraformPlan): TerraformPlan | undefined {
  const values = (p: TerraformPlan) => new Map(p.planned_values.root_module.resources.map((r) => [r.address, JSON.stringify(r.values)]));
  const before = values(base);
  const after = values(broken);
  const changed = new Set([...after].filter(([address, v]) => before.get(address) !== v).map(([address]) => address));
  for (const address of before.keys()) if (!after.has(address)) changed.add(address);
  if (changed.size === 0) return undefined;
  // Two hops: the touched resources' neighbours, then whatever refers to those (a bucket's other
  // settings, a network's firewalls), else graph checks fail on context the copy left out.
  let keep = new Set(changed);
  for (let hop = 0; hop < 2; hop++) {
    const next = new Set(keep);
    for (const plan of [base, broken])
      for (const r of plan.configuration.root_module.resources) {
        const targets = Object.values(r.expressions).flatMap(referencesOf);
        if (hop === 0 && keep.has(r.address)) for (const t of targets) next.add(t);
        if (targets.some((t) => keep.has(t))) next.add(r.address);
      }
    keep = next;
  }
  return {
    ...broken,
    planned_values: { root_module: { resources: broken.planned_values.root_module.resources.filter((r) => keep.has(r.address)) } },
    resource_changes: broken.resource_changes.filter((r) => keep.has(r.address)),
    configuration: { root_module: { resources: broken.configuration.root_module.resources.filter((r) => keep.has(r.address)) } },
  };
}

const planText = (plan: TerraformPlan) => `${JSON.stringify(plan, null, 1)}\n`;

const key = (f: Finding) => `${f.scanner} ${f.check} ${f.resource}`;
const label = (f: Finding) => `${f.scanner} ${f.check}`;
const uniqueSorted = (xs: string[]) => [...new Set(xs)].sort();

/**
 * Runs the breakages of ONE stack: `resources` is its unbroken plan. Writes the copies under
 * `dir` (replaced), runs Checkov and trivy once over them and kube-score per copy, evaluates the policy pack
 * on each copy, and returns what fired per breakage id.
 */
export async function runBreakages(
  dir: string,
  plan: { resources: PlanResource[]; stack: StackSpec; catalog: Catalog },
  breakages: Record<string, Breakage>,
  progress: (line: string) => void = () => {},
): Promise<Record<string, BreakageResult>> {
  rmSync(dir, { recursive: true, force: true });
  const baseline = render(plan.resources);
  const write = (name: string, copy: Copy, all: boolean): string[] => {
    const root = join(dir, name);
    mkdirSync(join(root, "manifests"), { recursive: true });
    const tfplan = all ? copy.tfplan : touchedPlan(baseline.tfplan, copy.tfplan);
    if (tfplan) writeFileSync(join(root, "tfplan.json"), planText(tfplan));
    // kube-score reads the whole set: the baseline's files, with this copy's changed ones.
    const kubeScoreFiles: string[] = [];
    for (const [file, text] of copy.manifests) {
      const changed = all || baseline.manifests.get(file) !== text;
      if (changed) writeFileSync(join(root, "manifests", file), text);
      kubeScoreFiles.push(join(changed ? name : "baseline", "manifests", file));
    }
    return kubeScoreFiles;
  };
  const baselineFiles = write("baseline", baseline, true);
  const basePolicies = evaluatePolicies(plan.resources, { stack: plan.stack, catalog: plan.catalog }).violations;
  const baseViolations = new Set(basePolicies.map((v) => `${v.policy} ${v.urn}`));

  const ids = Object.keys(breakages).sort();
  const copies = new Map<string, { files: string[]; policies: string[] }>();
  for (const id of ids) {
    const broken = (breakages[id] as Breakage).apply(plan.resources);
    const files = write(id, render(broken), false);
    const violations = evaluatePolicies(broken, { stack: plan.stack, catalog: plan.catalog }).violations;
    copies.set(id, {
      files,
      policies: uniqueSorted(violations.filter((v) => !baseViolations.has(`${v.policy} ${v.urn}`)).map((v) => v.policy)),
    });
  }
  progress(`${ids.length} broken copies written under ${dir}; Checkov over all of them in one process, trivy per plan`);
  const [checkov, trivy] = await Promise.all([runCheckovTree(dir), runTrivyTree(dir)]);
  const byDir = new Map<string, Finding[]>();
  for (const f of [...checkov.findings, ...trivy.findings]) {
    const top = f.file.split("/").filter(Boolean)[0] ?? "";
    byDir.set(top, [...(byDir.get(top) ?? []), f]);
  }
  const baseKube = await runKubeScoreFiles(dir, baselineFiles);
  const baseKeys = new Set([...(byDir.get("baseline") ?? []), ...baseKube].map(key));
  progress(`checkov ${checkov.seconds.toFixed(1)} s, trivy ${trivy.seconds.toFixed(1)} s; kube-score per copy`);
  const results: Record<string, BreakageResult> = {};
  for (const id of ids) {
    const copy = copies.get(id) as { files: string[]; policies: string[] };
    const kube = await runKubeScoreFiles(dir, copy.files);
    const fresh = [...(byDir.get(id) ?? []), ...kube].filter((f) => !baseKeys.has(key(f)));
    results[id] = { stack: (breakages[id] as Breakage).stack, scanners: uniqueSorted(fresh.map(label)), policies: copy.policies };
  }
  return results;
}
