import type { Props } from "./fixtures/resource";
import { describeRealRules } from "./fixtures/real-rules";

// gcp-prod: project IAM, Cloud KMS, the tracking Cloud SQL, GKE node pools and the firewall,
// each broken once on the real output.
const named = (name: string) => (r: { name: string }) => r.name === name;
const flag = (name: string, value?: string) => (r: Props) => {
  const flags = r.settings.databaseFlags.filter((f: Props) => f.name !== name);
  r.settings.databaseFlags = value === undefined ? flags : [...flags, { name, value }];
};
const GRANT = "gcp:projects/iAMMember:IAMMember";
const SQL = "gcp:sql/databaseInstance:DatabaseInstance";
const FIREWALL = "gcp:compute/firewall:Firewall";

describeRealRules(
  "gcp-prod",
  [
    "gcp-project-iam-least-privilege",
    "kms-keys-rotated",
    "kms-key-policies-scoped",
    "cloudsql-audit-and-recovery",
    "node-metadata-hardened",
    "network-no-public-admin-ports",
  ],
  [
    {
      policy: "gcp-project-iam-least-privilege",
      change: "the features account gets roles/editor on the project",
      type: GRANT,
      match: named("mlops-gcp-identity-features-project-1"),
      edit: (r) => {
        r.role = "roles/editor";
      },
      names: 'project IAM grant "mlops-gcp-identity-features-project-1": grants the basic role roles/editor',
      fix: "predefined roles",
    },
    {
      policy: "gcp-project-iam-least-privilege",
      change: "the training account may act as every service account",
      type: GRANT,
      match: named("mlops-gcp-identity-training-project-1"),
      edit: (r) => {
        r.role = "roles/iam.serviceAccountTokenCreator";
      },
      names: "grants roles/iam.serviceAccountTokenCreator at project level",
      fix: "on the one service account",
    },
    {
      policy: "gcp-project-iam-least-privilege",
      change: "a project role goes to allAuthenticatedUsers",
      type: GRANT,
      match: named("mlops-gcp-nodes-monitoring-viewer"),
      edit: (r) => {
        r.member = "allAuthenticatedUsers";
      },
      names: "grants roles/monitoring.viewer to allAuthenticatedUsers",
      fix: "named service accounts",
    },
    {
      policy: "gcp-project-iam-least-privilege",
      change: "node roles go to the default compute service account",
      type: GRANT,
      match: named("mlops-gcp-nodes-logging-logWriter"),
      edit: (r) => {
        r.member = "serviceAccount:123456789012-compute@developer.gserviceaccount.com";
      },
      names: "the default service account 123456789012-compute@developer.gserviceaccount.com",
      fix: "dedicated service account",
    },
    {
      policy: "kms-keys-rotated",
      change: "the GKE secrets key rotates yearly",
      type: "gcp:kms/cryptoKey:CryptoKey",
      edit: (r) => {
        r.rotationPeriod = "31536000s";
      },
      names: 'CryptoKey "mlops-gcp-gke-secrets-key": rotates every 365 days',
      fix: 'rotationPeriod: "7776000s"',
    },
    {
      policy: "kms-keys-rotated",
      change: "the GKE secrets key never rotates",
      type: "gcp:kms/cryptoKey:CryptoKey",
      edit: (r) => {
        delete r.rotationPeriod;
      },
      names: "has no rotationPeriod",
      fix: "90 days",
    },
    {
      policy: "kms-key-policies-scoped",
      change: "the key's encrypter grant goes to allUsers",
      type: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
      edit: (r) => {
        r.member = "allUsers";
      },
      names: 'key grant "mlops-gcp-gke-secrets-use-0": grants roles/cloudkms.cryptoKeyEncrypterDecrypter to allUsers',
      fix: "service agent",
    },
    {
      policy: "cloudsql-audit-and-recovery",
      change: "DDL stops being logged",
      type: SQL,
      edit: flag("log_statement", "none"),
      names: 'Cloud SQL instance "mlops-gcp-tracking-postgres": flags log_statement=none',
      fix: "log_statement=ddl",
    },
    {
      policy: "cloudsql-audit-and-recovery",
      change: "IAM authentication is not enabled",
      type: SQL,
      edit: flag("cloudsql.iam_authentication"),
      names: "cloudsql.iam_authentication=(unset)",
      fix: "cloudsql.iam_authentication=on",
    },
    {
      policy: "cloudsql-audit-and-recovery",
      change: "point-in-time recovery is off",
      type: SQL,
      edit: (r) => {
        r.settings.backupConfiguration.pointInTimeRecoveryEnabled = false;
      },
      names: "point-in-time recovery is off",
      fix: "pointInTimeRecoveryEnabled: true",
    },
    {
      policy: "node-metadata-hardened",
      change: "the system pool serves the legacy metadata endpoints",
      type: "gcp:container/nodePool:NodePool",
      match: named("mlops-gcp-system-pool"),
      edit: (r) => {
        r.nodeConfig.metadata["disable-legacy-endpoints"] = "false";
      },
      names: 'GKE node pool "mlops-gcp-system-pool": serves the legacy metadata endpoints (disable-legacy-endpoints is "false")',
      fix: '"disable-legacy-endpoints": "true"',
    },
    {
      policy: "node-metadata-hardened",
      change: "the GPU pool leaves the legacy endpoints to the default",
      type: "gcp:container/nodePool:NodePool",
      match: named("mlops-gcp-gpu-l4-pool"),
      edit: (r) => {
        delete r.nodeConfig.metadata;
      },
      names: "disable-legacy-endpoints is unset",
      fix: "nodeConfig.metadata",
    },
    {
      // The cluster's nodeConfig only shapes the default pool the platform removes: unset passes, an explicit "false" does not.
      policy: "node-metadata-hardened",
      change: "the cluster's own nodeConfig turns the legacy endpoints on",
      type: "gcp:container/cluster:Cluster",
      edit: (r) => {
        r.nodeConfig.metadata = { "disable-legacy-endpoints": "false" };
      },
      names: 'GKE cluster "mlops-gcp-gke": serves the legacy metadata endpoints (disable-legacy-endpoints is "false")',
      fix: '"disable-legacy-endpoints": "true"',
    },
    {
      policy: "network-no-public-admin-ports",
      change: "the webhook firewall admits SSH from the internet",
      type: FIREWALL,
      edit: (r) => {
        r.sourceRanges = ["0.0.0.0/0"];
        r.allows = [{ protocol: "tcp", ports: ["15017", "20-23"] }];
      },
      names: 'firewall "mlops-gcp-network-control-plane-webhooks": opens 22 (SSH), 23 (Telnet) to 0.0.0.0/0',
      fix: "IAP",
    },
    {
      policy: "network-no-public-admin-ports",
      change: "the webhook firewall admits every protocol from the internet",
      type: FIREWALL,
      edit: (r) => {
        r.sourceRanges = ["10.0.0.0/8", "0.0.0.0/0"];
        r.allows = [{ protocol: "all" }];
      },
      names: "opens every port (all protocols) to 0.0.0.0/0",
      fix: "private CIDR",
    },
  ],
);
