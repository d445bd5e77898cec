import { describe, expect, it } from "vitest";
import { stackCommand } from "../../../stacks/plan/stack-command";

const spec = {
  usage: "npm run plan -- <stack> [--json]",
  description: "Plans a stack.",
  flags: [{ name: "json", type: "boolean" as const, description: "JSON on stdout", env: "PLAN_JSON" }],
  stacks: ["aws-dev", "local"],
};

describe("the one-stack command line of plan and scan", () => {
  it("takes one known stack and its flags, a flag also from its environment twin", () => {
    expect(stackCommand("plan", ["local", "--json"], spec, {})).toEqual({ stackName: "local", values: { help: undefined, json: true } });
    expect(stackCommand("plan", ["aws-dev"], spec, { PLAN_JSON: "true" })).toMatchObject({ stackName: "aws-dev", values: { json: true } });
  });

  it("prints the help on stdout with exit 0", () => {
    const r = stackCommand("scan", ["--help"], spec, {});
    expect(r).toMatchObject({ exit: 0 });
    expect("stdout" in r && r.stdout).toContain("npm run plan -- <stack> [--json]");
  });

  it("refuses no stack, two stacks, an unknown stack and an unknown flag with exit 2, naming the stacks or the flag", () => {
    expect(stackCommand("plan", [], spec, {})).toMatchObject({
      exit: 2,
      stderr: expect.stringMatching(/^plan: name exactly one stack: aws-dev, local\n/),
    });
    expect(stackCommand("scan", ["local", "aws-dev"], spec, {})).toMatchObject({
      exit: 2,
      stderr: expect.stringMatching(/^scan: name exactly one stack/),
    });
    expect(stackCommand("plan", ["gcp-dev"], spec, {})).toEqual({
      exit: 2,
      stderr: 'plan: stack "gcp-dev" does not exist (no stacks/Pulumi.gcp-dev.yaml); stacks: aws-dev, local',
    });
    expect(stackCommand("plan", ["local", "--jsn"], spec, {})).toMatchObject({ exit: 2, stderr: expect.stringContaining("jsn") });
  });
});
