import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PUSHGATEWAY } from "../../components/k8s/monitoring";
import type { PlanResource } from "../../components/plan-resource";
import { platformResources } from "./identity-support";

const root = resolve(__dirname, "../..");
let all: PlanResource[];
beforeAll(async () => {
  all = await platformResources("aws-dev");
}, 120_000);

describe("drift metrics reach Prometheus (aws-dev)", () => {
  it("installs a pinned Pushgateway whose ServiceMonitor keeps the pushed labels", () => {
    const release = all.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "prometheus-pushgateway");
    expect(release?.inputs.version).toBe(PUSHGATEWAY.chartVersion);
    expect(release).toBeDefined();
    expect((release!.inputs.values as { serviceMonitor: { enabled: boolean; honorLabels: boolean } }).serviceMonitor).toMatchObject({
      enabled: true,
      honorLabels: true,
    });
  });

  it("every drift check pushes there, under the variable the drift CLI reads", () => {
    const help = spawnSync(process.execPath, ["--import", "tsx", join(root, "services/drift/main.ts"), "check", "--help"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(help.stdout).toContain("[env PUSHGATEWAY]");
    const checks = all.filter(
      (r) => r.type === "kubernetes:batch/v1:CronJob" && (r.inputs.metadata as { name: string }).name.startsWith("drift-"),
    );
    expect(checks.length).toBeGreaterThanOrEqual(2);
    for (const c of checks) {
      const env =
        (c.inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } } })
          .jobTemplate.spec.template.spec.containers[0]?.env ?? [];
      expect(env).toContainEqual({ name: "PUSHGATEWAY", value: PUSHGATEWAY.url });
    }
  });
});
