import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { QUEUE_SIGNALS, readsQueueSignal } from "../../policies/gpu-autoscaling";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, violationsOf } from "./fixtures/resource";

/**
 * gpu-serving-scales-on-queue (policies/gpu-autoscaling.ts) over aws-dev's real plan, broken one
 * way at a time, each case asserting the whole list of violations (message and fix). aws-dev:
 * support-assistant-llama-8b in models runs vLLM with one nvidia.com/gpu, scaled by a KEDA
 * ScaledObject on vllm:num_requests_waiting; the CPU models (fraud-scorer, churn-predictor) scale
 * on in-flight requests.
 */

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const GPU_MODEL = "support-assistant-llama-8b";

const resources = realPlan("aws-dev");

const run = (all: PlanResource[]) => violationsOf(all, "aws-dev", "gpu-serving-scales-on-queue");
const named = (name: string) => (r: PlanResource) => (r.inputs as Props).metadata?.name === name;

const SUBJECT = `Deployment "models/${GPU_MODEL}" (nvidia.com/gpu)`;
const KEDA_FIX =
  "let ModelServing scale it: a KEDA ScaledObject with a prometheus trigger on the runtime's queue (autoscaling in the model's catalog file; the stack needs autoscaling.keda)";
const TRIGGER_FIX = `add a prometheus trigger on one of ${QUEUE_SIGNALS.join(", ")}`;

/** The plan with the GPU model's ScaledObject changed (or removed). */
const scaledObject = (change?: (r: Props) => void) => withBreakage(resources, { type: SCALED_OBJECT, match: named(GPU_MODEL), change });
/** The plan with the GPU model's Deployment changed. */
const deployment = (change: (r: Props) => void, plan = resources) =>
  withBreakage(plan, { type: DEPLOYMENT, match: named(GPU_MODEL), change });
/** The GPU model's triggers replaced by `triggers`. */
const triggered = (...triggers: Props[]) => scaledObject((r) => (r.spec.triggers = triggers));
const onQuery = (type: string, query: string) => ({ type, metadata: { serverAddress: "http://prometheus:9090", query, threshold: "5" } });
const noQueueTrigger = (kinds: string) => ({
  message: `${SUBJECT}: is scaled by ScaledObject "models/${GPU_MODEL}" with no prometheus trigger on a runtime queue signal (triggers: ${kinds}).`,
  fix: TRIGGER_FIX,
});

/** An HPA on the GPU model with these metrics, in place of (or beside) its ScaledObject. */
function hpa(metrics: Props[] | undefined): PlanResource {
  const so = resources.find((r) => r.type === SCALED_OBJECT && named(GPU_MODEL)(r)) as PlanResource;
  const inputs: Props = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: `${GPU_MODEL}-hpa`, namespace: "models" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: GPU_MODEL }, minReplicas: 1, maxReplicas: 4, metrics },
  };
  return { ...so, type: HPA, name: `${GPU_MODEL}-hpa`, urn: `${so.urn}-hpa`, inputs, outputs: { ...inputs, id: "hpa-id" } };
}
const byHpa = (on: string) => ({
  message: `${SUBJECT}: is scaled by HorizontalPodAutoscaler "models/${GPU_MODEL}-hpa" on ${on}, which does not follow a GPU runtime's load.`,
  fix: `remove it and ${KEDA_FIX}`,
});
const cpu = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } };

describe("gpu-serving-scales-on-queue on aws-dev's real plan", () => {
  it("passes the real output", () => {
    expect(run(resources)).toEqual([]);
  });

  it("refuses the GPU Deployment without an autoscaler", () => {
    expect(run(scaledObject())).toEqual([{ message: `${SUBJECT}: has no autoscaler.`, fix: KEDA_FIX }]);
  });

  it("names each GPU resource the containers ask for, in order, from limits or requests", () => {
    const plan = deployment((r) => {
      const gpu = r.spec.template.spec.containers.find((c: Props) => c.name === "openai");
      gpu.resources.limits = { "nvidia.com/mig-1g.10gb": "1", ...gpu.resources.limits };
      gpu.resources.requests["example.com/fpga"] = "1";
    }, scaledObject());
    expect(run(plan)).toEqual([
      { message: `Deployment "models/${GPU_MODEL}" (nvidia.com/gpu, nvidia.com/mig-1g.10gb): has no autoscaler.`, fix: KEDA_FIX },
    ]);
    const requestOnly = deployment((r) => {
      const gpu = r.spec.template.spec.containers.find((c: Props) => c.name === "openai");
      delete gpu.resources.limits["nvidia.com/gpu"];
    }, scaledObject());
    expect(run(requestOnly)).toEqual([{ message: `${SUBJECT}: has no autoscaler.`, fix: KEDA_FIX }]);
  });

  it("does not count an init container's GPU: a CPU model with one is left alone", () => {
    const plan = withBreakage(
      withBreakage(resources, {
        type: DEPLOYMENT,
        match: named("fraud-scorer-v1"),
        change: (r) => {
          const spec = r.spec.template.spec;
          spec.initContainers = [{ name: "warm", image: spec.containers[0].image, resources: { limits: { "nvidia.com/gpu": "1" } } }];
        },
      }),
      { type: SCALED_OBJECT, match: named("fraud-scorer-v1") },
    );
    expect(run(plan)).toEqual([]);
  });

  it("leaves other GPU workloads alone: the GPU model as a StatefulSet without a scaler is not a served Deployment", () => {
    const withoutScaler = scaledObject();
    const i = withoutScaler.findIndex((r) => r.type === DEPLOYMENT && named(GPU_MODEL)(r));
    const asStatefulSet = withoutScaler[i] as PlanResource;
    withoutScaler[i] = { ...asStatefulSet, type: "kubernetes:apps/v1:StatefulSet", urn: `${asStatefulSet.urn}-sts` };
    expect(run(withoutScaler)).toEqual([]);
  });

  it("leaves a GPU Deployment outside the serving namespace alone", () => {
    expect(run(deployment((r) => (r.metadata.namespace = "mlops"), scaledObject()))).toEqual([]);
  });

  it("refuses a CPU HPA in place of the ScaledObject, and says only that", () => {
    expect(run([...scaledObject(), hpa([cpu])])).toEqual([byHpa("cpu")]);
  });

  it("refuses an HPA beside the ScaledObject", () => {
    expect(run([...resources, hpa([cpu])])).toEqual([byHpa("cpu")]);
  });

  it("names the HPA's metrics by resource, else by type, else ?, and CPU when it has none", () => {
    const memory = { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } };
    expect(run([...scaledObject(), hpa([cpu, memory])])).toEqual([byHpa("cpu, memory")]);
    expect(run([...scaledObject(), hpa([{ type: "External", external: { metric: { name: "queue" } } }])])).toEqual([byHpa("External")]);
    expect(run([...scaledObject(), hpa([{}])])).toEqual([byHpa("?")]);
    expect(run([...scaledObject(), hpa(undefined)])).toEqual([byHpa("CPU (the HPA's default)")]);
  });

  it("refuses a ScaledObject with no triggers, or none on a queue, listing their types", () => {
    expect(run(triggered())).toEqual([noQueueTrigger("none")]);
    expect(run(triggered({ type: "cpu", metricType: "Utilization", metadata: { value: "70" } }, { metadata: {} }))).toEqual([
      noQueueTrigger("cpu, ?"),
    ]);
  });

  it("takes only a prometheus trigger on a queue signal", () => {
    const waiting = 'sum(vllm:num_requests_waiting{model="support-assistant"})';
    expect(run(triggered(onQuery("metrics-api", waiting)))).toEqual([noQueueTrigger("metrics-api")]);
    expect(run(triggered(onQuery("prometheus", "sum(rate(vllm:request_success_total[1m]))")))).toEqual([noQueueTrigger("prometheus")]);
    expect(run(triggered({ type: "prometheus", metadata: { serverAddress: "http://prometheus:9090" } }))).toEqual([
      noQueueTrigger("prometheus"),
    ]);
    expect(run(triggered(onQuery("cpu", waiting), onQuery("prometheus", waiting)))).toEqual([]);
    expect(run(triggered(onQuery("prometheus", "sum(mlops:model_queue_seconds)")))).toEqual([]);
  });
});

describe("readsQueueSignal at the edges of a name", () => {
  it("refuses a name run on by a letter, a digit, an underscore or a colon, on either side", () => {
    for (const query of [
      "vllm:num_requests_waitingX",
      "vllm:num_requests_waiting9",
      "vllm:num_requests_waiting:sum",
      "Xvllm:num_requests_waiting",
      "9vllm:num_requests_waiting",
      "a:vllm:num_requests_waiting",
      "zmlops_serving_in_flight_requests",
    ]) {
      expect(readsQueueSignal(query), query).toBe(false);
    }
  });

  it("takes a name bounded by PromQL punctuation or the ends of the query", () => {
    for (const query of ["vllm:num_requests_waiting", "max(vllm:num_requests_waiting)", "1-vllm:num_requests_waiting{a='b'}"]) {
      expect(readsQueueSignal(query), query).toBe(true);
    }
  });

  it("keeps looking past a longer name to the name itself", () => {
    expect(readsQueueSignal("vllm:num_requests_waiting_total + vllm:num_requests_waiting")).toBe(true);
    expect(readsQueueSignal("xvllm:num_requests_waiting + vllm:num_requests_waiting_total")).toBe(false);
  });

  it("reads every queue signal, and only whole ones", () => {
    for (const name of QUEUE_SIGNALS) {
      expect(readsQueueSignal(`sum(${name})`), name).toBe(true);
      expect(readsQueueSignal(`sum(${name}_x)`), name).toBe(false);
    }
  });
});
