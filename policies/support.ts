import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/**
 * What every policy of this pack shares: its shape, the schema fragments of the per-stack facts
 * policies read through `getConfig()`, and the message format the harness parses.
 */

/** Policy areas, one file per area (security-*.ts, reliability.ts, cost.ts, catalog.ts). */
export type PolicyArea = "security" | "reliability" | "cost" | "catalog";

/**
 * A policy of this pack: a plain @pulumi/policy policy plus the area it belongs to and, where
 * it differs, the level it defaults to in dev stacks (the stack file's `policies:` overrides both).
 * The engine ignores the two extra fields.
 */
export type PlatformPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  area: PolicyArea;
  /** Default level in dev stacks. Defaults to `enforcementLevel`. */
  devEnforcementLevel?: EnforcementLevel;
};

/** Environment of the stack under evaluation; unknown (no policy config given) means the strictest, prod. */
export type Environment = "dev" | "prod";

/**
 * Schema fragments of the stack facts. The names are the keys the config builder
 * (policies/config.ts) fills from the stack spec, so a policy that declares `environment` in its
 * configSchema gets the stack's environment, under the harness and under the real engine alike.
 */
export const facts = {
  environment: {
    type: "string",
    enum: ["dev", "prod"],
    default: "prod",
    description: "Environment of the stack (dev relaxes rules that exist for availability); defaults to prod, the strictest.",
  },
  maxGpus: {
    type: "integer",
    minimum: 0,
    default: 16,
    description: "Upper bound on GPUs a stack may provision: the sum over GPU pools of max nodes x GPUs per node.",
  },
  servingNamespace: { type: "string", default: "models", description: "Namespace of model deployments (serving rules apply there)." },
  platformNamespace: { type: "string", default: "mlops", description: "Namespace of the platform's own services." },
} satisfies Record<string, PolicyConfigJSONSchema>;

export type Facts = { environment: Environment; maxGpus: number; servingNamespace: string; platformNamespace: string };

/**
 * A violation message: the resource, what is wrong, and the fix. The harness splits it on
 * " Fix: " to fill the report's `fix` column; the real engine shows the whole sentence.
 */
export function violation(subject: string, problem: string, fix: string): string {
  return `${subject}: ${problem}. Fix: ${fix}`;
}

/** Splits a message made by `violation` back into the problem and the fix. */
export function splitFix(message: string): { message: string; fix: string } {
  const at = message.lastIndexOf(" Fix: ");
  return at < 0 ? { message, fix: "" } : { message: message.slice(0, at), fix: message.slice(at + 6) };
}

/** Reads a nested value without throwing on missing parents. */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asStringRecord(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Provider config `[key]` of the resource's explicit provider, e.g. the AWS provider's defaultTags. */
export function providerProp(provider: { props: Record<string, unknown> } | undefined, ...path: string[]): unknown {
  return provider ? get(provider.props, ...path) : undefined;
}
