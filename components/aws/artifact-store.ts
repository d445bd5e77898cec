import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { awsDefaults, awsName, awsTags, statefulOptions } from "./defaults";
import { type PolicyStatement, policyDocument } from "./iam-policy";
import { encryptionKey } from "./kms";

/** Key prefixes inside the bucket: MLflow artifacts (models, training sets, reference profiles) and prediction logs. */
/**
 * Prefixes of the artifact bucket. `materialization/` holds sharded materialization exports
 * (Redshift UNLOADs there, the writers read their shard, services/features/offline/export.ts).
 */
export const BUCKET_PREFIXES = { artifacts: "mlflow/", predictionLogs: "predictions/", materialization: "materialization/" } as const;

/** Days an export stays: a run reads its export within its deadline (1 h); a week leaves time to look at a failed one. */
export const MATERIALIZATION_EXPORT_DAYS = 7;

/** Which prefix a workload may touch, and whether it may write there. */
export interface PrefixGrant {
  prefix: string;
  write: boolean;
}

/**
 * Least-privilege S3 access to prefixes of the bucket (objects under the prefix, listing limited
 * to it) plus the bucket key, usable only through S3.
 */
export function s3AccessStatements(bucketArn: string, kmsKeyArn: string, region: string, grants: PrefixGrant[]): PolicyStatement[] {
  if (grants.length === 0) return [];
  const statements: PolicyStatement[] = grants.map((g, i) => ({
    Sid: `Objects${i}`,
    Effect: "Allow",
    Action: g.write ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"] : ["s3:GetObject"],
    Resource: `${bucketArn}/${g.prefix}*`,
  }));
  statements.push({
    Sid: "List",
    Effect: "Allow",
    Action: "s3:ListBucket",
    Resource: bucketArn,
    Condition: { StringLike: { "s3:prefix": grants.flatMap((g) => [g.prefix, `${g.prefix}*`]) } },
  });
  const writes = grants.some((g) => g.write);
  statements.push({
    Sid: "BucketKey",
    Effect: "Allow",
    Action: writes ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
    Resource: kmsKeyArn,
    Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
  });
  return statements;
}

/** Bucket policy: refuse any request not made over TLS. */
export function bucketPolicy(bucketArn: string): string {
  return JSON.stringify(
    policyDocument([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]),
  );
}

/** Prefix of the artifact bucket's server access logs inside the log bucket. */
export const ACCESS_LOG_PREFIX = "artifacts/";

/**
 * The log bucket's policy: TLS only, and S3's log delivery service may write the artifact
 * bucket's access logs under their prefix, for that source bucket and this account only (AWS's
 * recommended replacement for the log-delivery ACL, which BucketOwnerEnforced buckets refuse).
 */
export function logBucketPolicy(a: { logBucketArn: string; sourceBucketArn: string; accountId: string }): string {
  const tls = JSON.parse(bucketPolicy(a.logBucketArn)) as { Statement: PolicyStatement[] };
  return JSON.stringify(
    policyDocument([
      ...tls.Statement,
      {
        Sid: "S3ServerAccessLogs",
        Effect: "Allow",
        Principal: { Service: "logging.s3.amazonaws.com" },
        Action: "s3:PutObject",
        Resource: `${a.logBucketArn}/${ACCESS_LOG_PREFIX}*`,
        Condition: { ArnLike: { "aws:SourceArn": a.sourceBucketArn }, StringEquals: { "aws:SourceAccount": a.accountId } },
      },
    ]),
  );
}

/** Lifecycle: old artifact versions expire, prediction logs expire, abandoned uploads are cleaned up. */
export function bucketLifecycleRules(stack: StackSpec) {
  const d = awsDefaults(stack);
  return [
    {
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: { prefix: "" },
      noncurrentVersionExpiration: { noncurrentDays: d.noncurrentVersionDays },
    },
    {
      id: "expire-prediction-logs",
      status: "Enabled",
      filter: { prefix: BUCKET_PREFIXES.predictionLogs },
      expiration: { days: d.predictionLogDays },
    },
    {
      id: "expire-materialization-exports",
      status: "Enabled",
      filter: { prefix: BUCKET_PREFIXES.materialization },
      expiration: { days: MATERIALIZATION_EXPORT_DAYS },
    },
    {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: { prefix: "" },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    },
  ];
}

/** The four public-access-block switches, all on: no ACL or policy can make the bucket public. */
export const PUBLIC_ACCESS_BLOCK = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
} as const;

export interface ArtifactBucketArgs {
  stack: StackSpec;
}

/**
 * The S3 bucket for MLflow artifacts and prediction logs: never public, KMS-encrypted with a
 * bucket key, versioned, TLS-only, with lifecycle rules bounding what old data costs.
 */
export class ArtifactBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** s3://<bucket>/mlflow */
  readonly uri: pulumi.Output<string>;
  /** s3://<bucket>/predictions */
  readonly predictionLogsUri: pulumi.Output<string>;

  constructor(name: string, args: ArtifactBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:ArtifactBucket", name, {}, opts);
    const { stack } = args;
    const d = awsDefaults(stack);
    const parent = { parent: this };
    const key = encryptionKey(name, stack, "artifact bucket", this);
    const logs = new AccessLogBucket(`${name}-logs`, { stack }, { parent: this });
    const bucket = new aws.s3.Bucket(
      `${name}`,
      // Bucket names are global; a prefix lets the provider add a unique suffix. forceDestroy only where data is disposable.
      { bucketPrefix: `${awsName(name, 36)}-`, forceDestroy: !d.prod, tags: awsTags(stack, name) },
      statefulOptions(stack, this),
    );
    const block = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, { bucket: bucket.id, ...PUBLIC_ACCESS_BLOCK }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
      },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.id, rules: bucketLifecycleRules(stack) },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket: bucket.id, policy: bucket.arn.apply(bucketPolicy) },
      { parent: this, dependsOn: [block] },
    );
    // Server access logs (CKV_AWS_18): who read or wrote which artifact, kept in the log bucket.
    logs.allowDeliveryFrom(bucket);
    new aws.s3.BucketLogging(
      `${name}-logging`,
      { bucket: bucket.id, targetBucket: logs.bucket.id, targetPrefix: ACCESS_LOG_PREFIX },
      { parent: this, dependsOn: [logs.bucket] },
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.uri = pulumi.interpolate`s3://${bucket.bucket}/${BUCKET_PREFIXES.artifacts.replace(/\/$/, "")}`;
    this.predictionLogsUri = pulumi.interpolate`s3://${bucket.bucket}/${BUCKET_PREFIXES.predictionLogs.replace(/\/$/, "")}`;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      kmsKeyArn: this.kmsKeyArn,
      uri: this.uri,
      predictionLogsUri: this.predictionLogsUri,
    });
  }
}

/**
 * The bucket the artifact bucket's server access logs go to, hardened like it: public access
 * blocked, encrypted, versioned, TLS only, logs expiring. Two documented exceptions: S3 delivers
 * server access logs only to SSE-S3 buckets (not SSE-KMS), and a log bucket does not log into
 * itself (policies/scanner-waivers.yaml says so for CKV_AWS_145 and CKV_AWS_18).
 */
export class AccessLogBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  private readonly block: aws.s3.BucketPublicAccessBlock;
  private readonly baseName: string;

  constructor(name: string, args: { stack: StackSpec }, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:AccessLogBucket", name, {}, opts);
    const { stack } = args;
    const d = awsDefaults(stack);
    const parent = { parent: this };
    this.baseName = name;
    this.bucket = new aws.s3.Bucket(
      name,
      { bucketPrefix: `${awsName(name, 36)}-`, forceDestroy: !d.prod, tags: awsTags(stack, name) },
      statefulOptions(stack, this),
    );
    this.block = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, { bucket: this.bucket.id, ...PUBLIC_ACCESS_BLOCK }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: this.bucket.id,
        rules: [
          { id: "expire-access-logs", status: "Enabled", filter: { prefix: "" }, expiration: { days: d.prod ? 365 : 90 } },
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: 7 },
          },
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    this.registerOutputs({ bucketName: this.bucket.bucket });
  }

  /** The log bucket's policy, admitting S3 log delivery for `source` only. */
  allowDeliveryFrom(source: aws.s3.Bucket): void {
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    new aws.s3.BucketPolicy(
      `${this.baseName}-policy`,
      {
        bucket: this.bucket.id,
        policy: pulumi
          .all([this.bucket.arn, source.arn, identity.accountId])
          .apply(([logBucketArn, sourceBucketArn, accountId]) => logBucketPolicy({ logBucketArn, sourceBucketArn, accountId })),
      },
      { parent: this, dependsOn: [this.block] },
    );
  }
}
