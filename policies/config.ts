import type { PolicyPackConfig } from "@pulumi/policy";
import { NAMESPACES } from "../components/names";
import type { Catalog, StackSpec } from "../definition";
import { allPolicies } from "./policies";
import type { PlatformPolicy } from "./support";

/**
 * Per-stack policy configuration, as the engine's `--policy-pack-config` file would hold it:
 * each policy's enforcement level (the stack file's `policies:` first, then the policy's dev or
 * prod default) and the stack facts its configSchema asks for. The harness and the file written
 * for the real engine come from this one function, so both run the same rules at the same levels.
 */

export type Level = "advisory" | "mandatory" | "disabled";

/** Level of a policy in a stack: stack file override, else the policy's default for the environment. */
export function enforcementFor(policy: PlatformPolicy, stack: Pick<StackSpec, "environment" | "policies">): Level {
  const override = stack.policies[policy.name];
  if (override) return override;
  const level = (stack.environment === "dev" ? policy.devEnforcementLevel : undefined) ?? policy.enforcementLevel ?? "advisory";
  // The engine reports a violation of a remediate policy as mandatory.
  return level === "remediate" ? "mandatory" : level;
}

/** Stack facts by the configSchema property names policies declare (see `facts` in support.ts). */
export function stackFacts(stack: StackSpec, catalog: Catalog): Record<string, unknown> {
  return {
    environment: stack.environment,
    maxGpus: stack.serving.maxGpus,
    servingNamespace: stack.serving.namespace,
    platformNamespace: NAMESPACES.platform,
    stack,
    catalog,
  };
}

/**
 * The policy pack config of a stack. Throws when the stack file names a policy that does not
 * exist, so a typo cannot silently leave a rule at its default.
 */
export function policyPackConfig(stack: StackSpec, catalog: Catalog, policies: PlatformPolicy[]): PolicyPackConfig {
  // Checked against the whole pack, so evaluating a subset still accepts every real name.
  const names = new Set([...allPolicies, ...policies].map((p) => p.name));
  const unknown = Object.keys(stack.policies).filter((name) => !names.has(name));
  if (unknown.length) {
    throw new Error(
      `stacks/Pulumi.${stack.name}.yaml: policies: ${unknown.map((n) => `"${n}"`).join(", ")} ${unknown.length === 1 ? "is not a policy" : "are not policies"} of the pack; use one of ${[...names].sort().join(", ")}`,
    );
  }
  const known = stackFacts(stack, catalog);
  const config: PolicyPackConfig = {};
  for (const policy of policies) {
    const wanted = Object.keys(policy.configSchema?.properties ?? {}).filter((key) => key in known);
    config[policy.name] = {
      enforcementLevel: enforcementFor(policy, stack),
      ...Object.fromEntries(wanted.map((key) => [key, known[key]])),
    };
  }
  return config;
}

/**
 * What a policy's `getConfig()` returns for a config entry: the schema defaults overlaid with
 * the entry, without `enforcementLevel` (the engine strips it the same way).
 */
export function configValues(policy: PlatformPolicy, entry: PolicyPackConfig[string] | undefined): Record<string, unknown> {
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {})
      .filter(([, schema]) => schema.default !== undefined)
      .map(([key, schema]) => [key, schema.default]),
  );
  if (entry === undefined || typeof entry === "string") return defaults;
  const { enforcementLevel: _level, ...values } = entry as Record<string, unknown>;
  return { ...defaults, ...values };
}
