import type { StackSpec } from "../definition";

/** Namespaces the platform creates. */
export const NAMESPACES = {
  /** features, drift, tracking and the in-cluster stores. */
  platform: "mlops",
  /** Istio control plane. */
  mesh: "istio-system",
  /** kube-prometheus-stack. */
  monitoring: "monitoring",
  /** NVIDIA device plugin and DCGM exporter. */
  gpu: "gpu-system",
  /** KEDA (stacks with autoscaling.keda); outside the mesh, as the API server calls its metrics server. */
  keda: "keda",
  /** KEDA's HTTP add-on (stacks with autoscaling.httpAddon); in the mesh, as its interceptor calls model pods. */
  kedaHttp: "keda-http",
} as const;

/**
 * The platform's workloads that need cloud access, and the Kubernetes ServiceAccount each runs
 * as. The cloud layer binds a cloud identity (IRSA role / GKE service account) to exactly these.
 * `serving` lives in the stack's model namespace (StackSpec.serving.namespace).
 */
export const WORKLOADS = ["features", "serving", "drift", "tracking", "training"] as const;
export type Workload = (typeof WORKLOADS)[number];

export function workloadNamespace(workload: Workload, stack: StackSpec): string {
  return workload === "serving" || workload === "training" ? stack.serving.namespace : NAMESPACES.platform;
}

/**
 * The Kubernetes ServiceAccount a workload runs as: named after the workload, in its namespace.
 * Cloud layers bind exactly this account to the workload's cloud identity (IRSA subject, GKE
 * Workload Identity member), so the Kubernetes layer must run the workload's pods as it.
 */
export function workloadServiceAccount(workload: Workload, stack: StackSpec): { namespace: string; name: string } {
  return { namespace: workloadNamespace(workload, stack), name: workload };
}

/** Kubernetes labels every object carries: team, environment and cost centre (policy requires them). */
export function k8sLabels(stack: StackSpec): Record<string, string> {
  const clean = (v: string) =>
    v
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, "-")
      .slice(0, 63);
  return {
    "app.kubernetes.io/part-of": "mlops-platform",
    "mlops.platform/team": clean(stack.tags.team ?? "unknown"),
    "mlops.platform/environment": stack.environment,
    "mlops.platform/cost-center": clean(stack.tags.costCenter ?? "unknown"),
  };
}

/** Cloud tags (AWS) / labels (GCP: lower-case keys and values) for every cloud resource. */
export function cloudTags(stack: StackSpec): Record<string, string> {
  return { ...stack.tags, "managed-by": "pulumi", stack: stack.name };
}

export function gcpLabels(stack: StackSpec): Record<string, string> {
  const clean = (v: string) =>
    v
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "_")
      .slice(0, 63);
  return Object.fromEntries(Object.entries(cloudTags(stack)).map(([k, v]) => [clean(k.replace(/([A-Z])/g, "_$1")), clean(v)]));
}
