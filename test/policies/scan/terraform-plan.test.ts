import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../../components/plan-resource";
import { runCheckov } from "../../../policies/scan/scanners";
import { singularBlockName, snakeCase, terraformBlock, terraformPlan } from "../../../policies/scan/terraform-plan";

function resource(type: string, name: string, inputs: Record<string, unknown>, outputs: Record<string, unknown> = {}): PlanResource {
  return {
    type,
    name,
    urn: `urn:pulumi:s::p::${type}::${name}`,
    custom: true,
    inputs,
    outputs: { ...inputs, ...outputs },
    options: { protect: false },
  };
}

describe("the Terraform plan written for Checkov", () => {
  it("renames camelCase attributes to Terraform's snake_case, digits included", () => {
    expect(snakeCase("enableKeyRotation")).toBe("enable_key_rotation");
    expect(snakeCase("cidrIpv4")).toBe("cidr_ipv4");
    expect(snakeCase("ipv4Enabled")).toBe("ipv4_enabled");
    expect(snakeCase("multiAz")).toBe("multi_az");
  });

  it("gives pluralised list blocks their singular Terraform names back, except those Terraform spells plural", () => {
    expect(singularBlockName("rules")).toBe("rule");
    expect(singularBlockName("accesses")).toBe("access");
    expect(singularBlockName("policies")).toBe("policy");
    expect(singularBlockName("database_flags")).toBe("database_flags");
    expect(singularBlockName("ingress")).toBe("ingress");
  });

  it("writes single nested blocks as one-element lists, keeps maps as maps and policy objects as JSON strings", () => {
    const block = terraformBlock({
      settings: {
        ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" },
        databaseFlags: [{ name: "log_connections", value: "on" }],
      },
      tags: { costCenter: "cc-1" },
      policy: { Version: "2012-10-17", Statement: [] },
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
      subnetIds: ["subnet-1", "subnet-2"],
      gone: undefined,
    });
    expect(block).toEqual({
      settings: [
        {
          ip_configuration: [{ ipv4_enabled: false, ssl_mode: "ENCRYPTED_ONLY" }],
          database_flags: [{ name: "log_connections", value: "on" }],
        },
      ],
      tags: { costCenter: "cc-1" },
      policy: '{"Version":"2012-10-17","Statement":[]}',
      rule: [{ apply_server_side_encryption_by_default: [{ sse_algorithm: "aws:kms" }] }],
      subnet_ids: ["subnet-1", "subnet-2"],
    });
  });

  it("references another resource where an input carries its id, so graph checks connect them", () => {
    const bucket = resource(
      "aws:s3/bucket:Bucket",
      "artifacts",
      { bucketPrefix: "a-" },
      { id: "artifacts-123456789", bucket: "artifacts-123456789" },
    );
    const block = resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-pab", { bucket: "artifacts-123456789" });
    const plan = terraformPlan([bucket, block]);
    expect(plan.configuration.root_module.resources[1]?.expressions).toEqual({
      bucket: { references: ["aws_s3_bucket.artifacts.id", "aws_s3_bucket.artifacts"] },
    });
    expect(plan.planned_values.root_module.resources.map((r) => r.address)).toEqual([
      "aws_s3_bucket.artifacts",
      "aws_s3_bucket_public_access_block.artifacts-pab",
    ]);
  });

  it("leaves Kubernetes, random and provider resources out, and names a cloud type it cannot map", () => {
    const k8s = resource("kubernetes:core/v1:Namespace", "models", {});
    const random = resource("random:index/randomPassword:RandomPassword", "pw", {});
    expect(terraformPlan([k8s, random]).planned_values.root_module.resources).toEqual([]);
    expect(() => terraformPlan([resource("aws:lambda/function:Function", "f", {})])).toThrow(
      /policies\/scan\/terraform-types.ts: no Terraform type for aws:lambda\/function:Function/,
    );
  });

  it("is judged by Checkov's own checks: the key without rotation and the bucket without a public-access block fail, their twins pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tfplan-"));
    mkdirSync(join(dir, "manifests"));
    const plan = terraformPlan([
      resource("aws:kms/key:Key", "rotated", { enableKeyRotation: true, description: "rotated" }),
      resource("aws:kms/key:Key", "unrotated", { enableKeyRotation: false, description: "unrotated" }),
      resource("aws:s3/bucket:Bucket", "blocked", { bucketPrefix: "b-" }, { id: "blocked-bucket-0001" }),
      resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "blocked-pab", {
        bucket: "blocked-bucket-0001",
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
      resource("aws:s3/bucket:Bucket", "open", { bucketPrefix: "o-" }, { id: "open-bucket-00001" }),
    ]);
    writeFileSync(join(dir, "tfplan.json"), JSON.stringify(plan));
    const result = await runCheckov(dir);
    expect(result.frameworks.terraform_plan?.resources).toBe(5);
    const failed = (check: string) =>
      result.findings
        .filter((f) => f.check === check)
        .map((f) => f.resource)
        .sort();
    expect(failed("CKV_AWS_7")).toEqual(["aws_kms_key.unrotated"]);
    expect(failed("CKV2_AWS_6")).toEqual(["aws_s3_bucket.open"]);
  }, 300_000);
});
