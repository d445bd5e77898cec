import { beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import { jobFromCronJob, ON_DEMAND_SCHEDULE, TrainingJob } from "../../../components/k8s/training-job";
import { ACCELERATOR_LABEL, loadPlatform, type ModelSpec } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks } from "../../support/mocks";

let mocks: PlanMocks;
const { stack, catalog } = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "aws-dev" });
const base = catalog.models["fraud-scorer"] as ModelSpec;

const cpuModel: ModelSpec = {
  ...base,
  name: "fraud-scorer",
  training: {
    image: "ghcr.io/acme/fraud-train:1.4.0",
    command: ["python", "train.py"],
    schedule: "0 3 * * 1",
    resources: { cpu: "2", memory: "4Gi" },
    backoffLimit: 2,
    activeDeadline: 7200,
  },
};
const gpuModel: ModelSpec = {
  ...base,
  name: "support-assistant",
  training: {
    image: "ghcr.io/acme/llm-finetune:0.9.1",
    command: [],
    resources: { cpu: "8", memory: "48Gi" },
    gpu: { count: 1, accelerator: "nvidia-l4" },
    backoffLimit: 0,
    activeDeadline: 86400,
  },
};

type CronJobInputs = {
  metadata: { name: string; namespace: string };
  spec: {
    schedule: string;
    suspend: boolean;
    jobTemplate: {
      spec: {
        backoffLimit: number;
        activeDeadlineSeconds: number;
        ttlSecondsAfterFinished: number;
        // biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
        template: { spec: Record<string, any> };
      };
    };
  };
};

beforeAll(async () => {
  mocks = await useMocks("aws-dev");
  const runtime = new RuntimeConfig("runtime", { stack, catalog });
  new TrainingJob("fraud-train", {
    stack,
    model: cpuModel,
    runtime,
    trackingUrl: "http://mlflow.mlops.svc.cluster.local:5000",
    featuresUrl: "http://features.mlops.svc.cluster.local:6566",
    serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/training" },
  });
  new TrainingJob("llm-train", {
    stack,
    model: gpuModel,
    runtime,
    trackingUrl: "http://mlflow:5000",
    featuresUrl: "http://features:6566",
    serviceAccountAnnotations: {},
  });
});

async function cronJob(name: string): Promise<CronJobInputs> {
  const jobs = await recorded(mocks, "kubernetes:batch/v1:CronJob");
  return jobs.find((j) => (j.inputs as CronJobInputs).metadata.name === name)?.inputs as CronJobInputs;
}

describe("TrainingJob", () => {
  it("schedules retraining with the catalog's limits on retries and run time", async () => {
    const job = await cronJob("train-fraud-scorer");
    expect(job.spec.schedule).toBe("0 3 * * 1");
    expect(job.spec.suspend).toBe(false);
    expect(job.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 7200, ttlSecondsAfterFinished: 86400 });
    expect(job.metadata.namespace).toBe(stack.serving.namespace);
  });

  it("injects the MLflow tracking URI and the training-set location, and no cloud keys", async () => {
    const env = (await cronJob("train-fraud-scorer")).spec.jobTemplate.spec.template.spec.containers[0].env as {
      name: string;
      value: string;
    }[];
    const vars = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(vars.MLFLOW_TRACKING_URI).toBe("http://mlflow.mlops.svc.cluster.local:5000");
    expect(vars.FEATURE_SERVICE).toBe("fraud_scorer_v1");
    expect(vars.FEATURES_URL).toBe("http://features.mlops.svc.cluster.local:6566");
    expect(Object.keys(vars).some((k) => /AWS_ACCESS_KEY|AWS_SECRET|GOOGLE_APPLICATION_CREDENTIALS/.test(k))).toBe(false);
    const sa = (await recorded(mocks, "kubernetes:core/v1:ServiceAccount")).find(
      (s) => (s.inputs as { metadata: { name: string } }).metadata.name === "training",
    );
    expect(sa).toBeDefined();
    expect((sa?.inputs as { metadata: { annotations: Record<string, string> } } | undefined)?.metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/training",
    });
  });

  it("places GPU training on the GPU pool with the toleration, affinity and GPU limits", async () => {
    const job = await cronJob("train-support-assistant");
    const pod = job.spec.jobTemplate.spec.template.spec;
    expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]).toEqual({
      key: ACCELERATOR_LABEL,
      operator: "In",
      values: ["nvidia-l4"],
    });
    expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(pod.containers[0].resources.requests["nvidia.com/gpu"]).toBe("1");
  });

  it("a model without a schedule gets a suspended CronJob: the template for on-demand runs", async () => {
    const job = await cronJob("train-support-assistant");
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.schedule).toBe(ON_DEMAND_SCHEDULE);
  });

  it("CPU training requests no GPU and runs non-root with a read-only root filesystem", async () => {
    const c = (await cronJob("train-fraud-scorer")).spec.jobTemplate.spec.template.spec.containers[0];
    expect(c.resources.limits["nvidia.com/gpu"]).toBeUndefined();
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("lets only the drift workload create Jobs from the training template", async () => {
    const bindings = await recorded(mocks, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
    const binding = bindings.find((b) => (b.inputs as { metadata: { name: string } }).metadata.name === "train-fraud-scorer-trigger")
      ?.inputs as { subjects: unknown[] };
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "drift", namespace: "mlops" }]);
    const roles = await recorded(mocks, "kubernetes:rbac.authorization.k8s.io/v1:Role");
    const role = roles.find((r) => (r.inputs as { metadata: { name: string } }).metadata.name === "train-fraud-scorer-trigger")?.inputs as {
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(role.rules.flatMap((r) => r.verbs).sort()).toEqual(["create", "get"]);
  });

  it("the webhook's Job copies the CronJob's template and names its trigger", () => {
    const job = jobFromCronJob(
      { metadata: { name: "train-fraud-scorer", namespace: "models", uid: "u-1" }, spec: { jobTemplate: { spec: { backoffLimit: 2 } } } },
      "dataset drift 0.6 >= 0.5",
      new Date("2026-11-23T18:05:07Z"),
      // biome-ignore lint/suspicious/noExplicitAny: the Job is untyped JSON, read by path in assertions
    ) as { metadata: Record<string, any>; spec: unknown };
    expect(job.metadata.name).toBe("train-fraud-scorer-20261123180507");
    expect(job.metadata.annotations["mlops.platform/trigger"]).toBe("dataset drift 0.6 >= 0.5");
    expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: "CronJob", uid: "u-1" });
    expect(job.spec).toEqual({ backoffLimit: 2 });
  });
});
