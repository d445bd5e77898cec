import { describe, expect, it } from "vitest";
import { describeRule, edit, run } from "./fixtures/cases";
import { validPlan } from "./fixtures/stacks";

describeRule(
  "elasticache-encrypted-with-auth",
  ["aws-dev", "aws-prod"],
  [
    {
      stack: "aws-dev",
      change: "in-transit encryption is off",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.transitEncryptionEnabled = false;
        }),
      names: '"online-store"',
      fix: "transitEncryptionEnabled: true",
    },
    {
      stack: "aws-dev",
      change: "at-rest encryption is off",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.atRestEncryptionEnabled = false;
        }),
      names: '"online-store"',
      fix: "atRestEncryptionEnabled: true",
    },
    {
      stack: "aws-prod",
      change: "there is no AUTH token",
      edit: (p) =>
        edit(p, "redis", (r) => {
          delete r.authToken;
        }),
      names: '"online-store"',
      fix: "authToken",
    },
  ],
);

describeRule(
  "memorystore-auth-and-tls",
  ["gcp-dev", "gcp-prod"],
  [
    {
      stack: "gcp-dev",
      change: "AUTH is off",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.authEnabled = false;
        }),
      names: '"online-store"',
      fix: "authEnabled: true",
    },
    {
      stack: "gcp-prod",
      change: "TLS is off",
      edit: (p) =>
        edit(p, "redis", (r) => {
          r.transitEncryptionMode = "DISABLED";
        }),
      names: '"online-store"',
      fix: "SERVER_AUTHENTICATION",
    },
  ],
);

describeRule(
  "dynamodb-encrypted",
  ["aws-dev"],
  [
    {
      stack: "aws-dev",
      change: "KMS encryption is off",
      edit: (p) =>
        edit(p, "table", (r) => {
          r.serverSideEncryption.enabled = false;
        }),
      names: '"registry"',
      fix: "serverSideEncryption",
    },
  ],
);

describeRule(
  "redshift-encrypted-private",
  ["aws-dev"],
  [
    {
      stack: "aws-dev",
      change: "the workgroup is public",
      edit: (p) =>
        edit(p, "workgroup", (r) => {
          r.publiclyAccessible = true;
        }),
      names: '"offline"',
      fix: "publiclyAccessible: false",
    },
    {
      stack: "aws-dev",
      change: "a provisioned cluster is unencrypted",
      edit: (p) => {
        edit(p, "workgroup", (r) => {
          r.publiclyAccessible = false;
        });
        p.workgroup = {
          ...p.workgroup!,
          type: "aws:redshift/cluster:Cluster",
          name: "warehouse",
          urn: "urn:pulumi:test::mlops-platform::aws:redshift/cluster:Cluster::warehouse",
          inputs: { encrypted: "false", publiclyAccessible: false },
        };
      },
      names: '"warehouse"',
      fix: "encrypted",
    },
  ],
);

describeRule(
  "rds-encrypted-private",
  ["aws-dev", "aws-prod"],
  [
    {
      stack: "aws-dev",
      change: "storage is unencrypted",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.storageEncrypted = false;
        }),
      names: '"tracking-db"',
      fix: "storageEncrypted: true",
    },
    {
      stack: "aws-prod",
      change: "it is public",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.publiclyAccessible = true;
        }),
      names: '"tracking-db"',
      fix: "publiclyAccessible: false",
    },
  ],
);

describeRule(
  "cloudsql-private-tls",
  ["gcp-dev", "gcp-prod"],
  [
    {
      stack: "gcp-dev",
      change: "it has a public IP",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.settings.ipConfiguration.ipv4Enabled = true;
        }),
      names: '"tracking-db"',
      fix: "ipv4Enabled: false",
    },
    {
      stack: "gcp-prod",
      change: "it accepts plain-text connections",
      edit: (p) =>
        edit(p, "database", (r) => {
          r.settings.ipConfiguration.sslMode = "ALLOW_UNENCRYPTED_AND_ENCRYPTED";
        }),
      names: '"tracking-db"',
      fix: "ENCRYPTED_ONLY",
    },
  ],
);

describeRule(
  "bigquery-dataset-private",
  ["gcp-dev"],
  [
    {
      stack: "gcp-dev",
      change: "allAuthenticatedUsers can read it",
      edit: (p) =>
        edit(p, "dataset", (r) => {
          r.accesses.push({ role: "READER", specialGroup: "allAuthenticatedUsers" });
        }),
      names: '"offline"',
      fix: "named service accounts",
    },
  ],
);

describeRule(
  "gcs-bucket-private",
  ["gcp-dev"],
  [
    {
      stack: "gcp-dev",
      change: "it uses object ACLs",
      edit: (p) =>
        edit(p, "bucket", (r) => {
          r.uniformBucketLevelAccess = false;
        }),
      names: '"artifacts"',
      fix: "uniformBucketLevelAccess: true",
    },
    {
      stack: "gcp-dev",
      change: "public access prevention is inherited",
      edit: (p) =>
        edit(p, "bucket", (r) => {
          r.publicAccessPrevention = "inherited";
        }),
      names: '"artifacts"',
      fix: '"enforced"',
    },
  ],
);

describeRule(
  "gcs-bucket-versioned",
  ["gcp-prod"],
  [
    {
      stack: "gcp-prod",
      change: "versioning is off",
      edit: (p) =>
        edit(p, "bucket", (r) => {
          r.versioning.enabled = false;
        }),
      names: '"artifacts"',
      fix: "versioning",
    },
  ],
);

describeRule(
  "s3-bucket-public-access-blocked",
  ["aws-dev", "aws-prod"],
  [
    {
      stack: "aws-dev",
      change: "the bucket has no public-access block",
      edit: (p) => {
        delete p.block;
      },
      names: 'S3 bucket "artifacts": has no public-access block',
      fix: "blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true",
    },
    {
      stack: "aws-dev",
      change: "the block leaves two settings off",
      edit: (p) =>
        edit(p, "block", (r) => {
          r.blockPublicAcls = false;
          r.ignorePublicAcls = false;
        }),
      names: 'public-access block "artifacts" leaves blockPublicAcls, ignorePublicAcls off',
      fix: "set blockPublicAcls: true, ignorePublicAcls: true",
    },
    {
      stack: "aws-prod",
      change: "the block lets public policies through",
      edit: (p) =>
        edit(p, "block", (r) => {
          r.blockPublicPolicy = false;
        }),
      names: 'S3 bucket "artifacts"',
      fix: "blockPublicPolicy: true",
    },
  ],
);

describeRule(
  "s3-bucket-encrypted",
  ["aws-dev"],
  [
    {
      stack: "aws-dev",
      change: "the encryption configuration has no rule",
      edit: (p) =>
        edit(p, "sse", (r) => {
          r.rules = [];
        }),
      names: 'S3 bucket "artifacts": has no default server-side encryption',
      fix: "sseAlgorithm",
    },
    {
      stack: "aws-dev",
      change: "the encryption rule names an algorithm S3 does not have",
      edit: (p) =>
        edit(p, "sse", (r) => {
          r.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm = "aws:none";
        }),
      names: "has no default server-side encryption",
      fix: "sseAlgorithm",
    },
  ],
);

describeRule(
  "s3-bucket-versioned",
  ["aws-prod"],
  [
    {
      stack: "aws-prod",
      change: "versioning is suspended",
      edit: (p) =>
        edit(p, "versioning", (r) => {
          r.versioningConfiguration.status = "Suspended";
        }),
      names: 'S3 bucket "artifacts": object versioning is not enabled',
      fix: '"Enabled"',
    },
  ],
);

describe("s3-bucket-encrypted accepts every default encryption S3 has", () => {
  for (const algorithm of ["aws:kms", "AES256", "aws:kms:dsse"]) {
    it(`passes with sseAlgorithm ${algorithm}`, () => {
      const plan = validPlan("aws-dev");
      edit(plan, "sse", (r) => {
        r.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm = algorithm;
      });
      expect(run("s3-bucket-encrypted", "aws-dev", plan).violations).toEqual([]);
    });
  }
});
