import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import type { Finding } from "../../../policies/scan/findings";
import type { Waiver } from "../../../policies/scan/waivers";

const root = resolve(__dirname, "../../..");

interface ScanSummary {
  ok: boolean;
  manifests: number;
  cloudResources: number;
  checkov: { frameworks: Record<string, { resources: number; parsingErrors: number }> };
  trivy: { targets: Record<string, number>; findings: number; seconds: number };
  promtool: { ruleFiles: number; testFiles: number; findings: number };
  waived: number;
  unexplained: Finding[];
  stale: Waiver[];
  problems: string[];
  seconds: number;
}

/**
 * `npm run scan -- <stack>` as CI and users run it (the same entry, in a child process: the real
 * Checkov, trivy, kube-score and promtool judge the stack's own plan). One stack per test file, so vitest
 * runs stacks in parallel forks.
 */
export function describeScan(stack: string, expectCloud: boolean): void {
  it(`${stack}: every finding of Checkov, trivy, kube-score and promtool is fixed or waived with a reason`, () => {
    const out = mkdtempSync(join(tmpdir(), `scan-${stack}-`));
    const ran = spawnSync(process.execPath, ["--import", "tsx", join(root, "policies/scan/main.ts"), stack, "--json", "--out", out], {
      cwd: root,
      encoding: "utf8",
      timeout: 600_000,
    });
    expect(ran.stdout, ran.stderr.slice(-3000)).toMatch(/^\{/);
    const summary = JSON.parse(ran.stdout) as ScanSummary;
    expect(summary.unexplained).toEqual([]);
    expect(summary.stale).toEqual([]);
    expect(summary.problems).toEqual([]);
    expect(ran.status).toBe(0);
    // The scanners saw what the plan wrote: every manifest, every cloud resource, the alert tests.
    expect(summary.checkov.frameworks.kubernetes?.resources).toBeGreaterThan(20);
    if (expectCloud) expect(summary.checkov.frameworks.terraform_plan?.resources).toBe(summary.cloudResources);
    // trivy read every manifest and, on a cloud stack, the Terraform plan (as the virtual main.tf it makes of it).
    expect(summary.trivy.targets.kubernetes).toBe(summary.manifests);
    if (expectCloud) expect(summary.trivy.targets.terraformplan).toBe(1);
    expect(summary.cloudResources > 0).toBe(expectCloud);
    expect(summary.promtool).toMatchObject({ ruleFiles: 1, testFiles: 1, findings: 0 });
    const tfplan = JSON.parse(readFileSync(join(out, "tfplan.json"), "utf8"));
    expect(tfplan.planned_values.root_module.resources.length).toBe(summary.cloudResources);
  }, 600_000);
}
