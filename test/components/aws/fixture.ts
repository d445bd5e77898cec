import { AwsFoundation } from "../../../components/aws";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform, type PlatformSpec } from "../../../components/spec";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded } from "../../support/mocks";

export const AWS_STACKS = ["aws-dev", "aws-prod"] as const;
export type AwsStackName = (typeof AWS_STACKS)[number];

// biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
export type Inputs = Record<string, any>;

export function loadAwsStack(name: string): PlatformSpec {
  return loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: name });
}

export interface BuiltFoundation {
  spec: PlatformSpec;
  foundation: AwsFoundation;
  /** Every resource this foundation registered (children are named after the stack). */
  resources: PlanResource[];
  /** The resources of one type. */
  ofType(type: string): PlanResource[];
  /** The one resource of a type whose name ends with `suffix`; throws when there are none or several. */
  one(type: string, suffix: string): PlanResource;
}

function select(name: string, spec: PlatformSpec, foundation: AwsFoundation, all: PlanResource[]): BuiltFoundation {
  const resources = all.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const one = (type: string, suffix: string) => {
    const found = ofType(type).filter((r) => r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix} in ${name}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0] as PlanResource;
  };
  return { spec, foundation, resources, ofType, one };
}

/** Builds an AwsFoundation for each named spec under the plan's mocks, each named after its key. */
export async function buildFoundations<K extends string>(mocks: PlanMocks, specs: Record<K, PlatformSpec>): Promise<Record<K, BuiltFoundation>> {
  const built = (Object.entries(specs) as [K, PlatformSpec][]).map(([name, spec]) => ({ name, spec, foundation: new AwsFoundation(name, { stack: spec.stack, catalog: spec.catalog }) }));
  const all = await recorded(mocks);
  const out = {} as Record<K, BuiltFoundation>;
  for (const { name, spec, foundation } of built) out[name] = select(name, spec, foundation, all);
  return out;
}

/** Both AWS stacks of the repository, as `stacks/` and `catalog/` define them. */
export function awsStacks(): Record<AwsStackName, PlatformSpec> {
  return { "aws-dev": loadAwsStack("aws-dev"), "aws-prod": loadAwsStack("aws-prod") };
}
