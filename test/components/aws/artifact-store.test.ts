import { beforeAll, describe, expect, it } from "vitest";
import { bucketLifecycleRules, bucketPolicy, IRSA_ANNOTATION, PUBLIC_ACCESS_BLOCK } from "../../../components/aws";
import { valueOf as outputValue } from "../../support/mocks";
import { AWS_STACKS, type AwsStackName, type BuiltFoundation, builtFoundations, type Inputs, loadAwsStack, parseJson } from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  built = await builtFoundations("aws-artifacts");
});

describe("artifact bucket settings (pure)", () => {
  it("expire old versions and prediction logs, longer in prod", () => {
    const rules = bucketLifecycleRules(loadAwsStack("aws-prod").stack);
    expect(rules.find((r) => r.id === "expire-noncurrent-versions")?.noncurrentVersionExpiration).toEqual({ noncurrentDays: 90 });
    expect(rules.find((r) => r.id === "expire-prediction-logs")).toMatchObject({
      filter: { prefix: "predictions/" },
      expiration: { days: 90 },
    });
    expect(bucketLifecycleRules(loadAwsStack("aws-dev").stack).find((r) => r.id === "expire-prediction-logs")?.expiration).toEqual({
      days: 14,
    });
  });

  it("deny every request that is not over TLS", () => {
    const doc = parseJson(bucketPolicy("arn:aws:s3:::b"));
    expect(doc.Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "s3:*",
        Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });
});

describe.each(AWS_STACKS)("artifact bucket of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "aws-prod";
  const bucket = () => b().one("aws:s3/bucket:Bucket", "-artifacts");

  it("blocks every form of public access", () => {
    const block = b().one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-artifacts-public-access").inputs;
    expect(block).toMatchObject({
      bucket: bucket().outputs.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(PUBLIC_ACCESS_BLOCK).toEqual({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("encrypts objects with its own KMS key (SSE-KMS with a bucket key)", () => {
    const key = b().one("aws:kms/key:Key", "-artifacts-key");
    const sse = b().one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-artifacts-sse").inputs;
    expect(sse.bucket).toBe(bucket().outputs.id);
    expect(sse.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.outputs.arn }, bucketKeyEnabled: true },
    ]);
  });

  it("keeps versions, and expires the old ones and the prediction logs by lifecycle", () => {
    expect(b().one("aws:s3/bucketVersioning:BucketVersioning", "-artifacts-versioning").inputs.versioningConfiguration).toEqual({
      status: "Enabled",
    });
    const rules = b().one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-artifacts-lifecycle").inputs
      .rules as Inputs[];
    expect(rules.map((r) => r.id)).toEqual([
      "expire-noncurrent-versions",
      "expire-prediction-logs",
      "expire-materialization-exports",
      "abort-incomplete-uploads",
    ]);
    // A run reads its export within the hour; exports go after a week.
    expect(rules[2]).toMatchObject({ status: "Enabled", filter: { prefix: "materialization/" }, expiration: { days: 7 } });
    expect(rules[1]).toMatchObject({ status: "Enabled", filter: { prefix: "predictions/" }, expiration: { days: prod ? 90 : 14 } });
  });

  it("refuses plain-HTTP requests by bucket policy", () => {
    const policy = parseJson(b().one("aws:s3/bucketPolicy:BucketPolicy", "-artifacts-policy").inputs.policy);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(policy.Statement[0].Resource).toEqual([bucket().outputs.arn, `${bucket().outputs.arn}/*`]);
  });

  it("logs server access to a private, encrypted, versioned log bucket that only S3 log delivery for this bucket may write", () => {
    const logs = b().one("aws:s3/bucket:Bucket", "-artifacts-logs");
    const logging = b().one("aws:s3/bucketLogging:BucketLogging", "-artifacts-logging").inputs;
    expect(logging).toEqual({ bucket: bucket().outputs.id, targetBucket: logs.outputs.id, targetPrefix: "artifacts/" });
    expect(b().one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-artifacts-logs-public-access").inputs).toMatchObject(
      PUBLIC_ACCESS_BLOCK,
    );
    // S3 delivers server access logs only to SSE-S3 buckets.
    expect(
      b().one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "-artifacts-logs-sse").inputs.rules,
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(b().one("aws:s3/bucketVersioning:BucketVersioning", "-artifacts-logs-versioning").inputs.versioningConfiguration).toEqual({
      status: "Enabled",
    });
    const rules = b().one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "-artifacts-logs-lifecycle").inputs
      .rules as Inputs[];
    expect(rules[0]).toMatchObject({ id: "expire-access-logs", expiration: { days: prod ? 365 : 90 } });
    const policy = parseJson(b().one("aws:s3/bucketPolicy:BucketPolicy", "-artifacts-logs-policy").inputs.policy);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(policy.Statement[1]).toEqual({
      Sid: "S3ServerAccessLogs",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${logs.outputs.arn}/artifacts/*`,
      Condition: { ArnLike: { "aws:SourceArn": bucket().outputs.arn }, StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
  });

  it(prod ? "is protected, retained and never force-destroyed in prod" : "can be destroyed with its objects in dev", () => {
    expect(bucket().options.protect).toBe(prod);
    expect(bucket().options.retainOnDelete).toBe(prod);
    expect(bucket().inputs.forceDestroy).toBe(!prod);
    expect(bucket().inputs.bucketPrefix).toBe(`${stackName}-artifacts-`);
  });

  it("hands MLflow s3://<bucket>/mlflow with the tracking role, and serving the prediction-log prefix", async () => {
    const artifacts = b().foundation.artifacts;
    expect(await outputValue(artifacts.uri)).toBe(`s3://${bucket().outputs.bucket}/mlflow`);
    const tracking = b().one("aws:iam/role:Role", "-irsa-tracking");
    expect(await outputValue(artifacts.serviceAccountAnnotations)).toEqual({ [IRSA_ANNOTATION]: tracking.outputs.arn });
    expect(await outputValue(b().foundation.artifacts.predictionLogsUri)).toBe(`s3://${bucket().outputs.bucket}/predictions`);
  });
});
