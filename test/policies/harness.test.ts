import * as aws from "@pulumi/aws";
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { policyPackConfig } from "../../policies/config";
import { evaluatePolicies, formatPolicyReport } from "../../policies/harness";
import { allPolicies } from "../../policies/policies";
import type { PlatformPolicy } from "../../policies/support";
import { edit } from "./fixtures/cases";
import { evaluate, fired, platform, policy, resource } from "./fixtures/resource";
import { validPlan } from "./fixtures/stacks";

const untainted = (stack: string) => {
  const plan = validPlan(stack);
  edit(plan, "pool-gpu-l4", (r) => {
    r.taints = [];
  });
  return Object.values(plan);
};

describe("the policy harness", () => {
  it("applies the stack file's enforcement override", () => {
    const base = evaluate(untainted("aws-dev"), "aws-dev", { policies: [policy("gpu-pool-tainted")] });
    expect(base.violations.map((v) => v.enforcementLevel)).toEqual(["mandatory"]);
    expect(base.mandatory).toBe(1);
    const relaxed = evaluate(untainted("aws-dev"), "aws-dev", {
      policies: [policy("gpu-pool-tainted")],
      stack: { policies: { "gpu-pool-tainted": "advisory" } },
    });
    expect(relaxed.violations.map((v) => v.enforcementLevel)).toEqual(["advisory"]);
    expect([relaxed.mandatory, relaxed.advisory]).toEqual([0, 1]);
  });

  it("skips a policy the stack file disables", () => {
    const report = evaluate(untainted("aws-dev"), "aws-dev", { stack: { policies: { "gpu-pool-tainted": "disabled" } } });
    expect(report.policiesRun).toBe(allPolicies.length - 1);
    expect(report.violations).toEqual([]);
  });

  it("uses the dev default level in dev stacks and the prod level in prod", () => {
    const drop = (stack: string) => {
      const plan = validPlan(stack);
      delete plan["fraud-scorer-v1-hpa"];
      return evaluate(Object.values(plan), stack, { policies: [policy("serving-autoscaled")] }).violations.map((v) => v.enforcementLevel);
    };
    expect(drop("aws-dev")).toEqual(["advisory"]);
    expect(drop("aws-prod")).toEqual(["mandatory"]);
  });

  it("refuses a stack file that names a policy the pack does not have", () => {
    expect(() => evaluate([], "local", { stack: { policies: { "gpu-pool-taint": "advisory" } } })).toThrow(
      /stacks\/Pulumi\.local\.yaml: policies: "gpu-pool-taint" is not a policy of the pack; use one of .*gpu-pool-tainted/,
    );
  });

  it("gives validateResource the engine's arguments: inputs, options, provider, isType/asType and config with schema defaults", () => {
    const seen: ResourceValidationArgs[] = [];
    const probe: PlatformPolicy = {
      area: "security",
      name: "probe",
      description: "records its arguments",
      enforcementLevel: "mandatory",
      configSchema: { properties: { environment: { type: "string", default: "prod" }, limit: { type: "integer", default: 3 } } },
      validateResource: (args) => {
        seen.push(args);
      },
    };
    const provider = resource("pulumi:providers:aws", "eu", { region: "eu-west-1", defaultTags: { tags: { team: "t" } } });
    const component = resource("mlops:aws:Foundation", "foundation", {}, { custom: false });
    const bucket = resource("aws:s3/bucket:Bucket", "artifacts", { forceDestroy: false }, { parent: component, protect: true, provider });
    const { stack, catalog } = platform("aws-dev");
    evaluatePolicies([provider, component, bucket], { stack, catalog, policies: [probe] });
    const args = seen.find((a) => a.urn === bucket.urn);
    expect(args?.props).toEqual({ forceDestroy: false });
    expect(args?.opts.protect).toBe(true);
    expect(args?.opts.parent).toBe(component.urn);
    expect(args?.provider).toEqual({ type: "pulumi:providers:aws", props: provider.inputs, urn: provider.urn, name: "eu" });
    expect(args?.isType(aws.s3.Bucket)).toBe(true);
    expect(args?.isType(aws.s3.BucketV2)).toBe(false);
    expect(args?.asType(aws.s3.Bucket)).toEqual({ forceDestroy: false });
    // The stack fact overrides the schema default; the other default stays.
    expect(args?.getConfig()).toEqual({ environment: "dev", limit: 3 });
    expect(() => args?.notApplicable("x")).toThrow();
    expect(seen).toHaveLength(3);
  });

  it("gives validateStack every resource's outputs linked to its parent and dependencies", () => {
    let resources: PolicyResource[] = [];
    const probe: PlatformPolicy = {
      area: "security",
      name: "probe-stack",
      description: "records the stack",
      enforcementLevel: "mandatory",
      validateStack: (args: StackValidationArgs) => {
        resources = args.resources;
      },
    };
    const component = resource("mlops:aws:Foundation", "foundation", {}, { custom: false });
    const bucket = resource("aws:s3/bucket:Bucket", "artifacts", {}, { parent: component, outputs: { bucket: "artifacts-1a2b" } });
    const block = resource(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "artifacts",
      { bucket: "artifacts-1a2b" },
      { parent: component, dependsOn: [bucket] },
    );
    const { stack, catalog } = platform("aws-dev");
    evaluatePolicies([component, bucket, block], { stack, catalog, policies: [probe] });
    const b = resources.find((r) => r.urn === bucket.urn);
    const pab = resources.find((r) => r.urn === block.urn);
    expect(b?.parent?.urn).toBe(component.urn);
    expect(b?.props.bucket).toBe("artifacts-1a2b");
    expect(pab?.dependencies).toEqual([b]);
    expect(pab?.isType(aws.s3.BucketPublicAccessBlock)).toBe(true);
  });

  it("calls a typed validation only for resources of its type, as the engine's fast path does", () => {
    let calls = 0;
    const typed = { ...policy("dynamodb-encrypted"), name: "typed" } as PlatformPolicy;
    const inner = (typed as { validateResource: (a: ResourceValidationArgs, r: () => void) => void }).validateResource;
    (typed as { validateResource: unknown }).validateResource = Object.assign(
      (a: ResourceValidationArgs, r: () => void) => {
        calls++;
        return inner(a, r);
      },
      { __pulumiType: "aws:dynamodb/table:Table" },
    );
    const { stack, catalog } = platform("aws-dev");
    evaluatePolicies(Object.values(validPlan("aws-dev")), { stack, catalog, policies: [typed] });
    expect(calls).toBe(1);
  });

  it("names the policy and the resource when a policy throws, and refuses async policies", () => {
    const { stack, catalog } = platform("local");
    const r = resource("kubernetes:core/v1:ConfigMap", "cm", {});
    const broken: PlatformPolicy = {
      area: "cost",
      name: "broken",
      description: "throws",
      validateResource: () => {
        throw new Error("boom");
      },
    };
    expect(() => evaluatePolicies([r], { stack, catalog, policies: [broken] })).toThrow(`policy "broken" failed on ${r.urn}: boom`);
    const slow: PlatformPolicy = { area: "cost", name: "slow", description: "async", validateResource: async () => {} };
    expect(() => evaluatePolicies([r], { stack, catalog, policies: [slow] })).toThrow(/returned a Promise/);
  });

  it("counts AWS provider default tags as the resource's tags", () => {
    const provider = resource("pulumi:providers:aws", "tagged", {
      defaultTags: { tags: { team: "t", environment: "dev", costCenter: "c" } },
    });
    const bucket = resource("aws:s3/bucket:Bucket", "artifacts", {}, { provider });
    expect(evaluate([provider, bucket], "aws-dev", { policies: [policy("resources-have-cost-labels")] }).violations).toEqual([]);
    expect(evaluate([bucket], "aws-dev", { policies: [policy("resources-have-cost-labels")] }).violations).toHaveLength(1);
  });

  it("prints mandatory violations first, each with the resource, the problem and the fix", () => {
    const plan = validPlan("aws-dev");
    edit(plan, "pool-gpu-l4", (r) => {
      r.taints = [];
    });
    delete plan["fraud-scorer-v1-hpa"];
    const text = formatPolicyReport(evaluate(Object.values(plan), "aws-dev"));
    expect(text).toMatch(/^policy pack: \d+ policies in [\d.]+ s: 1 mandatory, 1 advisory violation\(s\)/);
    expect(text).toMatch(/ {2}LEVEL {6}POLICY +VIOLATIONS\n {2}mandatory {2}gpu-pool-tainted +1\n {2}advisory {3}serving-autoscaled +1\n/);
    expect(text.indexOf("MANDATORY  gpu-pool-tainted")).toBeLessThan(text.indexOf("ADVISORY  serving-autoscaled"));
    expect(text).toContain("aws:eks/nodeGroup:NodeGroup pool-gpu-l4");
    expect(text).toContain('fix: add taints: [{ key: "nvidia.com/gpu"');
  });
});

describe("the pack", () => {
  it("has unique kebab-case names, each with a description, a level, typed config and one area", () => {
    const names = allPolicies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of allPolicies) {
      expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
      expect(p.configSchema?.properties).toBeDefined();
      expect(["security", "reliability", "cost", "catalog"]).toContain(p.area);
    }
  });

  it("writes a JSON policy config per stack for the real engine, with each policy's level and only the facts it declares", () => {
    const { stack, catalog } = platform("aws-prod");
    const config = policyPackConfig(stack, catalog, allPolicies);
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
    expect(config["gpu-pool-spot-in-dev"]).toEqual({ enforcementLevel: "disabled", environment: "prod" });
    expect(config["gpu-count-within-budget"]).toEqual({ enforcementLevel: "mandatory", maxGpus: 16 });
    expect(config["elasticache-encrypted-with-auth"]).toEqual({ enforcementLevel: "mandatory" });
  });

  it("fires nothing on the valid plan of any stack", () => {
    for (const stack of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"])
      expect(fired(evaluate(Object.values(validPlan(stack)), stack))).toEqual([]);
  });
});

describe("linking a bucket's settings to the bucket", () => {
  it("follows the engine's property dependencies when the plan records them, else the bucket's id", () => {
    const a = resource("aws:s3/bucket:Bucket", "a", { tags: {} }, { outputs: { id: "bucket-a", bucket: "bucket-a" } });
    const b = resource("aws:s3/bucket:Bucket", "b", { tags: {} }, { outputs: { id: "bucket-b", bucket: "bucket-b" } });
    const flags = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
    // Depends on both buckets (e.g. through a policy document), but its `bucket` property comes from b.
    const block = {
      ...resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "block",
        { bucket: "bucket-b", ...flags },
        { dependsOn: [a, b] },
      ),
      propertyDependencies: { bucket: [b.urn] },
    };
    const report = evaluate([a, b, block], "aws-dev", { policies: [policy("s3-bucket-public-access-blocked")] });
    expect(report.violations.map((v) => v.name)).toEqual(["a"]);
    const byValue = resource(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "block",
      { bucket: "bucket-a", ...flags },
      { dependsOn: [a, b] },
    );
    expect(
      evaluate([a, b, byValue], "aws-dev", { policies: [policy("s3-bucket-public-access-blocked")] }).violations.map((v) => v.name),
    ).toEqual(["b"]);
  });
});
