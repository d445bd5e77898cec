import type { PlanResource } from "../../components/plan-resource";
import { isBridgedCloudType, jsonStringAttributes, mapAttributes, pluralBlockNames, terraformTypes } from "./terraform-types";

/**
 * The plan's AWS and GCP resources written as the JSON `terraform show -json` prints for a plan,
 * so Checkov's terraform_plan framework judges our resources with its own checks. Pulumi's bridged
 * providers are the Terraform providers underneath; what differs is the spelling, undone here:
 * - the type token maps to the Terraform type (terraform-types.ts);
 * - camelCase attributes become snake_case;
 * - a nested block with at most one item (an object in Pulumi) becomes a one-element list, as
 *   Terraform always writes blocks;
 * - a list block Pulumi pluralised (`rules`) gets its singular Terraform name back (`rule`);
 * - a policy document given as an object becomes the JSON string Terraform stores;
 * - an input equal to another resource's id, ARN or name becomes a reference in `configuration`,
 *   which is how Checkov's graph checks (CKV2_*) connect e.g. a public-access block to its bucket;
 * - where that id is computed (the other resource does not set it: an id, an ARN, an autonamed
 *   bucket), `resource_changes[].change.after` leaves the value out and lists it in
 *   `after_unknown`, as Terraform does for a resource not yet created. trivy reads `after` and so
 *   follows the reference, as it does in a real plan (with the mock's value it matched a
 *   versioning resource to no bucket); Checkov reads `planned_values`, which keep the value;
 * - every nested block is listed in `configuration` too (a list with one object per block, holding
 *   its own nested blocks), as Terraform lists a block's expressions: trivy reads the block shape
 *   from there, and without it a block inside a block (a Cloud SQL instance's settings.ip_configuration,
 *   an EKS cluster's encryption_config.provider) reached its checks as a plain attribute.
 */

export interface TerraformPlanResource {
  address: string;
  mode: "managed";
  type: string;
  name: string;
  provider_name: string;
  values: Record<string, unknown>;
}

/** A `configuration` expression: a reference to other resources, or a block's nested blocks (one object per block). */
export type Expression = { references: string[] } | Record<string, Expression>[];

/** The references an expression holds at its top level. */
export const referencesOf = (e: Expression): string[] => (Array.isArray(e) ? [] : e.references);

export interface TerraformPlan {
  format_version: string;
  terraform_version: string;
  planned_values: { root_module: { resources: TerraformPlanResource[] } };
  resource_changes: {
    address: string;
    mode: "managed";
    type: string;
    name: string;
    change: { actions: string[]; before: null; after: Record<string, unknown>; after_unknown: Record<string, boolean> };
  }[];
  configuration: {
    root_module: {
      resources: { address: string; mode: "managed"; type: string; name: string; expressions: Record<string, Expression> }[];
    };
  };
}

/** `enableKeyRotation` -> `enable_key_rotation`, `cidrIpv4` -> `cidr_ipv4`. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Pulumi's plural name of a list block back to Terraform's singular (`rules` -> `rule`, `accesses` -> `access`). */
export function singularBlockName(name: string): string {
  if (pluralBlockNames.has(name)) return name;
  if (name.endsWith("ies")) return `${name.slice(0, -3)}y`;
  if (name.endsWith("sses")) return name.slice(0, -2);
  if (name.endsWith("s")) return name.slice(0, -1);
  return name;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** One attribute value in Terraform's plan shape (see the module comment). */
function terraformValue(key: string, value: unknown): unknown {
  if (mapAttributes.has(key)) return value;
  if (jsonStringAttributes.has(key) && typeof value === "object" && value !== null) return JSON.stringify(value);
  if (isObject(value)) return [terraformBlock(value)];
  if (Array.isArray(value)) return value.map((item) => (isObject(item) ? terraformBlock(item) : item));
  return value;
}

/** A block's attributes renamed and reshaped for Terraform (see the module comment). */
export function terraformBlock(inputs: Record<string, unknown>): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) {
    // Unknown until apply (Terraform lists those in after_unknown, not in the values).
    if (value === undefined || (isObject(value) && value.__pulumi_unknown === true)) continue;
    let key = snakeCase(name);
    if (Array.isArray(value) && value.some(isObject)) key = singularBlockName(key);
    block[key] = terraformValue(key, value);
  }
  return block;
}

/** The nested blocks of a Terraform-shaped value, as `configuration` lists them; undefined for an attribute. */
function blockExpressions(value: unknown): Record<string, Expression>[] | undefined {
  if (!Array.isArray(value) || !value.some(isObject)) return undefined;
  return value.filter(isObject).map((block) => {
    const nested: Record<string, Expression> = {};
    for (const [key, inner] of Object.entries(block)) {
      const blocks = blockExpressions(inner);
      if (blocks) nested[key] = blocks;
    }
    return nested;
  });
}

/** A Terraform resource name from a Pulumi one (letters, digits, `_` and `-`; not starting with a digit). */
function terraformName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `r_${cleaned}`;
}

/** Output values that other resources' inputs carry when they point at this resource. */
function identities(r: PlanResource): string[] {
  const out = r.outputs ?? {};
  return ["id", "arn", "name", "bucket", "selfLink"]
    .map((k) => out[k])
    .filter((v): v is string => typeof v === "string" && v.length > 8 && !v.includes("*"));
}

/** Whether `value` is one of `r`'s own inputs (a name it sets), i.e. known before `r` exists. */
const setByInputs = (r: PlanResource, value: string) => Object.values(r.inputs).includes(value);

/**
 * The Terraform plan of the cloud resources in `resources` (kubernetes, random and provider
 * resources are not in it: the rendered manifests carry the Kubernetes ones). Throws, naming the
 * type and the file to edit, on a bridged type that terraform-types.ts does not list.
 */
export function terraformPlan(resources: PlanResource[]): TerraformPlan {
  const cloud = resources.filter((r) => r.custom && isBridgedCloudType(r.type));
  const unknown = [...new Set(cloud.filter((r) => !terraformTypes[r.type]).map((r) => r.type))];
  if (unknown.length) {
    throw new Error(
      `policies/scan/terraform-types.ts: no Terraform type for ${unknown.join(", ")}; add each with the Terraform resource it wraps ` +
        "(the provider's docs page names it), so Checkov scans it",
    );
  }
  const used = new Set<string>();
  const addressOf = new Map<PlanResource, string>();
  for (const r of cloud) {
    const type = terraformTypes[r.type] as string;
    let name = terraformName(r.name);
    for (let n = 2; used.has(`${type}.${name}`); n++) name = `${terraformName(r.name)}_${n}`;
    used.add(`${type}.${name}`);
    addressOf.set(r, `${type}.${name}`);
  }
  const byIdentity = new Map<string, string>();
  const computed = new Set<string>();
  for (const r of cloud)
    for (const id of identities(r)) {
      if (byIdentity.has(id)) continue;
      byIdentity.set(id, addressOf.get(r) as string);
      if (!setByInputs(r, id)) computed.add(id);
    }

  const plan: TerraformPlan = {
    format_version: "1.2",
    terraform_version: "1.9.8",
    planned_values: { root_module: { resources: [] } },
    resource_changes: [],
    configuration: { root_module: { resources: [] } },
  };
  for (const r of cloud) {
    const address = addressOf.get(r) as string;
    const [type, name] = address.split(/\.(.*)/s) as [string, string];
    const provider = type.startsWith("aws_") ? "registry.terraform.io/hashicorp/aws" : "registry.terraform.io/hashicorp/google";
    const values = terraformBlock(r.inputs);
    plan.planned_values.root_module.resources.push({ address, mode: "managed", type, name, provider_name: provider, values });
    const expressions: Record<string, Expression> = {};
    for (const [key, value] of Object.entries(values)) {
      const blocks = blockExpressions(value);
      if (blocks) expressions[key] = blocks;
    }
    const after = { ...values };
    const afterUnknown: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(r.inputs)) {
      const items = Array.isArray(value) ? value : [value];
      const refs = items.filter((v): v is string => typeof v === "string" && !!byIdentity.get(v) && byIdentity.get(v) !== address);
      const targets = refs.map((v) => byIdentity.get(v) as string);
      if (targets.length) expressions[snakeCase(key)] = { references: targets.flatMap((t) => [`${t}.id`, t]) };
      if (refs.some((v) => computed.has(v))) {
        delete after[snakeCase(key)];
        afterUnknown[snakeCase(key)] = true;
      }
    }
    plan.resource_changes.push({
      address,
      mode: "managed",
      type,
      name,
      change: { actions: ["create"], before: null, after, after_unknown: afterUnknown },
    });
    plan.configuration.root_module.resources.push({ address, mode: "managed", type, name, expressions });
  }
  return plan;
}
