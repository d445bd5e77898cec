import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { PlanResource } from "../../components/plan-resource";
import {
  type Catalog,
  CIDR_PLACEHOLDER,
  catalogForStack,
  listStacks,
  loadCatalog,
  loadStack,
  OFFLINE_PLAN_ENV,
  placeholderFields,
  readYaml,
  type StackSpec,
  stackFile,
} from "../../definition";
import { type CompileError, compileErrors, formatCompileError } from "./diagnostics";
import { type EngineLog, serveMockEngine } from "./engine-server";
import { type K8sObject, toK8sObject } from "./k8s-objects";
import { lookPath, programLaunch, readProject } from "./language-host";
import { installMocks, settle } from "./mocks";
import { type ValidationProblem, validateK8sObject } from "./validate-k8s";

export interface PlanRun {
  stack: StackSpec;
  catalog: Catalog;
  resources: PlanResource[];
  objects: K8sObject[];
  invalid: ValidationProblem[];
  /** Errors the program raised while running (compile errors, failed applies, rejected registrations, unknown invokes). */
  errors: string[];
  /** TypeScript errors ts-node reported when it loaded the program, file relative to the repository root. */
  compileErrors: CompileError[];
  /** Seconds the program's process ran (start, ts-node compile and type check, registration). */
  programSeconds: number;
}

/**
 * Stack config values as the engine passes them to the program (PULUMI_CONFIG): every key of the
 * stack file's `config:`, objects as JSON strings.
 */
export function engineConfig(root: string, stackName: string): Record<string, string> {
  const source = readYaml(stackFile(join(root, "stacks"), stackName));
  const config = (source.data as { config?: Record<string, unknown> }).config ?? {};
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function withoutOfflineFlag(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [OFFLINE_PLAN_ENV]: _, ...rest } = env;
  return rest;
}

/** The organization the CLI passes for a self-managed (file://) backend. */
const ORGANIZATION = "organization";

/**
 * Runs the real Pulumi program as `pulumi preview` does: a Node process started the way the Node
 * language host starts it (`@pulumi/pulumi/cmd/run`, working directory and entry point from
 * Pulumi.yaml's `main`, ts-node with the program directory's tsconfig and type checking), talking
 * gRPC to a resource monitor and engine served here. Only registration is mocked (the SDK's
 * MockMonitor over stacks/plan/mocks). The spec is loaded first, so a bad stack or catalog file
 * fails with its path before anything starts.
 */
export async function runProgram(
  root: string,
  stackName: string,
  progress: (line: string) => void = () => {},
  options: { offline?: boolean } = {},
): Promise<PlanRun> {
  // offline: false runs the program exactly as under `pulumi preview`, without the offline plan's variable.
  const offline = options.offline ?? true;
  const stack = loadStack(join(root, "stacks"), stackName);
  const catalog = catalogForStack(
    loadCatalog(join(root, "catalog"), stack.featureStore.project, stack),
    stack,
    listStacks(join(root, "stacks")),
  );
  progress(
    `spec ok: ${stack.cloud}/${stack.environment}, ${stack.nodePools.length} node pools, ${Object.keys(catalog.featureViews).length} feature views, ${Object.keys(catalog.models).length} models`,
  );

  const placeholders = placeholderFields(stack);
  if (placeholders.length && offline) {
    progress(
      `note: ${placeholders.join(", ")} ${placeholders.length > 1 ? "are placeholders" : "is a placeholder"} (${CIDR_PLACEHOLDER}): ` +
        "this plan accepts it, `pulumi preview` and `pulumi up` refuse it until you set your own value (docs/aws.md, docs/gcp.md)",
    );
  }
  const project = readProject(root);
  const mocks = await installMocks({ project: project.name, stack: stackName, region: stack.region, gcpProject: stack.project ?? "local" });
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): Record<string, unknown> };
  const engine = await serveMockEngine(settings.getMonitor(), (log) => {
    if (log.severity === "warning") progress(`warning: ${log.message.trim()}`);
  });
  const launch = programLaunch({
    root,
    project,
    stack: stackName,
    organization: ORGANIZATION,
    monitor: engine.monitor,
    engine: engine.engine,
    config: engineConfig(root, stackName),
    dryRun: true,
    parallel: Number(process.env.PULUMI_PARALLEL) > 0 ? Number(process.env.PULUMI_PARALLEL) : availableParallelism() * 4,
    // Tells stacks/index.ts it runs under the offline plan (placeholders accepted, see above).
    env: offline ? { ...process.env, [OFFLINE_PLAN_ENV]: "1" } : withoutOfflineFlag(process.env),
    node: lookPath("node") ?? process.execPath,
  });
  progress(`program: ${launch.command} ${launch.args.join(" ")} (in ${launch.cwd})`);

  const started = performance.now();
  let output = "";
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(launch.command, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ["ignore", "pipe", "pipe"] });
    const forward = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      process.stderr.write(chunk);
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("error", fail);
    child.on("close", (status, signal) => done(status ?? (signal ? 128 : 1)));
  });
  await settle();
  await engine.close();
  const programSeconds = (performance.now() - started) / 1000;

  const errorLogs = engine.logs.filter((l: EngineLog) => l.severity === "error").map((l) => l.message);
  const compile = compileErrors([...errorLogs, output].join("\n"), launch.programDirectory, root);
  const errors: string[] = compile.length ? compile.map(formatCompileError) : errorLogs;
  // 32: cmd/run already reported the error through the engine's Log (nodeJSProcessExitedAfterLoggingUserActionableMessage).
  if (code !== 0 && errors.length === 0)
    errors.push(`the program exited with code ${code}:\n${output.trim().split("\n").slice(-20).join("\n")}`);
  for (const token of mocks.unknownInvokes) errors.push(`the program called "${token}", which has no mock in stacks/plan/mocks/`);
  progress(`program ran in ${programSeconds.toFixed(1)} s (exit ${code}): ${mocks.resources.length} resources`);

  const objects = mocks.resources.map(toK8sObject).filter((o): o is K8sObject => o !== undefined);
  const invalid = (await Promise.all(objects.map(validateK8sObject))).filter((p): p is ValidationProblem => p !== undefined);
  progress(`validated ${objects.length} Kubernetes objects against their schemas: ${invalid.length} invalid`);
  return { stack, catalog, resources: mocks.resources, objects, invalid, errors, compileErrors: compile, programSeconds };
}
