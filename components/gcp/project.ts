import * as pulumi from "@pulumi/pulumi";
import { gcpLabels } from "../names";
import type { StackSpec } from "../../definition";

/** Where every GCP resource of a stack goes, and the options shared by its stateful resources. */
export interface GcpTarget {
  /** GCP project id; every resource takes it explicitly, so no ambient gcloud default can leak in. */
  project: string;
  region: string;
  /** team, environment, cost_center, managed-by, stack: on every labelable resource. */
  labels: Record<string, string>;
  prod: boolean;
}

/**
 * Resolves the project, region and labels of a GCP stack. The spec already requires `project`
 * for gcp stacks; this guard keeps a hand-built StackSpec from reaching the provider without one.
 */
export function gcpTarget(stack: StackSpec): GcpTarget {
  const errors: { propertyPath: string; reason: string }[] = [];
  if (stack.cloud !== "gcp")
    errors.push({ propertyPath: "stack.cloud", reason: `is "${stack.cloud}"; the GCP layer only builds gcp stacks` });
  if (!stack.project)
    errors.push({ propertyPath: "stack.project", reason: `is missing in stack "${stack.name}"; set project: <your GCP project id>` });
  if (errors.length) throw new pulumi.InputPropertiesError({ message: `stack "${stack.name}" cannot be built on GCP`, errors });
  return { project: stack.project as string, region: stack.region, labels: gcpLabels(stack), prod: stack.environment === "prod" };
}

/** What every GCP component takes besides its own args. */
export interface GcpComponentArgs {
  /** The resolved gcp stack (definition). */
  stack: StackSpec;
  /**
   * The project id for the resources' `project` input. Defaults to `stack.project`; the foundation
   * passes `ProjectServices.project`, which resolves only once the project's APIs are enabled, so
   * every resource waits for the APIs it needs without a dependsOn on each.
   */
  project?: pulumi.Input<string>;
}

/** The `project` input of a component's resources. */
export function projectInput(args: GcpComponentArgs): pulumi.Input<string> {
  return args.project ?? gcpTarget(args.stack).project;
}

/**
 * Options for stateful resources (stores, databases, datasets, buckets, keys): `protect` from the
 * spec, and in prod `retainOnDelete`, so even an explicit `pulumi destroy` leaves the data behind.
 */
export function statefulOptions(stack: StackSpec, parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return { parent, protect: stack.protect, retainOnDelete: stack.environment === "prod" };
}

/**
 * A GCP service account id (6..30 characters, [a-z][a-z0-9-]*[a-z0-9]) from a prefix and a role.
 * Ids are project-wide and must be set explicitly; long ones are shortened with a stable hash
 * so two stacks in one project never collide.
 */
export function serviceAccountId(prefix: string, role: string): string {
  const clean = (v: string) =>
    v
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "");
  const id = `${clean(prefix)}-${clean(role)}`.replace(/^[^a-z]+/, "").replace(/-+$/, "");
  if (id.length >= 6 && id.length <= 30) return id;
  const hash = fnv(`${prefix}/${role}`).slice(0, 6);
  return `${(id || "sa").slice(0, 23).replace(/-+$/, "")}-${hash}`;
}

/** FNV-1a hex digest: stable short hashes for names (no crypto need here). */
function fnv(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}
