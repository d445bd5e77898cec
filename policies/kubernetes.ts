import type * as k8s from "@pulumi/kubernetes";
import type { PolicyResource } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { asArray, asRecord, asStringRecord, get } from "./support";

/**
 * Reading Kubernetes objects as the engine hands them to policies: the type token is
 * "kubernetes:<group>/<version>:<Kind>" (core group: "kubernetes:core/v1:Pod"; custom resources
 * made with k8s.apiextensions.CustomResource get "kubernetes:<apiVersion>:<kind>" too).
 */

export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = Unwrap<k8s.types.input.core.v1.Container>;
export type ObjectMeta = Unwrap<k8s.types.input.meta.v1.ObjectMeta>;

/** Splits a Kubernetes type token into group, version and kind; undefined for other providers. */
export function kubernetesKind(type: string): { group: string; version: string; kind: string } | undefined {
  const match = /^kubernetes:(?:([^/:]+)\/)?([^/:]+):([A-Za-z][A-Za-z0-9]*)$/.exec(type);
  if (!match) return undefined;
  return { group: match[1] ?? "core", version: match[2] as string, kind: match[3] as string };
}

/** Whether the token names `kind` of `group` at any version (Istio serves v1, v1beta1 and v1alpha3 alike). */
export function isKind(type: string, group: string, kind: string): boolean {
  const k = kubernetesKind(type);
  return k !== undefined && k.group === group && k.kind === kind;
}

/** Kinds that carry a pod template, and where it sits. */
const POD_PATHS: Record<string, string[]> = {
  "core/Pod": ["spec"],
  "apps/Deployment": ["spec", "template", "spec"],
  "apps/StatefulSet": ["spec", "template", "spec"],
  "apps/DaemonSet": ["spec", "template", "spec"],
  "apps/ReplicaSet": ["spec", "template", "spec"],
  "batch/Job": ["spec", "template", "spec"],
  "batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** A workload object with its pod template, as policies read it. */
export interface PodWorkload {
  kind: string;
  /** "namespace/name" for messages. */
  ref: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Labels of the pods it creates. */
  podLabels: Record<string, string>;
  pod: PodSpec;
  /** Init containers first, then the app containers, each with where it sits. */
  containers: { container: Container; init: boolean }[];
}

/** The pod template of a workload object, or undefined when the type has none. */
export function podWorkload(type: string, props: Record<string, unknown>, fallbackName: string): PodWorkload | undefined {
  const k = kubernetesKind(type);
  if (!k) return undefined;
  const path = POD_PATHS[`${k.group}/${k.kind}`];
  if (!path) return undefined;
  const pod = asRecord(get(props, ...path)) as PodSpec;
  // The metadata beside the pod spec: the Pod's own (path ["spec"]), else the template's.
  const templateMeta = get(props, ...path.slice(0, -1), "metadata");
  const meta = objectMeta(props, fallbackName);
  const containers = [
    ...asArray(pod.initContainers).map((c) => ({ container: c as Container, init: true })),
    ...asArray(pod.containers).map((c) => ({ container: c as Container, init: false })),
  ];
  return { kind: k.kind, ...meta, podLabels: asStringRecord(get(templateMeta, "labels")), pod, containers };
}

/** Name, namespace, labels and annotations of any Kubernetes object. */
export function objectMeta(
  props: Record<string, unknown>,
  fallbackName: string,
): { ref: string; namespace: string; name: string; labels: Record<string, string>; annotations: Record<string, string> } {
  const metadata = asRecord(props.metadata);
  const name = typeof metadata.name === "string" ? metadata.name : fallbackName;
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "default";
  return {
    ref: `${namespace}/${name}`,
    namespace,
    name,
    labels: asStringRecord(metadata.labels),
    annotations: asStringRecord(metadata.annotations),
  };
}

/**
 * A label selector (matchLabels and matchExpressions) compiled once into a predicate, since a
 * large plan matches hundreds of selectors against hundreds of pods. An empty selector selects
 * nothing here: the platform never writes one, and a PDB with one would cover every pod.
 */
export function compileSelector(selector: unknown): (labels: Record<string, string>) => boolean {
  const matchLabels = Object.entries(asStringRecord(get(selector, "matchLabels")));
  const expressions = asArray(get(selector, "matchExpressions")).map((e) => ({
    key: String(get(e, "key")),
    operator: get(e, "operator"),
    values: asArray(get(e, "values")).map(String),
  }));
  if (matchLabels.length === 0 && expressions.length === 0) return () => false;
  return (labels) =>
    matchLabels.every(([key, value]) => labels[key] === value) &&
    expressions.every(({ key, operator, values }) => {
      const value = labels[key];
      switch (operator) {
        // values are strings: a missing label (undefined) is in none of them.
        case "In":
          return values.some((v) => v === value);
        case "NotIn":
          return !values.some((v) => v === value);
        case "Exists":
          return value !== undefined;
        case "DoesNotExist":
          return value === undefined;
        default:
          return false;
      }
    });
}

/** Whether a label selector selects these labels. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  return compileSelector(selector)(labels);
}

/**
 * Documented exceptions to the restricted pod rules. An object opts in with the label
 * `mlops.platform/policy-exception: <name>` (on the object or its pods) and the annotation
 * `mlops.platform/policy-exception-reason: <why>`; the exception is honoured only if <name> is
 * in this allowlist, waives only the policies listed, only in the namespaces listed and, for
 * host paths, only the paths listed. Anything else is still a violation, with the reason said.
 */
export const EXCEPTION_LABEL = "mlops.platform/policy-exception";
export const EXCEPTION_REASON_ANNOTATION = "mlops.platform/policy-exception-reason";

export interface PolicyException {
  policies: string[];
  namespaces: string[];
  hostPaths?: string[];
}

export const DEFAULT_EXCEPTIONS: Record<string, PolicyException> = {
  // The kubelet device-plugin socket lives in a root-owned host directory.
  "nvidia-device-plugin": {
    policies: ["pods-no-host-access", "containers-run-as-non-root"],
    namespaces: ["gpu-system"],
    hostPaths: ["/var/lib/kubelet/device-plugins"],
  },
  // DCGM opens the GPU device files and NVML as root (no capabilities, no host path).
  "dcgm-exporter": { policies: ["containers-run-as-non-root"], namespaces: ["gpu-system"] },
};

export const exceptionsSchema = {
  type: "object",
  description: `Allowlisted exceptions by the value of the ${EXCEPTION_LABEL} label: the policies each waives, where, and which host paths.`,
  default: DEFAULT_EXCEPTIONS,
} satisfies PolicyConfigJSONSchema;

/**
 * Whether the workload holds an allowlisted exception to `policy`. Returns the exception when
 * it applies, or a sentence saying why a claimed exception does not (for the violation message).
 */
export function exceptionFor(
  workload: Pick<PodWorkload, "labels" | "podLabels" | "annotations" | "namespace">,
  policy: string,
  allowlist: Record<string, PolicyException>,
): { granted?: PolicyException; refused?: string } {
  const name = workload.labels[EXCEPTION_LABEL] ?? workload.podLabels[EXCEPTION_LABEL];
  if (name === undefined) return {};
  const entry = allowlist[name];
  if (!entry)
    return { refused: `its ${EXCEPTION_LABEL} "${name}" is not in the allowlist (${Object.keys(allowlist).join(", ") || "none"})` };
  if (!entry.policies.includes(policy)) return { refused: `exception "${name}" does not waive ${policy}` };
  if (!entry.namespaces.includes(workload.namespace))
    return { refused: `exception "${name}" applies only in namespace(s) ${entry.namespaces.join(", ")}` };
  if (!workload.annotations[EXCEPTION_REASON_ANNOTATION]?.trim())
    return { refused: `exception "${name}" has no ${EXCEPTION_REASON_ANNOTATION} annotation saying why` };
  return { granted: entry };
}

/** The resource quantities of a container, requests and limits, by resource name. */
export function quantities(container: Container): { requests: Record<string, string>; limits: Record<string, string> } {
  const toStrings = (value: unknown) => Object.fromEntries(Object.entries(asRecord(value)).map(([k, v]) => [k, String(v)]));
  return { requests: toStrings(get(container, "resources", "requests")), limits: toStrings(get(container, "resources", "limits")) };
}

/** HPAs and KEDA ScaledObjects by the "namespace/kind/name" of what they scale (KEDA's default kind is Deployment). */
export function autoscalersByTarget(resources: PolicyResource[]): Map<string, PolicyResource[]> {
  const out = new Map<string, PolicyResource[]>();
  for (const r of resources) {
    const hpa = isKind(r.type, "autoscaling", "HorizontalPodAutoscaler");
    if (!hpa && !isKind(r.type, "keda.sh", "ScaledObject")) continue;
    const target = get(r.props, "spec", "scaleTargetRef");
    // KEDA's default kind is Deployment; an HPA always names it.
    const key = `${objectMeta(asRecord(r.props), r.name).namespace}/${String(get(target, "kind") ?? "Deployment")}/${String(get(target, "name"))}`;
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}
