import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../../../policies/scan/findings";
import { globMatches, judge, loadWaivers, type Waiver } from "../../../policies/scan/waivers";

const finding = (check: string, resource: string, scanner: Finding["scanner"] = "checkov"): Finding => ({
  scanner,
  check,
  resource,
  detail: "",
});
const waiver = (w: Partial<Waiver>): Waiver => ({
  scanner: "checkov",
  check: "CKV_K8S_43",
  resources: ["*"],
  stacks: ["*"],
  reason: "a reason long enough for a reviewer to read it",
  ...w,
});

describe("scanner waivers", () => {
  it("globs match whole names, with * as any run and dots literal", () => {
    expect(globMatches("DaemonSet.gpu-system.*", "DaemonSet.gpu-system.dcgm-exporter")).toBe(true);
    expect(globMatches("DaemonSet.gpu-system.*", "DaemonSet.models.dcgm-exporter")).toBe(false);
    expect(globMatches("aws_kms_key.a", "aws_kms_keyXa")).toBe(false);
    expect(globMatches("CronJob.mlops.drift-*", "x.CronJob.mlops.drift-a")).toBe(false);
  });

  it("a finding no waiver covers is unexplained; one a waiver covers carries its reason", () => {
    const verdict = judge(
      [finding("CKV_K8S_43", "Deployment.models.a"), finding("CKV_K8S_38", "Deployment.models.a")],
      [waiver({ resources: ["Deployment.models.*"] })],
      "aws-prod",
    );
    expect(verdict.unexplained).toEqual([finding("CKV_K8S_38", "Deployment.models.a")]);
    expect(verdict.waived.map((w) => w.reason)).toEqual(["a reason long enough for a reviewer to read it"]);
  });

  it("a waiver covers only its scanner, and only in the stacks it names", () => {
    const w = waiver({ check: "pod-probes-identical", scanner: "kube-score", stacks: ["aws-*"] });
    expect(judge([finding("pod-probes-identical", "DaemonSet.g.p")], [w], "aws-prod").unexplained).toHaveLength(1);
    expect(judge([finding("pod-probes-identical", "DaemonSet.g.p", "kube-score")], [w], "gcp-prod").unexplained).toHaveLength(1);
    expect(judge([finding("pod-probes-identical", "DaemonSet.g.p", "kube-score")], [w], "aws-dev").unexplained).toEqual([]);
  });

  it("a waiver that covers nothing in a stack it names is stale; in other stacks it is not asked", () => {
    const w = waiver({ stacks: ["local"] });
    expect(judge([], [w], "local").stale).toEqual([w]);
    expect(judge([], [w], "aws-prod").stale).toEqual([]);
  });

  it("the same finding twice counts once", () => {
    const f = finding("CKV_K8S_38", "CronJob.mlops.x");
    expect(judge([f, { ...f }], [], "local").unexplained).toHaveLength(1);
  });

  it("refuses a waiver without a real reason, naming the file and field", () => {
    const file = join(mkdtempSync(join(tmpdir(), "waivers-")), "w.yaml");
    writeFileSync(file, "waivers:\n  - scanner: checkov\n    check: CKV_K8S_43\n    resources: ['*']\n    reason: because\n");
    expect(() => loadWaivers(file)).toThrow(/w\.yaml: waivers\.0\.reason: say why a reviewer accepts it/);
  });

  it("the repository's waiver file loads, and every reason is a sentence", () => {
    const waivers = loadWaivers();
    expect(waivers.length).toBeGreaterThan(5);
    for (const w of waivers) expect(w.reason).toMatch(/\w+ \w+ \w+.*[.;:)]/);
  });
});
