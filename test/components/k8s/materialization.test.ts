import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { Materialization, materializeJobName } from "../../../components/k8s/materialization";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const { stack, catalog } = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "gcp-dev" });
let mocks: PlanMocks;
let jobs: PlanResource[];

// biome-ignore lint/suspicious/noExplicitAny: tests walk rendered manifests as the API server would see them
type CronJob = { metadata: { name: string; namespace: string }; spec: Record<string, any> };

beforeAll(async () => {
  mocks = await useMocks("gcp-dev", { region: "us-central1" });
  const runtime = new RuntimeConfig("runtime", { stack, catalog });
  new Materialization("materialize", {
    stack,
    catalog,
    runtime,
    online: {
      kind: "redis",
      url: pulumi.output("redis://10.0.0.3:6379"),
      password: pulumi.secret("auth"),
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
    },
    offline: {
      kind: "bigquery",
      url: pulumi.output("bigquery://mlops-dev-4821/features"),
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
    },
  });
  jobs = await recorded(mocks, "kubernetes:batch/v1:CronJob");
});

const job = (view: string) =>
  jobs.map((j) => j.inputs as unknown as CronJob).find((j) => j.metadata.name === materializeJobName(view)) as CronJob;

describe("Materialization", () => {
  it("creates one CronJob per scheduled feature view, on that view's schedule", () => {
    const scheduled = Object.values(catalog.featureViews).filter((v) => v.schedule);
    expect(jobs).toHaveLength(scheduled.length);
    for (const view of scheduled) expect(job(view.name).spec.schedule).toBe(view.schedule);
    expect(job("card_realtime")).toBeUndefined();
  });

  it("runs materialize-incremental for its own view only", () => {
    const c = job("card_stats").spec.jobTemplate.spec.template.spec.containers[0];
    expect([...c.command, ...c.args]).toEqual([
      "node",
      "dist/services/features/main.js",
      "materialize-incremental",
      "now",
      "--views",
      "card_stats",
    ]);
    expect(c.image).toBe(stack.serving.image);
    const env = Object.fromEntries(
      c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env).toMatchObject({
      OFFLINE_STORE: "bigquery://mlops-dev-4821/features",
      CATALOG: "/etc/mlops/catalog",
      MATERIALIZATION_STATE: "/tmp/materialization-state.json",
    });
    expect(env.ONLINE_STORE).toEqual({ secretKeyRef: { name: "features-stores", key: "online-store-url" } });
  });

  it("never overlaps runs, bounds each run, retries a little and cleans up finished jobs", () => {
    for (const j of jobs.map((r) => r.inputs as unknown as CronJob)) {
      expect(j.spec.concurrencyPolicy).toBe("Forbid");
      const spec = j.spec.jobTemplate.spec;
      expect(spec.backoffLimit).toBe(2);
      expect(spec.activeDeadlineSeconds).toBe(3600);
      expect(spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
      expect(spec.template.spec.restartPolicy).toBe("Never");
      expect(spec.template.spec.serviceAccountName).toBe("features");
      expect(spec.template.spec.containers[0].securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("turns Feast view names into DNS-1123 CronJob names that fit Kubernetes' 52-character limit", () => {
    expect(materializeJobName("merchant_stats")).toBe("materialize-merchant-stats");
    const long = materializeJobName(`${"a_".repeat(40)}b`);
    expect(long.length).toBeLessThanOrEqual(52);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });
});
