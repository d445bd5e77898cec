import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../../policies/harness";
import { useMocks } from "../../support/mocks";
import { type BuiltFoundation, buildGcpFoundations, GCP_STACKS, type GcpStackName } from "./fixture";

let built: Record<GcpStackName, BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("gcp-policies", { region: "us-central1", gcpProject: "mlops-dev-4821" });
  built = await buildGcpFoundations(mocks);
});

describe.each(GCP_STACKS)("the policy pack over the GCP layer of %s", (stackName) => {
  it("finds no violation on any GCP resource", () => {
    const { spec, resources } = built[stackName];
    const report = evaluatePolicies(resources, { stack: spec.stack, catalog: spec.catalog });
    expect(report.policiesRun).toBeGreaterThan(20);
    const ours = new Set(resources.map((r) => r.urn));
    const onResources = report.violations.filter((v) => ours.has(v.urn));
    expect(onResources.map((v) => `${v.policy}: ${v.message} (${v.fix})`)).toEqual([]);
  });
});
