import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import type { StackSpec } from "../../definition";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The reliability policies (policies/reliability.ts) over aws-prod's real plan, broken one way at
 * a time, each case asserting the whole list of violations (message and fix) of one policy. aws-prod
 * serves five model versions in models (each with a KEDA ScaledObject of minReplicaCount 2 and a PDB),
 * runs mlflow (2 replicas, no autoscaler) and features (an HPA of minReplicas 2) in mlops, and keeps
 * its state in an ElastiCache replication group (3 nodes, multi-AZ), an RDS instance (14 days of
 * backups), two S3 buckets and a Redshift Serverless namespace, all protected. The stateful types it
 * does not create (DynamoDB, Redshift clusters, RDS clusters) are added by hand, shaped as the
 * provider takes them.
 */

const STACK = "aws-prod";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const RDS = "aws:rds/instance:Instance";
const BUCKET = "aws:s3/bucket:Bucket";
const DYNAMODB = "aws:dynamodb/table:Table";

const resources = realPlan(STACK);

/** One policy's violations over `all`, in aws-prod or with parts of its stack spec replaced (a dev environment). */
function run(name: string, all: PlanResource[], stack?: Partial<StackSpec>): Found {
  return violationsOf(all, STACK, name, stack);
}

const DEV = { environment: "dev" } as const;

/** The plan with the resource of `type` whose Pulumi name is `name` changed (or removed without `change`). */
function broken(type: string, name: string, change?: (r: Props) => void, all = resources): PlanResource[] {
  return withBreakage(all, { type, match: (r) => r.name === name, change });
}

/** Several breakages one after the other. */
function brokenAll(...steps: [type: string, name: string, change?: (r: Props) => void][]): PlanResource[] {
  return steps.reduce((all, [type, name, change]) => broken(type, name, change, all), resources);
}

const container = (r: Props) => r.spec.template.spec.containers[0];
const scaler = (model: string) => `${model}-scaler`;

describe("containers-have-resources on aws-prod", () => {
  const check = (all: PlanResource[]) => run("containers-have-resources", all);
  const FIX = "set resources: { requests: { cpu, memory }, limits: { cpu, memory } } (the Workload builder sets limits = requests)";
  const features = (missing: string) => [{ message: `Deployment "mlops/features" container "features": has no ${missing}.`, fix: FIX }];

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a container without limits lacks both, cpu first", () => {
    expect(check(broken(DEPLOYMENT, "features", (r) => void delete container(r).resources.limits))).toEqual(
      features("limits.cpu, limits.memory"),
    );
  });

  it("a container without a memory request lacks only that", () => {
    expect(check(broken(DEPLOYMENT, "features", (r) => void delete container(r).resources.requests.memory))).toEqual(
      features("requests.memory"),
    );
  });

  it("a container without a CPU limit lacks only that", () => {
    expect(check(broken(DEPLOYMENT, "features", (r) => void delete container(r).resources.limits.cpu))).toEqual(features("limits.cpu"));
  });

  it("requests come before limits in the list", () => {
    const found = check(
      broken(DEPLOYMENT, "features", (r) => {
        delete container(r).resources.requests.cpu;
        delete container(r).resources.limits.memory;
      }),
    );
    expect(found).toEqual(features("requests.cpu, limits.memory"));
  });

  it("a container without resources lacks all four", () => {
    expect(check(broken(DEPLOYMENT, "features", (r) => void delete container(r).resources))).toEqual(
      features("requests.cpu, requests.memory, limits.cpu, limits.memory"),
    );
  });
});

describe("containers-have-probes on aws-prod", () => {
  const check = (all: PlanResource[]) => run("containers-have-probes", all);
  const FIX = "add readinessProbe and livenessProbe (HTTP /ready and /live for the platform's services)";

  it("passes the real output (CronJobs and the pre-pull DaemonSet's init container have none)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a Deployment container without either probe names both", () => {
    const found = check(
      broken(DEPLOYMENT, "features", (r) => {
        delete container(r).readinessProbe;
        delete container(r).livenessProbe;
      }),
    );
    expect(found).toEqual([
      { message: 'Deployment "mlops/features" container "features": has no readinessProbe or livenessProbe.', fix: FIX },
    ]);
  });

  it("a Deployment container without a readiness probe names only it", () => {
    expect(check(broken(DEPLOYMENT, "mlflow", (r) => void delete container(r).readinessProbe))).toEqual([
      { message: 'Deployment "mlops/mlflow" container "mlflow": has no readinessProbe.', fix: FIX },
    ]);
  });

  it("a DaemonSet container without a liveness probe", () => {
    const found = check(broken("kubernetes:apps/v1:DaemonSet", "dcgm-exporter", (r) => void delete container(r).livenessProbe));
    expect(found).toEqual([{ message: 'DaemonSet "gpu-system/dcgm-exporter" container "dcgm-exporter": has no livenessProbe.', fix: FIX }]);
  });

  it("a model's second container without probes, the first one probed", () => {
    const found = check(
      broken(DEPLOYMENT, "support-assistant-llama-8b", (r) => {
        const runtime = r.spec.template.spec.containers[1];
        delete runtime.readinessProbe;
        delete runtime.livenessProbe;
      }),
    );
    expect(found).toEqual([
      {
        message: 'Deployment "models/support-assistant-llama-8b" container "openai": has no readinessProbe or livenessProbe.',
        fix: FIX,
      },
    ]);
  });
});

/** A StatefulSet in `namespace`, as a model team might add one beside the platform's Deployments. */
function statefulSet(namespace: string, replicas: number): PlanResource {
  return resource(STATEFULSET, `${namespace}-feature-cache`, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "feature-cache", namespace },
    spec: {
      replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": "feature-cache" } },
      template: { metadata: { labels: { "app.kubernetes.io/name": "feature-cache" } }, spec: { containers: [{ name: "cache" }] } },
    },
  });
}

/** An autoscaling/v2 HPA of a models Deployment, with `spec` beside its scaleTargetRef. */
function modelHpa(model: string, spec: Props): PlanResource {
  return resource(HPA, `${model}-hpa`, {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: model, namespace: "models" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: model }, maxReplicas: 4, ...spec },
  });
}

describe("serving-replicated-in-prod on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("serving-replicated-in-prod", all, stack);
  const FIX = "run at least 2 (autoscaling.minReplicas in the model's catalog file, raised to 2 in prod by ModelServing)";
  const fraud = (where: string) => [{ message: `Deployment "models/fraud-scorer-v1": ${where} in a prod stack.`, fix: FIX }];
  const scaledTo = (min: number | undefined, annotations?: Record<string, string>) =>
    broken(SCALED_OBJECT, scaler("fraud-scorer-v1"), (r) => {
      if (min === undefined) delete r.spec.minReplicaCount;
      else r.spec.minReplicaCount = min;
      if (annotations) r.metadata.annotations = annotations;
    });

  it("passes the real output (every model at its ScaledObject's minReplicaCount 2)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a ScaledObject of minReplicaCount 1", () => {
    expect(check(scaledTo(1))).toEqual(fraud("its HPA's minReplicas is 1"));
  });

  it("a ScaledObject without minReplicaCount runs KEDA's default, zero", () => {
    expect(check(scaledTo(undefined))).toEqual(fraud("its HPA's minReplicas is 0"));
  });

  it("scale to zero asked for by the catalog (the ScaledObject's annotation) is allowed", () => {
    expect(check(scaledTo(0, { "mlops.platform/scale-to-zero": "true" }))).toEqual([]);
  });

  it("the scale-to-zero annotation set to anything but true does not allow it", () => {
    expect(check(scaledTo(0, { "mlops.platform/scale-to-zero": "false" }))).toEqual(fraud("its HPA's minReplicas is 0"));
  });

  it("the scale-to-zero annotation does not excuse one replica", () => {
    expect(check(scaledTo(1, { "mlops.platform/scale-to-zero": "true" }))).toEqual(fraud("its HPA's minReplicas is 1"));
  });

  it("an HPA's minReplicas counts, and HPA's default is one", () => {
    const withoutScaler = broken(SCALED_OBJECT, scaler("fraud-scorer-v1"));
    expect(check([...withoutScaler, modelHpa("fraud-scorer-v1", { minReplicas: 3 })])).toEqual([]);
    expect(check([...withoutScaler, modelHpa("fraud-scorer-v1", {})])).toEqual(fraud("its HPA's minReplicas is 1"));
  });

  it("without an autoscaler the Deployment's replicas count (default 1)", () => {
    const withoutScaler = broken(SCALED_OBJECT, scaler("fraud-scorer-v1"));
    expect(check(withoutScaler)).toEqual(fraud("replicas is 1"));
    expect(
      check(
        broken(
          DEPLOYMENT,
          "fraud-scorer-v1",
          (r) => {
            r.spec.replicas = 3;
          },
          withoutScaler,
        ),
      ),
    ).toEqual([]);
    expect(
      check(
        broken(
          DEPLOYMENT,
          "fraud-scorer-v1",
          (r) => {
            r.spec.replicas = 0;
          },
          withoutScaler,
        ),
      ),
    ).toEqual(fraud("replicas is 0"));
  });

  it("only the serving namespace counts: mlflow at one replica in mlops passes", () => {
    expect(
      check(
        broken(DEPLOYMENT, "mlflow", (r) => {
          r.spec.replicas = 1;
        }),
      ),
    ).toEqual([]);
  });

  it("a serving StatefulSet at one replica fails too", () => {
    expect(check([...resources, statefulSet("models", 1)])).toEqual([
      { message: 'StatefulSet "models/feature-cache": replicas is 1 in a prod stack.', fix: FIX },
    ]);
  });

  it("dev stacks may run one replica", () => {
    expect(check(scaledTo(1), DEV)).toEqual([]);
  });
});

describe("serving-autoscaled on aws-prod", () => {
  const check = (all: PlanResource[]) => run("serving-autoscaled", all);
  const fraud = [
    {
      message: 'Deployment "models/fraud-scorer-v1": has no HorizontalPodAutoscaler or KEDA ScaledObject.',
      fix: "create an autoscaling/v2 HorizontalPodAutoscaler with scaleTargetRef { kind: Deployment, name: fraud-scorer-v1 }",
    },
  ];

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a model without its ScaledObject", () => {
    expect(check(broken(SCALED_OBJECT, scaler("fraud-scorer-v1")))).toEqual(fraud);
  });

  it("an HPA in place of the ScaledObject counts", () => {
    expect(check([...broken(SCALED_OBJECT, scaler("fraud-scorer-v1")), modelHpa("fraud-scorer-v1", { minReplicas: 2 })])).toEqual([]);
  });

  it("a ScaledObject in another namespace does not scale the model", () => {
    expect(
      check(
        broken(SCALED_OBJECT, scaler("fraud-scorer-v1"), (r) => {
          r.metadata.namespace = "mlops";
        }),
      ),
    ).toEqual(fraud);
  });

  it("a ScaledObject that targets a StatefulSet of the same name does not scale the Deployment", () => {
    expect(
      check(
        broken(SCALED_OBJECT, scaler("fraud-scorer-v1"), (r) => {
          r.spec.scaleTargetRef.kind = "StatefulSet";
        }),
      ),
    ).toEqual(fraud);
  });

  it("a ScaledObject without a target kind scales a Deployment (KEDA's default)", () => {
    expect(check(broken(SCALED_OBJECT, scaler("fraud-scorer-v1"), (r) => void delete r.spec.scaleTargetRef.kind))).toEqual([]);
  });

  it("outside the serving namespace no autoscaler is needed (features without its HPA)", () => {
    expect(check(broken(HPA, "mlops-features-hpa"))).toEqual([]);
  });

  it("a serving StatefulSet needs none", () => {
    expect(check([...resources, statefulSet("models", 3)])).toEqual([]);
  });
});

describe("workloads-have-pdb on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("workloads-have-pdb", all, stack);
  const FIX = "create a policy/v1 PodDisruptionBudget with minAvailable: 1 and the workload's selector (Workload does when pdb is true)";
  const without = (ref: string, replicas: number, kind = "Deployment") => ({
    message: `${kind} "${ref}": runs ${replicas} replica(s) without a PodDisruptionBudget.`,
    fix: FIX,
  });
  /** fraud-scorer-v1 without its PDB, its ScaledObject at minReplicaCount `min`. */
  const fraudAt = (min: number) =>
    brokenAll(
      [PDB, "fraud-scorer-v1"],
      [
        SCALED_OBJECT,
        scaler("fraud-scorer-v1"),
        (r) => {
          r.spec.minReplicaCount = min;
        },
      ],
    );

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("mlflow at 2 replicas without its PDB", () => {
    expect(check(broken(PDB, "mlflow"))).toEqual([without("mlops/mlflow", 2)]);
  });

  it("mlflow at one replica outside the serving namespace needs none", () => {
    expect(
      check(
        brokenAll(
          [PDB, "mlflow"],
          [
            DEPLOYMENT,
            "mlflow",
            (r) => {
              r.spec.replicas = 1;
            },
          ],
        ),
      ),
    ).toEqual([]);
  });

  it("features counts its HPA's minReplicas", () => {
    expect(check(broken(PDB, "features"))).toEqual([without("mlops/features", 2)]);
    expect(
      check(
        brokenAll(
          [PDB, "features"],
          [
            HPA,
            "mlops-features-hpa",
            (r) => {
              r.spec.minReplicas = 1;
            },
          ],
        ),
      ),
    ).toEqual([]);
  });

  it("in prod every serving Deployment needs one, even at one replica", () => {
    expect(check(fraudAt(1))).toEqual([without("models/fraud-scorer-v1", 1)]);
  });

  it("in dev a serving Deployment at one replica needs none, at two it does", () => {
    expect(check(fraudAt(1), DEV)).toEqual([]);
    expect(check(fraudAt(2), DEV)).toEqual([without("models/fraud-scorer-v1", 2)]);
  });

  it("a PDB in another namespace does not cover the workload", () => {
    expect(
      check(
        broken(PDB, "features", (r) => {
          r.metadata.namespace = "models";
        }),
      ),
    ).toEqual([without("mlops/features", 2)]);
  });

  it("a PDB selecting other pods does not cover it", () => {
    const found = check(
      broken(PDB, "features", (r) => {
        r.spec.selector.matchLabels = { "app.kubernetes.io/name": "mlflow" };
      }),
    );
    expect(found).toEqual([without("mlops/features", 2)]);
  });

  it("a replicated StatefulSet in a namespace without PDBs", () => {
    expect(check([...resources, statefulSet("batch", 3)])).toEqual([without("batch/feature-cache", 3, "StatefulSet")]);
  });
});

describe("serving-routes-have-retries-and-timeouts on aws-prod", () => {
  const check = (all: PlanResource[]) => run("serving-routes-have-retries-and-timeouts", all);
  const NO_TIMEOUT_FIX = 'set timeout (e.g. "440ms", from the model\'s SLO)';
  const NO_RETRIES_FIX = 'set retries: { attempts: 1, perTryTimeout, retryOn: "5xx,reset,connect-failure,refused-stream" }';
  const noTimeout = (route: string) => ({
    message: `VirtualService "models/fraud-scorer": route ${route} has no timeout.`,
    fix: NO_TIMEOUT_FIX,
  });
  const noRetries = (route: string) => ({
    message: `VirtualService "models/fraud-scorer": route ${route} has no retries with a perTryTimeout.`,
    fix: NO_RETRIES_FIX,
  });
  /** fraud-scorer's last route ("weighted", #5) changed. */
  const weighted = (change: (route: Props) => void) => broken(VIRTUAL_SERVICE, "fraud-scorer-vs", (r) => change(r.spec.http.at(-1)));

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("a route without a timeout", () => {
    expect(check(weighted((route) => void delete route.timeout))).toEqual([noTimeout("weighted")]);
  });

  it("a route without a name is named by its index", () => {
    expect(
      check(
        weighted((route) => {
          delete route.name;
          delete route.timeout;
        }),
      ),
    ).toEqual([noTimeout("#5")]);
  });

  it("a route without retries", () => {
    expect(check(weighted((route) => void delete route.retries))).toEqual([noRetries("weighted")]);
  });

  it("retries of zero attempts are none", () => {
    expect(
      check(
        weighted((route) => {
          route.retries.attempts = 0;
        }),
      ),
    ).toEqual([noRetries("weighted")]);
  });

  it("retries without attempts are none", () => {
    expect(check(weighted((route) => void delete route.retries.attempts))).toEqual([noRetries("weighted")]);
  });

  it("retries of three attempts pass", () => {
    expect(
      check(
        weighted((route) => {
          route.retries.attempts = 3;
        }),
      ),
    ).toEqual([]);
  });

  it("retries without a per-try timeout", () => {
    expect(check(weighted((route) => void delete route.retries.perTryTimeout))).toEqual([noRetries("weighted")]);
  });

  it("a route without either reports both, timeout first", () => {
    expect(
      check(
        weighted((route) => {
          delete route.timeout;
          delete route.retries;
        }),
      ),
    ).toEqual([noTimeout("weighted"), noRetries("weighted")]);
  });

  it("a timeout of zero is none: Envoy reads 0s as no timeout at all", () => {
    const zero = (timeout: string) => ({
      message: `VirtualService "models/fraud-scorer": route weighted has timeout ${timeout}, which Envoy reads as none.`,
      fix: NO_TIMEOUT_FIX,
    });
    expect(
      check(
        weighted((route) => {
          route.timeout = "0s";
        }),
      ),
    ).toEqual([zero("0s")]);
    expect(
      check(
        weighted((route) => {
          route.timeout = "0ms";
        }),
      ),
    ).toEqual([zero("0ms")]);
    expect(
      check(
        weighted((route) => {
          route.timeout = "0.000s";
        }),
      ),
    ).toEqual([zero("0.000s")]);
  });

  it("a timeout with a zero part, or under a second, is a timeout", () => {
    expect(
      check(
        weighted((route) => {
          route.timeout = "1m0s";
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        weighted((route) => {
          route.timeout = "0.5s";
        }),
      ),
    ).toEqual([]);
  });

  it("a per-try timeout of zero is none", () => {
    expect(
      check(
        weighted((route) => {
          route.retries.perTryTimeout = "0s";
        }),
      ),
    ).toEqual([noRetries("weighted")]);
  });

  it("only VirtualServices are read: the same routes registered as a DestinationRule are not", () => {
    const i = resources.findIndex((r) => r.type === VIRTUAL_SERVICE && r.name === "fraud-scorer-vs");
    const copy = broken(VIRTUAL_SERVICE, "fraud-scorer-vs", (r) => void delete r.spec.http.at(-1).timeout);
    copy[i] = { ...(copy[i] as PlanResource), type: "kubernetes:networking.istio.io/v1:DestinationRule" };
    expect(check(copy)).toEqual([]);
  });
});

/** A DynamoDB table as components would create one, protected, with `props` on top. */
function dynamodbTable(props: Props): PlanResource {
  return resource(
    DYNAMODB,
    "registry",
    { name: "registry", billingMode: "PAY_PER_REQUEST", hashKey: "id", attributes: [{ name: "id", type: "S" }], ...props },
    { protect: true },
  );
}

describe("stateful-resources-protected on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("stateful-resources-protected", all, stack);
  const UNPROTECTED_FIX = "pass { protect: true, retainOnDelete: true } (components do when stack.protect)";
  const unprotected = (subject: string) => ({ message: `${subject}: is not protected in a prod stack.`, fix: UNPROTECTED_FIX });
  const deletable = (subject: string, fix: string) => ({ message: `${subject}: can be deleted with its data in a prod stack.`, fix });
  const unprotect = (type: string, name: string, change: (r: Props) => void = () => {}) => {
    const i = resources.findIndex((r) => r.type === type && r.name === name);
    const copy = broken(type, name, change);
    copy[i] = { ...(copy[i] as PlanResource), options: { ...(copy[i] as PlanResource).options, protect: false } };
    return copy;
  };
  const REDIS_SUBJECT = 'ElastiCache replication group "mlops-aws-online-redis"';

  it("passes the real output", () => {
    expect(check(resources)).toEqual([]);
  });

  it("the online store without protect", () => {
    expect(check(unprotect(REDIS, "mlops-aws-online-redis"))).toEqual([unprotected(REDIS_SUBJECT)]);
  });

  it("the Redshift Serverless namespace without protect", () => {
    const found = check(unprotect("aws:redshiftserverless/namespace:Namespace", "mlops-aws-offline-ns"));
    expect(found).toEqual([unprotected('Redshift Serverless namespace "mlops-aws-offline-ns"')]);
  });

  it("dev stacks are disposable: nothing is checked", () => {
    expect(check(unprotect(REDIS, "mlops-aws-online-redis"), DEV)).toEqual([]);
    expect(
      check(
        unprotect(BUCKET, "mlops-aws-artifacts", (r) => {
          r.forceDestroy = true;
        }),
        DEV,
      ),
    ).toEqual([]);
  });

  it("a bucket that can be force-destroyed", () => {
    expect(
      check(
        broken(BUCKET, "mlops-aws-artifacts", (r) => {
          r.forceDestroy = true;
        }),
      ),
    ).toEqual([deletable('S3 bucket "mlops-aws-artifacts"', "remove forceDestroy: true")]);
  });

  it("an unprotected bucket that can be force-destroyed reports both, protect first", () => {
    expect(
      check(
        unprotect(BUCKET, "mlops-aws-artifacts", (r) => {
          r.forceDestroy = true;
        }),
      ),
    ).toEqual([unprotected('S3 bucket "mlops-aws-artifacts"'), deletable('S3 bucket "mlops-aws-artifacts"', "remove forceDestroy: true")]);
  });

  it("the RDS instance without deletion protection, off or unset", () => {
    const expected = [deletable('RDS instance "mlops-aws-tracking-db"', "set deletionProtection: true")];
    expect(
      check(
        broken(RDS, "mlops-aws-tracking-db", (r) => {
          r.deletionProtection = false;
        }),
      ),
    ).toEqual(expected);
    expect(check(broken(RDS, "mlops-aws-tracking-db", (r) => void delete r.deletionProtection))).toEqual(expected);
  });

  it("a DynamoDB table needs deletionProtectionEnabled set to true", () => {
    const expected = [deletable('DynamoDB table "registry"', "set deletionProtectionEnabled: true")];
    expect(check([...resources, dynamodbTable({ deletionProtectionEnabled: true })])).toEqual([]);
    expect(check([...resources, dynamodbTable({ deletionProtectionEnabled: false })])).toEqual(expected);
    expect(check([...resources, dynamodbTable({})])).toEqual(expected);
  });

  it("a Redshift cluster may not skip its final snapshot", () => {
    const cluster = (props: Props) =>
      resource(
        "aws:redshift/cluster:Cluster",
        "warehouse",
        { clusterIdentifier: "warehouse", nodeType: "ra3.xlplus", ...props },
        { protect: true },
      );
    expect(check([...resources, cluster({ skipFinalSnapshot: false, finalSnapshotIdentifier: "warehouse-final" })])).toEqual([]);
    expect(check([...resources, cluster({})])).toEqual([]);
    expect(check([...resources, cluster({ skipFinalSnapshot: true })])).toEqual([
      deletable('Redshift cluster "warehouse"', "set skipFinalSnapshot: false with a finalSnapshotIdentifier"),
    ]);
  });

  it("an S3 BucketV2 is a bucket too: protect, and no forceDestroy", () => {
    const bucket = (props: Props, protect = true) => resource("aws:s3/bucketV2:BucketV2", "datasets", { ...props }, { protect });
    expect(check([...resources, bucket({})])).toEqual([]);
    expect(check([...resources, bucket({ forceDestroy: true }, false)])).toEqual([
      unprotected('S3 bucket "datasets"'),
      deletable('S3 bucket "datasets"', "remove forceDestroy: true"),
    ]);
  });

  it("an RDS (Aurora) cluster needs deletionProtection set to true", () => {
    const cluster = (props: Props) =>
      resource("aws:rds/cluster:Cluster", "tracking-aurora", { engine: "aurora-postgresql", ...props }, { protect: true });
    expect(check([...resources, cluster({ deletionProtection: true })])).toEqual([]);
    expect(check([...resources, cluster({})])).toEqual([deletable('RDS cluster "tracking-aurora"', "set deletionProtection: true")]);
  });
});

describe("dynamodb-point-in-time-recovery on aws-prod", () => {
  const check = (all: PlanResource[]) => run("dynamodb-point-in-time-recovery", all);
  const off = [{ message: 'DynamoDB table "registry": point-in-time recovery is off.', fix: "set pointInTimeRecovery: { enabled: true }" }];

  it("a table with point-in-time recovery enabled passes", () => {
    expect(check([...resources, dynamodbTable({ pointInTimeRecovery: { enabled: true } })])).toEqual([]);
  });

  it("a table with it disabled, or without the block, fails", () => {
    expect(check([...resources, dynamodbTable({ pointInTimeRecovery: { enabled: false } })])).toEqual(off);
    expect(check([...resources, dynamodbTable({})])).toEqual(off);
  });
});

describe("online-store-highly-available on aws-prod", () => {
  const check = (all: PlanResource[], stack?: Partial<StackSpec>) => run("online-store-highly-available", all, stack);
  const redis = (change: (r: Props) => void) => broken(REDIS, "mlops-aws-online-redis", change);
  const SUBJECT = 'ElastiCache replication group "mlops-aws-online-redis"';
  const NO_FAILOVER = {
    message: `${SUBJECT}: has no multi-AZ automatic failover in a prod stack.`,
    fix: "set automaticFailoverEnabled: true and multiAzEnabled: true",
  };
  const NO_REPLICA = {
    message: `${SUBJECT}: has no replica in a prod stack.`,
    fix: "set numCacheClusters: 2 or more (onlineStore.replicas in the stack file)",
  };

  it("passes the real output (3 nodes, multi-AZ failover)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("multi-AZ off, or automatic failover off, or either unset", () => {
    expect(
      check(
        redis((r) => {
          r.multiAzEnabled = false;
        }),
      ),
    ).toEqual([NO_FAILOVER]);
    expect(
      check(
        redis((r) => {
          r.automaticFailoverEnabled = false;
        }),
      ),
    ).toEqual([NO_FAILOVER]);
    expect(check(redis((r) => void delete r.multiAzEnabled))).toEqual([NO_FAILOVER]);
  });

  it("one cache cluster has no replica; two have one", () => {
    expect(
      check(
        redis((r) => {
          r.numCacheClusters = 1;
        }),
      ),
    ).toEqual([NO_REPLICA]);
    expect(
      check(
        redis((r) => {
          r.numCacheClusters = 2;
        }),
      ),
    ).toEqual([]);
  });

  it("cluster mode counts replicasPerNodeGroup beside the primary", () => {
    const replicas = (n: number) =>
      redis((r) => {
        delete r.numCacheClusters;
        r.replicasPerNodeGroup = n;
      });
    expect(check(replicas(1))).toEqual([]);
    expect(check(replicas(0))).toEqual([NO_REPLICA]);
  });

  it("without either count the group is one node", () => {
    expect(check(redis((r) => void delete r.numCacheClusters))).toEqual([NO_REPLICA]);
  });

  it("a single node without failover reports both", () => {
    const found = check(
      redis((r) => {
        r.numCacheClusters = 1;
        r.automaticFailoverEnabled = false;
        r.multiAzEnabled = false;
      }),
    );
    expect(found).toEqual([NO_FAILOVER, NO_REPLICA]);
  });

  it("dev stacks run a single node", () => {
    const single = redis((r) => {
      r.numCacheClusters = 1;
      r.automaticFailoverEnabled = false;
      r.multiAzEnabled = false;
    });
    expect(check(single, DEV)).toEqual([]);
  });
});

describe("database-backups-enabled on aws-prod", () => {
  const check = (all: PlanResource[]) => run("database-backups-enabled", all);
  const keeps = (days: number) => [
    { message: `RDS instance "mlops-aws-tracking-db": keeps backups ${days} day(s).`, fix: "set backupRetentionPeriod: 7 or more" },
  ];
  const retention = (days?: number) =>
    broken(RDS, "mlops-aws-tracking-db", (r) => {
      if (days === undefined) delete r.backupRetentionPeriod;
      else r.backupRetentionPeriod = days;
    });

  it("passes the real output (14 days)", () => {
    expect(check(resources)).toEqual([]);
  });

  it("7 days pass, 6 do not", () => {
    expect(check(retention(7))).toEqual([]);
    expect(check(retention(6))).toEqual(keeps(6));
  });

  it("an unset retention is AWS's default of one day", () => {
    expect(check(retention())).toEqual(keeps(1));
  });

  it("an Aurora cluster keeps the backups: 7 days pass, fewer or unset (one day) do not", () => {
    const aurora = (props: Props) => resource("aws:rds/cluster:Cluster", "tracking-aurora", { engine: "aurora-postgresql", ...props });
    const clusterKeeps = (days: number) => [
      { message: `RDS cluster "tracking-aurora": keeps backups ${days} day(s).`, fix: "set backupRetentionPeriod: 7 or more" },
    ];
    expect(check([...resources, aurora({ backupRetentionPeriod: 7 })])).toEqual([]);
    expect(check([...resources, aurora({ backupRetentionPeriod: 3 })])).toEqual(clusterKeeps(3));
    expect(check([...resources, aurora({})])).toEqual(clusterKeeps(1));
  });
});
