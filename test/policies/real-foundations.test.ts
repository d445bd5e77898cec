import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { formatPolicyReport } from "../../policies/harness";
import { allPolicies } from "../../policies/policies";
import { cachedBuild } from "./fixtures/platform-cache";
import { evaluate, fired, platform } from "./fixtures/resource";

/**
 * The pack over what the real cloud components register under the plan's mocks (not hand-made
 * fixtures): each stack's AwsFoundation or GcpFoundation must pass every policy.
 */

const STACKS = ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"] as const;
let byStack: Record<string, PlanResource[]>;

beforeAll(async () => {
  // The components are imported inside the build, so a mutation run's cache hit loads neither them nor the providers.
  byStack = await cachedBuild("foundations", async () => {
    const { AwsFoundation } = await import("../../components/aws");
    const { GcpFoundation } = await import("../../components/gcp");
    const { recorded, useMocks } = await import("../support/mocks");
    const mocks = await useMocks("policy-foundations", { region: "us-east-1", gcpProject: "mlops-dev-4821" });
    for (const name of STACKS) {
      const { stack, catalog } = platform(name);
      if (stack.cloud === "aws") new AwsFoundation(name, { stack, catalog });
      else new GcpFoundation(name, { stack, catalog });
    }
    // Registrations inside applies land later; wait until the count stops moving, as the plan does.
    let all: PlanResource[] = [];
    for (let seen = -1; seen !== all.length; ) {
      seen = all.length;
      all = [...(await recorded(mocks))];
    }
    return Object.fromEntries(STACKS.map((name) => [name, all.filter((r) => r.name === name || r.name.startsWith(`${name}-`))]));
  });
}, 120_000);

/** Stack rules about the Kubernetes layer (mesh, routes), which a foundation alone does not create. */
const K8S_LAYER = ["istio-strict-mtls", "istio-default-deny", "virtualservice-subsets-exist", "virtualservice-matches-catalog"];
const cloudPolicies = allPolicies.filter((p) => !K8S_LAYER.includes(p.name));

describe("the cloud foundations the components build", () => {
  for (const name of STACKS) {
    it(`${name} passes every cloud policy`, () => {
      const resources = byStack[name] ?? [];
      expect(resources.length).toBeGreaterThan(20);
      const report = evaluate(resources, name, { policies: cloudPolicies });
      if (report.violations.length) console.log(formatPolicyReport(report));
      expect(fired(report)).toEqual([]);
    });
  }
});
