import { describe, expect, it } from "vitest";
import { formatPolicyReport } from "../../policies/harness";
import { evaluate } from "./fixtures/resource";
import { validPlan } from "./fixtures/stacks";

describe("smoke", () => {
  for (const stack of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]) {
    it(`valid ${stack}`, () => {
      const report = evaluate(Object.values(validPlan(stack)), stack);
      if (report.violations.length) console.log(formatPolicyReport(report));
      expect(report.violations).toEqual([]);
    });
  }
});
