import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform, type PlatformSpec } from "../../../definition";

/** Kubernetes objects as the mocked engine recorded them (inputs are the manifest fields). */
export type K8sObject = PlanResource & { inputs: Manifest };

export interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  readinessProbe?: { httpGet?: { path: string; port: number | string }; exec?: unknown; tcpSocket?: unknown };
  livenessProbe?: { httpGet?: { path: string; port: number | string }; exec?: unknown; tcpSocket?: unknown };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  securityContext?: { runAsNonRoot?: boolean };
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[];
      };
    };
  };
  volumes?: { name: string; hostPath?: { path: string }; emptyDir?: unknown; persistentVolumeClaim?: unknown }[];
}

/** Loads a real stack and the catalog it deploys. */
export function platformOf(stack: string): PlatformSpec {
  return loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack });
}

export function ofKind(all: PlanResource[], kind: string): K8sObject[] {
  return all.filter(
    (r) => r.type.startsWith("kubernetes:") && (r.type.endsWith(`:${kind}`) || (r.inputs as Manifest).kind === kind),
  ) as K8sObject[];
}

export function named(all: PlanResource[], kind: string, name: string): K8sObject {
  const found = ofKind(all, kind).find((o) => o.inputs.metadata?.name === name);
  if (!found)
    throw new Error(
      `no ${kind} named ${name} among ${ofKind(all, kind)
        .map((o) => o.inputs.metadata?.name)
        .join(", ")}`,
    );
  return found;
}

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/** The pod spec of a workload object. */
export function podSpecOf(o: K8sObject): PodSpec {
  const spec = o.inputs.spec as { template?: { spec: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } };
  const pod = spec.template?.spec ?? spec.jobTemplate?.spec.template.spec;
  if (!pod) throw new Error(`${o.type} ${o.name} has no pod template`);
  return pod;
}

/** Every workload object (Deployment, StatefulSet, DaemonSet, Job, CronJob) with its pod spec. */
export function workloads(all: PlanResource[]): { object: K8sObject; pod: PodSpec }[] {
  return WORKLOAD_KINDS.flatMap((k) => ofKind(all, k)).map((object) => ({ object, pod: podSpecOf(object) }));
}

export function containersOf(pod: PodSpec): Container[] {
  return [...pod.containers, ...(pod.initContainers ?? [])];
}

/**
 * What is wrong with a container's security, as sentences (empty when none): non-root unless
 * `allowRoot`, read-only root filesystem, ALL capabilities dropped, no privilege escalation.
 */
export function securityProblems(c: Container, allowRoot = false): string[] {
  const s = c.securityContext ?? {};
  const problems: string[] = [];
  if (!allowRoot && s.runAsNonRoot !== true) problems.push(`${c.name}: runAsNonRoot is not true`);
  if (s.readOnlyRootFilesystem !== true) problems.push(`${c.name}: root filesystem is writable`);
  if (!s.capabilities?.drop?.includes("ALL")) problems.push(`${c.name}: capabilities are not all dropped`);
  if ((s.capabilities?.add ?? []).length) problems.push(`${c.name}: adds capabilities ${s.capabilities?.add}`);
  if (s.allowPrivilegeEscalation !== false) problems.push(`${c.name}: privilege escalation allowed`);
  if (s.privileged) problems.push(`${c.name}: privileged`);
  if (!/^[^:@]+(:[^:]+|@sha256:[0-9a-f]{64})$/.test(c.image) || c.image.endsWith(":latest"))
    problems.push(`${c.name}: image ${c.image} is not pinned`);
  return problems;
}

/** A string that looks like a static cloud credential (AWS access key id, GCP service account key). */
export function looksLikeCloudKey(value: string): boolean {
  return (
    /\bAKIA[0-9A-Z]{16}\b/.test(value) || /"type":\s*"service_account"/.test(value) || /-----BEGIN (RSA )?PRIVATE KEY-----/.test(value)
  );
}

/** Names of env vars that carry static cloud credentials when they hold a literal value. */
export const CLOUD_KEY_ENV = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"];

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** A recorded input with Pulumi's secret wrappers removed (the value as the API server gets it). */
export function plain<T = unknown>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => plain(v)) as T;
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (SECRET_SIG in record) return plain(record.value) as T;
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)])) as T;
  }
  return value as T;
}
