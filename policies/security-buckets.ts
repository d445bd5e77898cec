import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { ofTypes, refersTo, safeProp } from "./links";
import { asArray, get, type PlatformPolicy, violation } from "./support";

/**
 * S3 buckets. In AWS provider v7 the public-access block, the encryption configuration and the
 * versioning of a bucket are separate resources, so these are stack policies that link each
 * bucket to its settings through the `bucket` property.
 */

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const ACCESS_BLOCKS = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"];
const ENCRYPTION = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const VERSIONING = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

type BucketCheck = (bucket: PolicyResource, settings: PolicyResource[], report: ReportViolation) => void;

function eachBucket(settingTypes: string[], check: BucketCheck) {
  return (args: StackValidationArgs, report: ReportViolation) => {
    const buckets = ofTypes(args.resources, BUCKETS);
    if (buckets.length === 0) args.notApplicable("no S3 buckets in the stack");
    const settings = ofTypes(args.resources, settingTypes);
    for (const bucket of buckets)
      check(
        bucket,
        settings.filter((s) => refersTo(s, "bucket", bucket)),
        (message) => report(message, bucket.urn),
      );
  };
}

export const s3BucketPublicAccessBlocked: PlatformPolicy = {
  area: "security",
  name: "s3-bucket-public-access-blocked",
  description: "Every S3 bucket has a public-access block with all four settings on.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: eachBucket(ACCESS_BLOCKS, (bucket, blocks, report) => {
    const subject = `S3 bucket "${bucket.name}"`;
    const fix = `add an aws.s3.BucketPublicAccessBlock for it with ${BLOCK_FLAGS.map((f) => `${f}: true`).join(", ")}`;
    if (blocks.length === 0) return report(violation(subject, "has no public-access block", fix));
    for (const block of blocks) {
      const off = BLOCK_FLAGS.filter((flag) => safeProp(block, flag) !== true);
      if (off.length)
        report(
          violation(
            subject,
            `public-access block "${block.name}" leaves ${off.join(", ")} off`,
            `set ${off.map((f) => `${f}: true`).join(", ")}`,
          ),
        );
    }
  }),
};

export const s3BucketEncrypted: PlatformPolicy = {
  area: "security",
  name: "s3-bucket-encrypted",
  description: "Every S3 bucket has a server-side encryption configuration (SSE-KMS or SSE-S3), applied by default to each object.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: eachBucket(ENCRYPTION, (bucket, configs, report) => {
    const subject = `S3 bucket "${bucket.name}"`;
    const algorithms = configs.flatMap((c) =>
      asArray(safeProp(c, "rules")).map((rule) => get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")),
    );
    if (!algorithms.some((a) => a === "aws:kms" || a === "AES256" || a === "aws:kms:dsse")) {
      report(
        violation(
          subject,
          "has no default server-side encryption",
          'add an aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }]',
        ),
      );
    }
  }),
};

export const s3BucketVersioned: PlatformPolicy = {
  area: "security",
  name: "s3-bucket-versioned",
  description: "Every S3 bucket keeps object versions, so an overwritten or deleted model artifact can be restored.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: eachBucket(VERSIONING, (bucket, configs, report) => {
    if (!configs.some((c) => get(safeProp(c, "versioningConfiguration"), "status") === "Enabled")) {
      report(
        violation(
          `S3 bucket "${bucket.name}"`,
          "object versioning is not enabled",
          'add an aws.s3.BucketVersioning with versioningConfiguration: { status: "Enabled" }',
        ),
      );
    }
  }),
};

export const bucketPolicies: PlatformPolicy[] = [s3BucketPublicAccessBlocked, s3BucketEncrypted, s3BucketVersioned];
