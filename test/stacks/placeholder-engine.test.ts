import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../stacks/plan/run";
import { PLAN_TIMEOUT } from "../support/plan";

const root = resolve(__dirname, "../..");

/**
 * The shipped dev stacks carry CIDR_PLACEHOLDER in cluster.publicAccessCidrs. `npm run plan`
 * accepts it (it sets MLOPS_OFFLINE_PLAN=1 for the program); under `pulumi preview` / `up` the
 * program runs without that variable and must stop before registering anything, saying which
 * file, which field and what to write there.
 */
describe("the dev stacks' endpoint CIDR placeholder under the engine's launch", () => {
  it(
    "stops the aws-dev program with the stack file's line, the field and an example value",
    async () => {
      const run = await runProgram(root, "aws-dev", () => {}, { offline: false });
      const text = run.errors.join("\n");
      expect(text).toMatch(
        /stacks\/Pulumi\.aws-dev\.yaml:\d+: cluster\.publicAccessCidrs\[0\]: "REPLACE-WITH-YOUR-EGRESS-CIDR" is a placeholder: who may reach the cluster's public API endpoint is yours to choose/,
      );
      expect(text).toContain('e.g. "81.2.69.160/32"');
      expect(text).toContain("privateEndpoint: true");
      // Nothing but the root stack got registered: the error came before the platform.
      expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    },
    PLAN_TIMEOUT,
  );
});
