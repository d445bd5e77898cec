import type { PlanResource } from "../../components/plan-resource";
import { add, edit, remove } from "./coverage";
import { type CoverageRow, k8sNamed } from "./coverage-rows";

/** AWS rows of policies/COVERAGE.md, each proven on a broken copy of aws-prod. */

const S = "aws-prod";
const BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const EKS = "aws:eks/cluster:Cluster";
const NODES = "aws:eks/nodeGroup:NodeGroup";
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const RDS = "aws:rds/instance:Instance";
const TABLE = "aws:dynamodb/table:Table";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
/** The artifact bucket's resources, not those of its access-log bucket (created first). */
const artifacts = (r: PlanResource) => r.name.includes("artifacts") && !r.name.includes("-logs");

/**
 * No stack here picks the DynamoDB online store, so its rows add the table
 * components/aws/dynamodb.ts creates (the same inputs), broken.
 */
function dynamoTable(change: (inputs: Record<string, unknown>) => void): PlanResource {
  const inputs: Record<string, unknown> = {
    name: "mlops-aws-online-aws-prod",
    billingMode: "PAY_PER_REQUEST",
    hashKey: "entity_key",
    attributes: [{ name: "entity_key", type: "S" }],
    serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/0f0f0f0f-0000-4000-8000-000000000001" },
    pointInTimeRecovery: { enabled: true },
    deletionProtectionEnabled: true,
    tags: { team: "ml-platform", environment: "prod", costCenter: "cc-ml-1001" },
  };
  change(inputs);
  return {
    type: TABLE,
    name: "mlops-aws-online-table",
    urn: `urn:pulumi:${S}::mlops-platform::${TABLE}::mlops-aws-online-table`,
    inputs,
    outputs: { ...inputs, id: "mlops-aws-online-aws-prod", arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/mlops-aws-online-aws-prod" },
    custom: true,
    options: { protect: true },
  };
}

/** The node group moved into the public subnets (whose mapPublicIpOnLaunch is false). */
const nodesInPublicSubnets = (resources: PlanResource[]) => {
  const publicIds = resources.filter((r) => r.type === "aws:ec2/subnet:Subnet" && r.name.includes("public")).map((r) => r.outputs.id);
  return edit(NODES, (g) => {
    g.subnetIds = publicIds;
  })(resources);
};

export const awsRows: CoverageRow[] = [
  {
    id: "aws-elasticache-at-rest",
    section: "aws",
    rule: "CKV_AWS_29 / tfsec aws-elasticache-enable-at-rest-encryption",
    checks: "ElastiCache replication group encrypted at rest",
    policies: ["elasticache-encrypted-with-auth"],
    scanners: ["checkov CKV_AWS_29", "trivy AVD-AWS-0045"],
    breakage: {
      stack: S,
      what: "online store: atRestEncryptionEnabled false",
      apply: edit(REDIS, (r) => {
        r.atRestEncryptionEnabled = false;
      }),
    },
  },
  {
    id: "aws-elasticache-in-transit",
    section: "aws",
    rule: "CKV_AWS_30 / tfsec aws-elasticache-enable-in-transit-encryption",
    checks: "ElastiCache encrypted in transit",
    policies: ["elasticache-encrypted-with-auth"],
    scanners: ["checkov CKV_AWS_30", "trivy AVD-AWS-0051"],
    breakage: {
      stack: S,
      what: "online store: transitEncryptionEnabled false",
      apply: edit(REDIS, (r) => {
        r.transitEncryptionEnabled = false;
      }),
    },
    notes: "ours also refuses `transitEncryptionMode: preferred`",
  },
  {
    id: "aws-elasticache-auth",
    section: "aws",
    rule: "CKV_AWS_31",
    checks: "ElastiCache transit encryption **with an auth token**",
    policies: ["elasticache-encrypted-with-auth"],
    scanners: ["checkov CKV_AWS_31"],
    breakage: {
      stack: S,
      what: "online store: no authToken",
      apply: edit(REDIS, (r) => {
        delete r.authToken;
      }),
    },
    notes: "ours accepts an AUTH token or an RBAC user group",
  },
  {
    id: "aws-elasticache-cmk",
    section: "aws",
    rule: "CKV_AWS_191",
    checks: "ElastiCache encrypted with a customer-managed KMS key",
    policies: ["elasticache-encrypted-with-auth"],
    scanners: ["checkov CKV_AWS_191"],
    breakage: {
      stack: S,
      what: "online store: no kmsKeyId (AWS-managed key)",
      apply: edit(REDIS, (r) => {
        delete r.kmsKeyId;
      }),
    },
    notes: "ours requires at-rest encryption, not a customer-managed key; the platform sets one",
  },
  {
    id: "aws-dynamodb-pitr",
    section: "aws",
    rule: "CKV_AWS_28 / tfsec aws-dynamodb-enable-recovery (AVD-AWS-0024)",
    checks: "DynamoDB point-in-time recovery",
    policies: ["dynamodb-point-in-time-recovery"],
    scanners: ["checkov CKV_AWS_28", "trivy AVD-AWS-0024"],
    breakage: {
      stack: S,
      what: "a DynamoDB online-store table (added) without point-in-time recovery",
      apply: add(
        dynamoTable((t) => {
          t.pointInTimeRecovery = { enabled: false };
        }),
      ),
    },
  },
  {
    id: "aws-dynamodb-cmk",
    section: "aws",
    rule: "CKV_AWS_119 / tfsec aws-dynamodb-table-customer-key (AVD-AWS-0025)",
    checks: "DynamoDB encrypted with a customer-managed KMS key",
    policies: ["dynamodb-encrypted"],
    scanners: ["checkov CKV_AWS_119", "trivy AVD-AWS-0025"],
    breakage: {
      stack: S,
      what: "the added table: SSE on, no kmsKeyArn (AWS-managed key)",
      apply: add(
        dynamoTable((t) => {
          t.serverSideEncryption = { enabled: true };
        }),
      ),
    },
    notes: "both scanners require a customer-managed key; ours accepts the AWS-managed KMS key",
  },
  {
    id: "aws-dynamodb-sse-off",
    section: "aws",
    rule: "CKV_AWS_119",
    checks: "DynamoDB server-side encryption off",
    policies: ["dynamodb-encrypted"],
    scanners: ["checkov CKV_AWS_119"],
    breakage: {
      stack: S,
      what: "the added table: serverSideEncryption enabled false",
      apply: add(
        dynamoTable((t) => {
          t.serverSideEncryption = { enabled: false };
        }),
      ),
    },
    notes: "tfsec aws-dynamodb-enable-at-rest-encryption (AVD-AWS-0023) is about DAX clusters, not tables: no DAX here",
  },
  {
    id: "aws-redshift-public",
    section: "aws",
    rule: "CKV_AWS_87",
    checks: "Redshift not publicly accessible",
    policies: ["redshift-encrypted-private"],
    scanners: ["checkov CKV_AWS_87"],
    breakage: {
      stack: S,
      what: "offline store workgroup: publiclyAccessible true",
      apply: edit("aws:redshiftserverless/workgroup:Workgroup", (w) => {
        w.publiclyAccessible = true;
      }),
    },
    notes: "CKV_AWS_87 reads aws_redshift_cluster; ours reads provisioned clusters and Serverless workgroups",
  },
  {
    id: "aws-redshift-encrypted",
    section: "aws",
    rule: "CKV_AWS_282 / tfsec aws-redshift-encryption-customer-key (AVD-AWS-0084)",
    checks: "Redshift Serverless namespace encrypted with a customer-managed KMS key",
    policies: ["redshift-encrypted-private"],
    scanners: ["checkov CKV_AWS_282"],
    breakage: {
      stack: S,
      what: "offline store namespace: kmsKeyId removed (AWS-owned key)",
      apply: edit("aws:redshiftserverless/namespace:Namespace", (n) => {
        delete n.kmsKeyId;
      }),
    },
    notes:
      "Serverless namespaces are always encrypted; ours does not ask for a customer-managed key, Checkov does; trivy's AVD-AWS-0084 reads provisioned clusters only (silent on namespaces)",
  },
  {
    id: "aws-rds-encrypted",
    section: "aws",
    rule: "CKV_AWS_16 / tfsec aws-rds-encrypt-instance-storage-data",
    checks: "RDS encrypted",
    policies: ["rds-encrypted-private"],
    scanners: ["checkov CKV_AWS_16", "trivy AVD-AWS-0080"],
    breakage: {
      stack: S,
      what: "tracking database: storageEncrypted false",
      apply: edit(RDS, (r) => {
        r.storageEncrypted = false;
      }),
    },
  },
  {
    id: "aws-rds-public",
    section: "aws",
    rule: "CKV_AWS_17 / trivy AVD-AWS-0180 (was tfsec aws-rds-no-public-db-access)",
    checks: "RDS not public",
    policies: ["rds-encrypted-private"],
    scanners: ["checkov CKV_AWS_17", "trivy AVD-AWS-0180"],
    breakage: {
      stack: S,
      what: "tracking database: publiclyAccessible true",
      apply: edit(RDS, (r) => {
        r.publiclyAccessible = true;
      }),
    },
  },
  {
    id: "aws-rds-backups",
    section: "aws",
    rule: "CKV_AWS_133 / tfsec aws-rds-specify-backup-retention",
    checks: "RDS backups",
    policies: ["database-backups-enabled"],
    scanners: ["checkov CKV_AWS_133", "trivy AVD-AWS-0077"],
    breakage: {
      stack: S,
      what: "tracking database: backupRetentionPeriod 0",
      apply: edit(RDS, (r) => {
        r.backupRetentionPeriod = 0;
      }),
    },
    notes: "ours asks for 7 days or more (`retentionDays`); advisory in dev",
  },
  {
    id: "aws-rds-deletion-protection",
    section: "aws",
    rule: "CKV_AWS_293",
    checks: "RDS deletion protection",
    policies: ["stateful-resources-protected"],
    scanners: ["checkov CKV_AWS_293", "trivy AVD-AWS-0177"],
    breakage: {
      stack: S,
      what: "tracking database: deletionProtection false",
      apply: edit(RDS, (r) => {
        r.deletionProtection = false;
      }),
    },
    notes: "ours: prod only (dev stacks are disposable)",
  },
  {
    id: "aws-rds-iam-auth",
    section: "aws",
    rule: "CKV_AWS_161",
    checks: "RDS IAM authentication",
    policies: [],
    scanners: ["checkov CKV_AWS_161", "trivy AVD-AWS-0176"],
    breakage: {
      stack: S,
      what: "tracking database: iamDatabaseAuthenticationEnabled false",
      apply: edit(RDS, (r) => {
        r.iamDatabaseAuthenticationEnabled = false;
      }),
    },
    notes: "fixed in the platform (components/aws/tracking-db.ts); only `npm run scan` keeps it",
  },
  {
    id: "aws-s3-encrypted",
    section: "aws",
    rule: "CKV_AWS_145 / tfsec aws-s3-enable-bucket-encryption",
    checks: "S3 default encryption configured",
    policies: ["s3-bucket-encrypted"],
    scanners: ["checkov CKV_AWS_145", "trivy AVD-AWS-0088"],
    breakage: { stack: S, what: "artifact bucket: its encryption configuration removed", apply: remove(BUCKET_SSE, artifacts) },
    notes: "CKV_AWS_19 did not fire on this copy (S3 encrypts new objects with SSE-S3 by default since 2023)",
  },
  {
    id: "aws-s3-kms",
    section: "aws",
    rule: "CKV_AWS_145 / tfsec aws-s3-encryption-customer-key (AVD-AWS-0132)",
    checks: "S3 encrypted with KMS",
    policies: ["s3-bucket-encrypted"],
    scanners: ["checkov CKV_AWS_145", "trivy AVD-AWS-0132"],
    breakage: {
      stack: S,
      what: "artifact bucket: SSE-S3 (AES256) instead of KMS",
      apply: edit(
        BUCKET_SSE,
        (c) => {
          c.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];
        },
        artifacts,
      ),
    },
    notes: "ours accepts SSE-S3 as well as SSE-KMS",
  },
  {
    id: "aws-s3-versioning",
    section: "aws",
    rule: "CKV_AWS_21 / tfsec aws-s3-enable-versioning",
    checks: "S3 versioning",
    policies: ["s3-bucket-versioned"],
    scanners: ["checkov CKV_AWS_21", "trivy AVD-AWS-0090"],
    breakage: {
      stack: S,
      what: "artifact bucket: versioning removed",
      apply: remove("aws:s3/bucketVersioning:BucketVersioning", artifacts),
    },
  },
  {
    id: "aws-s3-public-access-flags",
    section: "aws",
    rule: "CKV_AWS_53, _54, _55, _56 / tfsec aws-s3-block-public-acls, -block-public-policy, -ignore-public-acls, -no-public-buckets",
    checks: "S3 public-access block settings",
    policies: ["s3-bucket-public-access-blocked"],
    scanners: [
      "checkov CKV_AWS_53",
      "checkov CKV_AWS_54",
      "checkov CKV_AWS_55",
      "checkov CKV_AWS_56",
      "trivy AVD-AWS-0086",
      "trivy AVD-AWS-0087",
      "trivy AVD-AWS-0091",
      "trivy AVD-AWS-0093",
    ],
    breakage: {
      stack: S,
      what: "artifact bucket: all four public-access-block settings false",
      apply: edit(
        PAB,
        (b) => {
          for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) b[flag] = false;
        },
        artifacts,
      ),
    },
  },
  {
    id: "aws-s3-public-access-block",
    section: "aws",
    rule: "CKV2_AWS_6 / tfsec aws-s3-specify-public-access-block",
    checks: "S3 bucket has a public-access block",
    policies: ["s3-bucket-public-access-blocked"],
    scanners: ["checkov CKV2_AWS_6", "trivy AVD-AWS-0094"],
    breakage: { stack: S, what: "artifact bucket: public-access block removed", apply: remove(PAB, artifacts) },
  },
  {
    id: "aws-eks-logs",
    section: "aws",
    rule: "CKV_AWS_37 / tfsec aws-eks-enable-control-plane-logging",
    checks: "EKS control-plane logging",
    policies: ["kubernetes-control-plane-logs"],
    scanners: ["checkov CKV_AWS_37", "trivy AVD-AWS-0038"],
    breakage: {
      stack: S,
      what: "cluster: only the api log type",
      apply: edit(EKS, (c) => {
        c.enabledClusterLogTypes = ["api"];
      }),
    },
    notes: "all five log types; advisory in dev",
  },
  {
    id: "aws-eks-endpoint-world",
    section: "aws",
    rule: "CKV_AWS_38, CKV_AWS_39 / tfsec aws-eks-no-public-cluster-access-to-cidr (AVD-AWS-0041), aws-eks-no-public-cluster-access",
    checks: "EKS public endpoint, open to 0.0.0.0/0",
    policies: ["kubernetes-endpoint-private"],
    scanners: ["checkov CKV_AWS_38", "checkov CKV_AWS_39", "trivy AVD-AWS-0040", "trivy AVD-AWS-0041"],
    breakage: {
      stack: S,
      what: "cluster: public endpoint from 0.0.0.0/0",
      apply: edit(EKS, (c) => {
        c.vpcConfig = { ...c.vpcConfig, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] };
      }),
    },
  },
  {
    id: "aws-eks-endpoint-public-cidr",
    section: "aws",
    rule: "CKV_AWS_39 / tfsec AVD-AWS-0041 (any public CIDR)",
    checks: "EKS public endpoint from a listed public CIDR",
    policies: ["kubernetes-endpoint-private"],
    scanners: ["checkov CKV_AWS_39", "trivy AVD-AWS-0041"],
    breakage: {
      stack: S,
      what: "cluster: public endpoint from 203.0.113.0/24",
      apply: edit(EKS, (c) => {
        c.vpcConfig = { ...c.vpcConfig, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] };
      }),
    },
    notes:
      "ours refuses any public endpoint in prod but lets dev list public CIDRs (never 0.0.0.0/0); trivy AVD-AWS-0041 rejects any public CIDR (it fires here too)",
  },
  {
    id: "aws-eks-secrets",
    section: "aws",
    rule: "CKV_AWS_58 / tfsec aws-eks-encrypt-secrets",
    checks: "EKS secrets envelope encryption",
    policies: ["kubernetes-secrets-encrypted"],
    scanners: ["checkov CKV_AWS_58", "trivy AVD-AWS-0039"],
    breakage: {
      stack: S,
      what: "cluster: encryptionConfig removed",
      apply: edit(EKS, (c) => {
        delete c.encryptionConfig;
      }),
    },
  },
  {
    id: "aws-eks-remote-access",
    section: "aws",
    rule: "CKV_AWS_100",
    checks: "EKS node group remote access not open",
    policies: ["kubernetes-nodes-private"],
    scanners: ["checkov CKV_AWS_100"],
    breakage: {
      stack: S,
      what: "system node group: SSH key without source security groups",
      apply: edit(NODES, (g) => {
        g.remoteAccess = { ec2SshKey: "ops" };
      }),
    },
  },
  {
    id: "aws-eks-nodes-public-subnets",
    section: "aws",
    rule: "(no scanner rule)",
    checks: "EKS node groups only in private subnets",
    policies: ["kubernetes-nodes-private"],
    scanners: [],
    breakage: { stack: S, what: "system node group moved into the public subnets", apply: nodesInPublicSubnets },
    notes: "a public subnet is one routed to the internet gateway (ours set mapPublicIpOnLaunch false)",
  },
  {
    id: "aws-kms-rotation",
    section: "aws",
    rule: "CKV_AWS_7",
    checks: "KMS key rotation",
    policies: [],
    scanners: ["checkov CKV_AWS_7", "trivy AVD-AWS-0065"],
    breakage: {
      stack: S,
      what: "artifact bucket key: enableKeyRotation false",
      apply: edit(
        "aws:kms/key:Key",
        (k) => {
          k.enableKeyRotation = false;
        },
        artifacts,
      ),
    },
    notes: "fixed in the platform (every key rotates); only `npm run scan` keeps it",
  },
  {
    id: "aws-log-group-kms",
    section: "aws",
    rule: "CKV_AWS_158",
    checks: "CloudWatch log group encrypted with KMS",
    policies: [],
    scanners: ["checkov CKV_AWS_158", "trivy AVD-AWS-0017"],
    breakage: {
      stack: S,
      what: "a log group: kmsKeyId removed",
      apply: edit("aws:cloudwatch/logGroup:LogGroup", (g) => {
        delete g.kmsKeyId;
      }),
    },
    notes: "fixed in the platform; only `npm run scan` keeps it",
  },
  {
    id: "aws-static-keys",
    section: "aws",
    rule: "CKV_AWS_41, Checkov/trivy secret scanning",
    checks: "no hard-coded AWS keys",
    policies: ["no-static-cloud-credentials"],
    scanners: [],
    breakage: {
      stack: S,
      what: "tracking server: an AKIA access key and its secret as literal env vars",
      apply: edit(
        DEPLOYMENT,
        (d) =>
          void d.spec.template.spec.containers[0].env.push(
            { name: "AWS_ACCESS_KEY_ID", value: "AKIAIOSFODNN7EXAMPLE" },
            { name: "AWS_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
          ),
        k8sNamed("mlflow"),
      ),
    },
    notes:
      "CKV_AWS_41 reads provider blocks, which a Terraform plan does not carry; Checkov's secrets framework is not run. Ours also finds AKIA/ASIA keys in env vars, ConfigMaps, Secrets and command lines",
  },
  {
    id: "aws-s3-logging",
    section: "aws",
    rule: "CKV_AWS_18 / trivy AVD-AWS-0089 (aws-s3-enable-logging)",
    checks: "S3 access logging",
    policies: [],
    scanners: ["checkov CKV_AWS_18", "trivy AVD-AWS-0089"],
    breakage: {
      stack: S,
      what: "artifact bucket: its access logging removed",
      apply: remove("aws:s3/bucketLogging:BucketLogging", artifacts),
    },
    notes: "fixed in the platform (an access-log bucket per stack, components/aws/artifact-store.ts); only `npm run scan` keeps it",
  },
  {
    id: "aws-s3-replication",
    section: "aws",
    rule: "CKV_AWS_144",
    checks: "S3 cross-region replication",
    policies: [],
    scanners: [],
    status: "not enforced (waived)",
    notes: "artifacts are rebuilt from runs; the bucket is versioned and retained",
  },
  {
    id: "aws-rds-multi-az",
    section: "aws",
    rule: "CKV_AWS_157",
    checks: "RDS multi-AZ",
    policies: [],
    scanners: [],
    status: "not enforced",
    notes: "the tracking database is not on the serving path; prod HA is a cost decision per team",
  },
  {
    id: "aws-elasticache-backups",
    section: "aws",
    rule: "CKV_AWS_134",
    checks: "ElastiCache automatic backups",
    policies: [],
    scanners: [],
    status: "not applicable",
    notes: "applies to `aws_elasticache_cluster`; the replication group keeps 14 days of snapshots in prod",
  },
  {
    id: "aws-dynamodb-autoscaling",
    section: "aws",
    rule: "CKV2_AWS_16",
    checks: "DynamoDB auto scaling",
    policies: [],
    scanners: [],
    status: "not applicable",
    notes: "tables are on-demand (PAY_PER_REQUEST)",
  },
];
