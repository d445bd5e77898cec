import { beforeAll, describe, expect, it } from "vitest";
import { Platform } from "../../components/platform";
import type { PlanResource } from "../../components/plan-resource";
import { formatPolicyReport } from "../../policies/harness";
import { recorded, useMocks } from "../support/mocks";
import { changed, evaluate, fired, platform, type Props } from "./fixtures/resource";

/**
 * The pack over the whole platform of aws-prod as the real components build it under the plan's
 * mocks (the richest stack: three GPU pools, prod rules, every model): it passes clean, and the
 * same plan with the five classic breakages fails with exactly the expected rules.
 */

const STACK = "aws-prod";
let resources: PlanResource[] = [];

beforeAll(async () => {
  const spec = platform(STACK);
  const mocks = await useMocks(STACK, { region: spec.stack.region });
  new Platform("mlops", { spec });
  for (let seen = -1; seen !== resources.length; ) {
    seen = resources.length;
    resources = [...(await recorded(mocks))];
  }
  expect(mocks.unknownInvokes).toEqual([]);
}, 120_000);

function breakOne(all: PlanResource[], type: string, match: (r: PlanResource) => boolean, change: (props: Props) => void): PlanResource[] {
  const i = all.findIndex((r) => r.type === type && match(r));
  expect(i, `no ${type} to break`).toBeGreaterThanOrEqual(0);
  const copy = [...all];
  copy[i] = changed(all[i] as PlanResource, change);
  return copy;
}

describe(`the platform of ${STACK} built by the real components`, () => {
  it("passes every policy", () => {
    expect(resources.length).toBeGreaterThan(150);
    const report = evaluate(resources, STACK);
    if (report.violations.length) console.log(formatPolicyReport(report));
    expect(report.violations).toEqual([]);
  });

  it("fails with exactly the expected rules once broken", () => {
    let broken = resources.filter((r) => r.type !== "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    broken = breakOne(
      broken,
      "aws:elasticache/replicationGroup:ReplicationGroup",
      () => true,
      (r) => {
        r.transitEncryptionEnabled = false;
        r.atRestEncryptionEnabled = false;
      },
    );
    broken = breakOne(
      broken,
      "aws:eks/nodeGroup:NodeGroup",
      (r) => JSON.stringify(r.inputs.instanceTypes).includes("g6"),
      (r) => {
        r.taints = [];
      },
    );
    broken = breakOne(
      broken,
      "kubernetes:networking.istio.io/v1:VirtualService",
      (r) => JSON.stringify(r.inputs).includes("fraud-scorer"),
      (r) => {
        r.spec.http.find((route: Record<string, unknown>) => route.match === undefined).route[0].weight -= 10;
      },
    );
    broken = breakOne(
      broken,
      "kubernetes:apps/v1:Deployment",
      (r) => JSON.stringify(r.inputs).includes("fraud-scorer"),
      (r) => {
        delete r.spec.template.spec.containers[0].resources.limits;
      },
    );
    const report = evaluate(broken, STACK);
    expect(fired(report)).toEqual([
      "containers-have-resources",
      "elasticache-encrypted-with-auth",
      "gpu-pool-tainted",
      "s3-bucket-public-access-blocked",
      "virtualservice-matches-catalog",
      "virtualservice-weights-sum-to-100",
    ]);
    expect(report.advisory).toBe(0);
  });
});
