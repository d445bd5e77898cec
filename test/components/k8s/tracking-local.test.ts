import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { TrackingServer } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { recorded, useMocks } from "../../support/mocks";
import { ofKind, platformOf, workloads } from "./k8s-objects";

const { stack } = platformOf("local");
let all: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("local", { region: "local" });
  new TrackingServer("local-tracking", {
    stack,
    database: { url: pulumi.secret("postgresql://mlflow:pw@postgres.mlops.svc.cluster.local:5432/mlflow") },
    artifacts: {
      uri: pulumi.output("s3://mlflow/artifacts"),
      predictionLogsUri: pulumi.output("s3://mlflow/predictions"),
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
      objectStore: { endpoint: "http://minio.mlops.svc.cluster.local:9000", credentialsSecret: "minio-credentials" },
    },
    serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
  });
  all = await recorded(mocks);
});

describe("the MLflow tracking server on the local stack", () => {
  it("reach the in-cluster object store with credentials from its Secret, never literal keys", () => {
    const c = workloads(all).find((w) => w.object.inputs.metadata?.name === "mlflow")?.pod.containers[0];
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e]));
    expect(env.MLFLOW_S3_ENDPOINT_URL?.value).toBe("http://minio.mlops.svc.cluster.local:9000");
    expect(env.AWS_ACCESS_KEY_ID?.value).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID?.valueFrom?.secretKeyRef).toEqual({ name: "minio-credentials", key: "root-user" });
    expect(env.AWS_SECRET_ACCESS_KEY?.valueFrom?.secretKeyRef).toEqual({ name: "minio-credentials", key: "root-password" });
  });

  it("run a single replica without a PodDisruptionBudget in dev", () => {
    const d = workloads(all).find((w) => w.object.inputs.metadata?.name === "mlflow")?.object;
    expect((d?.inputs.spec as { replicas?: number } | undefined)?.replicas).toBe(1);
    expect(ofKind(all, "PodDisruptionBudget")).toEqual([]);
  });
});
