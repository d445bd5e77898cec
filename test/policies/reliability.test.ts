import type { Props } from "./fixtures/resource";
import { describeRule, edit } from "./fixtures/cases";

const FEATURES = 'Deployment "mlops/features" container "features"';
const container = (r: Props) => r.spec.template.spec.containers[0];

describeRule(
  "containers-have-resources",
  ["aws-dev", "local"],
  [
    {
      stack: "local",
      change: "a container has no limits",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete container(r).resources.limits;
        }),
      names: FEATURES,
      fix: "limits",
    },
    {
      stack: "aws-dev",
      change: "a container has no memory request",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete container(r).resources.requests.memory;
        }),
      names: FEATURES,
      fix: "requests",
    },
  ],
);

describeRule(
  "containers-have-probes",
  ["gcp-dev"],
  [
    {
      stack: "gcp-dev",
      change: "a container has no liveness probe",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete container(r).livenessProbe;
        }),
      names: FEATURES,
      fix: "livenessProbe",
    },
  ],
);

describeRule(
  "serving-replicated-in-prod",
  ["aws-prod", "gcp-prod", "aws-dev"],
  [
    {
      stack: "aws-prod",
      change: "a model's HPA allows one replica",
      edit: (p) =>
        edit(p, "fraud-scorer-v1-hpa", (r) => {
          r.spec.minReplicas = 1;
        }),
      names: 'Deployment "models/fraud-scorer-v1"',
      fix: "at least 2",
    },
    {
      stack: "gcp-prod",
      change: "a model without HPA runs one replica",
      edit: (p) => {
        delete p["churn-predictor-v3-hpa"];
        edit(p, "churn-predictor-v3", (r) => {
          r.spec.replicas = 1;
        });
      },
      names: 'Deployment "models/churn-predictor-v3"',
      fix: "at least 2",
    },
  ],
);

describeRule(
  "serving-autoscaled",
  ["aws-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "a model version has no HPA",
      edit: (p) => {
        delete p["fraud-scorer-v2-hpa"];
      },
      names: 'Deployment "models/fraud-scorer-v2"',
      fix: "HorizontalPodAutoscaler",
    },
  ],
);

describeRule(
  "workloads-have-pdb",
  ["aws-prod", "local"],
  [
    {
      stack: "aws-prod",
      change: "a serving Deployment has no PDB",
      edit: (p) => {
        delete p["churn-predictor-v4-pdb"];
      },
      names: 'Deployment "models/churn-predictor-v4"',
      fix: "PodDisruptionBudget",
    },
    {
      stack: "aws-prod",
      change: "the PDB selects other pods",
      edit: (p) =>
        edit(p, "featuresPdb", (r) => {
          r.spec.selector.matchLabels = { "app.kubernetes.io/name": "drift" };
        }),
      names: 'Deployment "mlops/features"',
      fix: "minAvailable: 1",
    },
  ],
);

describeRule(
  "serving-routes-have-retries-and-timeouts",
  ["aws-prod", "local"],
  [
    {
      stack: "aws-prod",
      change: "the weighted route has no timeout",
      edit: (p) =>
        edit(p, "fraud-scorer-vs", (r) => {
          delete r.spec.http.at(-1).timeout;
        }),
      names: 'VirtualService "models/fraud-scorer"',
      fix: "timeout",
    },
    {
      stack: "local",
      change: "a route has no retries",
      edit: (p) =>
        edit(p, "churn-predictor-vs", (r) => {
          delete r.spec.http[0].retries;
        }),
      names: 'VirtualService "models/churn-predictor"',
      fix: "perTryTimeout",
    },
  ],
);

describeRule(
  "stateful-resources-protected",
  ["aws-prod", "gcp-prod", "aws-dev"],
  [
    {
      stack: "aws-prod",
      change: "the online store is not protected",
      edit: (p) => edit(p, "redis", () => {}, { protect: false }),
      names: 'ElastiCache replication group "online-store"',
      fix: "protect: true",
    },
    {
      stack: "aws-prod",
      change: "the bucket can be force-destroyed",
      edit: (p) =>
        edit(p, "bucket", (r) => {
          r.forceDestroy = true;
        }),
      names: 'S3 bucket "artifacts"',
      fix: "forceDestroy",
    },
    {
      stack: "gcp-prod",
      change: "Cloud SQL deletion protection is off",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.deletionProtection = false;
        }),
      names: 'Cloud SQL instance "tracking-db"',
      fix: "deletionProtection: true",
    },
  ],
);

describeRule(
  "dynamodb-point-in-time-recovery",
  ["aws-prod"],
  [
    {
      stack: "aws-prod",
      change: "PITR is off",
      edit: (p) =>
        edit(p, "table", (r) => {
          r.pointInTimeRecovery.enabled = false;
        }),
      names: 'DynamoDB table "registry"',
      fix: "pointInTimeRecovery",
    },
  ],
);

describeRule(
  "online-store-highly-available",
  ["aws-prod", "gcp-prod", "aws-dev", "gcp-dev"],
  [
    {
      stack: "aws-prod",
      change: "multi-AZ is off",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.multiAzEnabled = false;
        }),
      names: '"online-store"',
      fix: "multiAzEnabled: true",
    },
    {
      stack: "aws-prod",
      change: "there is no replica",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.numCacheClusters = 1;
        }),
      names: '"online-store"',
      fix: "numCacheClusters",
    },
    {
      stack: "gcp-prod",
      change: "Memorystore is BASIC",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.tier = "BASIC";
        }),
      names: 'Memorystore instance "online-store"',
      fix: "STANDARD_HA",
    },
  ],
);

describeRule(
  "database-backups-enabled",
  ["aws-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "RDS keeps one day of backups",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.backupRetentionPeriod = 1;
        }),
      names: 'RDS instance "tracking-db"',
      fix: "backupRetentionPeriod: 7",
    },
    {
      stack: "gcp-prod",
      change: "Cloud SQL backups are off",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.settings.backupConfiguration.enabled = false;
        }),
      names: 'Cloud SQL instance "tracking-db"',
      fix: "backupConfiguration",
    },
    {
      stack: "gcp-prod",
      change: "Cloud SQL PostgreSQL backs up without point-in-time recovery",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
        }),
      names: 'Cloud SQL instance "tracking-db"',
      fix: "pointInTimeRecoveryEnabled: true",
    },
  ],
);
