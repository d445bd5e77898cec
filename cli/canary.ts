/**
 * `npm run canary -- <model> <version> --step | --rollback`: moves a version's traffic along the
 * model's declared canary steps by editing its catalog file. The edit goes through the yaml
 * Document API, so comments, key order and formatting stay as people wrote them and the pull
 * request shows only the weight lines that changed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type FlagSpec, helpText, parseCommand, UsageError } from "../services/core/cli";
import { formatIssues, loadCatalog, type ModelSpec, SpecError } from "../definition";
import { applyWeights, CatalogEditError, type Weights, weightsOf } from "./lifecycle/catalog-edit";

export { applyWeights, type Weights, weightsOf };

export const USAGE = "npm run canary -- <model> <version> --step | --rollback [--to VERSION] [--catalog DIR] [--dry-run] [--json]";
const DESCRIPTION = `Moves <version> of <model> to the next of the model's canary.steps (the rest of the traffic goes to
the stable version, the other version that carries traffic), or sets it back to 0 with --rollback.
Edits catalog/models/<team>/<model>.yaml in place; commit it and let the plan check the change.
Exit codes: 0 done (or nothing to do), 1 the catalog or the request is not valid, 64 usage error.`;

export const FLAGS: FlagSpec[] = [
  { name: "step", type: "boolean", description: "move the version to the next canary step", env: "CANARY_STEP" },
  { name: "rollback", type: "boolean", description: "set the version's weight to 0 and give its traffic back", env: "CANARY_ROLLBACK" },
  {
    name: "to",
    type: "string",
    description: "the stable version that gives or takes the traffic (default: the other weighted version)",
    env: "CANARY_STABLE",
  },
  { name: "catalog", type: "string", description: "catalog directory", default: "catalog" },
  { name: "dry-run", type: "boolean", description: "print the change without writing the file" },
  { name: "json", type: "boolean", description: "print the result as JSON" },
];

/** Where a model's traffic goes: weight per version name. */

export interface CanaryPlan {
  model: string;
  version: string;
  stable: string;
  action: "step" | "rollback";
  before: Weights;
  after: Weights;
  changed: boolean;
  /** Steps still ahead after this one. */
  remainingSteps: number[];
}

/** A request the catalog cannot honour: what is wrong and what to do instead. */
export class CanaryError extends CatalogEditError {
  constructor(message: string) {
    super(message);
    this.name = "CanaryError";
  }
}

/**
 * The stable version paired with `version`: the one named by `to`, else the other version that
 * carries the most traffic. A third version with traffic makes the split ambiguous, so it is refused.
 */
export function stableVersionOf(model: ModelSpec, version: string, to?: string): string {
  const names = model.versions.map((v) => v.name);
  const weighted = model.versions.filter((v) => v.name !== version && v.weight > 0).sort((a, b) => b.weight - a.weight);
  if (to !== undefined) {
    if (!names.includes(to)) throw new CanaryError(`--to ${to}: ${model.name} has no version "${to}"; use one of ${names.join(", ")}`);
    if (to === version) throw new CanaryError(`--to ${to}: the stable version must differ from the canary`);
    if (to === model.shadow?.version)
      throw new CanaryError(`--to ${to}: "${to}" is the shadow version and takes no live traffic; pick another`);
  }
  const stable = to ?? weighted[0]?.name;
  if (!stable)
    throw new CanaryError(
      `no other version of ${model.name} carries traffic to trade with "${version}"; name the stable version with --to (one of ${names.filter((n) => n !== version).join(", ") || "none"})`,
    );
  const others = weighted.filter((v) => v.name !== stable);
  if (others.length) {
    throw new CanaryError(
      `${others.map((v) => `${v.name} (${v.weight}%)`).join(", ")} also carr${others.length === 1 ? "ies" : "y"} traffic, so the split between "${version}" and "${stable}" is ambiguous; set the weights by hand in ${model.origin.file}`,
    );
  }
  return stable;
}

/** The weights after one step (or a rollback) of `version`, computed from the catalog alone. */
export function planCanary(model: ModelSpec, version: string, action: "step" | "rollback", to?: string): CanaryPlan {
  const names = model.versions.map((v) => v.name);
  if (!names.includes(version)) throw new CanaryError(`${model.name} has no version "${version}"; use one of ${names.join(", ")}`);
  if (model.shadow?.version === version) {
    throw new CanaryError(
      `"${version}" is the shadow version of ${model.name} (mirrored traffic only); remove shadow: from ${model.origin.file} before giving it live traffic`,
    );
  }
  const before = weightsOf(model);
  const current = before[version] as number;
  const steps = model.canary.steps;
  const done = action === "step" ? !steps.some((s) => s > current) : current === 0;
  if (done)
    return {
      model: model.name,
      version,
      stable: to ?? "",
      action,
      before,
      after: before,
      changed: false,
      remainingSteps: action === "step" ? [] : steps,
    };
  const stable = stableVersionOf(model, version, to);
  const pool = current + (before[stable] as number);
  let target: number;
  if (action === "rollback") {
    target = 0;
  } else {
    // The two versions hold all the traffic (weights sum to 100, a third weighted version is refused).
    target = steps.find((s) => s > current) ?? current;
  }
  const after = { ...before, [version]: target, [stable]: pool - target };
  return {
    model: model.name,
    version,
    stable,
    action,
    before,
    after,
    changed: target !== current,
    remainingSteps: action === "rollback" ? steps : steps.filter((s) => s > target),
  };
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
};

/** Loads the catalog (all of it must be valid) and returns the named model. */
export function loadModel(catalogDir: string, name: string): ModelSpec {
  const catalog = loadCatalog(catalogDir, "mlops");
  const model = catalog.models[name];
  if (!model)
    throw new CanaryError(`there is no model "${name}" in ${catalogDir}; models: ${Object.keys(catalog.models).sort().join(", ")}`);
  return model;
}

function describe(plan: CanaryPlan): string {
  const moves = [plan.version, plan.stable].map((v) => `${v} ${plan.before[v]}% -> ${plan.after[v]}%`).join(", ");
  return `${plan.model}: ${moves}`;
}

/** Runs the command; returns the exit code. */
export function main(argv: string[], io: Io = processIo): number {
  let values: ReturnType<typeof parseCommand>["values"];
  let positionals: string[];
  try {
    ({ values, positionals } = parseCommand(argv, FLAGS, io.env));
    if (values.help) {
      io.stdout(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`expected <model> <version>, got ${positionals.length} argument(s)`);
    if (Boolean(values.step) === Boolean(values.rollback)) throw new UsageError("give exactly one of --step and --rollback");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`canary: ${error.message}\nUsage: ${USAGE}\n`);
    return 64;
  }
  const [modelName, version] = positionals as [string, string];
  try {
    const catalogDir = resolve(io.cwd, values.catalog as string);
    const model = loadModel(catalogDir, modelName);
    const plan = planCanary(model, version, values.step ? "step" : "rollback", values.to as string | undefined);
    // origin.file is relative to the process's working directory (or absolute outside it).
    const file = resolve(model.origin.file);
    if (plan.changed && !values["dry-run"]) writeFileSync(file, applyWeights(readFileSync(file, "utf8"), plan.after));
    if (values.json) {
      io.stdout(`${JSON.stringify({ ...plan, file: model.origin.file, written: plan.changed && !values["dry-run"] })}\n`);
    } else if (!plan.changed) {
      io.stdout(
        `${plan.model}: ${version} is already at ${plan.after[version]}%${plan.action === "step" ? " (the last canary step)" : ""}; nothing to change\n`,
      );
    } else {
      const next = plan.remainingSteps.length ? `next steps: ${plan.remainingSteps.join(", ")}` : "fully promoted";
      io.stdout(
        `${describe(plan)} (${next})\n${values["dry-run"] ? "would write" : "wrote"} ${model.origin.file}; commit it and open a pull request: the plan checks it, and pulumi up shifts the traffic\n`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof CatalogEditError) io.stderr(`canary: ${error.message}\n`);
    else if (error instanceof SpecError)
      io.stderr(`canary: the catalog is not valid, so it is left as it is.\n${formatIssues(error.issues)}\n`);
    else throw error;
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
