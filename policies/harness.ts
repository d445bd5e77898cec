import type {
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PlanResource } from "../components/plan-resource";
import type { Catalog, StackSpec } from "../definition";
import { configValues, type Level, policyPackConfig } from "./config";
import { allPolicies } from "./policies";
import { type PlatformPolicy, splitFix } from "./support";

/**
 * Runs the policy pack in-process over a recorded plan, calling each policy exactly as the
 * Pulumi engine's analyzer does (@pulumi/policy server.js): `validateResource` once per resource
 * with its inputs, then `validateStack` once with every resource's outputs linked to its parent
 * and dependencies. The plan runs the pack as the engine does instead (stacks/plan/policy-pack.ts:
 * cmd/run-policy-pack and the Analyzer protocol); this in-process twin serves the policy tests, which
 * call single policies on hand-made resources.
 */

export type Policy = PlatformPolicy;

export interface PolicyViolation {
  policy: string;
  enforcementLevel: "advisory" | "mandatory";
  /** URN of the resource; empty when the violation is about the whole stack. */
  urn: string;
  name: string;
  type: string;
  /** What is wrong, naming the resource. */
  message: string;
  /** How to fix it. */
  fix: string;
}

export interface PolicyReport {
  violations: PolicyViolation[];
  mandatory: number;
  advisory: number;
  /** Policies that ran (enabled in this stack). */
  policiesRun: number;
  seconds: number;
}

/**
 * Thrown by `notApplicable()`, as the engine's own NotApplicableError: the policy skips this
 * resource. Not an Error on purpose: most resources are not applicable to most policies, and
 * capturing a stack trace for each would dominate the evaluation time of a large plan.
 */
class NotApplicable {
  constructor(readonly reason: string) {}
}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "Policy does not apply");
};

/**
 * The engine's isTypeOf (server.js): compare the class's `__pulumiType` token with the
 * resource's type, else fall back to the class's `isInstance`.
 */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  if (typeof token === "string" && token.length > 0) return type === token;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean } | undefined)?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function options(r: PlanResource): PolicyResourceOptions {
  const opts: PolicyResourceOptions = {
    protect: r.options.protect,
    ignoreChanges: r.options.ignoreChanges ?? [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  };
  if (r.parent) opts.parent = r.parent;
  if (r.options.deleteBeforeReplace) opts.deleteBeforeReplace = true;
  return opts;
}

/** A provider reference is "<provider urn>::<provider id>". */
function providerOf(r: PlanResource, byUrn: Map<string, PlanResource>): PolicyProviderResource | undefined {
  const ref = r.options.provider;
  if (!ref) return undefined;
  const urn = ref.slice(0, ref.lastIndexOf("::"));
  const p = byUrn.get(urn) ?? byUrn.get(ref);
  return p ? { type: p.type, props: p.inputs, urn: p.urn, name: p.name } : undefined;
}

function assertSync(result: unknown, policy: string): void {
  if (result && typeof (result as PromiseLike<unknown>).then === "function") {
    throw new Error(
      `policy "${policy}" returned a Promise; the plan's harness runs policies synchronously, so write it without async/await`,
    );
  }
}

const isStackPolicy = (p: PlatformPolicy): p is PlatformPolicy & StackValidationPolicy =>
  typeof (p as StackValidationPolicy).validateStack === "function";
const validationsOf = (p: PlatformPolicy): ResourceValidation[] => {
  const v = (p as ResourceValidationPolicy).validateResource;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** Links every resource to its parent and dependencies, as the engine does for validateStack. */
function stackResources(resources: PlanResource[], byUrn: Map<string, PlanResource>): PolicyResource[] {
  const out = new Map<string, PolicyResource>();
  for (const r of resources) {
    const props = r.outputs;
    out.set(r.urn, {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: options(r),
      provider: providerOf(r, byUrn),
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
    });
  }
  const linked = (urns: string[] | undefined) => (urns ?? []).map((u) => out.get(u)).filter((x): x is PolicyResource => x !== undefined);
  for (const r of resources) {
    const resource = out.get(r.urn) as PolicyResource;
    if (r.parent && out.has(r.parent)) resource.parent = out.get(r.parent);
    resource.dependencies = linked(r.options.dependsOn);
    const byProperty = (r as PlanResource & { propertyDependencies?: Record<string, string[]> }).propertyDependencies ?? {};
    for (const [key, urns] of Object.entries(byProperty)) resource.propertyDependencies[key] = linked(urns);
  }
  return [...out.values()];
}

/**
 * Evaluates the pack over a plan: per-stack levels and facts from the stack spec (its
 * `policies:` overrides), every resource policy on every resource, every stack policy once.
 * Mandatory violations should fail the plan; advisory ones are for people to read.
 */
export function evaluatePolicies(
  resources: PlanResource[],
  options_: { stack: StackSpec; catalog: Catalog; policies?: Policy[] },
): PolicyReport {
  const started = performance.now();
  const policies = options_.policies ?? allPolicies;
  const config = policyPackConfig(options_.stack, options_.catalog, policies);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const violations: PolicyViolation[] = [];
  const stackTags: ReadonlyMap<string, string> = new Map();
  let policiesRun = 0;
  let linkedResources: PolicyResource[] | undefined;

  for (const policy of policies) {
    const level = (config[policy.name] as { enforcementLevel: Level }).enforcementLevel;
    if (level === "disabled") continue;
    policiesRun++;
    const values = configValues(policy, config[policy.name]);
    const getConfig = <T extends object>() => values as T;
    const record = (r: { urn: string; name: string; type: string } | undefined) => (message: string) => {
      violations.push({
        policy: policy.name,
        enforcementLevel: level,
        urn: r?.urn ?? "",
        name: r?.name ?? "(stack)",
        type: r?.type ?? "",
        ...splitFix(message),
      });
    };

    const validations = validationsOf(policy);
    for (const validation of validations) {
      // validateResourceOfType tags its function with the type token; on any other type it would
      // only call notApplicable, so skip those (the engine does the same for a single validation).
      const onlyType = (validation as { __pulumiType?: string }).__pulumiType;
      for (const r of resources) {
        if (onlyType && r.type !== onlyType) continue;
        const props = r.inputs;
        const args: ResourceValidationArgs = {
          type: r.type,
          props,
          urn: r.urn,
          name: r.name,
          opts: options(r),
          stackTags,
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
          getConfig,
          notApplicable,
        };
        const provider = providerOf(r, byUrn);
        if (provider) args.provider = provider;
        // The urn argument is ignored for resource validations, as in the engine.
        const report: ReportViolation = record(r);
        try {
          assertSync(validation(args, report), policy.name);
        } catch (error) {
          if (error instanceof NotApplicable) continue;
          throw new Error(`policy "${policy.name}" failed on ${r.urn}: ${(error as Error).message}`, { cause: error });
        }
      }
    }

    if (isStackPolicy(policy)) {
      linkedResources ??= stackResources(resources, byUrn);
      const all = linkedResources;
      const args: StackValidationArgs = { resources: all, stackTags, getConfig, notApplicable };
      const report: ReportViolation = (message, urn) =>
        record(urn ? (byUrn.get(urn) ?? { urn, name: urn.split("::").pop() ?? urn, type: "" }) : undefined)(message);
      try {
        assertSync(policy.validateStack(args, report), policy.name);
      } catch (error) {
        if (!(error instanceof NotApplicable))
          throw new Error(`policy "${policy.name}" failed on the stack: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  return { violations, mandatory, advisory: violations.length - mandatory, policiesRun, seconds: (performance.now() - started) / 1000 };
}

/** A report for people: mandatory first, grouped by policy, each with the resource, the problem and the fix. */
export function formatPolicyReport(report: PolicyReport): string {
  const lines = [
    `policy pack: ${report.policiesRun} policies in ${report.seconds.toFixed(2)} s: ${report.mandatory} mandatory, ${report.advisory} advisory violation(s)`,
  ];
  const sorted = [...report.violations].sort(
    (a, b) =>
      (a.enforcementLevel === b.enforcementLevel ? 0 : a.enforcementLevel === "mandatory" ? -1 : 1) ||
      a.policy.localeCompare(b.policy) ||
      a.urn.localeCompare(b.urn),
  );
  // A summary table (level, policy, count), then each violation with its resource, problem and fix.
  const counts = new Map<string, number>();
  for (const v of sorted) counts.set(`${v.enforcementLevel}\t${v.policy}`, (counts.get(`${v.enforcementLevel}\t${v.policy}`) ?? 0) + 1);
  if (counts.size) {
    const width = Math.max(6, ...sorted.map((v) => v.policy.length));
    lines.push("", `  ${"LEVEL".padEnd(10)} ${"POLICY".padEnd(width)} VIOLATIONS`);
    for (const [key, n] of counts) {
      const [level = "", name = ""] = key.split("\t");
      lines.push(`  ${level.padEnd(10)} ${name.padEnd(width)} ${n}`);
    }
  }
  let current = "";
  for (const v of sorted) {
    const heading = `${v.enforcementLevel.toUpperCase()}  ${v.policy}`;
    if (heading !== current) {
      lines.push("", heading);
      current = heading;
    }
    lines.push(`  - ${v.type ? `${v.type} ${v.name}` : "stack"}`, `    ${v.message}`);
    if (v.fix) lines.push(`    fix: ${v.fix}`);
  }
  return lines.join("\n");
}
