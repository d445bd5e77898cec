import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { TrackingServer } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { valueOf as outputValue, recorded, useMocks } from "../../support/mocks";
import { CLOUD_KEY_ENV, looksLikeCloudKey, named, ofKind, plain, platformOf, securityProblems, workloads } from "./k8s-objects";

const { stack } = platformOf("aws-prod");
const roleArn = "arn:aws:iam::123456789012:role/aws-prod-tracking";
const dbUrl = "postgresql://mlflow:s3cretPassw0rd@mlflow.abc.eu-west-1.rds.amazonaws.com:5432/mlflow";
let all: PlanResource[];
let tracking: TrackingServer;

beforeAll(async () => {
  const mocks = await useMocks("aws-prod", { region: "eu-west-1" });
  tracking = new TrackingServer("aws-prod-tracking", {
    stack,
    database: { url: pulumi.secret(dbUrl) },
    artifacts: {
      uri: pulumi.output("s3://aws-prod-artifacts-1a2b/mlflow"),
      predictionLogsUri: pulumi.output("s3://aws-prod-artifacts-1a2b/predictions"),
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({ "eks.amazonaws.com/role-arn": roleArn }),
    },
    serviceAccountAnnotations: pulumi.output<Record<string, string>>({ "eks.amazonaws.com/role-arn": roleArn }),
  });
  all = await recorded(mocks);
});

function mlflow() {
  const found = workloads(all).find((w) => w.object.inputs.metadata?.name === "mlflow");
  if (!found) throw new Error("no mlflow Deployment");
  return found;
}

describe("the MLflow tracking server on a cloud stack (aws-prod)", () => {
  it("serve artifacts from the bucket and read the backend store URL from a Secret", () => {
    const c = mlflow().pod.containers[0];
    expect(c?.image).toBe(stack.tracking.image);
    expect(c?.command).toEqual(["mlflow"]);
    const args = c?.args ?? [];
    expect(args[0]).toBe("server");
    expect(args).toContain("--serve-artifacts");
    expect(args[args.indexOf("--artifacts-destination") + 1]).toBe("s3://aws-prod-artifacts-1a2b/mlflow");
    expect(args[args.indexOf("--backend-store-uri") + 1]).toBe("$(DB_URL)");
    expect(c?.env?.find((e) => e.name === "DB_URL")?.valueFrom?.secretKeyRef).toEqual({ name: "mlflow-db", key: "url" });
    expect(plain<Record<string, string>>(named(all, "Secret", "mlflow-db").inputs.stringData).url).toBe(dbUrl);
    expect(JSON.stringify(mlflow().object.inputs)).not.toContain("s3cretPassw0rd");
  });

  it("probe readiness on /health, liveness on the port, and run non-root on a read-only root filesystem with a writable /tmp", () => {
    const { pod } = mlflow();
    const c = pod.containers[0];
    expect(c?.readinessProbe?.httpGet).toEqual({ path: "/health", port: 5000 });
    // MLflow has one health path: liveness only asks whether the server accepts connections.
    expect(c?.livenessProbe?.tcpSocket).toEqual({ port: 5000 });
    expect(securityProblems(c as NonNullable<typeof c>)).toEqual([]);
    expect(c?.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(pod.volumes?.find((v) => v.name === "tmp")?.emptyDir).toBeDefined();
  });

  it("reach the bucket through workload identity: the ServiceAccount carries the role, no env holds a key", () => {
    // Named for the workload: the IRSA role trusts exactly mlops/tracking.
    const sa = named(all, "ServiceAccount", "tracking");
    expect(plain(sa.inputs.metadata?.annotations)).toEqual({ "eks.amazonaws.com/role-arn": roleArn });
    expect((mlflow().pod as { serviceAccountName?: string }).serviceAccountName).toBe("tracking");
    for (const e of mlflow().pod.containers.flatMap((c) => c.env ?? [])) {
      expect(CLOUD_KEY_ENV).not.toContain(e.name);
      expect(looksLikeCloudKey(String(e.value ?? ""))).toBe(false);
    }
  });

  it("run two replicas behind a PodDisruptionBudget in prod", () => {
    expect((mlflow().object.inputs.spec as { replicas: number }).replicas).toBe(2);
    expect(ofKind(all, "PodDisruptionBudget").map((p) => p.inputs.metadata?.name)).toEqual(["mlflow"]);
  });

  it("publish the in-cluster URL on port 5000", async () => {
    expect(await outputValue(tracking.endpoint.url)).toBe("http://mlflow.mlops.svc.cluster.local:5000");
    const svc = named(all, "Service", "mlflow").inputs.spec as { ports: { name: string; port: number }[] };
    expect(svc.ports).toEqual([expect.objectContaining({ name: "http", port: 5000 })]);
  });
});
