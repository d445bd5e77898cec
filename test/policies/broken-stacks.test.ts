import { describe, expect, it } from "vitest";
import { evaluate, fired } from "./fixtures/resource";
import { brokenPlan, validPlan } from "./fixtures/stacks";

const EVERYWHERE = ["containers-have-resources", "virtualservice-matches-catalog", "virtualservice-weights-sum-to-100"];
const EXPECTED: Record<string, string[]> = {
  "aws-dev": [...EVERYWHERE, "elasticache-encrypted-with-auth", "gpu-pool-tainted", "s3-bucket-public-access-blocked"],
  "aws-prod": [...EVERYWHERE, "elasticache-encrypted-with-auth", "gpu-pool-tainted", "s3-bucket-public-access-blocked"],
  "gcp-dev": [...EVERYWHERE, "gcs-bucket-private", "gpu-pool-tainted", "memorystore-auth-and-tls"],
  "gcp-prod": [...EVERYWHERE, "gcs-bucket-private", "gpu-pool-tainted", "memorystore-auth-and-tls"],
  // The local stack creates no cloud bucket, managed Redis or node pool.
  local: EVERYWHERE,
};

describe("a deliberately broken copy of each stack", () => {
  for (const [stack, expected] of Object.entries(EXPECTED)) {
    it(`${stack} fails with exactly the expected rules, all mandatory`, () => {
      expect(fired(evaluate(Object.values(validPlan(stack)), stack))).toEqual([]);
      const report = evaluate(Object.values(brokenPlan(stack)), stack);
      expect(fired(report)).toEqual([...expected].sort());
      expect(report.advisory).toBe(0);
      expect(report.mandatory).toBe(report.violations.length);
      for (const v of report.violations) {
        expect(v.urn).not.toBe("");
        expect(v.fix.length).toBeGreaterThan(10);
      }
    });
  }
});
