import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PlanResource } from "../../components/plan-resource";
import {
  type Catalog,
  CIDR_PLACEHOLDER,
  catalogForStack,
  listStacks,
  loadCatalog,
  loadStack,
  OFFLINE_PLAN_ENV,
  PROJECT,
  placeholderFields,
  readYaml,
  type StackSpec,
  stackFile,
} from "../../definition";
import { type K8sObject, toK8sObject } from "./k8s-objects";
import { installMocks, settle } from "./mocks";
import { type ValidationProblem, validateK8sObject } from "./validate-k8s";

export interface PlanRun {
  stack: StackSpec;
  catalog: Catalog;
  resources: PlanResource[];
  objects: K8sObject[];
  invalid: ValidationProblem[];
  /** Errors the program raised while running (failed applies, rejected registrations, unknown invokes). */
  errors: string[];
  /** Seconds spent running the program under mocks. */
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

/**
 * Runs the real Pulumi program (stacks/index.ts) in this process with the engine mocked, and
 * records every resource. The spec is loaded first, so a bad stack or catalog file fails with its
 * path before any resource is created. One stack per process: the Pulumi runtime is global.
 */
export async function runProgram(root: string, stackName: string, progress: (line: string) => void = () => {}): Promise<PlanRun> {
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
  if (placeholders.length) {
    progress(
      `note: ${placeholders.join(", ")} ${placeholders.length > 1 ? "are placeholders" : "is a placeholder"} (${CIDR_PLACEHOLDER}): ` +
        "this plan accepts it, `pulumi preview` and `pulumi up` refuse it until you set your own value (docs/aws.md, docs/gcp.md)",
    );
  }
  const config = engineConfig(root, stackName);
  process.env.PULUMI_CONFIG = JSON.stringify(config);
  process.env[OFFLINE_PLAN_ENV] = "1";
  const errors: string[] = [];
  const onError = (error: unknown) => errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.on("unhandledRejection", onError);
  process.on("uncaughtException", onError);
  const mocks = await installMocks({ project: PROJECT, stack: stackName, region: stack.region, gcpProject: stack.project ?? "local" });
  // The runtime may have read (empty) config already, when an earlier import touched its store.
  pulumi.runtime.setAllConfig(config);
  const started = performance.now();
  try {
    // The program itself, exactly as `pulumi up` would load it.
    require(join(root, "stacks", "index.ts"));
    let seen = -1;
    while (seen !== mocks.resources.length) {
      seen = mocks.resources.length;
      await settle();
      if (mocks.resources.length !== seen) progress(`${mocks.resources.length} resources registered...`);
    }
  } catch (error) {
    onError(error);
  } finally {
    process.off("unhandledRejection", onError);
    process.off("uncaughtException", onError);
  }
  for (const token of mocks.unknownInvokes) errors.push(`the program called "${token}", which has no mock in stacks/plan/mocks/`);
  const programSeconds = (performance.now() - started) / 1000;
  progress(`program ran in ${programSeconds.toFixed(1)} s: ${mocks.resources.length} resources`);

  const objects = mocks.resources.map(toK8sObject).filter((o): o is K8sObject => o !== undefined);
  const invalid = (await Promise.all(objects.map(validateK8sObject))).filter((p): p is ValidationProblem => p !== undefined);
  progress(`validated ${objects.length} Kubernetes objects against their schemas: ${invalid.length} invalid`);
  return { stack, catalog, resources: mocks.resources, objects, invalid, errors, programSeconds };
}
