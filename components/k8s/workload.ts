import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GPU_RESOURCE, GPU_TAINT, ACCELERATOR_LABEL } from "../../definition";

type Input<T> = pulumi.Input<T>;
type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;

/** Non-root UID/GID the platform's containers run as (any UID works: images are built for it). */
export const RUN_AS_USER = 10001;

/** Resource requests; limits default to the requests (Guaranteed QoS). */
export interface ResourceArgs {
  cpu: string;
  memory: string;
  cpuLimit?: string;
  memoryLimit?: string;
  /** GPUs per container (requests = limits). */
  gpus?: number;
  /**
   * Local disk for the container's logs and writable layer (requests = limits), before the
   * disk-backed emptyDirs it mounts are added (`withEmptyDirStorage`). Defaults to EPHEMERAL_STORAGE.
   */
  ephemeralStorage?: string;
  /** The extended resource the GPUs are counted in: nvidia.com/gpu (default) or a MIG slice, nvidia.com/mig-1g.10gb. */
  gpuResource?: string;
}

/**
 * Ephemeral storage a container gets besides its emptyDirs: its logs and the writable layer, which
 * the read-only root filesystem keeps small. Without a limit one pod filling the node's disk evicts
 * its neighbours; without a request the scheduler packs pods onto a full disk.
 */
export const EPHEMERAL_STORAGE = "1Gi";

/** How the kubelet checks the container: an HTTP path, or a TCP port. */
export type ProbeArgs = { http: string; port: number | string } | { tcp: number | string } | { grpc: number } | { exec: string[] };

export interface ContainerArgs {
  name: string;
  /** Must be pinned by tag or digest; `:latest` is refused by policy. */
  image: Input<string>;
  command?: Input<string>[];
  args?: Input<string>[];
  env?: Record<
    string,
    Input<string> | { secret: Input<string>; key: string } | { configMap: Input<string>; key: string } | { fieldPath: string }
  >;
  ports?: { name: string; containerPort: number }[];
  resources: ResourceArgs;
  /** Readiness probe. Required: no container without probes. */
  probe: ProbeArgs;
  /** Liveness probe. Defaults to `livenessFor(probe)`. */
  liveness?: ProbeArgs;
  /** Seconds to wait for start-up before liveness applies (large models load slowly). Defaults to 0. */
  startupSeconds?: number;
  volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  /** Defaults to true; set false only for images that must write to their root filesystem. */
  readOnlyRootFilesystem?: boolean;
  /** Defaults to RUN_AS_USER. */
  runAsUser?: number;
  /**
   * Seconds the container keeps serving after Kubernetes decides to stop it, so endpoints and
   * the mesh stop routing to it before SIGTERM (preStop sleep action, Kubernetes 1.30+). Defaults to none.
   */
  preStopSleepSeconds?: number;
}

function probe(p: ProbeArgs, periodSeconds: number, failureThreshold: number): k8s.types.input.core.v1.Probe {
  const common = { periodSeconds, failureThreshold, timeoutSeconds: 2 };
  if ("http" in p) return { ...common, httpGet: { path: p.http, port: p.port } };
  if ("tcp" in p) return { ...common, tcpSocket: { port: p.tcp } };
  if ("grpc" in p) return { ...common, grpc: { port: p.grpc } };
  return { ...common, exec: { command: p.exec } };
}

/**
 * The liveness probe when none is given: for an HTTP readiness check, a TCP connect to the same
 * port. Liveness asks "is the process stuck?", readiness "should it get traffic?"; the same HTTP
 * check for both restarts a container whose dependency (a store, a model load) is slow, which a
 * restart cannot fix (kube-score pod-probes-identical). Exec and TCP probes are already that minimal.
 */
export function livenessFor(readiness: ProbeArgs): ProbeArgs {
  return "http" in readiness ? { tcp: readiness.port } : readiness;
}

/** Requests and limits; limits = requests unless given, GPUs in both. */
export function resources(r: ResourceArgs): k8s.types.input.core.v1.ResourceRequirements {
  const storage = r.ephemeralStorage ?? EPHEMERAL_STORAGE;
  const requests: Record<string, string> = { cpu: r.cpu, memory: r.memory, "ephemeral-storage": storage };
  const limits: Record<string, string> = { cpu: r.cpuLimit ?? r.cpu, memory: r.memoryLimit ?? r.memory, "ephemeral-storage": storage };
  if (r.gpus) {
    requests[r.gpuResource ?? GPU_RESOURCE] = String(r.gpus);
    limits[r.gpuResource ?? GPU_RESOURCE] = String(r.gpus);
  }
  return { requests, limits };
}

/** The restricted security context every platform container gets (Pod Security "restricted"). */
export function containerSecurityContext(readOnlyRootFilesystem = true, runAsUser = RUN_AS_USER): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A container with secure defaults, requests/limits and readiness + liveness probes. */
export function container(a: ContainerArgs): Container {
  const env = Object.entries(a.env ?? {}).map(([name, v]) => {
    if (typeof v === "object" && v !== null && "secret" in v) return { name, valueFrom: { secretKeyRef: { name: v.secret, key: v.key } } };
    if (typeof v === "object" && v !== null && "configMap" in v)
      return { name, valueFrom: { configMapKeyRef: { name: v.configMap, key: v.key } } };
    // The downward API: the pod's own labels and annotations (an Indexed Job's completion index).
    if (typeof v === "object" && v !== null && "fieldPath" in v) return { name, valueFrom: { fieldRef: { fieldPath: v.fieldPath } } };
    return { name, value: v as Input<string> };
  });
  const c: Container = {
    name: a.name,
    image: a.image,
    // Always: the kubelet re-checks the registry (and the pull secret) on every start, so a
    // re-pushed tag or a revoked credential is noticed; by digest the check is a manifest HEAD.
    imagePullPolicy: "Always",
    command: a.command,
    args: a.args,
    env: env.length ? env : undefined,
    ports: a.ports,
    resources: resources(a.resources),
    readinessProbe: probe(a.probe, 5, 3),
    livenessProbe: probe(a.liveness ?? livenessFor(a.probe), 10, 3),
    securityContext: containerSecurityContext(a.readOnlyRootFilesystem ?? true, a.runAsUser ?? RUN_AS_USER),
    volumeMounts: a.volumeMounts,
  };
  if (a.preStopSleepSeconds) c.lifecycle = { preStop: { sleep: { seconds: a.preStopSleepSeconds } } };
  if (a.startupSeconds) c.startupProbe = { ...probe(a.liveness ?? livenessFor(a.probe), 5, Math.ceil(a.startupSeconds / 5)) };
  return c;
}

const QUANTITY_MI: Record<string, number> = { "": 1 / (1024 * 1024), Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** A binary Kubernetes quantity ("64Mi", "20Gi") in MiB; undefined for what it cannot read (an Output, decimal units). */
export function quantityMi(quantity: unknown): number | undefined {
  const m = typeof quantity === "string" ? /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity) : null;
  return m ? Number(m[1]) * (QUANTITY_MI[m[2] ?? ""] as number) : undefined;
}

/**
 * Adds each disk-backed emptyDir's sizeLimit to the ephemeral storage of the first container that
 * mounts it: the kubelet counts emptyDir usage against the pod's ephemeral limit (the sum of its
 * containers'), so a 100Gi model cache under a 1Gi limit would be evicted as it fills. Memory-backed
 * emptyDirs count against memory instead and are skipped.
 */
export function withEmptyDirStorage(containers: Container[], volumes: k8s.types.input.core.v1.Volume[] = []): Container[] {
  const extraMi = new Map<string, number>();
  for (const v of volumes) {
    const emptyDir = (v as { emptyDir?: { medium?: unknown; sizeLimit?: unknown } }).emptyDir;
    const size = quantityMi(emptyDir?.sizeLimit);
    if (!emptyDir || emptyDir.medium === "Memory" || size === undefined) continue;
    const owner = containers.find(
      (c) => Array.isArray(c.volumeMounts) && c.volumeMounts.some((m) => (m as { name?: unknown }).name === v.name),
    );
    if (owner) extraMi.set(owner.name as string, (extraMi.get(owner.name as string) ?? 0) + size);
  }
  return containers.map((c) => {
    const extra = extraMi.get(c.name as string);
    const r = c.resources as { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
    const base = quantityMi(r?.limits?.["ephemeral-storage"]);
    if (!extra || !r?.requests || !r.limits || base === undefined) return c;
    const storage = `${Math.ceil(base + extra)}Mi`;
    return {
      ...c,
      resources: { requests: { ...r.requests, "ephemeral-storage": storage }, limits: { ...r.limits, "ephemeral-storage": storage } },
    };
  });
}

/** Pod-level security: non-root, RuntimeDefault seccomp, fsGroup for writable volumes, no host namespaces. */
export function podSecurityContext(runAsUser = RUN_AS_USER): k8s.types.input.core.v1.PodSecurityContext {
  return { runAsNonRoot: true, runAsUser, runAsGroup: runAsUser, fsGroup: runAsUser, seccompProfile: { type: "RuntimeDefault" } };
}

/** Toleration of the GPU taint plus node affinity to pools with the given accelerator. */
export function gpuPlacement(accelerator: string): Pick<PodSpec, "tolerations" | "affinity"> {
  return {
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: ACCELERATOR_LABEL, operator: "In", values: [accelerator] }] }],
        },
      },
    },
  };
}

/** Spread replicas across zones and nodes, and prefer not to stack them on one node. */
export function spread(selector: Record<string, string>): Pick<PodSpec, "topologySpreadConstraints" | "affinity"> {
  return {
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
      },
      { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } } },
        ],
      },
    },
  };
}

export interface WorkloadArgs {
  namespace: Input<string>;
  /** Labels on every object; the selector is `app.kubernetes.io/name` (+ `extraSelector`). */
  labels: Record<string, string>;
  extraSelector?: Record<string, string>;
  /** Replicas of the first rollout, and the PDB's reason to exist; with `autoscaled`, the Deployment carries none. */
  replicas: number;
  /**
   * An HPA (or a KEDA ScaledObject) owns the replica count: the Deployment leaves `replicas` unset,
   * so no `pulumi up` resets a scaled-out workload to its minimum (kube-score
   * deployment-targeted-by-hpa-does-not-have-replicas-configured). Defaults to false.
   */
  autoscaled?: boolean;
  containers: ContainerArgs[];
  serviceAccountName?: Input<string>;
  /**
   * The pods call the Kubernetes API, so their ServiceAccount token is mounted (the drift check
   * creates training Jobs). Defaults to false: cloud identity does not need it (EKS's IRSA webhook
   * projects its own web-identity token, GKE Workload Identity answers on the metadata server), and
   * a pod without a token has no API credential to steal (CKV_K8S_38).
   */
  kubernetesApi?: boolean;
  /** Service ports; omitted means no Service. */
  servicePorts?: { name: string; port: number; targetPort: number | string }[];
  /** Creates a PodDisruptionBudget (minAvailable 1) when true; defaults to replicas > 1. */
  pdb?: boolean;
  /**
   * Allow this many pods down at once instead of keeping one available: a PDB with
   * minAvailable 1 over a single replica would block every node drain. Defaults to minAvailable 1.
   */
  pdbMaxUnavailable?: number;
  volumes?: k8s.types.input.core.v1.Volume[];
  /** Extra pod spec fields (tolerations, affinity) merged over the defaults. */
  pod?: Partial<PodSpec>;
  /** Seconds Kubernetes waits after SIGTERM; the services drain in-flight requests meanwhile. Defaults to 30. */
  terminationGracePeriodSeconds?: number;
  podAnnotations?: Record<string, string>;
  /** Deployment spec.progressDeadlineSeconds (a slow cold start is not a failed rollout). Defaults to Kubernetes' 600. */
  progressDeadlineSeconds?: number;
  /** How long `pulumi up` awaits the Deployment, e.g. "20m". Defaults to the provider's 10 minutes. */
  awaitTimeout?: string;
}

/**
 * A Deployment with its Service and PodDisruptionBudget from one call, so none of them can
 * forget probes, resources, the security context or the spread across nodes.
 */
export class Workload extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service?: k8s.core.v1.Service;
  readonly pdb?: k8s.policy.v1.PodDisruptionBudget;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Workload", name, {}, opts);
    const selector = { "app.kubernetes.io/name": name, ...args.extraSelector };
    const labels = { ...args.labels, ...selector };
    const metadata = { name, namespace: args.namespace, labels };
    const placement = spread(selector);
    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata,
        spec: {
          ...(args.autoscaled ? {} : { replicas: args.replicas }),
          ...(args.progressDeadlineSeconds ? { progressDeadlineSeconds: args.progressDeadlineSeconds } : {}),
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels, annotations: args.podAnnotations },
            spec: {
              serviceAccountName: args.serviceAccountName,
              automountServiceAccountToken: args.kubernetesApi ?? false,
              securityContext: podSecurityContext(),
              terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 30,
              containers: withEmptyDirStorage(args.containers.map(container), args.volumes),
              volumes: args.volumes,
              ...placement,
              ...args.pod,
            },
          },
        },
      },
      args.awaitTimeout ? { parent: this, customTimeouts: { create: args.awaitTimeout, update: args.awaitTimeout } } : { parent: this },
    );
    if (args.servicePorts?.length) {
      this.service = new k8s.core.v1.Service(
        name,
        { metadata, spec: { selector, ports: args.servicePorts.map((p) => ({ ...p, protocol: "TCP" })) } },
        { parent: this },
      );
    }
    if (args.pdb ?? args.replicas > 1) {
      const budget = args.pdbMaxUnavailable !== undefined ? { maxUnavailable: args.pdbMaxUnavailable } : { minAvailable: 1 };
      this.pdb = new k8s.policy.v1.PodDisruptionBudget(
        name,
        { metadata, spec: { ...budget, selector: { matchLabels: selector } } },
        { parent: this },
      );
    }
    this.registerOutputs({ deployment: this.deployment, service: this.service, pdb: this.pdb });
  }
}

/** A container for a Job: the same security context and resources as `container()`, no probes (it runs to completion). */
export function jobContainer(a: Omit<ContainerArgs, "probe" | "liveness" | "startupSeconds" | "ports" | "preStopSleepSeconds">): Container {
  const { readinessProbe: _r, livenessProbe: _l, ...rest } = container({ ...a, probe: { exec: ["true"] } });
  return rest;
}

export interface ScheduledJobArgs {
  /** 5-field cron schedule. */
  schedule: string;
  /** Labels on the Job's pods. */
  labels: Record<string, string>;
  containers: Container[];
  serviceAccountName?: Input<string>;
  /**
   * The pods call the Kubernetes API, so their ServiceAccount token is mounted (the drift check
   * creates training Jobs). Defaults to false: cloud identity does not need it (EKS's IRSA webhook
   * projects its own web-identity token, GKE Workload Identity answers on the metadata server), and
   * a pod without a token has no API credential to steal (CKV_K8S_38).
   */
  kubernetesApi?: boolean;
  volumes?: k8s.types.input.core.v1.Volume[];
  /** Seconds a run may take before Kubernetes stops it. */
  activeDeadlineSeconds: number;
  /** Retries of a failed run. Defaults to 2 (left out for an indexed run, whose shards retry alone). */
  backoffLimit?: number;
  podAnnotations?: Record<string, string>;
  /** Runs the Job as `completions` Indexed pods (JOB_COMPLETION_INDEX 0..n-1), each retried alone. Defaults to one pod. */
  indexed?: { completions: number; parallelism: number; backoffLimitPerIndex: number };
  /** Which pod failures fail the Job at once or do not count (requires restartPolicy Never). */
  podFailurePolicy?: k8s.types.input.batch.v1.PodFailurePolicy;
}

/**
 * A CronJob spec that cannot pile up or linger: runs never overlap (Forbid), a missed start is
 * skipped after 5 minutes, each run has a deadline, and finished Jobs are cleaned up after a day.
 */
export function scheduledJobSpec(a: ScheduledJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  return {
    schedule: a.schedule,
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 300,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      spec: {
        ...(a.indexed
          ? {
              completionMode: "Indexed",
              completions: a.indexed.completions,
              parallelism: a.indexed.parallelism,
              backoffLimitPerIndex: a.indexed.backoffLimitPerIndex,
            }
          : { backoffLimit: a.backoffLimit ?? 2 }),
        podFailurePolicy: a.podFailurePolicy,
        activeDeadlineSeconds: a.activeDeadlineSeconds,
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: a.labels, annotations: a.podAnnotations },
          spec: {
            restartPolicy: "Never",
            serviceAccountName: a.serviceAccountName,
            automountServiceAccountToken: a.kubernetesApi ?? false,
            securityContext: podSecurityContext(),
            containers: withEmptyDirStorage(a.containers, a.volumes),
            volumes: a.volumes,
          },
        },
      },
    },
  };
}

/**
 * For a Deployment under an HPA: the Deployment's `replicas` only seeds the first
 * rollout, and later updates leave it alone, so a `pulumi up` during a traffic peak does not
 * scale a workload back down to its minimum. Pass it as a `transformations` entry of the Workload.
 */
export function hpaOwnsReplicas(args: pulumi.ResourceTransformationArgs): pulumi.ResourceTransformationResult | undefined {
  if (args.type !== "kubernetes:apps/v1:Deployment") return undefined;
  return { props: args.props, opts: pulumi.mergeOptions(args.opts, { ignoreChanges: ["spec.replicas"] }) };
}
