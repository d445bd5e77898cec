import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../../components/plan-resource";
import { type BreakageResult, runBreakages } from "../../../policies/scan/coverage";
import { allRows } from "../../../policies/scan/coverage-table";
import { buildRealPlatform } from "../fixtures/real";
import { platform } from "../fixtures/resource";

/**
 * Two rows of the coverage table run for real: aws-prod as the components build it, broken twice,
 * judged by Checkov, trivy, kube-score and the pack (the whole table is `npm run coverage`).
 */
describe("the coverage table's broken copies, for real", () => {
  let results: Record<string, BreakageResult> = {};
  beforeAll(async () => {
    const resources: PlanResource[] = await buildRealPlatform("aws-prod");
    const rows = allRows.filter((r) => r.id === "aws-rds-public" || r.id === "k8s-privileged");
    const breakages = Object.fromEntries(rows.map((r) => [r.id, r.breakage as NonNullable<typeof r.breakage>]));
    results = await runBreakages(mkdtempSync(join(tmpdir(), "coverage-")), { resources, ...platform("aws-prod") }, breakages);
  }, 900_000);

  it("a public tracking database fires Checkov's CKV_AWS_17, trivy's AVD-AWS-0180 and our rds-encrypted-private, and nothing else of ours", () => {
    expect(results["aws-rds-public"]?.scanners).toEqual(expect.arrayContaining(["checkov CKV_AWS_17", "trivy AVD-AWS-0180"]));
    expect(results["aws-rds-public"]?.policies).toEqual(["rds-encrypted-private"]);
  });

  it("a privileged container fires Checkov's CKV_K8S_16, trivy's AVD-KSV-0017, kube-score's privileged check and our rule", () => {
    expect(results["k8s-privileged"]?.scanners).toEqual(
      expect.arrayContaining(["checkov CKV_K8S_16", "trivy AVD-KSV-0017", "kube-score container-security-context-privileged"]),
    );
    expect(results["k8s-privileged"]?.policies).toEqual(["containers-no-privilege-escalation"]);
    expect(results["k8s-privileged"]?.scanners.some((s) => s.includes("CKV_AWS") || s.startsWith("trivy AVD-AWS"))).toBe(false);
  });
});
