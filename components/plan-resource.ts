/**
 * One resource as the offline plan recorded it from the mocked engine: what the policy
 * harness feeds to `validateResource` and `validateStack`, and what plan.json stores.
 */
export interface PlanResource {
  /** Pulumi type token, e.g. "aws:eks/cluster:Cluster" or "kubernetes:apps/v1:Deployment". */
  type: string;
  name: string;
  urn: string;
  /** URN of the parent component, if any. */
  parent?: string;
  /** Inputs as the engine received them (secrets unwrapped here; plan.json masks them). */
  inputs: Record<string, unknown>;
  /** Outputs the mock returned (inputs plus realistic ids/ARNs/endpoints). */
  outputs: Record<string, unknown>;
  /** Whether this is a ComponentResource (no provider behind it). */
  custom: boolean;
  /** Resource options that policies look at. */
  options: {
    protect: boolean;
    retainOnDelete?: boolean;
    provider?: string;
    dependsOn?: string[];
    /** Delete the old resource before creating its replacement (fixed physical names). */
    deleteBeforeReplace?: boolean;
    /** Input paths the engine does not diff. */
    ignoreChanges?: string[];
  };
  /** Input property paths that are secrets (masked in plan.json). */
  secretPaths?: string[];
}
