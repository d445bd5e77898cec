import { type Break, edit, type Props } from "./coverage";
import type { CoverageRow } from "./coverage-rows";

/** GCP rows of policies/COVERAGE.md, each proven on a broken copy of gcp-prod. */

const S = "gcp-prod";
const GKE = "gcp:container/cluster:Cluster";
const POOL = "gcp:container/nodePool:NodePool";
const SQL = "gcp:sql/databaseInstance:DatabaseInstance";
const REDIS = "gcp:redis/instance:Instance";
const BUCKET = "gcp:storage/bucket:Bucket";
/** The artifact bucket, not its access-log bucket (created first). */
const artifacts = (r: { name: string }) => r.name.endsWith("-bucket");
const cluster = (change: (c: Props) => void): Break => edit(GKE, change);
const systemPool = (change: (p: Props) => void): Break => edit(POOL, change, (r) => r.name.includes("system"));
const sql = (change: (settings: Props) => void): Break => edit(SQL, (d) => change(d.settings));

export const gcpRows: CoverageRow[] = [
  {
    id: "gcp-memorystore-auth",
    section: "gcp",
    rule: "CKV_GCP_95",
    checks: "Memorystore for Redis AUTH",
    policies: ["memorystore-auth-and-tls"],
    scanners: ["checkov CKV_GCP_95"],
    breakage: {
      stack: S,
      what: "online store: authEnabled false",
      apply: edit(REDIS, (r) => {
        r.authEnabled = false;
      }),
    },
  },
  {
    id: "gcp-memorystore-tls",
    section: "gcp",
    rule: "CKV_GCP_97",
    checks: "Memorystore for Redis in-transit encryption",
    policies: ["memorystore-auth-and-tls"],
    scanners: ["checkov CKV_GCP_97"],
    breakage: {
      stack: S,
      what: "online store: transitEncryptionMode DISABLED",
      apply: edit(REDIS, (r) => {
        r.transitEncryptionMode = "DISABLED";
      }),
    },
  },
  {
    id: "gcp-gke-private-nodes",
    section: "gcp",
    rule: "CKV_GCP_64, CKV_GCP_25 / tfsec google-gke-enable-private-cluster",
    checks: "GKE private nodes",
    policies: ["kubernetes-nodes-private"],
    scanners: ["checkov CKV_GCP_64", "checkov CKV_GCP_25", "trivy AVD-GCP-0059"],
    breakage: {
      stack: S,
      what: "cluster: privateClusterConfig removed",
      apply: cluster((c) => {
        delete c.privateClusterConfig;
      }),
    },
    notes: "ours also wants a private endpoint in prod (`kubernetes-endpoint-private`)",
  },
  {
    id: "gcp-gke-authorized-networks",
    section: "gcp",
    rule: "CKV_GCP_20 / tfsec google-gke-enable-master-networks (AVD-GCP-0061)",
    checks: "GKE master authorized networks configured",
    policies: ["kubernetes-endpoint-private"],
    scanners: ["checkov CKV_GCP_20", "trivy AVD-GCP-0061"],
    breakage: {
      stack: S,
      what: "cluster: masterAuthorizedNetworksConfig removed (endpoint still private)",
      apply: cluster((c) => {
        delete c.masterAuthorizedNetworksConfig;
      }),
    },
    notes: "both scanners want the block always; ours wants it only when the endpoint is public (never 0.0.0.0/0)",
  },
  {
    id: "gcp-gke-public-endpoint-world",
    section: "gcp",
    rule: "CKV_GCP_18 / tfsec AVD-GCP-0053 (no public CIDR)",
    checks: "GKE public endpoint open to 0.0.0.0/0",
    policies: ["kubernetes-endpoint-private"],
    scanners: ["checkov CKV_GCP_18", "trivy AVD-GCP-0053"],
    breakage: {
      stack: S,
      what: "cluster: public endpoint, authorized network 0.0.0.0/0",
      apply: cluster((c) => {
        c.privateClusterConfig.enablePrivateEndpoint = false;
        c.masterAuthorizedNetworksConfig = { cidrBlocks: [{ cidrBlock: "0.0.0.0/0", displayName: "world" }] };
      }),
    },
    notes:
      "Checkov reads only the block's presence; trivy AVD-GCP-0053 rejects any public CIDR; ours rejects 0.0.0.0/0 and, in prod, any public endpoint",
  },
  {
    id: "gcp-gke-workload-metadata",
    section: "gcp",
    rule: "CKV_GCP_69 / tfsec google-gke-metadata-endpoints-disabled, google-gke-node-metadata-security",
    checks: "GKE metadata server (Workload Identity)",
    policies: ["kubernetes-workload-identity"],
    scanners: ["checkov CKV_GCP_69", "trivy AVD-GCP-0057"],
    breakage: {
      stack: S,
      what: "system pool: workloadMetadataConfig GCE_METADATA",
      apply: systemPool((p) => {
        p.nodeConfig.workloadMetadataConfig = { mode: "GCE_METADATA" };
      }),
    },
    notes: "ours: a workload pool on the cluster and GKE_METADATA on every pool",
  },
  {
    id: "gcp-gke-legacy-abac",
    section: "gcp",
    rule: "CKV_GCP_7 / tfsec google-gke-no-legacy-authentication (AVD-GCP-0062)",
    checks: "GKE legacy ABAC off",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_7", "trivy AVD-GCP-0062"],
    breakage: {
      stack: S,
      what: "cluster: enableLegacyAbac true",
      apply: cluster((c) => {
        c.enableLegacyAbac = true;
      }),
    },
  },
  {
    id: "gcp-gke-client-certificate",
    section: "gcp",
    rule: "CKV_GCP_13 / tfsec AVD-GCP-0064",
    checks: "GKE client certificates off",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_13", "trivy AVD-GCP-0064"],
    breakage: {
      stack: S,
      what: "cluster: issueClientCertificate true",
      apply: cluster((c) => {
        c.masterAuth = { clientCertificateConfig: { issueClientCertificate: true } };
      }),
    },
  },
  {
    id: "gcp-gke-client-certificate-unset",
    section: "gcp",
    rule: "CKV_GCP_13 (attribute missing)",
    checks: "GKE client certificates not explicitly off",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_13"],
    breakage: {
      stack: S,
      what: "cluster: masterAuth removed",
      apply: cluster((c) => {
        delete c.masterAuth;
      }),
    },
    notes: "Checkov fails a missing setting; GKE has issued no client certificate by default since 1.12",
  },
  {
    id: "gcp-gke-shielded-nodes",
    section: "gcp",
    rule: "CKV_GCP_71 / trivy AVD-GCP-0055 (was tfsec google-gke-enable-shielded-nodes)",
    checks: "Shielded GKE nodes",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_71", "trivy AVD-GCP-0055"],
    breakage: {
      stack: S,
      what: "cluster: enableShieldedNodes false",
      apply: cluster((c) => {
        c.enableShieldedNodes = false;
      }),
    },
  },
  {
    id: "gcp-gke-secure-boot",
    section: "gcp",
    rule: "CKV_GCP_68, CKV_GCP_72",
    checks: "Secure Boot, integrity monitoring on node pools",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_68", "checkov CKV_GCP_72"],
    breakage: {
      stack: S,
      what: "system pool: secure boot and integrity monitoring false",
      apply: systemPool((p) => {
        p.nodeConfig.shieldedInstanceConfig = { enableSecureBoot: false, enableIntegrityMonitoring: false };
      }),
    },
  },
  {
    id: "gcp-gke-shielded-config-unset",
    section: "gcp",
    rule: "CKV_GCP_68, CKV_GCP_72 (attribute missing)",
    checks: "node pool without shieldedInstanceConfig",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_68"],
    breakage: {
      stack: S,
      what: "system pool: shieldedInstanceConfig removed",
      apply: systemPool((p) => {
        delete p.nodeConfig.shieldedInstanceConfig;
      }),
    },
    notes: "CKV_GCP_68 fails the missing block; CKV_GCP_72 passes it (integrity monitoring defaults on)",
  },
  {
    id: "gcp-gke-auto-repair",
    section: "gcp",
    rule: "CKV_GCP_9, CKV_GCP_10 / tfsec google-gke-enable-auto-repair, -auto-upgrade",
    checks: "Node auto-repair and auto-upgrade",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_9", "checkov CKV_GCP_10", "trivy AVD-GCP-0063", "trivy AVD-GCP-0058"],
    breakage: {
      stack: S,
      what: "system pool: autoRepair and autoUpgrade false",
      apply: systemPool((p) => {
        p.management = { autoRepair: false, autoUpgrade: false };
      }),
    },
  },
  {
    id: "gcp-gke-management-unset",
    section: "gcp",
    rule: "CKV_GCP_9, CKV_GCP_10 (attribute missing)",
    checks: "node pool without a management block",
    policies: ["gke-hardened"],
    scanners: ["checkov CKV_GCP_9", "checkov CKV_GCP_10"],
    breakage: {
      stack: S,
      what: "system pool: management removed",
      apply: systemPool((p) => {
        delete p.management;
      }),
    },
    notes: "GKE turns both on by default for new pools; Checkov fails the missing block",
  },
  {
    id: "gcp-gke-default-service-account",
    section: "gcp",
    rule: "tfsec google-gke-use-service-account (AVD-GCP-0050)",
    checks: "Node pools not on the default compute SA",
    policies: ["gke-hardened"],
    scanners: ["trivy AVD-GCP-0050"],
    breakage: {
      stack: S,
      what: "system pool: no serviceAccount (the default compute account)",
      apply: systemPool((p) => {
        delete p.nodeConfig.serviceAccount;
      }),
    },
    notes: "trivy and ours fire; Checkov has no rule for it",
  },
  {
    id: "gcp-gke-logging",
    section: "gcp",
    rule: "CKV_GCP_1, CKV_GCP_8 / tfsec google-gke-enable-stackdriver-logging, -monitoring",
    checks: "GKE logging and monitoring",
    policies: ["kubernetes-control-plane-logs"],
    scanners: ["checkov CKV_GCP_1", "checkov CKV_GCP_8", "trivy AVD-GCP-0060", "trivy AVD-GCP-0052"],
    breakage: {
      stack: S,
      what: "cluster: loggingService and monitoringService none",
      apply: cluster((c) => {
        delete c.loggingConfig;
        delete c.monitoringConfig;
        c.loggingService = "none";
        c.monitoringService = "none";
      }),
    },
  },
  {
    id: "gcp-gke-labels",
    section: "gcp",
    rule: "CKV_GCP_21 / tfsec google-gke-use-cluster-labels",
    checks: "GKE cluster labels",
    policies: ["resources-have-cost-labels"],
    scanners: ["checkov CKV_GCP_21", "trivy AVD-GCP-0051"],
    breakage: {
      stack: S,
      what: "cluster: resourceLabels removed",
      apply: cluster((c) => {
        delete c.resourceLabels;
      }),
    },
    notes: "ours: team, environment, cost_center",
  },
  {
    id: "gcp-gke-secrets-encryption",
    section: "gcp",
    rule: "(no scanner rule)",
    checks: "GKE Secrets encrypted with a KMS key",
    policies: ["kubernetes-secrets-encrypted"],
    scanners: [],
    breakage: {
      stack: S,
      what: "cluster: databaseEncryption removed",
      apply: cluster((c) => {
        delete c.databaseEncryption;
      }),
    },
    notes: "no rule in Checkov or trivy checks this for GKE; the policy is ours alone",
  },
  {
    id: "gcp-sql-public-ip",
    section: "gcp",
    rule: "CKV_GCP_60 / tfsec google-sql-no-public-access",
    checks: "Cloud SQL no public IP",
    policies: ["cloudsql-private-tls"],
    scanners: ["checkov CKV_GCP_60", "trivy AVD-GCP-0017"],
    breakage: {
      stack: S,
      what: "tracking database: ipv4Enabled true",
      apply: sql((s) => {
        s.ipConfiguration.ipv4Enabled = true;
      }),
    },
  },
  {
    id: "gcp-sql-world",
    section: "gcp",
    rule: "CKV_GCP_11",
    checks: "Cloud SQL not open to the world",
    policies: ["cloudsql-private-tls"],
    scanners: ["checkov CKV_GCP_11"],
    breakage: {
      stack: S,
      what: "tracking database: public IP, authorized network 0.0.0.0/0",
      apply: sql((s) => {
        s.ipConfiguration.ipv4Enabled = true;
        s.ipConfiguration.authorizedNetworks = [{ name: "world", value: "0.0.0.0/0" }];
      }),
    },
  },
  {
    id: "gcp-sql-ssl",
    section: "gcp",
    rule: "CKV_GCP_6",
    checks: "Cloud SQL requires TLS",
    policies: ["cloudsql-private-tls"],
    scanners: ["checkov CKV_GCP_6"],
    breakage: {
      stack: S,
      what: "tracking database: sslMode ALLOW_UNENCRYPTED_AND_ENCRYPTED",
      apply: sql((s) => {
        s.ipConfiguration.sslMode = "ALLOW_UNENCRYPTED_AND_ENCRYPTED";
      }),
    },
    notes:
      "the unbroken stack fails CKV_GCP_6 too (waived): Checkov accepts only TRUSTED_CLIENT_CERTIFICATE_REQUIRED; ours ENCRYPTED_ONLY or stronger",
  },
  {
    id: "gcp-sql-backups",
    section: "gcp",
    rule: "CKV_GCP_14 / tfsec google-sql-enable-backup",
    checks: "Cloud SQL backups",
    policies: ["database-backups-enabled"],
    scanners: ["checkov CKV_GCP_14", "trivy AVD-GCP-0024"],
    breakage: {
      stack: S,
      what: "tracking database: backups off",
      apply: sql((s) => {
        s.backupConfiguration.enabled = false;
      }),
    },
  },
  {
    id: "gcp-sql-pitr",
    section: "gcp",
    rule: "(no scanner rule)",
    checks: "Cloud SQL PostgreSQL point-in-time recovery",
    policies: ["database-backups-enabled"],
    scanners: [],
    breakage: {
      stack: S,
      what: "tracking database: pointInTimeRecoveryEnabled false",
      apply: sql((s) => {
        s.backupConfiguration.pointInTimeRecoveryEnabled = false;
      }),
    },
  },
  {
    id: "gcp-sql-flags",
    section: "gcp",
    rule: "CKV_GCP_108, CKV_GCP_109, CKV_GCP_110, CKV_GCP_111, CKV2_GCP_13 (PostgreSQL flags)",
    checks: "Cloud SQL logging flags",
    policies: [],
    scanners: [
      "checkov CKV_GCP_108",
      "checkov CKV_GCP_109",
      "checkov CKV_GCP_110",
      "checkov CKV_GCP_111",
      "trivy AVD-GCP-0016",
      "trivy AVD-GCP-0020",
      "trivy AVD-GCP-0022",
      "trivy AVD-GCP-0025",
    ],
    breakage: {
      stack: S,
      what: "tracking database: no database flags",
      apply: sql((s) => {
        s.databaseFlags = [];
      }),
    },
    notes: "fixed in the platform (components/gcp/tracking-db.ts); CKV_GCP_58 is a SQL Server flag, not ours",
  },
  {
    id: "gcp-gcs-ubla",
    section: "gcp",
    rule: "CKV_GCP_29 / tfsec google-storage-enable-ubla",
    checks: "GCS uniform bucket-level access",
    policies: ["gcs-bucket-private"],
    scanners: ["checkov CKV_GCP_29", "trivy AVD-GCP-0002"],
    breakage: {
      stack: S,
      what: "artifact bucket: uniformBucketLevelAccess false",
      apply: edit(
        BUCKET,
        (b) => {
          b.uniformBucketLevelAccess = false;
        },
        artifacts,
      ),
    },
  },
  {
    id: "gcp-gcs-public-access-prevention",
    section: "gcp",
    rule: "CKV_GCP_114",
    checks: "GCS public access prevention enforced",
    policies: ["gcs-bucket-private"],
    scanners: ["checkov CKV_GCP_114"],
    breakage: {
      stack: S,
      what: "artifact bucket: publicAccessPrevention inherited",
      apply: edit(
        BUCKET,
        (b) => {
          b.publicAccessPrevention = "inherited";
        },
        artifacts,
      ),
    },
  },
  {
    id: "gcp-gcs-all-users",
    section: "gcp",
    rule: "CKV_GCP_28 / tfsec google-storage-no-public-access",
    checks: "GCS not public (IAM allUsers)",
    policies: ["gcs-bucket-private"],
    scanners: ["checkov CKV_GCP_28", "trivy AVD-GCP-0001"],
    breakage: {
      stack: S,
      what: "artifact bucket: an IAM member allUsers",
      apply: edit(
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        (m) => {
          m.member = "allUsers";
          delete m.condition;
        },
        (r) => r.name.includes("identity"),
      ),
    },
  },
  {
    id: "gcp-gcs-versioning",
    section: "gcp",
    rule: "CKV_GCP_78",
    checks: "GCS versioning",
    policies: ["gcs-bucket-versioned"],
    scanners: ["checkov CKV_GCP_78", "trivy AVD-GCP-0078"],
    breakage: {
      stack: S,
      what: "artifact bucket: versioning off",
      apply: edit(
        BUCKET,
        (b) => {
          b.versioning = { enabled: false };
        },
        artifacts,
      ),
    },
  },
  {
    id: "gcp-bigquery-public",
    section: "gcp",
    rule: "CKV_GCP_15 / tfsec google-bigquery-no-public-access",
    checks: "BigQuery dataset not public",
    policies: ["bigquery-dataset-private"],
    scanners: ["checkov CKV_GCP_15", "trivy AVD-GCP-0046"],
    breakage: {
      stack: S,
      what: "offline dataset: an access entry for allAuthenticatedUsers",
      apply: edit("gcp:bigquery/dataset:Dataset", (d) => {
        d.accesses = [{ role: "READER", specialGroup: "allAuthenticatedUsers" }];
      }),
    },
    notes: "ours also reads IAM members and bindings and DatasetAccess resources",
  },
  {
    id: "gcp-gke-network-policy",
    section: "gcp",
    rule: "CKV_GCP_12 / trivy GCP-0056",
    checks: "GKE NetworkPolicy enforced",
    policies: ["gke-hardened"],
    scanners: [],
    status: "waived (Checkov), partial (ours)",
    notes:
      "Checkov requires a `network_policy` block, which GKE refuses beside Dataplane V2 (waived); trivy accepts Dataplane V2, as `gke-hardened` does",
  },
  {
    id: "gcp-gcs-logging",
    section: "gcp",
    rule: "CKV_GCP_62",
    checks: "GCS access logging",
    policies: [],
    scanners: ["checkov CKV_GCP_62", "trivy AVD-GCP-0077"],
    breakage: {
      stack: S,
      what: "artifact bucket: logging removed",
      apply: edit(
        BUCKET,
        (b) => {
          delete b.logging;
        },
        artifacts,
      ),
    },
    notes: "fixed in the platform (a log bucket per stack, components/gcp/artifact-store.ts); only `npm run scan` keeps it",
  },
  {
    id: "gcp-bigquery-cmek",
    section: "gcp",
    rule: "CKV_GCP_81",
    checks: "BigQuery dataset encrypted with a customer-managed key",
    policies: [],
    scanners: ["checkov CKV_GCP_81"],
    breakage: {
      stack: S,
      what: "offline dataset: defaultEncryptionConfiguration removed",
      apply: edit("gcp:bigquery/dataset:Dataset", (d) => {
        delete d.defaultEncryptionConfiguration;
      }),
    },
    notes: "fixed in the platform (components/gcp/offline-store.ts); only `npm run scan` keeps it",
  },
  {
    id: "gcp-binary-authorization",
    section: "gcp",
    rule: "CKV_GCP_66",
    checks: "Binary Authorization",
    policies: [],
    scanners: [],
    status: "not enforced (waived)",
    notes: "attestation needs a signing pipeline the blueprint does not ship",
  },
  {
    id: "gcp-google-groups",
    section: "gcp",
    rule: "CKV_GCP_65",
    checks: "Google Groups for RBAC",
    policies: [],
    scanners: [],
    status: "not enforced (waived)",
    notes: "access is granted per stack by the platform team, not in this program",
  },
  {
    id: "gcp-psp",
    section: "gcp",
    rule: "CKV_GCP_24",
    checks: "PodSecurityPolicy",
    policies: [],
    scanners: [],
    status: "not applicable",
    notes: "removed in Kubernetes 1.25; the pod rules enforce the restricted profile",
  },
];
