import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { z } from "zod";
import { FeatureFile, Model } from "./catalog";
import { checkCatalog, deploysTo } from "./catalog-checks";
import { resolveStack, type StackSpec } from "./defaults";
import { type SpecIssue, SpecError, zodIssues } from "./errors";
import { type Catalog, readRuntimeCatalog } from "./registry";
import { StackConfig } from "./stack";
import { checkStack, type StackCheckOptions } from "./stack-checks";
import { readYaml, splitPath, withLine, type YamlSource } from "./yaml-source";

/** The Pulumi project name (Pulumi.yaml `name`): stack config keys are `<project>:<key>`. */
export const PROJECT = "mlops-platform";
/** The stack config key holding the platform spec. */
export const PLATFORM_KEY = `${PROJECT}:platform`;

/** Everything a stack deploys: the resolved stack configuration and the merged catalog. */
export interface PlatformSpec {
  stack: StackSpec;
  catalog: Catalog;
}

/** Path of a stack's file under the stacks directory. */
export function stackFile(stacksDir: string, name: string): string {
  return join(stacksDir, `Pulumi.${name}.yaml`);
}

/** Names of the stacks that have a `Pulumi.<name>.yaml` in the directory. */
export function listStacks(stacksDir: string): string[] {
  if (!existsSync(stacksDir)) return [];
  return readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

/**
 * Validates the platform object of a stack (as the Pulumi engine hands it over through
 * `pulumi.Config`, or as read from the file), resolves defaults and runs the cross-checks.
 */
export function parseStack(raw: unknown, name: string, file: string, source?: YamlSource, options: StackCheckOptions = {}): StackSpec {
  const docPrefix = ["config", PLATFORM_KEY];
  const locate = (issues: SpecIssue[]) => (source ? issues.map((i) => withLine(source, i, [...docPrefix, ...splitPath(i.path)])) : issues);
  if (raw === undefined || raw === null) {
    throw new SpecError([
      {
        file,
        path: `config.${PLATFORM_KEY}`,
        message: "is missing",
        fix: `add a "${PLATFORM_KEY}:" object with at least cloud, environment and tags`,
      },
    ]);
  }
  const parsed = StackConfig.safeParse(raw);
  if (!parsed.success) throw new SpecError(locate(zodIssues(file, raw, parsed.error)));
  const stack = resolveStack(name, parsed.data);
  const issues = checkStack(stack, file, options);
  if (issues.length) throw new SpecError(locate(issues));
  return stack;
}

/**
 * Reads `stacks/Pulumi.<name>.yaml` and returns its resolved stack spec. For offline readers (the
 * plan, tests, the policy config): placeholders are accepted unless `allowPlaceholders: false`.
 * The program (stacks/index.ts) parses the engine's config with parseStack, which refuses them.
 */
export function loadStack(stacksDir: string, name: string, options: StackCheckOptions = { allowPlaceholders: true }): StackSpec {
  const path = stackFile(stacksDir, name);
  if (!existsSync(path)) {
    const known = listStacks(stacksDir);
    throw new SpecError([
      {
        file: path,
        path: "",
        message: `stack "${name}" does not exist`,
        fix: known.length ? `use one of: ${known.join(", ")}` : "create the stack file",
      },
    ]);
  }
  const source = readYaml(path);
  const config = (source.data as { config?: Record<string, unknown> }).config ?? {};
  return parseStack(config[PLATFORM_KEY], name, source.file, source, options);
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
    .sort();
}

/**
 * Reads one catalog file and validates it against its schema, keeping its source for line numbers.
 * Undefined, with the problems added to `issues`, when it is not YAML or does not match; any other
 * error (a permission, a bug) is not a catalog problem and is thrown.
 */
function readParsed<S extends z.ZodType>(
  path: string,
  schema: S,
  issues: SpecIssue[],
  sources: Map<string, YamlSource>,
): { source: YamlSource; data: z.output<S> } | undefined {
  let source: YamlSource;
  try {
    source = readYaml(path);
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    issues.push(...error.issues);
    return undefined;
  }
  sources.set(source.file, source);
  const parsed = schema.safeParse(source.data);
  if (!parsed.success) {
    issues.push(...zodIssues(source.file, source.data, parsed.error));
    return undefined;
  }
  return { source, data: parsed.data };
}

/**
 * Reads every `features/*.yaml` and `models/<team>/<model>.yaml` under the catalog directory,
 * validates each file, merges them and cross-checks the result. All problems are reported together.
 * A directory holding a rendered runtime config (registry.json) is read as that instead.
 */
export function loadCatalog(catalogDir: string, project: string, stack?: StackSpec): Catalog {
  // Inside the platform's pods the catalog is the runtime config Pulumi rendered (registry.json,
  // models.json), already parsed, checked and filtered to the stack: read it as it is.
  const rendered = readRuntimeCatalog(catalogDir);
  if (rendered) return rendered;
  const onDemandFeatureViews: NonNullable<Catalog["onDemandFeatureViews"]> = {};
  const catalog: Catalog = {
    project,
    entities: {},
    featureViews: {},
    featureServices: {},
    pushSources: {},
    onDemandFeatureViews,
    models: {},
  };
  const issues: SpecIssue[] = [];
  const sources = new Map<string, YamlSource>();
  const claim = <T extends { name: string }>(
    table: Record<string, T & { origin: { file: string; path: string } }>,
    kind: string,
    item: T,
    file: string,
    path: string,
  ) => {
    const existing = table[item.name];
    if (existing) {
      issues.push({
        file,
        path: `${path}.name`,
        message: `${kind} "${item.name}" is already declared in ${existing.origin.file} (${existing.origin.path})`,
        fix: "names are global across the catalog; rename one",
      });
      return;
    }
    table[item.name] = { ...item, origin: { file, path } };
  };

  for (const path of yamlFiles(join(catalogDir, "features"))) {
    const read = readParsed(path, FeatureFile, issues, sources);
    if (!read) continue;
    const { source, data: f } = read;
    f.entities.forEach((e, i) => claim(catalog.entities, "entity", e, source.file, `entities[${i}]`));
    f.featureViews.forEach((v, i) => claim(catalog.featureViews, "feature view", v, source.file, `featureViews[${i}]`));
    f.featureServices.forEach((s, i) => claim(catalog.featureServices, "feature service", s, source.file, `featureServices[${i}]`));
    f.pushSources.forEach((p, i) => claim(catalog.pushSources, "push source", p, source.file, `pushSources[${i}]`));
    f.onDemandFeatureViews.forEach((v, i) =>
      claim(onDemandFeatureViews, "on-demand feature view", v, source.file, `onDemandFeatureViews[${i}]`),
    );
  }

  for (const path of yamlFiles(join(catalogDir, "models"))) {
    const read = readParsed(path, Model, issues, sources);
    if (!read) continue;
    const { source, data: model } = read;
    const fileName = basename(path).replace(/\.ya?ml$/, "");
    const team = basename(dirname(path));
    const name = model.name ?? fileName;
    if (name !== fileName) {
      issues.push({
        file: source.file,
        path: "name",
        message: `"${name}" does not match the file name "${fileName}"`,
        fix: `rename the file to ${name}.yaml, or remove name:`,
      });
      continue;
    }
    if (dirname(path) === join(catalogDir, "models")) {
      issues.push({
        file: source.file,
        path: "",
        message: "is not in a team folder",
        fix: `move it to catalog/models/<team>/${basename(path)}`,
      });
      continue;
    }
    if (catalog.models[name]) {
      issues.push({
        file: source.file,
        path: "name",
        message: `model "${name}" is already declared in ${catalog.models[name].origin.file}`,
        fix: "model names are global; rename one",
      });
      continue;
    }
    catalog.models[name] = { ...model, name, team, origin: { file: source.file, path: "" } };
  }

  if (issues.length === 0) issues.push(...checkCatalog(catalog, stack));
  if (issues.length) {
    throw new SpecError(
      issues.map((issue) => {
        const source = sources.get(issue.file);
        return source ? withLine(source, issue, splitPath(issue.path)) : issue;
      }),
    );
  }
  return catalog;
}

/**
 * Set by the credential-free plan for the program it runs: the stack checks then accept the
 * shipped placeholders (CIDR_PLACEHOLDER) that `pulumi preview` and `up` refuse.
 */
export const OFFLINE_PLAN_ENV = "MLOPS_OFFLINE_PLAN";

/** Loads a stack and the catalog it deploys, cross-checked together. */
export function loadPlatform(options: { stacksDir: string; catalogDir: string; stack: string } & StackCheckOptions): PlatformSpec {
  const stack = loadStack(options.stacksDir, options.stack, { allowPlaceholders: options.allowPlaceholders ?? true });
  return {
    stack,
    catalog: catalogForStack(loadCatalog(options.catalogDir, stack.featureStore.project, stack), stack, listStacks(options.stacksDir)),
  };
}

/**
 * Keeps the models that deploy to this stack. Checks that every `stacks:` entry names a stack
 * that exists, so a typo cannot silently keep a model out of production.
 */
export function catalogForStack(catalog: Catalog, stack: StackSpec, knownStacks?: string[]): Catalog {
  const issues: SpecIssue[] = [];
  if (knownStacks) {
    for (const model of Object.values(catalog.models)) {
      model.stacks?.forEach((name, i) => {
        if (!knownStacks.includes(name)) {
          issues.push({
            file: model.origin.file,
            path: `stacks[${i}]`,
            message: `"${name}" is not a stack`,
            fix: `use one of: ${knownStacks.join(", ")}`,
          });
        }
      });
    }
  }
  if (issues.length) throw new SpecError(issues);
  const models = Object.fromEntries(Object.entries(catalog.models).filter(([, m]) => deploysTo(m, stack.name)));
  return { ...catalog, models };
}
