import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";

/**
 * How `pulumi preview` starts the program, derived from Pulumi.yaml the way the engine
 * (pkg/engine/project.go getPwdMain) and the Node language host (pulumi-language-nodejs
 * parseOptions, constructArguments, execRuntime) do it, so the plan loads the program through the
 * same entry (`@pulumi/pulumi/cmd/run`) with the same working directory, tsconfig lookup, ts-node
 * type checking and environment as the real engine. Pure: tested directly.
 */

export interface PulumiProject {
  name: string;
  /** `main` as written; undefined means the project root. */
  main?: string;
  runtime: { name: string; options: Record<string, unknown> };
}

export function readProject(root: string): PulumiProject {
  const file = join(root, "Pulumi.yaml");
  const data = parse(readFileSync(file, "utf8")) as {
    name?: unknown;
    main?: unknown;
    runtime?: unknown;
  };
  if (typeof data.name !== "string") throw new Error(`${file}: name must be a string`);
  const runtime =
    typeof data.runtime === "string"
      ? { name: data.runtime, options: {} }
      : {
          name: String((data.runtime as { name?: unknown })?.name ?? ""),
          options: ((data.runtime as { options?: Record<string, unknown> })?.options ?? {}) as Record<string, unknown>,
        };
  return { name: data.name, main: typeof data.main === "string" ? data.main : undefined, runtime };
}

/** The engine's getPwdMain: a file `main` runs from its directory with its base name as entry point. */
export function programLocation(root: string, main: string | undefined): { programDirectory: string; entryPoint: string } {
  if (!main) return { programDirectory: root, entryPoint: "." };
  const path = isAbsolute(main) ? main : resolve(root, main);
  if (!existsSync(path)) throw new Error(`Pulumi.yaml: project 'main' could not be read: ${path} does not exist`);
  if (statSync(path).isDirectory()) return { programDirectory: path, entryPoint: "." };
  return { programDirectory: dirname(path), entryPoint: path.slice(dirname(path).length + 1) };
}

/** The Node language host's parseOptions: typescript defaults to true. */
export function nodeOptions(options: Record<string, unknown>): { typescript: boolean; tsconfig?: string; nodeargs: string } {
  const typescript = options.typescript ?? true;
  if (typeof typescript !== "boolean") throw new Error("Pulumi.yaml: runtime.options.typescript must be a boolean");
  const tsconfig = options.tsconfig;
  if (tsconfig !== undefined && typeof tsconfig !== "string") throw new Error("Pulumi.yaml: runtime.options.tsconfig must be a string");
  const nodeargs = options.nodeargs ?? "";
  if (typeof nodeargs !== "string") throw new Error("Pulumi.yaml: runtime.options.nodeargs must be a string");
  return { typescript, tsconfig, nodeargs };
}

/** Splits nodeargs as the language host's shlex.Split does for the plain and quoted words we use. */
export function splitArgs(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3] ?? ""));
  return words;
}

/** Stack config as the language host hands it over (constructConfig): keys `<namespace>:config:<name>`, values as strings. */
export function languageHostConfig(config: Record<string, string>): string {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const at = key.indexOf(":");
    out[at < 0 ? key : `${key.slice(0, at)}:config:${key.slice(at + 1)}`] = value;
  }
  return JSON.stringify(out);
}

/** exec.LookPath("node"): the first `node` on PATH, as the language host picks the runtime. */
export function lookPath(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface LaunchRequest {
  root: string;
  project: PulumiProject;
  stack: string;
  organization: string;
  monitor: string;
  engine: string;
  config: Record<string, string>;
  dryRun: boolean;
  parallel: number;
  /** The CLI's own environment, which the language host passes on. */
  env: NodeJS.ProcessEnv;
  /** The runtime binary (the language host's exec.LookPath("node")). */
  node: string;
}

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  programDirectory: string;
  entryPoint: string;
  /** The tsconfig ts-node will read (cmd/run looks for it in the program directory). */
  tsconfig: string;
}

/** The node command line, working directory and environment of the language host's execRuntime. */
export function programLaunch(req: LaunchRequest): Launch {
  if (req.project.runtime.name !== "nodejs") throw new Error(`Pulumi.yaml: runtime ${req.project.runtime.name} is not nodejs`);
  const { programDirectory, entryPoint } = programLocation(req.root, req.project.main);
  const opts = nodeOptions(req.project.runtime.options);
  // locateModule: the run entry resolves from the program directory, like `require.resolve` there.
  let runPath: string;
  try {
    runPath = dirname(require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDirectory] }));
  } catch {
    throw new Error(`@pulumi/pulumi is not installed where ${programDirectory} resolves modules: run npm install`);
  }
  const args = [
    ...splitArgs(opts.nodeargs),
    runPath,
    "--monitor",
    req.monitor,
    "--engine",
    req.engine,
    "--organization",
    req.organization,
    "--project",
    req.project.name,
    "--root-directory",
    req.root,
    "--stack",
    req.stack,
    "--pwd",
    programDirectory,
    ...(req.dryRun ? ["--dry-run"] : []),
    "--parallel",
    String(req.parallel),
    entryPoint,
  ];
  const env: NodeJS.ProcessEnv = {
    ...req.env,
    PULUMI_CONFIG: languageHostConfig(req.config),
    PULUMI_CONFIG_SECRET_KEYS: "[]",
    ...(opts.typescript ? { PULUMI_NODEJS_TYPESCRIPT: "true" } : {}),
    ...(opts.tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: opts.tsconfig } : {}),
  };
  const tsconfig = resolve(programDirectory, opts.tsconfig ?? "tsconfig.json");
  // The CLI runs the language host in the program directory; the host passes its cwd on.
  return { command: req.node, args, cwd: programDirectory, env, programDirectory, entryPoint, tsconfig };
}
