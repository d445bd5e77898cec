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
  /** GPUs per container (nvidia.com/gpu, requests = limits). */
  gpus?: number;
}

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
  /** Readiness (and, unless `liveness` is given, liveness) probe. Required: no container without probes. */
  probe: ProbeArgs;
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

/** Requests and limits; limits = requests unless given, GPUs in both. */
export function resources(r: ResourceArgs): k8s.types.input.core.v1.ResourceRequirements {
  const requests: Record<string, string> = { cpu: r.cpu, memory: r.memory };
  const limits: Record<string, string> = { cpu: r.cpuLimit ?? r.cpu, memory: r.memoryLimit ?? r.memory };
  if (r.gpus) {
    requests[GPU_RESOURCE] = String(r.gpus);
    limits[GPU_RESOURCE] = String(r.gpus);
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
    imagePullPolicy: "IfNotPresent",
    command: a.command,
    args: a.args,
    env: env.length ? env : undefined,
    ports: a.ports,
    resources: resources(a.resources),
    readinessProbe: probe(a.probe, 5, 3),
    livenessProbe: probe(a.liveness ?? a.probe, 10, 3),
    securityContext: containerSecurityContext(a.readOnlyRootFilesystem ?? true, a.runAsUser ?? RUN_AS_USER),
    volumeMounts: a.volumeMounts,
  };
  if (a.preStopSleepSeconds) c.lifecycle = { preStop: { sleep: { seconds: a.preStopSleepSeconds } } };
  if (a.startupSeconds) c.startupProbe = { ...probe(a.liveness ?? a.probe, 5, Math.ceil(a.startupSeconds / 5)) };
  return c;
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
  replicas: number;
  containers: ContainerArgs[];
  serviceAccountName?: Input<string>;
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
          replicas: args.replicas,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels, annotations: args.podAnnotations },
            spec: {
              serviceAccountName: args.serviceAccountName,
              automountServiceAccountToken: args.serviceAccountName !== undefined,
              securityContext: podSecurityContext(),
              terminationGracePeriodSeconds: args.terminationGracePeriodSeconds ?? 30,
              containers: args.containers.map(container),
              volumes: args.volumes,
              ...placement,
              ...args.pod,
            },
          },
        },
      },
      { parent: this },
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
            automountServiceAccountToken: a.serviceAccountName !== undefined,
            securityContext: podSecurityContext(),
            containers: a.containers,
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
