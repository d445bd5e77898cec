import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import { GPU_RESOURCE, GPU_TAINT, type GpuSharing, POOL_ROLE_LABEL, type StackSpec } from "../../definition";
import { container, type ContainerArgs } from "./workload";

/** Pinned NVIDIA images (bump together with the driver version of the GPU node images). */
export const DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.16.2";
export const DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8-3.6.0-ubuntu22.04";
/** The priority class of node agents (these DaemonSets, istio-cni): evicting them takes nodes out of service. */
export const NODE_CRITICAL_PRIORITY = "system-node-critical";
/** Port of the DCGM exporter's /metrics and /health. */
export const DCGM_PORT = 9400;

/**
 * The label (on the DaemonSet and its pods) that marks a documented exception to the restricted
 * Pod Security profile, and the annotation carrying the reason. The policy pack allowlists
 * exactly these values and nothing else; a new exception needs a new value there on purpose.
 */
export const POLICY_EXCEPTION_LABEL = "mlops.platform/policy-exception";
export const POLICY_EXCEPTION_REASON = "mlops.platform/policy-exception-reason";
export const POLICY_EXCEPTIONS = {
  /** hostPath /var/lib/kubelet/device-plugins and root: see DEVICE_PLUGIN_REASON. */
  devicePlugin: "nvidia-device-plugin",
  /** root without capabilities: see DCGM_REASON. */
  dcgmExporter: "dcgm-exporter",
} as const;

const DEVICE_PLUGIN_REASON =
  "The kubelet device-plugin API is a unix socket in /var/lib/kubelet/device-plugins on the node: the plugin must " +
  "mount that host directory and run as root (the directory is root-owned 0750) to register nvidia.com/gpu. " +
  "All capabilities are dropped, privilege escalation is off and the root filesystem is read-only.";
const DCGM_REASON =
  "DCGM opens the GPU device files and the NVIDIA management library as root. It runs with every capability " +
  "dropped (so no SYS_ADMIN: profiling DCGM_FI_PROF_* metrics are off, DCGM_FI_DEV_* utilisation and memory metrics " +
  "work), no host path, no host network and a read-only root filesystem.";

/**
 * The NVIDIA device plugin's config file (k8s-device-plugin `version: v1`) for one way of sharing
 * a GPU: MIG strategy flags, or time-slicing replicas of nvidia.com/gpu (kept under that name, so a
 * pod asks for nvidia.com/gpu either way and the pool's label says which kind it gets).
 */
export function devicePluginConfig(sharing: GpuSharing | undefined): Record<string, unknown> {
  if (!sharing) return { version: "v1", flags: { migStrategy: "none" } };
  if (sharing.strategy === "mig") return { version: "v1", flags: { migStrategy: sharing.mode } };
  return {
    version: "v1",
    flags: { migStrategy: "none" },
    sharing: { timeSlicing: { renameByDefault: false, resources: [{ name: GPU_RESOURCE, replicas: sharing.replicas }] } },
  };
}

/**
 * The device plugin's config for the stack: one DaemonSet serves every GPU pool, so the pools
 * share one way of sharing (definition/autoscaling-checks.ts refuses a stack whose pools differ,
 * where the platform runs the plugin itself).
 */
export function stackDevicePluginConfig(stack: StackSpec): Record<string, unknown> {
  return devicePluginConfig(stack.nodePools.find((p) => p.role === "gpu")?.gpuSharing);
}

/** Where the plugin reads its config file (CONFIG_FILE). */
export const DEVICE_PLUGIN_CONFIG_DIR = "/etc/nvidia-device-plugin";

/** Where the GPU daemons may run: GPU pool nodes only, tolerating their taint. */
export function gpuNodePlacement(): Pick<k8s.types.input.core.v1.PodSpec, "tolerations" | "affinity"> {
  return {
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: POOL_ROLE_LABEL, operator: "In", values: ["gpu"] }] }],
        },
      },
    },
  };
}

/**
 * A container from the shared builder (probes, resources, read-only root, drop ALL) that runs as
 * root: the one relaxation these node daemons need, recorded by the exception label.
 */
function rootContainer(args: ContainerArgs): k8s.types.input.core.v1.Container {
  const c = container(args);
  return {
    ...c,
    securityContext: {
      runAsNonRoot: false,
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

interface DaemonArgs {
  stack: StackSpec;
  namespace: pulumi.Input<string>;
  dependsOn: pulumi.Resource[];
}

function daemonSet(
  name: string,
  exception: string,
  reason: string,
  a: DaemonArgs,
  pod: k8s.types.input.core.v1.PodSpec,
  parent: pulumi.Resource,
): k8s.apps.v1.DaemonSet {
  const selector = { "app.kubernetes.io/name": name };
  const labels = { ...k8sLabels(a.stack), ...selector, [POLICY_EXCEPTION_LABEL]: exception };
  const annotations = { [POLICY_EXCEPTION_REASON]: reason };
  return new k8s.apps.v1.DaemonSet(
    name,
    {
      metadata: { name, namespace: a.namespace, labels, annotations },
      spec: {
        selector: { matchLabels: selector },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels, annotations },
          spec: {
            // Node daemons: evicting them would take GPUs out of service.
            priorityClassName: NODE_CRITICAL_PRIORITY,
            automountServiceAccountToken: false,
            hostNetwork: false,
            hostPID: false,
            hostIPC: false,
            ...gpuNodePlacement(),
            ...pod,
          },
        },
      },
    },
    { parent, dependsOn: a.dependsOn },
  );
}

export interface GpuDevicePluginArgs {
  stack: StackSpec;
  /** Defaults to NAMESPACES.gpu. */
  namespace?: pulumi.Input<string>;
  /** Deploy the device plugin; false where the provider runs its own (GKE). Defaults to true. */
  devicePlugin?: boolean;
  /** What the DaemonSets wait for (the namespace's priority-class quota on GKE). Defaults to none. */
  dependsOn?: pulumi.Resource[];
}

/**
 * The NVIDIA device plugin (advertises nvidia.com/gpu to the scheduler) and the DCGM exporter
 * (GPU utilisation and memory for Prometheus), on GPU nodes only.
 */
export class GpuDevicePlugin extends pulumi.ComponentResource {
  readonly devicePlugin?: k8s.apps.v1.DaemonSet;
  /** The plugin's config (time-slicing or MIG strategy), rendered from the GPU pools' gpuSharing. */
  readonly devicePluginConfig?: k8s.core.v1.ConfigMap;
  readonly dcgmExporter: k8s.apps.v1.DaemonSet;
  readonly dcgmService: k8s.core.v1.Service;

  constructor(name: string, args: GpuDevicePluginArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:GpuDevicePlugin", name, {}, opts);
    const a: DaemonArgs = { stack: args.stack, namespace: args.namespace ?? NAMESPACES.gpu, dependsOn: args.dependsOn ?? [] };
    const socketDir = "/var/lib/kubelet/device-plugins";

    if (args.devicePlugin !== false) {
      this.devicePluginConfig = new k8s.core.v1.ConfigMap(
        "nvidia-device-plugin-config",
        {
          metadata: { name: "nvidia-device-plugin-config", namespace: a.namespace, labels: k8sLabels(args.stack) },
          data: { "config.yaml": JSON.stringify(stackDevicePluginConfig(args.stack)) },
        },
        { parent: this },
      );
      this.devicePlugin = daemonSet(
        "nvidia-device-plugin",
        POLICY_EXCEPTIONS.devicePlugin,
        DEVICE_PLUGIN_REASON,
        a,
        {
          containers: [
            rootContainer({
              name: "nvidia-device-plugin",
              image: DEVICE_PLUGIN_IMAGE,
              env: {
                FAIL_ON_INIT_ERROR: "false",
                DEVICE_LIST_STRATEGY: "envvar",
                DEVICE_ID_STRATEGY: "uuid",
                // Time-slicing or MIG, from the GPU pools' gpuSharing (JSON is YAML to the plugin).
                CONFIG_FILE: `${DEVICE_PLUGIN_CONFIG_DIR}/config.yaml`,
              },
              resources: { cpu: "50m", memory: "64Mi", memoryLimit: "128Mi" },
              // Registered once the plugin's socket exists beside the kubelet's.
              probe: { exec: ["test", "-S", `${socketDir}/nvidia-gpu.sock`] },
              startupSeconds: 60,
              volumeMounts: [
                { name: "device-plugins", mountPath: socketDir },
                { name: "config", mountPath: DEVICE_PLUGIN_CONFIG_DIR, readOnly: true },
              ],
            }),
          ],
          volumes: [
            { name: "device-plugins", hostPath: { path: socketDir, type: "Directory" } },
            { name: "config", configMap: { name: "nvidia-device-plugin-config" } },
          ],
        },
        this,
      );
    }

    const dcgmLabels = { ...k8sLabels(args.stack), "app.kubernetes.io/name": "dcgm-exporter" };
    this.dcgmExporter = daemonSet(
      "dcgm-exporter",
      POLICY_EXCEPTIONS.dcgmExporter,
      DCGM_REASON,
      a,
      {
        containers: [
          rootContainer({
            name: "dcgm-exporter",
            image: DCGM_EXPORTER_IMAGE,
            env: { DCGM_EXPORTER_LISTEN: `:${DCGM_PORT}`, DCGM_EXPORTER_KUBERNETES: "true" },
            ports: [{ name: "metrics", containerPort: DCGM_PORT }],
            resources: { cpu: "100m", memory: "256Mi", memoryLimit: "512Mi" },
            probe: { http: "/health", port: DCGM_PORT },
            startupSeconds: 60,
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          }),
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
      },
      this,
    );
    this.dcgmService = new k8s.core.v1.Service(
      "dcgm-exporter",
      {
        metadata: { name: "dcgm-exporter", namespace: a.namespace, labels: dcgmLabels },
        spec: {
          selector: { "app.kubernetes.io/name": "dcgm-exporter" },
          ports: [{ name: "metrics", port: DCGM_PORT, targetPort: DCGM_PORT, protocol: "TCP" }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ devicePlugin: this.devicePlugin, dcgmExporter: this.dcgmExporter, dcgmService: this.dcgmService });
  }
}
