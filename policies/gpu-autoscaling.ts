import type { PolicyResource } from "@pulumi/policy";
import { RECORDED, SERVING_SIGNALS, TRITON_METRICS, VLLM_METRICS } from "../definition";
import { autoscalersByTarget, isKind, objectMeta, podWorkload } from "./kubernetes";
import { asArray, asRecord, type Facts, facts, get, type PlatformPolicy, violation } from "./support";

/**
 * A GPU runtime's CPU says nothing about its load (the GPU does the work; vLLM and Triton keep a
 * core or two busy whatever the queue), so a CPU HPA on a GPU Deployment never scales it when it
 * should. The signal is the runtime's queue: vLLM's requests waiting or KV-cache usage, Triton's
 * queue time or pending requests, the serving image's in-flight requests, or the platform's
 * recorded queue names built from them (definition/runtime-metrics.ts lists each with its source).
 */
export const QUEUE_SIGNALS: readonly string[] = [
  VLLM_METRICS.requestsWaiting.name,
  VLLM_METRICS.requestsRunning.name,
  VLLM_METRICS.kvCacheUsage.name,
  TRITON_METRICS.queueDuration.name,
  TRITON_METRICS.pendingRequests.name,
  SERVING_SIGNALS.inFlight,
  RECORDED.queueDepth,
  RECORDED.queueSeconds,
];

/** True when a PromQL query reads one of the queue signals (as a whole series name, not a prefix of another). */
export function readsQueueSignal(query: string): boolean {
  return QUEUE_SIGNALS.some((name) => {
    for (let at = query.indexOf(name); at >= 0; at = query.indexOf(name, at + 1)) {
      const next = query.charAt(at + name.length);
      const before = query.charAt(at - 1); // "" at the start (charAt(-1))
      if (!/[A-Za-z0-9_:]/.test(next) && !/[A-Za-z0-9_:]/.test(before)) return true;
    }
    return false;
  });
}

/** The extended resources a pod asks for that are GPUs (whole, time-sliced or MIG slices). */
function gpuResources(resource: PolicyResource): string[] {
  const w = podWorkload(resource.type, asRecord(resource.props), resource.name);
  if (!w) return [];
  const names = new Set<string>();
  for (const { container, init } of w.containers) {
    if (init) continue;
    for (const side of ["limits", "requests"] as const)
      for (const key of Object.keys(asRecord(get(container, "resources", side)))) if (key.startsWith("nvidia.com/")) names.add(key);
  }
  return [...names].sort();
}

/** What is wrong with how a GPU Deployment is scaled; empty when a ScaledObject scales it on a queue signal. */
export function gpuScalingProblems(scalers: PolicyResource[]): { what: string; fix: string }[] {
  const fix =
    "let ModelServing scale it: a KEDA ScaledObject with a prometheus trigger on the runtime's queue (autoscaling in the model's catalog file; the stack needs autoscaling.keda)";
  const problems: { what: string; fix: string }[] = [];
  for (const h of scalers.filter((s) => isKind(s.type, "autoscaling", "HorizontalPodAutoscaler"))) {
    const metrics = asArray(get(h.props, "spec", "metrics")).map((m) => String(get(m, "resource", "name") ?? get(m, "type") ?? "?"));
    problems.push({
      what: `is scaled by HorizontalPodAutoscaler "${objectMeta(asRecord(h.props), h.name).ref}" on ${metrics.join(", ") || "CPU (the HPA's default)"}, which does not follow a GPU runtime's load`,
      fix: `remove it and ${fix}`,
    });
  }
  const scaled = scalers.filter((s) => isKind(s.type, "keda.sh", "ScaledObject"));
  if (!scaled.length && !problems.length) problems.push({ what: "has no autoscaler", fix });
  for (const s of scaled) {
    const triggers = asArray(get(s.props, "spec", "triggers"));
    const onQueue = triggers.some((t) => get(t, "type") === "prometheus" && readsQueueSignal(String(get(t, "metadata", "query"))));
    if (!onQueue) {
      const kinds = triggers.map((t) => String(get(t, "type") ?? "?"));
      problems.push({
        what: `is scaled by ScaledObject "${objectMeta(asRecord(s.props), s.name).ref}" with no prometheus trigger on a runtime queue signal (triggers: ${kinds.join(", ") || "none"})`,
        fix: `add a prometheus trigger on one of ${QUEUE_SIGNALS.join(", ")}`,
      });
    }
  }
  return problems;
}

export const gpuServingScalesOnQueue: PlatformPolicy = {
  area: "reliability",
  name: "gpu-serving-scales-on-queue",
  description:
    "Every serving Deployment with GPUs is scaled by a KEDA ScaledObject with a Prometheus trigger on its runtime's queue (vLLM requests waiting, Triton queue time, in-flight requests), never by a CPU HPA.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { servingNamespace: facts.servingNamespace } },
  validateStack: (args, report) => {
    const { servingNamespace } = args.getConfig<Facts>();
    const scalers = autoscalersByTarget(args.resources);
    for (const r of args.resources) {
      if (!isKind(r.type, "apps", "Deployment")) continue;
      const meta = objectMeta(asRecord(r.props), r.name);
      if (meta.namespace !== servingNamespace) continue;
      const gpus = gpuResources(r);
      if (!gpus.length) continue;
      for (const p of gpuScalingProblems(scalers.get(`${meta.namespace}/Deployment/${meta.name}`) ?? []))
        report(violation(`Deployment "${meta.ref}" (${gpus.join(", ")})`, p.what, p.fix), r.urn);
    }
  },
};

export const gpuAutoscalingPolicies: PlatformPolicy[] = [gpuServingScalesOnQueue];
