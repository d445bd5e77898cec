import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DriftCheck } from "../../../components/k8s/drift-check";
import { renderRuntimeConfig, RuntimeConfig } from "../../../components/k8s/runtime-config";
import { k8sLabels } from "../../../components/names";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const { stack, catalog } = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "local" });
let mocks: PlanMocks;
let all: PlanResource[];

type Obj = {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: tests walk rendered manifests as the API server would see them
  spec: Record<string, any>;
};

beforeAll(async () => {
  mocks = await useMocks("local");
  const runtime = new RuntimeConfig("runtime", { stack, catalog });
  for (const model of Object.values(catalog.models)) {
    new DriftCheck(`${model.name}-drift`, { stack, model, runtime, serviceAccountAnnotations: pulumi.output<Record<string, string>>({}) });
  }
  all = await recorded(mocks);
});

const cron = (model: string) =>
  all
    .filter((r) => r.type === "kubernetes:batch/v1:CronJob")
    .map((r) => r.inputs as unknown as Obj)
    .find((o) => o.metadata.name === `drift-${model}`) as Obj;

describe("DriftCheck", () => {
  it("schedules one check per model deployed to the stack, on the model's drift schedule", () => {
    expect(Object.keys(catalog.models).sort()).toEqual(["churn-predictor", "fraud-scorer"]);
    expect(cron("fraud-scorer").spec.schedule).toBe("*/30 * * * *");
    expect(cron("churn-predictor").spec.schedule).toBe("0 * * * *");
  });

  it("runs the drift service's check for its model over the model's window, with the catalog mounted", () => {
    const pod = cron("fraud-scorer").spec.jobTemplate.spec.template.spec;
    const c = pod.containers[0];
    expect([...c.command, ...c.args]).toEqual([
      "node",
      "dist/services/drift/main.js",
      "check",
      "--model",
      "fraud-scorer",
      "--catalog",
      "/etc/mlops/catalog",
      "--window",
      "6h",
      "--json",
    ]);
    expect(c.volumeMounts).toContainEqual({ name: "catalog", mountPath: "/etc/mlops/catalog", readOnly: true });
    expect(pod.volumes).toContainEqual({ name: "catalog", configMap: { name: "mlops-catalog" } });
  });

  it("reads thresholds and method overrides from the same runtime config the services mount", () => {
    const models = JSON.parse(renderRuntimeConfig(stack, catalog)["models.json"] as string).models;
    expect(models["fraud-scorer"].drift).toMatchObject({ driftShare: 0.5, features: { merchant_risk: { method: "psi", threshold: 0.2 } } });
    expect(models["churn-predictor"].drift.driftShare).toBe(0.34);
    const annotations = cron("fraud-scorer").spec.jobTemplate.spec.template.metadata.annotations;
    expect(annotations["mlops.platform/catalog-checksum"]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("never overlaps checks and bounds each one", () => {
    const spec = cron("churn-predictor").spec;
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.jobTemplate.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(0);
  });

  it("runs every check as the one labelled drift ServiceAccount the cloud identity is bound to", () => {
    const sa = all.filter((r) => r.type === "kubernetes:core/v1:ServiceAccount").map((r) => r.inputs as unknown as Obj);
    expect(sa.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(["mlops/drift"]);
    expect(cron("fraud-scorer").spec.jobTemplate.spec.template.spec.serviceAccountName).toBe("drift");
    expect(cron("churn-predictor").spec.jobTemplate.spec.template.spec.serviceAccountName).toBe("drift");
    for (const s of sa) expect(s.metadata.labels).toMatchObject(k8sLabels(stack));
  });

  it("reads the prediction logs the serving pods write and the reference profile saved in the artifact store", async () => {
    const before = (await recorded(mocks)).length;
    const model = catalog.models["churn-predictor"];
    if (!model) throw new Error("example catalog lost churn-predictor");
    const runtime = new RuntimeConfig("runtime-2", { stack, catalog });
    new DriftCheck("churn-with-store", {
      stack,
      model,
      runtime,
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
      artifactsUri: "s3://mlops-artifacts-1a2b/mlflow",
      predictionLogsUri: "s3://mlops-artifacts-1a2b/predictions",
    });
    const job = (await recorded(mocks)).slice(before).find((r) => r.type === "kubernetes:batch/v1:CronJob")?.inputs as unknown as Obj;
    const args: string[] = job.spec.jobTemplate.spec.template.spec.containers[0].args;
    expect(args.slice(args.indexOf("--reference"), args.indexOf("--reference") + 2)).toEqual([
      "--reference",
      "s3://mlops-artifacts-1a2b/mlflow/drift/churn-predictor/reference.profile.json",
    ]);
    expect(args.slice(args.indexOf("--current"), args.indexOf("--current") + 2)).toEqual([
      "--current",
      "s3://mlops-artifacts-1a2b/predictions",
    ]);
  });
});
