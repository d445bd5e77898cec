import { describe, expect, it } from "vitest";
import { compileErrors, formatCompileError } from "../../../stacks/plan/diagnostics";

describe("compile errors from ts-node's report", () => {
  it("re-bases files on the repository root and joins continuation lines", () => {
    const text = [
      "Running program '/repo/stacks/index.ts' failed with an unhandled exception:",
      "TSError: ⨯ Unable to compile TypeScript:",
      "../components/k8s/monitoring/dashboards.ts(65,3): error TS2322: Type '{ id: number; }[]' is not assignable to type 'Panel[]'.",
      "  Type '{ id: number; }' is not assignable to type 'Panel'.",
      "index.ts(3,7): error TS2304: Cannot find name 'x'.",
      "",
      "    at createTSError (/repo/node_modules/ts-node/index.js:1:1)",
    ].join("\n");
    const errors = compileErrors(text, "/repo/stacks", "/repo");
    expect(errors).toEqual([
      {
        file: "components/k8s/monitoring/dashboards.ts",
        line: 65,
        column: 3,
        code: "TS2322",
        message: "Type '{ id: number; }[]' is not assignable to type 'Panel[]'. Type '{ id: number; }' is not assignable to type 'Panel'.",
      },
      { file: "stacks/index.ts", line: 3, column: 7, code: "TS2304", message: "Cannot find name 'x'." },
    ]);
    expect(formatCompileError(errors[1] as (typeof errors)[number])).toBe("stacks/index.ts:3:7: TS2304: Cannot find name 'x'.");
  });

  it("finds none in a runtime error", () => {
    expect(compileErrors("Error: boom\n    at f (/repo/x.ts:1:1)", "/repo", "/repo")).toEqual([]);
  });
});
