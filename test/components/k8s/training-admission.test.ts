import { evaluate as cel } from "@marcbachmann/cel-js";
import { beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import { serviceAccountUser, TrainingAdmission, trainingAdmission } from "../../../components/k8s/training-admission";
import { jobFromCronJob, TrainingJob } from "../../../components/k8s/training-job";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform, type ModelSpec } from "../../../definition";
import { recorded, useMocks } from "../../support/mocks";

// The admission policy's CEL is evaluated by a CEL implementation (@marcbachmann/cel-js) against
// Jobs made from the real CronJobs the components render, the way the API server evaluates it:
// matchConditions first (does the policy apply), then variables, then each validation.
const { stack, catalog } = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "aws-dev" });
const base = catalog.models["fraud-scorer"] as ModelSpec;
const model = (name: string, image: string): ModelSpec => ({
  ...base,
  name,
  training: { image, command: ["python", "train.py"], resources: { cpu: "2", memory: "4Gi" }, backoffLimit: 1, activeDeadline: 3600 },
});

type Json = Record<string, unknown>;
let resources: PlanResource[] = [];
const DRIFT = serviceAccountUser({ namespace: "mlops", name: "drift" });

beforeAll(async () => {
  const mocks = await useMocks("aws-dev");
  const runtime = new RuntimeConfig("rc", { stack, catalog });
  const jobs = [model("fraud-scorer", "ghcr.io/acme/fraud-train:1.4.0"), model("churn", "ghcr.io/acme/churn-train:2.0.1")].map(
    (m) =>
      new TrainingJob(`${m.name}-train`, {
        stack,
        model: m,
        runtime,
        trackingUrl: "http://mlflow",
        featuresUrl: "http://features",
        serviceAccountAnnotations: {},
      }),
  );
  new TrainingAdmission("training-admission", { stack, templates: jobs.map((j) => j.template) });
  resources = await recorded(mocks);
}, 60_000);

const inputs = (type: string, name?: string) => {
  const found = resources.find((r) => r.type === type && (name === undefined || (r.inputs.metadata as Json).name === name));
  if (!found) throw new Error(`no ${type} ${name ?? ""}`);
  return found.inputs as Json;
};
const policy = () =>
  inputs("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy") as {
    spec: Json & { matchConditions: Json[]; variables: Json[]; validations: Json[] };
  };
const jobFrom = (cronJob: string) =>
  jobFromCronJob(inputs("kubernetes:batch/v1:CronJob", cronJob) as never, "drift", new Date("2026-12-02T01:02:03Z")) as Json & {
    spec: { template: { spec: Json & { containers: Json[] } } };
  };

/** What the API server decides for `object` created by `username`: "skip" (policy does not apply), "allow" or "deny". */
function admit(object: Json, username = DRIFT): "skip" | "allow" | "deny" {
  const { spec } = policy();
  const request = { userInfo: { username } };
  if (!spec.matchConditions.every((c) => cel(String(c.expression), { request, object }) === true)) return "skip";
  const variables = Object.fromEntries(spec.variables.map((v) => [String(v.name), cel(String(v.expression), { object })]));
  return spec.validations.every((v) => cel(String(v.expression), { request, object, variables }) === true) ? "allow" : "deny";
}

describe("the admission policy on Jobs the drift check creates", () => {
  it("is a fail-closed v1 policy on CREATE of batch Jobs in the serving namespace, bound with Deny", () => {
    const { spec } = policy();
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.matchConstraints).toEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "models" } },
      resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }],
    });
    const binding = inputs("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding") as { spec: Json };
    expect(binding.spec).toEqual({ policyName: "drift-creates-only-training-jobs", validationActions: ["Deny"] });
  });

  it("admits a Job made from either training CronJob, as the retraining webhook makes it", () => {
    expect(admit(jobFrom("train-fraud-scorer"))).toBe("allow");
    expect(admit(jobFrom("train-churn"))).toBe("allow");
  });

  it("denies a Job that runs another image", () => {
    const job = jobFrom("train-fraud-scorer");
    job.spec.template.spec.containers[0] = { ...job.spec.template.spec.containers[0], image: "ghcr.io/evil/miner:1" };
    expect(admit(job)).toBe("deny");
  });

  it("denies a Job with another model's image under this model's name", () => {
    const job = jobFrom("train-fraud-scorer");
    job.spec.template.spec.containers[0] = { ...job.spec.template.spec.containers[0], image: "ghcr.io/acme/churn-train:2.0.1" };
    expect(admit(job)).toBe("deny");
  });

  it("denies a Job that runs as another ServiceAccount, or names none", () => {
    const other = jobFrom("train-fraud-scorer");
    other.spec.template.spec.serviceAccountName = "features";
    expect(admit(other)).toBe("deny");
    const none = jobFrom("train-fraud-scorer");
    delete none.spec.template.spec.serviceAccountName;
    expect(admit(none)).toBe("deny");
  });

  it("denies a Job not named after a training CronJob", () => {
    const job = jobFrom("train-fraud-scorer");
    job.metadata = { ...(job.metadata as Json), name: "backup-20261202" };
    expect(admit(job)).toBe("deny");
  });

  it("denies a Job that adds an init container or a second container", () => {
    const init = jobFrom("train-fraud-scorer");
    init.spec.template.spec.initContainers = [{ name: "x", image: "busybox" }];
    expect(admit(init)).toBe("deny");
    const second = jobFrom("train-fraud-scorer");
    second.spec.template.spec.containers.push({ name: "y", image: "busybox" });
    expect(admit(second)).toBe("deny");
  });

  it("does not apply to Jobs other users create (the CronJob controller, operators)", () => {
    const job = jobFrom("train-fraud-scorer");
    job.spec.template.spec.containers[0] = { ...job.spec.template.spec.containers[0], image: "anything:1" };
    expect(admit(job, "system:serviceaccount:kube-system:cronjob-controller")).toBe("skip");
  });

  it("denies everything the drift check creates when the stack has no training CronJob", () => {
    const { policy: empty } = trainingAdmission({ namespace: "models", creator: { namespace: "mlops", name: "drift" }, templates: [] });
    const expression = String(empty.spec.validations[0]?.expression);
    const object = jobFrom("train-fraud-scorer");
    expect(cel(expression, { object, variables: { pod: object.spec.template.spec } })).toBe(false);
  });
});
