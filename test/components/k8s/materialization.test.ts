import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { exportRoot, Materialization, materializationPlan, materializeJobName } from "../../../components/k8s/materialization";
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
    artifacts: {
      uri: pulumi.output("gs://mlops-dev-artifacts/mlflow"),
      predictionLogsUri: pulumi.output("gs://mlops-dev-artifacts/predictions"),
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
      // Durable state in the Redis online store, where every pod and every run reads it.
      MATERIALIZATION_STATE: "online",
      MATERIALIZATION_EXPORT_URI: "gs://mlops-dev-artifacts/materialization",
    });
    expect(env.ONLINE_STORE).toEqual({ secretKeyRef: { name: "features-stores", key: "online-store-url" } });
  });

  it("never overlaps runs, bounds each run, retries a little and cleans up finished jobs", () => {
    for (const j of jobs.map((r) => r.inputs as unknown as CronJob)) {
      expect(j.spec.concurrencyPolicy).toBe("Forbid");
      const spec = j.spec.jobTemplate.spec;
      expect(spec.completionMode).toBe("Indexed");
      expect(spec.backoffLimitPerIndex).toBe(2);
      expect(spec.backoffLimit).toBeUndefined();
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

  it("fails the whole Job at once on a usage or definition error, and does not count evictions against a shard", () => {
    const policy = job("card_stats").spec.jobTemplate.spec.podFailurePolicy;
    expect(policy.rules).toEqual([
      { action: "FailJob", onExitCodes: { containerName: "materialize", operator: "In", values: [2, 3] } },
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    ]);
  });
});

describe("materializationPlan", () => {
  const view = catalog.featureViews.card_stats as NonNullable<(typeof catalog.featureViews)[string]>;
  const cloud = { online: "redis", offline: "bigquery" } as const;

  it("runs one pod per shard, all at once unless parallelism is lower, each writing its own index of the export", () => {
    const plan = materializationPlan({ ...view, materialization: { shards: 4, parallelism: 2 } }, cloud);
    expect(plan.indexed).toEqual({ completions: 4, parallelism: 2, backoffLimitPerIndex: 2 });
    expect(plan.args.slice(-2)).toEqual(["--shard", "$(SHARD_INDEX)/4"]);
    expect(plan.env.SHARD_INDEX).toEqual({ fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" });
    // Every pod of one Job shares its uid as the run id: one window, one export.
    expect(plan.env.MATERIALIZATION_RUN_ID).toEqual({ fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" });
  });

  it("defaults the shards by expected rows: one per 20M, at most 32", () => {
    const shards = (expectedRows: number) => materializationPlan({ ...view, materialization: { expectedRows } }, cloud).shards;
    expect(shards(0)).toBe(1);
    expect(shards(20_000_000)).toBe(1);
    expect(shards(100_000_000)).toBe(5);
    expect(shards(1_000_000_000)).toBe(32);
    expect(materializationPlan(view, cloud).args).not.toContain("--shard");
  });

  it("runs a sharded view in one pod on a stack whose export stays on the pod's disk, and says why", () => {
    const plan = materializationPlan({ ...view, materialization: { shards: 4 } }, { online: "redis", offline: "duckdb" });
    expect(plan.shards).toBe(1);
    expect(plan.notes[0]).toContain("4 shards run as 1 on this stack");
  });

  it("fans out on a DynamoDB stack too: the writers share the run through DynamoDB's state table", () => {
    const plan = materializationPlan({ ...view, materialization: { shards: 4 } }, { online: "dynamodb", offline: "redshift" });
    expect(plan.shards).toBe(4);
    expect(plan.notes).toEqual([]);
    expect(plan.env.MATERIALIZATION_STATE).toBe("online");
  });

  it("exports under the artifact bucket's materialization/ prefix when the warehouse can write it", () => {
    expect(exportRoot("bigquery", "gs://acme-artifacts/mlflow")).toBe("gs://acme-artifacts/materialization");
    expect(exportRoot("redshift", "s3://acme-artifacts/mlflow")).toBe("s3://acme-artifacts/materialization");
    expect(exportRoot("duckdb", "s3://minio/mlflow")).toBe("/tmp/exports");
  });
});
