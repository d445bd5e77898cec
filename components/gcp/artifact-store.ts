import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

/** Prefixes of the one platform bucket: MLflow artifacts, and the serving service's prediction logs. */
/** Prefixes of the bucket; `materialization/` holds sharded materialization exports (BigQuery EXPORT DATA). */
export const ARTIFACT_PREFIXES = { mlflow: "mlflow/", predictions: "predictions/", materialization: "materialization/" } as const;

/** Days an export stays: a run reads its export within its deadline (1 h); a week leaves time to look at a failed one. */
export const MATERIALIZATION_EXPORT_DAYS = 7;

export interface GcsArtifactStoreArgs extends GcpComponentArgs {
  /** Cloud KMS key (projects/.../cryptoKeys/...) for CMEK. Defaults to Google-managed encryption. */
  kmsKeyName?: pulumi.Input<string>;
  /** Days prediction logs are kept. Defaults to 30 in dev, 90 in prod (enough for quarterly drift baselines). */
  predictionLogDays?: number;
  /** Days an overwritten or deleted artifact version is kept. Defaults to 30. */
  noncurrentVersionDays?: number;
}

type LifecycleRule = {
  action: { type: string };
  condition: { age?: number; daysSinceNoncurrentTime?: number; matchesPrefixes?: string[] };
};

/** The bucket as plain settings. */
export interface ArtifactBucketSettings {
  location: string;
  storageClass: string;
  uniformBucketLevelAccess: true;
  publicAccessPrevention: "enforced";
  versioning: { enabled: true };
  softDeletePolicy: { retentionDurationSeconds: number };
  lifecycleRules: LifecycleRule[];
  forceDestroy: boolean;
  labels: Record<string, string>;
}

/**
 * Plain bucket settings. Secure defaults, resolved once: no ACLs (uniform access, which also
 * enables the per-prefix IAM conditions of WorkloadIdentities), public access prevention
 * enforced, versioning with old versions expiring, prediction logs expiring, and in prod the
 * bucket cannot be force-destroyed with its contents.
 */
export function artifactBucketSettings(args: GcsArtifactStoreArgs): ArtifactBucketSettings {
  const { region, labels, prod } = gcpTarget(args.stack);
  const predictionLogDays = args.predictionLogDays ?? (prod ? 90 : 30);
  const noncurrentVersionDays = args.noncurrentVersionDays ?? 30;
  return {
    location: region.toUpperCase(),
    storageClass: "STANDARD",
    uniformBucketLevelAccess: true,
    publicAccessPrevention: "enforced",
    versioning: { enabled: true },
    softDeletePolicy: { retentionDurationSeconds: 7 * 86400 },
    lifecycleRules: [
      { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: noncurrentVersionDays } },
      { action: { type: "Delete" }, condition: { age: predictionLogDays, matchesPrefixes: [ARTIFACT_PREFIXES.predictions] } },
      { action: { type: "Delete" }, condition: { age: MATERIALIZATION_EXPORT_DAYS, matchesPrefixes: [ARTIFACT_PREFIXES.materialization] } },
      { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 7 } },
    ],
    forceDestroy: !prod,
    labels,
  };
}

/** Prefix of the artifact bucket's usage logs inside the log bucket. */
export const ACCESS_LOG_PREFIX = "artifacts";
/** Who writes GCS usage and storage logs: Google's analytics group (it needs objectCreator on the log bucket). */
export const STORAGE_LOG_WRITER = "group:cloud-storage-analytics@google.com";

/**
 * The log bucket, hardened like the artifact bucket (uniform access, public access prevention,
 * versioned, soft delete) with logs expiring after a year in prod, 90 days in dev. It does not
 * log into itself (policies/scanner-waivers.yaml, CKV_GCP_62).
 */
export function accessLogBucketSettings(args: GcsArtifactStoreArgs): ArtifactBucketSettings {
  const base = artifactBucketSettings(args);
  const { prod } = gcpTarget(args.stack);
  return {
    ...base,
    lifecycleRules: [
      { action: { type: "Delete" }, condition: { age: prod ? 365 : 90 } },
      { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 7 } },
    ],
  };
}

/** The tracking server's artifact bucket on GCS, which also holds the prediction logs drift checks read. */
export class GcsArtifactStore extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  /** Where the bucket's usage logs go. */
  readonly logBucket: gcp.storage.Bucket;
  readonly bucketName: pulumi.Output<string>;
  /** gs://<bucket>/mlflow: MLflow's --artifacts-destination. */
  readonly uri: pulumi.Output<string>;
  /** gs://<bucket>/predictions: where serving writes prediction logs. */
  readonly predictionLogsUri: pulumi.Output<string>;

  constructor(name: string, args: GcsArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:GcsArtifactStore", name, {}, opts);
    const project = projectInput(args);
    const settings = artifactBucketSettings(args);
    const dependsOn: pulumi.Resource[] = [];
    if (args.kmsKeyName) {
      // GCS encrypts through its service agent, which needs the key before the bucket can use it.
      const agent = gcp.storage.getProjectServiceAccountOutput({ project }, { parent: this });
      dependsOn.push(
        new gcp.kms.CryptoKeyIAMMember(
          `${name}-cmek`,
          { cryptoKeyId: args.kmsKeyName, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: agent.member },
          { parent: this },
        ),
      );
    }
    // Usage logs (CKV_GCP_62): every request to the artifact bucket, in a bucket of their own.
    this.logBucket = new gcp.storage.Bucket(
      `${name}-logs`,
      { project, ...accessLogBucketSettings(args) },
      statefulOptions(args.stack, this),
    );
    dependsOn.push(
      new gcp.storage.BucketIAMMember(
        `${name}-logs-writer`,
        { bucket: this.logBucket.name, role: "roles/storage.objectCreator", member: STORAGE_LOG_WRITER },
        { parent: this },
      ),
    );
    this.bucket = new gcp.storage.Bucket(
      `${name}-bucket`,
      {
        project,
        ...settings,
        encryption: args.kmsKeyName ? { defaultKmsKeyName: args.kmsKeyName } : undefined,
        logging: { logBucket: this.logBucket.name, logObjectPrefix: ACCESS_LOG_PREFIX },
      },
      { ...statefulOptions(args.stack, this), dependsOn },
    );
    this.bucketName = this.bucket.name;
    this.uri = pulumi.interpolate`gs://${this.bucket.name}/${ARTIFACT_PREFIXES.mlflow.replace(/\/$/, "")}`;
    this.predictionLogsUri = pulumi.interpolate`gs://${this.bucket.name}/${ARTIFACT_PREFIXES.predictions.replace(/\/$/, "")}`;
    this.registerOutputs({ bucketName: this.bucketName, uri: this.uri, predictionLogsUri: this.predictionLogsUri });
  }
}
