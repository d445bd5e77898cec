import { AwsFoundation } from "../../../components/aws";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform, PLATFORM_KEY, type PlatformSpec, parseStack, readYaml, stackFile } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { expect } from "vitest";
import { recorded, useMocks } from "../../support/mocks";

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
    if (found.length !== 1)
      throw new Error(`expected one ${type} named *${suffix} in ${name}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0] as PlanResource;
  };
  return { spec, foundation, resources, ofType, one };
}

/** Builds an AwsFoundation for each named spec under the plan's mocks, each named after its key. */
export async function buildFoundations<K extends string>(
  mocks: PlanMocks,
  specs: Record<K, PlatformSpec>,
): Promise<Record<K, BuiltFoundation>> {
  const built = (Object.entries(specs) as [K, PlatformSpec][]).map(([name, spec]) => ({
    name,
    spec,
    foundation: new AwsFoundation(name, { stack: spec.stack, catalog: spec.catalog }),
  }));
  const all = await recorded(mocks);
  const out = {} as Record<K, BuiltFoundation>;
  for (const { name, spec, foundation } of built) out[name] = select(name, spec, foundation, all);
  return out;
}

/** Both AWS stacks of the repository, as `stacks/` and `catalog/` define them. */
export function awsStacks(): Record<AwsStackName, PlatformSpec> {
  return { "aws-dev": loadAwsStack("aws-dev"), "aws-prod": loadAwsStack("aws-prod") };
}

/**
 * A variant of a repository stack: its YAML config with `change` applied, parsed and
 * cross-checked like any stack file, so the variant is a stack a user could write.
 */
export function variantOf(base: AwsStackName, name: string, change: (platform: Record<string, unknown>) => void): PlatformSpec {
  const source = readYaml(stackFile("stacks", base));
  const config = (source.data as { config: Record<string, Record<string, unknown>> }).config;
  const platform = structuredClone(config[PLATFORM_KEY]) as Record<string, unknown>;
  change(platform);
  // The shipped dev stacks carry the endpoint CIDR placeholder, which only offline readers accept.
  const stack = parseStack(platform, name, `stacks/Pulumi.${name}.yaml`, undefined, { allowPlaceholders: true });
  return { stack, catalog: loadAwsStack(base).catalog };
}

/** The security group EKS gives the control plane and managed nodes (what data stores admit). */
export function clusterSecurityGroupId(b: BuiltFoundation): string {
  const cluster = b.ofType("aws:eks/cluster:Cluster")[0];
  const id = (cluster?.outputs.vpcConfig as Inputs | undefined)?.clusterSecurityGroupId;
  if (typeof id !== "string") throw new Error("the recorded EKS cluster has no cluster security group");
  return id;
}

/** Parses a JSON document recorded as a resource input (IAM policies, trust policies). */
export function parseJson(value: unknown): Inputs {
  if (typeof value !== "string") throw new Error(`expected a JSON string input, got ${typeof value}`);
  return JSON.parse(value) as Inputs;
}

/**
 * Both AWS stacks' foundations under fresh plan mocks named `mockName` (one name per test file: the
 * Pulumi runtime is global), failing on any invoke the mocks do not know. For a file's beforeAll.
 */
export async function builtFoundations(mockName: string): Promise<Record<AwsStackName, BuiltFoundation>> {
  const mocks = await useMocks(mockName, { region: "us-east-1" });
  const built = await buildFoundations(mocks, awsStacks());
  expect(mocks.unknownInvokes).toEqual([]);
  return built;
}
