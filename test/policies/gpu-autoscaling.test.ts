import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { readsQueueSignal } from "../../policies/gpu-autoscaling";
import { buildRealPlatform } from "./fixtures/real";
import { changed, evaluate, policy, type Props } from "./fixtures/resource";

const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const GPU_MODEL = "support-assistant";

/** The gpu-serving-scales-on-queue policy's violations (rule text) over a changed copy of aws-prod's real plan. */
function violations(resources: PlanResource[]): string[] {
  return evaluate(resources, "aws-prod", { policies: [policy("gpu-serving-scales-on-queue")] }).violations.map((v) => v.message);
}

const isGpuScaledObject = (r: PlanResource) => r.type === SCALED_OBJECT && JSON.stringify(r.inputs).includes(GPU_MODEL);

/** The GPU model's ScaledObjects replaced by what `make` builds from each. */
function replaceScaledObjects(resources: PlanResource[], make: (r: PlanResource) => PlanResource | undefined): PlanResource[] {
  return resources.flatMap((r) => (isGpuScaledObject(r) ? [make(r)].filter((x): x is PlanResource => x !== undefined) : [r]));
}

// aws-prod: support-assistant runs vLLM on an L4 GPU, fraud-scorer on CPU (onnx).
describe("gpu-serving-scales-on-queue over aws-prod's real plan", () => {
  let resources: PlanResource[] = [];
  beforeAll(async () => {
    resources = await buildRealPlatform("aws-prod");
    expect(resources.filter(isGpuScaledObject).length).toBeGreaterThan(0);
  }, 120_000);

  it("passes as the components build it: every GPU version has a ScaledObject on vllm:num_requests_waiting", () => {
    expect(violations(resources)).toEqual([]);
  });

  it("refuses a GPU Deployment with no autoscaler", () => {
    const found = violations(replaceScaledObjects(resources, () => undefined));
    expect(found.length).toBeGreaterThan(0);
    for (const v of found) expect(v).toMatch(/support-assistant.*\(nvidia\.com\/gpu\): has no autoscaler/);
  });

  it("refuses a CPU HorizontalPodAutoscaler in place of the ScaledObject", () => {
    const cpuHpa = (so: PlanResource): PlanResource => {
      const inputs = {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: so.inputs.metadata,
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: (so.inputs as Props).spec.scaleTargetRef.name },
          minReplicas: 2,
          maxReplicas: 5,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        },
      };
      return { ...so, type: HPA, inputs, outputs: { ...inputs, id: "hpa-id" } };
    };
    const found = violations(replaceScaledObjects(resources, cpuHpa));
    expect(found.length).toBeGreaterThan(0);
    for (const v of found) expect(v).toMatch(/is scaled by HorizontalPodAutoscaler .* on cpu, which does not follow a GPU runtime's load/);
  });

  it("refuses a ScaledObject whose only trigger is CPU", () => {
    const cpuOnly = (so: PlanResource) =>
      changed(so, (i) => {
        i.spec.triggers = [{ type: "cpu", metricType: "Utilization", metadata: { value: "70" } }];
      });
    const found = violations(replaceScaledObjects(resources, cpuOnly));
    expect(found.length).toBeGreaterThan(0);
    for (const v of found) expect(v).toMatch(/no prometheus trigger on a runtime queue signal \(triggers: cpu\)/);
  });

  it("refuses a prometheus trigger on request rate, which is not a queue", () => {
    const onRate = (so: PlanResource) =>
      changed(so, (i) => {
        i.spec.triggers = [
          {
            type: "prometheus",
            metadata: { serverAddress: "http://prometheus:9090", query: "sum(rate(mlops_serving_predictions_total[1m]))", threshold: "50" },
          },
        ];
      });
    expect(violations(replaceScaledObjects(resources, onRate)).length).toBeGreaterThan(0);
  });

  it("leaves CPU models alone: fraud-scorer without a ScaledObject is another policy's business", () => {
    const withoutCpuScalers = resources.filter((r) => !(r.type === SCALED_OBJECT && JSON.stringify(r.inputs).includes("fraud-scorer")));
    expect(withoutCpuScalers.length).toBeLessThan(resources.length);
    expect(violations(withoutCpuScalers)).toEqual([]);
  });
});

describe("readsQueueSignal", () => {
  it("finds a queue series by its whole name, in any position of the query", () => {
    expect(readsQueueSignal('sum(vllm:num_requests_waiting{model="m"})')).toBe(true);
    expect(readsQueueSignal("sum(rate(nv_inference_queue_duration_us[1m])) / clamp_min(x, 1)")).toBe(true);
    expect(readsQueueSignal("mlops:model_queue_depth")).toBe(true);
  });

  it("does not take a longer name that starts or ends with one for it", () => {
    expect(readsQueueSignal("sum(vllm:num_requests_waiting_total)")).toBe(false);
    expect(readsQueueSignal("sum(my_vllm:num_requests_waiting)")).toBe(false);
    expect(readsQueueSignal("sum(rate(mlops_serving_predictions_total[1m]))")).toBe(false);
  });
});
