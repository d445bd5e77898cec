import { homedir } from "node:os";
import { join } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import type { StackSpec } from "../../definition";
import type { ClusterAccess } from "../types";
import { GpuDevicePlugin, NODE_CRITICAL_PRIORITY } from "./gpu-device-plugin";

/** Default kubeconfig of a local stack, as kubectl uses it. */
export const DEFAULT_KUBECONFIG = "~/.kube/config";

/** `~/x` -> `<home>/x`; other paths are returned unchanged. */
export function expandHome(path: string, home = homedir()): string {
  if (path === "~") return home;
  return path.startsWith("~/") ? join(home, path.slice(2)) : path;
}

/**
 * The cluster of a `local` stack: an existing kubeconfig and context (kind, k3d, minikube).
 * The file is not read here: the Kubernetes provider reads the path when it connects, so the
 * credential-free plan works on a machine without that file.
 */
export function localClusterAccess(stack: StackSpec): ClusterAccess {
  const context = stack.cluster.context;
  return {
    name: pulumi.output(context ?? "local"),
    kubeconfig: pulumi.secret(expandHome(stack.cluster.kubeconfig ?? DEFAULT_KUBECONFIG)),
    context,
    workloadIdentity: "none",
  };
}

/** Keys of the namespaces the platform creates: NAMESPACES plus the stack's model namespace. */
export type NamespaceKey = keyof typeof NAMESPACES | "models";

/** Pod Security admission mode per namespace: `restricted` where every pod can meet it. */
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface NamespacePlan {
  key: NamespaceKey;
  name: string;
  /** Sidecar injection (mTLS, authorization policies) for the platform's own workloads. */
  injection: boolean;
  /** Enforced level; the others are warned and audited against `restricted` regardless. */
  enforce: PodSecurityLevel;
  /** Why a namespace is not enforced `restricted`. */
  reason?: string;
}

/**
 * Which namespaces exist, which get sidecars and which Pod Security level each can enforce.
 * Injected namespaces are `restricted` only when the platform installs Istio itself, because it
 * installs the Istio CNI plugin: without CNI, the injected istio-init container needs NET_ADMIN,
 * which neither `baseline` nor `restricted` admits (an adopted mesh may lack CNI).
 */
export function namespacePlan(stack: StackSpec): NamespacePlan[] {
  const cni = stack.mesh.mode === "install";
  const injected = (key: NamespaceKey, name: string): NamespacePlan =>
    cni
      ? { key, name, injection: true, enforce: "restricted" }
      : {
          key,
          name,
          injection: true,
          enforce: "privileged",
          reason: "adopted mesh: istio-init may need NET_ADMIN without the Istio CNI plugin",
        };
  return [
    injected("platform", NAMESPACES.platform),
    injected("models", stack.serving.namespace),
    { key: "mesh", name: NAMESPACES.mesh, injection: false, enforce: "privileged", reason: "istio-cni is a privileged node agent" },
    {
      key: "monitoring",
      name: NAMESPACES.monitoring,
      injection: false,
      enforce: "privileged",
      reason: "node-exporter reads host /proc and /sys on the host network",
    },
    {
      key: "gpu",
      name: NAMESPACES.gpu,
      injection: false,
      enforce: "privileged",
      reason: "the NVIDIA device plugin mounts the kubelet's device-plugin socket directory",
    },
    // The API server calls KEDA's metrics server without a mesh identity: outside the mesh.
    ...(stack.autoscaling.keda ? [{ key: "keda" as const, name: NAMESPACES.keda, injection: false, enforce: "restricted" as const }] : []),
    ...(stack.autoscaling.keda && stack.autoscaling.httpAddon ? [injected("kedaHttp", NAMESPACES.kedaHttp)] : []),
  ];
}

/** Labels of one namespace: the stack's labels, injection and Pod Security admission. */
export function namespaceLabels(stack: StackSpec, ns: NamespacePlan): Record<string, string> {
  const labels: Record<string, string> = {
    ...k8sLabels(stack),
    "kubernetes.io/metadata.name": ns.name,
    "pod-security.kubernetes.io/enforce": ns.enforce,
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
  };
  if (ns.injection) labels["istio-injection"] = "enabled";
  return labels;
}

/** Namespaces where the platform runs system-node-critical pods: GPU agents, and istio-cni when Istio is installed. */
export function criticalPodNamespaces(stack: StackSpec): NamespaceKey[] {
  const keys: NamespaceKey[] = [];
  if (stack.nodePools.some((p) => p.role === "gpu")) keys.push("gpu");
  if (stack.mesh.mode === "install") keys.push("mesh");
  return keys;
}

/**
 * The ResourceQuota that lets a namespace run system-node-critical pods where the API server limits
 * that class (GKE). It exists to admit, not to bound: one pod per node per agent fits under it.
 */
export function criticalPodQuota(stack: StackSpec, namespace: pulumi.Input<string>): k8s.core.v1.ResourceQuotaArgs {
  return {
    metadata: { name: "system-node-critical-pods", namespace, labels: k8sLabels(stack) },
    spec: {
      hard: { pods: "1000" },
      scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: [NODE_CRITICAL_PRIORITY] }] },
    },
  };
}

export interface ClusterAddonsArgs {
  /** The cluster to configure (from the cloud layer, or localClusterAccess). */
  cluster: ClusterAccess;
  stack: StackSpec;
}

/**
 * What every cluster gets before the platform: the Kubernetes provider, the namespaces, and on
 * stacks with GPU pools the NVIDIA device plugin and DCGM exporter.
 */
export class ClusterAddons extends pulumi.ComponentResource {
  /** Provider for every Kubernetes object of the platform (server-side apply). */
  readonly provider: k8s.Provider;
  readonly namespaces: Record<NamespaceKey, k8s.core.v1.Namespace>;
  /** Present when the stack has GPU pools. */
  readonly gpu?: GpuDevicePlugin;
  /** The system-node-critical quotas (GKE); charts and DaemonSets using that class wait for them. */
  readonly criticalPodQuotas: k8s.core.v1.ResourceQuota[] = [];

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:ClusterAddons", name, {}, opts);
    const { cluster, stack } = args;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: cluster.kubeconfig, context: cluster.context, enableServerSideApply: true },
      { parent: this },
    );
    const k8sOpts = { parent: this, provider: this.provider };
    const namespaces: Partial<Record<NamespaceKey, k8s.core.v1.Namespace>> = {};
    for (const ns of namespacePlan(stack)) {
      const annotations: Record<string, string> = ns.reason ? { "mlops.platform/pod-security-reason": ns.reason } : {};
      namespaces[ns.key] = new k8s.core.v1.Namespace(
        ns.name,
        { metadata: { name: ns.name, labels: namespaceLabels(stack, ns), annotations } },
        k8sOpts,
      );
    }
    this.namespaces = namespaces as Record<NamespaceKey, k8s.core.v1.Namespace>;

    const gpu = stack.nodePools.some((p) => p.role === "gpu");
    const quotas: Partial<Record<NamespaceKey, k8s.core.v1.ResourceQuota>> = {};
    if (cluster.criticalPodsNeedQuota) {
      for (const key of criticalPodNamespaces(stack)) {
        const namespace = this.namespaces[key];
        quotas[key] = new k8s.core.v1.ResourceQuota(`${name}-${key}-critical-pods`, criticalPodQuota(stack, namespace.metadata.name), {
          ...k8sOpts,
          dependsOn: [namespace],
        });
      }
      this.criticalPodQuotas = Object.values(quotas);
    }
    if (gpu) {
      this.gpu = new GpuDevicePlugin(
        `${name}-gpu`,
        {
          stack,
          namespace: this.namespaces.gpu.metadata.name,
          devicePlugin: !cluster.managedGpuDevicePlugin,
          dependsOn: quotas.gpu ? [quotas.gpu] : [],
        },
        { parent: this, provider: this.provider },
      );
    }
    this.registerOutputs({
      namespaces: Object.fromEntries(Object.entries(this.namespaces).map(([k, v]) => [k, v.metadata.name])),
      gpu: this.gpu !== undefined,
    });
  }
}
