import { describe, expect, it } from "vitest";
import { parseCheckov, parseKubeScore } from "../../../policies/scan/findings";

const report = (checkType: string, failed: { check_id: string; resource: string }[]) => ({
  check_type: checkType,
  results: { failed_checks: failed.map((f) => ({ ...f, check_name: "name", file_path: "/manifests/a.yaml" })), passed_checks: [] },
  summary: { passed: 1, failed: failed.length, parsing_errors: 0, resource_count: 3 },
});

describe("scanner reports", () => {
  it("reads Checkov's list of framework reports and its single-report form alike", () => {
    const two = parseCheckov(
      JSON.stringify([report("kubernetes", [{ check_id: "CKV_K8S_43", resource: "Deployment.m.a" }]), report("terraform_plan", [])]),
    );
    expect(two.findings).toEqual([
      { scanner: "checkov", check: "CKV_K8S_43", resource: "Deployment.m.a", detail: "name", file: "/manifests/a.yaml" },
    ]);
    expect(two.frameworks).toEqual({ kubernetes: { resources: 3, parsingErrors: 0 }, terraform_plan: { resources: 3, parsingErrors: 0 } });
    expect(parseCheckov(JSON.stringify(report("kubernetes", []))).frameworks.kubernetes?.resources).toBe(3);
  });

  it("keeps kube-score's failed and warned checks, not the passed or skipped ones", () => {
    const object = (grade: number, skipped = false) => ({
      check: { id: `c${grade}${skipped}` },
      grade,
      skipped,
      comments: [{ path: "app", summary: "s" }],
    });
    const findings = parseKubeScore(
      JSON.stringify([
        {
          object_name: "a",
          type_meta: { kind: "Deployment" },
          object_meta: { name: "a", namespace: "models" },
          checks: [object(1), object(5), object(7), object(10), object(1, true)],
        },
      ]),
    );
    expect(findings.map((f) => f.check)).toEqual(["c1false", "c5false", "c7false"]);
    expect(findings[0]).toEqual({ scanner: "kube-score", check: "c1false", resource: "Deployment.models.a", detail: "app: s" });
  });
});
