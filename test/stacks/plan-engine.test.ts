import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProject, PLAN_TIMEOUT, plan } from "../support/plan";

describe("npm run plan under the engine's loader", () => {
  it(
    "fails on a type error in a component, naming the file, line and TypeScript message, as the engine's ts-node reports it",
    () => {
      const dir = copyProject();
      const file = join(dir, "components", "k8s", "monitoring", "dashboards.ts");
      const lines = readFileSync(file, "utf8").split("\n");
      const at = lines.findIndex((l) => l.startsWith("export function dashboards("));
      lines.splice(at, 0, 'export const planted: number = "not a number";');
      writeFileSync(file, lines.join("\n"));
      const { code, stdout, stderr } = plan(["local"], dir);
      expect(code).toBe(1);
      expect(stdout + stderr).toContain(
        `components/k8s/monitoring/dashboards.ts:${at + 1}:14: TS2322: Type 'string' is not assignable to type 'number'.`,
      );
      expect(stdout).toContain("FAIL");
    },
    PLAN_TIMEOUT,
  );

  it(
    "fails on a type error in the policy pack, which the engine type-checks with policies/tsconfig.json",
    () => {
      const dir = copyProject();
      const file = join(dir, "policies", "gpu.ts");
      writeFileSync(file, `${readFileSync(file, "utf8")}\nexport const planted: number = "not a number";\n`);
      const lines = readFileSync(file, "utf8").split("\n").length - 1;
      const { code, stdout, stderr } = plan(["local", "--json"], dir);
      expect(code).toBe(1);
      const summary = JSON.parse(stdout);
      expect(summary.errors.join("\n")).toContain(`policies/gpu.ts:${lines}:14: TS2322: Type 'string' is not assignable to type 'number'.`);
      expect(stderr).toContain("plan local: program ran");
    },
    PLAN_TIMEOUT,
  );
});
