import type { PlanResource } from "../../../components/plan-resource";
import { GcpFoundation } from "../../../components/gcp";
import { loadPlatform, type PlatformSpec } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded } from "../../support/mocks";

export const GCP_STACKS = ["gcp-dev", "gcp-prod"] as const;
export type GcpStackName = (typeof GCP_STACKS)[number];

export function loadGcpStack(name: GcpStackName): PlatformSpec {
  return loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: name });
}

export interface BuiltFoundation {
  spec: PlatformSpec;
  foundation: GcpFoundation;
  /** Every resource this foundation registered (children are named after the stack). */
  resources: PlanResource[];
  /** The custom resources of one type. */
  ofType(type: string): PlanResource[];
  /** The one resource of a type whose name ends with `suffix`. */
  one(type: string, suffix: string): PlanResource;
}

/** Builds the GcpFoundation of both gcp stacks under the plan's mocks, named after each stack. */
export async function buildGcpFoundations(mocks: PlanMocks): Promise<Record<GcpStackName, BuiltFoundation>> {
  const built = GCP_STACKS.map((name) => {
    const spec = loadGcpStack(name);
    return { name, spec, foundation: new GcpFoundation(name, { stack: spec.stack, catalog: spec.catalog }) };
  });
  const all = await recorded(mocks);
  const out = {} as Record<GcpStackName, BuiltFoundation>;
  for (const { name, spec, foundation } of built) {
    const resources = all.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const one = (type: string, suffix: string) => {
      const found = ofType(type).filter((r) => r.name.endsWith(suffix));
      if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix} in ${name}, found ${found.length}`);
      return found[0] as PlanResource;
    };
    out[name] = { spec, foundation, resources, ofType, one };
  }
  return out;
}
