import { describe, expect, it } from "vitest";
import { avdId, parseCheckov, parseKubeScore, parseTrivy } from "../../../policies/scan/findings";

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

  it("keeps trivy's failed misconfigurations by AVD id, naming a manifest's object and a plan's resource address", () => {
    // trivy v0.74 reports the short id (AWS-0089) and no AVDID, and a plan as the virtual main.tf it makes of it.
    const misconfiguration = (id: string, status: string, resource = "") => ({
      ID: id.replace("AVD-", ""),
      Title: "title",
      Message: "message",
      Status: status,
      CauseMetadata: { Resource: resource, Provider: "p", Service: "s" },
    });
    const report = {
      SchemaVersion: 2,
      Results: [
        {
          Target: "manifests/models.deployment.a.yaml",
          Class: "config",
          Type: "kubernetes",
          Misconfigurations: [misconfiguration("AVD-KSV-0017", "FAIL"), misconfiguration("AVD-KSV-0014", "PASS")],
        },
        { Target: "manifests/models.service.a.yaml", Class: "config", Type: "kubernetes" },
        { Target: ".", Class: "config", Type: "terraformplan" },
        {
          Target: "main.tf",
          Class: "config",
          Type: "terraformplan",
          Misconfigurations: [misconfiguration("AVD-AWS-0089", "FAIL", "aws_s3_bucket.artifacts")],
        },
      ],
    };
    const names = new Map([["manifests/models.deployment.a.yaml", "Deployment.models.a"]]);
    const parsed = parseTrivy(JSON.stringify(report), names, "copy/tfplan.json");
    expect(parsed.findings).toEqual([
      {
        scanner: "trivy",
        check: "AVD-KSV-0017",
        resource: "Deployment.models.a",
        detail: "title: message",
        file: "manifests/models.deployment.a.yaml",
      },
      { scanner: "trivy", check: "AVD-AWS-0089", resource: "aws_s3_bucket.artifacts", detail: "title: message", file: "copy/tfplan.json" },
    ]);
    expect(parsed.targets).toEqual({ kubernetes: 2, terraformplan: 1 });
    expect(parseTrivy(JSON.stringify({ SchemaVersion: 2 }), new Map()).findings).toEqual([]);
  });

  it("names a trivy check by its AVD id whichever way trivy spells it", () => {
    expect(avdId("KSV-0017")).toBe("AVD-KSV-0017");
    expect(avdId("AWS-0089", "AVD-AWS-0089")).toBe("AVD-AWS-0089");
    expect(avdId("KSV-0017", "AVD-KSV-0017")).toBe("AVD-KSV-0017");
    expect(avdId("custom-check")).toBe("custom-check");
  });
});
