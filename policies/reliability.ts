import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { type PolicyResource, type ResourceValidationArgs, type ReportViolation, validateResourceOfType } from "@pulumi/policy";
import { SCALE_TO_ZERO_ANNOTATION } from "../definition";
import { autoscalersByTarget, compileSelector, isKind, objectMeta, podWorkload, quantities } from "./kubernetes";
import { podRule } from "./pod-rules";
import { asArray, asRecord, type Facts, facts, get, type PlatformPolicy, violation } from "./support";

/**
 * Reliability: every container sized and probed; serving replicated, autoscaled and protected
 * by a PodDisruptionBudget; routes with retries and timeouts; stateful resources protected from
 * deletion and recoverable in prod.
 */

export const containersHaveResources = podRule({
  area: "reliability",
  name: "containers-have-resources",
  description: "Every container sets CPU and memory requests and limits, so the scheduler can place it and a leak cannot starve its node.",
  check({ workload, report }) {
    for (const { container } of workload.containers) {
      const { requests, limits } = quantities(container);
      const missing = [
        ...["cpu", "memory"].filter((r) => !requests[r]).map((r) => `requests.${r}`),
        ...["cpu", "memory"].filter((r) => !limits[r]).map((r) => `limits.${r}`),
      ];
      if (missing.length)
        report(
          `has no ${missing.join(", ")}`,
          "set resources: { requests: { cpu, memory }, limits: { cpu, memory } } (the Workload builder sets limits = requests)",
          container,
        );
    }
  },
});

const LONG_RUNNING = ["Deployment", "StatefulSet", "DaemonSet"];

export const containersHaveProbes = podRule({
  area: "reliability",
  name: "containers-have-probes",
  description: "Every long-running container (Deployment, StatefulSet, DaemonSet) has a readiness and a liveness probe.",
  check({ workload, report }) {
    if (!LONG_RUNNING.includes(workload.kind)) return;
    for (const { container, init } of workload.containers) {
      if (init) continue;
      const missing = (["readinessProbe", "livenessProbe"] as const).filter((p) => !container[p]);
      if (missing.length)
        report(
          `has no ${missing.join(" or ")}`,
          "add readinessProbe and livenessProbe (HTTP /ready and /live for the platform's services)",
          container,
        );
    }
  },
});

interface Deployed {
  resource: PolicyResource;
  namespace: string;
  name: string;
  ref: string;
  kind: string;
  podLabels: Record<string, string>;
  replicas: number;
  hpa?: PolicyResource;
}

/** Deployments and StatefulSets with their HPA, if any, and the replicas they run at least. */
function deployedWorkloads(resources: PolicyResource[]): Deployed[] {
  // Indexed by "namespace/kind/name" of the target: a 200-model plan has hundreds of each.
  // A KEDA ScaledObject creates and owns the HPA of its target: it counts as the autoscaler.
  const scalers = autoscalersByTarget(resources);
  const out: Deployed[] = [];
  for (const resource of resources) {
    if (!isKind(resource.type, "apps", "Deployment") && !isKind(resource.type, "apps", "StatefulSet")) continue;
    const w = podWorkload(resource.type, asRecord(resource.props), resource.name);
    if (!w) continue;
    const hpa = scalers.get(`${w.namespace}/${w.kind}/${w.name}`)?.at(-1);
    const replicas = hpa
      ? Number(
          get(hpa.props, "spec", "minReplicas") ??
            get(hpa.props, "spec", "minReplicaCount") ??
            (isKind(hpa.type, "keda.sh", "ScaledObject") ? 0 : 1),
        )
      : Number(get(resource.props, "spec", "replicas") ?? 1);
    out.push({ resource, namespace: w.namespace, name: w.name, ref: w.ref, kind: w.kind, podLabels: w.podLabels, replicas, hpa });
  }
  return out;
}

const minReplicas = {
  type: "integer",
  minimum: 1,
  default: 2,
  description: "Replicas every serving Deployment runs at least, in prod.",
} as const;

export const servingReplicatedInProd: PlatformPolicy = {
  area: "reliability",
  name: "serving-replicated-in-prod",
  description:
    "In prod every serving Deployment runs at least 2 replicas (its HPA's minReplicas when it has one), so one node loss does not stop a model.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment, servingNamespace: facts.servingNamespace, minReplicas } },
  validateStack: (args, report) => {
    const cfg = args.getConfig<Facts & { minReplicas: number }>();
    if (cfg.environment !== "prod") args.notApplicable("dev stacks may run one replica");
    for (const d of deployedWorkloads(args.resources)) {
      if (d.namespace !== cfg.servingNamespace || d.replicas >= cfg.minReplicas) continue;
      // Scale to zero that the model's catalog file asked for (autoscaling.scaleToZero), held by KEDA's HTTP add-on.
      if (d.replicas === 0 && d.hpa && get(d.hpa.props, "metadata", "annotations", SCALE_TO_ZERO_ANNOTATION) === "true") continue;
      const where = d.hpa ? `its HPA's minReplicas is ${d.replicas}` : `replicas is ${d.replicas}`;
      report(
        violation(
          `${d.kind} "${d.ref}"`,
          `${where} in a prod stack`,
          `run at least ${cfg.minReplicas} (autoscaling.minReplicas in the model's catalog file, raised to ${cfg.minReplicas} in prod by ModelServing)`,
        ),
        d.resource.urn,
      );
    }
  },
};

export const servingAutoscaled: PlatformPolicy = {
  area: "reliability",
  name: "serving-autoscaled",
  description: "Every serving Deployment has a HorizontalPodAutoscaler or a KEDA ScaledObject targeting it.",
  enforcementLevel: "mandatory",
  devEnforcementLevel: "advisory",
  configSchema: { properties: { servingNamespace: facts.servingNamespace } },
  validateStack: (args, report) => {
    const { servingNamespace } = args.getConfig<Facts>();
    for (const d of deployedWorkloads(args.resources)) {
      if (d.namespace === servingNamespace && d.kind === "Deployment" && !d.hpa) {
        report(
          violation(
            `Deployment "${d.ref}"`,
            "has no HorizontalPodAutoscaler or KEDA ScaledObject",
            `create an autoscaling/v2 HorizontalPodAutoscaler with scaleTargetRef { kind: Deployment, name: ${d.name} }`,
          ),
          d.resource.urn,
        );
      }
    }
  },
};

export const workloadsHavePdb: PlatformPolicy = {
  area: "reliability",
  name: "workloads-have-pdb",
  description:
    "Every replicated Deployment or StatefulSet, and every serving Deployment in prod, has a PodDisruptionBudget selecting its pods, so node drains keep it up.",
  enforcementLevel: "mandatory",
  devEnforcementLevel: "advisory",
  configSchema: { properties: { environment: facts.environment, servingNamespace: facts.servingNamespace } },
  validateStack: (args, report) => {
    const cfg = args.getConfig<Facts>();
    const selectorsByNamespace = new Map<string, ((labels: Record<string, string>) => boolean)[]>();
    for (const p of args.resources.filter((r) => isKind(r.type, "policy", "PodDisruptionBudget"))) {
      const ns = objectMeta(asRecord(p.props), p.name).namespace;
      selectorsByNamespace.set(ns, [...(selectorsByNamespace.get(ns) ?? []), compileSelector(get(p.props, "spec", "selector"))]);
    }
    for (const d of deployedWorkloads(args.resources)) {
      const needs = d.replicas > 1 || (cfg.environment === "prod" && d.namespace === cfg.servingNamespace);
      if (!needs || (selectorsByNamespace.get(d.namespace) ?? []).some((selects) => selects(d.podLabels))) continue;
      report(
        violation(
          `${d.kind} "${d.ref}"`,
          `runs ${d.replicas} replica(s) without a PodDisruptionBudget`,
          "create a policy/v1 PodDisruptionBudget with minAvailable: 1 and the workload's selector (Workload does when pdb is true)",
        ),
        d.resource.urn,
      );
    }
  },
};

/** Whether an Istio duration bounds anything: Envoy reads zero ("0s", "0ms", "0.000s") as no timeout at all. */
function bounded(duration: unknown): boolean {
  return !(String(duration).match(/[\d.]+/g) ?? []).every((n) => Number(n) === 0);
}

export const servingRoutesResilient: PlatformPolicy = {
  area: "reliability",
  name: "serving-routes-have-retries-and-timeouts",
  description:
    'Every HTTP route of a VirtualService sets a timeout and retries with a per-try timeout; a zero duration ("0s") is none, as Envoy reads it.',
  enforcementLevel: "mandatory",
  devEnforcementLevel: "advisory",
  configSchema: { properties: {} },
  validateResource: (args, report) => {
    if (!isKind(args.type, "networking.istio.io", "VirtualService")) return args.notApplicable("not a VirtualService");
    const { ref } = objectMeta(args.props, args.name);
    asArray(get(args.props, "spec", "http")).forEach((route, i) => {
      const label = `route ${String(get(route, "name") ?? `#${i}`)}`;
      const timeout = get(route, "timeout");
      if (!bounded(timeout)) {
        const problem = timeout === undefined ? "has no timeout" : `has timeout ${String(timeout)}, which Envoy reads as none`;
        report(violation(`VirtualService "${ref}"`, `${label} ${problem}`, 'set timeout (e.g. "440ms", from the model\'s SLO)'));
      }
      if (!(Number(get(route, "retries", "attempts")) >= 1) || !bounded(get(route, "retries", "perTryTimeout"))) {
        report(
          violation(
            `VirtualService "${ref}"`,
            `${label} has no retries with a perTryTimeout`,
            'set retries: { attempts: 1, perTryTimeout, retryOn: "5xx,reset,connect-failure,refused-stream" }',
          ),
        );
      }
    });
  },
};

/** Stateful types and the deletion guard each has beside `protect`. */
const STATEFUL: Record<string, { label: string; guard?: (props: Record<string, unknown>) => string | undefined }> = {
  "aws:elasticache/replicationGroup:ReplicationGroup": { label: "ElastiCache replication group" },
  "aws:dynamodb/table:Table": {
    label: "DynamoDB table",
    guard: (p) => (p.deletionProtectionEnabled === true ? undefined : "set deletionProtectionEnabled: true"),
  },
  "aws:redshift/cluster:Cluster": {
    label: "Redshift cluster",
    guard: (p) => (p.skipFinalSnapshot === true ? "set skipFinalSnapshot: false with a finalSnapshotIdentifier" : undefined),
  },
  "aws:redshiftserverless/namespace:Namespace": { label: "Redshift Serverless namespace" },
  "aws:rds/instance:Instance": {
    label: "RDS instance",
    guard: (p) => (p.deletionProtection === true ? undefined : "set deletionProtection: true"),
  },
  "aws:rds/cluster:Cluster": {
    label: "RDS cluster",
    guard: (p) => (p.deletionProtection === true ? undefined : "set deletionProtection: true"),
  },
  "aws:s3/bucket:Bucket": { label: "S3 bucket", guard: (p) => (p.forceDestroy === true ? "remove forceDestroy: true" : undefined) },
  "aws:s3/bucketV2:BucketV2": {
    label: "S3 bucket",
    guard: (p) => (p.forceDestroy === true ? "remove forceDestroy: true" : undefined),
  },
  "gcp:redis/instance:Instance": { label: "Memorystore instance" },
  "gcp:redis/cluster:Cluster": {
    label: "Memorystore cluster",
    // The provider defaults deletionProtectionEnabled to true: only an explicit false unguards it.
    guard: (p) => (p.deletionProtectionEnabled === false ? "set deletionProtectionEnabled: true" : undefined),
  },
  "gcp:sql/databaseInstance:DatabaseInstance": {
    label: "Cloud SQL instance",
    guard: (p) => (p.deletionProtection === false ? "set deletionProtection: true" : undefined),
  },
  "gcp:storage/bucket:Bucket": { label: "GCS bucket", guard: (p) => (p.forceDestroy === true ? "remove forceDestroy: true" : undefined) },
  "gcp:bigquery/dataset:Dataset": {
    label: "BigQuery dataset",
    guard: (p) => (p.deleteContentsOnDestroy === true ? "remove deleteContentsOnDestroy: true" : undefined),
  },
};

export const statefulResourcesProtected: PlatformPolicy = {
  area: "reliability",
  name: "stateful-resources-protected",
  description:
    "In prod, stores, databases and buckets have `protect` and their own deletion protection, so a bad change cannot delete data.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment } },
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const kind = STATEFUL[args.type];
    if (!kind) return args.notApplicable("not a stateful resource");
    if (args.getConfig<Facts>().environment !== "prod") return args.notApplicable("dev stacks are disposable");
    const subject = `${kind.label} "${args.name}"`;
    if (!args.opts.protect)
      report(
        violation(
          subject,
          "is not protected in a prod stack",
          "pass { protect: true, retainOnDelete: true } (components do when stack.protect)",
        ),
      );
    const guard = kind.guard?.(args.props);
    if (guard) report(violation(subject, "can be deleted with its data in a prod stack", guard));
  },
};

export const dynamodbPointInTimeRecovery: PlatformPolicy = {
  area: "reliability",
  name: "dynamodb-point-in-time-recovery",
  description: "DynamoDB tables have point-in-time recovery.",
  enforcementLevel: "mandatory",
  devEnforcementLevel: "advisory",
  configSchema: { properties: {} },
  validateResource: validateResourceOfType(aws.dynamodb.Table, (table, args, report) => {
    if (table.pointInTimeRecovery?.enabled !== true)
      report(violation(`DynamoDB table "${args.name}"`, "point-in-time recovery is off", "set pointInTimeRecovery: { enabled: true }"));
  }),
};

export const onlineStoreHighlyAvailable: PlatformPolicy = {
  area: "reliability",
  name: "online-store-highly-available",
  description:
    "In prod the Redis online store has a replica in another zone with automatic failover (ElastiCache multi-AZ, Memorystore STANDARD_HA, Memorystore Cluster replicas across zones).",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment } },
  validateResource: [
    validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, args, report) => {
      if (args.getConfig<Facts>().environment !== "prod") return args.notApplicable("dev stacks run a single node");
      const subject = `ElastiCache replication group "${args.name}"`;
      if (rg.automaticFailoverEnabled !== true || rg.multiAzEnabled !== true)
        report(
          violation(
            subject,
            "has no multi-AZ automatic failover in a prod stack",
            "set automaticFailoverEnabled: true and multiAzEnabled: true",
          ),
        );
      const nodes = rg.numCacheClusters ?? (rg.replicasPerNodeGroup !== undefined ? rg.replicasPerNodeGroup + 1 : 1);
      if (nodes < 2)
        report(
          violation(subject, "has no replica in a prod stack", "set numCacheClusters: 2 or more (onlineStore.replicas in the stack file)"),
        );
    }),
    validateResourceOfType(gcp.redis.Instance, (instance, args, report) => {
      if (args.getConfig<Facts>().environment !== "prod") return args.notApplicable("dev stacks run BASIC");
      if (instance.tier !== "STANDARD_HA")
        report(
          violation(
            `Memorystore instance "${args.name}"`,
            `tier is ${instance.tier ?? "BASIC"} in a prod stack`,
            'set tier: "STANDARD_HA"',
          ),
        );
    }),
    validateResourceOfType(gcp.redis.Cluster, (cluster, args, report) => {
      if (args.getConfig<Facts>().environment !== "prod") return args.notApplicable("dev stacks may run shards without replicas");
      const subject = `Memorystore cluster "${args.name}"`;
      if (!((cluster.replicaCount ?? 0) >= 1))
        report(
          violation(
            subject,
            "has no replica per shard in a prod stack",
            "set replicaCount: 1 or more (onlineStore.replicas in the stack file)",
          ),
        );
      if (cluster.zoneDistributionConfig?.mode === "SINGLE_ZONE")
        report(violation(subject, "keeps every node in one zone in a prod stack", 'set zoneDistributionConfig: { mode: "MULTI_ZONE" }'));
    }),
  ],
};

/** RDS backup retention under the configured minimum (AWS keeps one day when none is set). */
function reportRetention(subject: string, period: number | undefined, args: ResourceValidationArgs, report: ReportViolation): void {
  const { retentionDays } = args.getConfig<{ retentionDays: number }>();
  const days = period ?? 1;
  if (days < retentionDays)
    report(violation(subject, `keeps backups ${days} day(s)`, `set backupRetentionPeriod: ${retentionDays} or more`));
}

export const databaseBackupsEnabled: PlatformPolicy = {
  area: "reliability",
  name: "database-backups-enabled",
  description:
    "The tracking server's database keeps automated backups (RDS instance or Aurora cluster retention of 7 days or more; Cloud SQL backups with point-in-time recovery).",
  enforcementLevel: "mandatory",
  devEnforcementLevel: "advisory",
  configSchema: {
    properties: { retentionDays: { type: "integer", minimum: 1, default: 7, description: "Minimum RDS backup retention in days." } },
  },
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) =>
      reportRetention(`RDS instance "${args.name}"`, db.backupRetentionPeriod, args, report),
    ),
    // An Aurora cluster keeps its backups (its instances have none of their own), with the same default.
    validateResourceOfType(aws.rds.Cluster, (db, args, report) =>
      reportRetention(`RDS cluster "${args.name}"`, db.backupRetentionPeriod, args, report),
    ),
    validateResourceOfType(gcp.sql.DatabaseInstance, (db, args, report) => {
      const backup = db.settings?.backupConfiguration;
      const fix = "set settings.backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true }";
      if (backup?.enabled !== true) report(violation(`Cloud SQL instance "${args.name}"`, "automated backups are off", fix));
      // PostgreSQL's point-in-time recovery replays the write-ahead log kept beside the backups
      // (MySQL calls it binaryLogEnabled; the tracking database is PostgreSQL).
      else if (db.databaseVersion?.startsWith("POSTGRES") && backup.pointInTimeRecoveryEnabled !== true)
        report(violation(`Cloud SQL instance "${args.name}"`, "backs up without point-in-time recovery", fix));
    }),
  ],
};

export const reliabilityPolicies: PlatformPolicy[] = [
  containersHaveResources,
  containersHaveProbes,
  servingReplicatedInProd,
  servingAutoscaled,
  workloadsHavePdb,
  servingRoutesResilient,
  statefulResourcesProtected,
  dynamodbPointInTimeRecovery,
  onlineStoreHighlyAvailable,
  databaseBackupsEnabled,
];
