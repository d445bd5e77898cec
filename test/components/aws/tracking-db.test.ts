import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { trackingDatabaseUrl, trackingDbSettings } from "../../../components/aws";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import {
  AWS_STACKS,
  type AwsStackName,
  awsStacks,
  type BuiltFoundation,
  buildFoundations,
  loadAwsStack,
  variantOf,
  clusterSecurityGroupId,
} from "./fixture";

let built: Record<AwsStackName | "no-tracking", BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-tracking-db", { region: "us-east-1" });
  const noTracking = variantOf("aws-dev", "no-tracking", (p) => {
    p.tracking = { enabled: false };
  });
  built = await buildFoundations(mocks, { ...awsStacks(), "no-tracking": noTracking });
  expect(mocks.unknownInvokes).toEqual([]);
});

const DB = "aws:rds/instance:Instance";

describe("tracking database settings (pure)", () => {
  it("are encrypted, private, multi-AZ with deletion protection and a final snapshot in prod", () => {
    expect(trackingDbSettings(loadAwsStack("aws-prod").stack, "t")).toMatchObject({
      storageEncrypted: true,
      publiclyAccessible: false,
      multiAz: true,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "t-aws-prod-final",
      instanceClass: "db.r6g.large",
    });
    expect(trackingDbSettings(loadAwsStack("aws-dev").stack, "t")).toMatchObject({
      multiAz: false,
      deletionProtection: false,
      skipFinalSnapshot: true,
      instanceClass: "db.t4g.micro",
    });
  });

  it("build a URL that requires TLS and escapes the password", () => {
    expect(trackingDatabaseUrl({ username: "mlflow", password: "a/b@c", host: "db.example", port: 5432, dbName: "mlflow" })).toBe(
      "postgresql://mlflow:a%2Fb%40c@db.example:5432/mlflow?sslmode=require",
    );
  });
});

describe.each(AWS_STACKS)("RDS tracking database of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "aws-prod";
  const db = () => b().one(DB, "-tracking-db");

  it("encrypts storage with its own KMS key and is not publicly accessible", () => {
    const key = b().one("aws:kms/key:Key", "-tracking-db-key");
    expect(db().inputs).toMatchObject({
      engine: "postgres",
      storageEncrypted: true,
      kmsKeyId: key.outputs.arn,
      publiclyAccessible: false,
      storageType: "gp3",
    });
  });

  it("forces TLS and logs schema changes and slow statements through its own parameter group, with IAM auth on", () => {
    const group = b().one("aws:rds/parameterGroup:ParameterGroup", "-tracking-db-params");
    expect(group.inputs.family).toBe("postgres16");
    expect(group.inputs.parameters).toEqual([
      { name: "rds.force_ssl", value: "1" },
      { name: "log_statement", value: "ddl" },
      { name: "log_min_duration_statement", value: "1000" },
    ]);
    expect(db().inputs).toMatchObject({ parameterGroupName: group.outputs.name, iamDatabaseAuthenticationEnabled: true });
  });

  it(prod ? "records Performance Insights with its key and enhanced monitoring every 60 s" : "keeps the extra monitoring off", () => {
    const key = b().one("aws:kms/key:Key", "-tracking-db-key");
    if (prod) {
      expect(db().inputs).toMatchObject({
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: key.outputs.arn,
        monitoringInterval: 60,
      });
      const role = b().one("aws:iam/role:Role", "-tracking-db-monitoring");
      expect(db().inputs.monitoringRoleArn).toBe(role.outputs.arn);
      expect(String(role.inputs.assumeRolePolicy)).toContain("monitoring.rds.amazonaws.com");
    } else {
      expect(db().inputs).toMatchObject({ performanceInsightsEnabled: false, monitoringInterval: 0 });
    }
  });

  it(prod ? "is multi-AZ, deletion-protected and leaves a final snapshot" : "is single-AZ and disposable", () => {
    expect(db().inputs).toMatchObject({
      multiAz: prod,
      deletionProtection: prod,
      skipFinalSnapshot: !prod,
      backupRetentionPeriod: prod ? 14 : 7,
      instanceClass: prod ? "db.r6g.large" : "db.t4g.micro",
    });
    expect(db().inputs.finalSnapshotIdentifier).toBe(prod ? "aws-prod-tracking-db-aws-prod-final" : undefined);
    expect(db().options.protect).toBe(prod);
  });

  it("sits in the private subnets and admits 5432 only from the cluster's security group", () => {
    const subnets = b().one("aws:rds/subnetGroup:SubnetGroup", "-tracking-db-subnets");
    expect(db().inputs.dbSubnetGroupName).toBe(subnets.outputs.name);
    const sg = b().one("aws:ec2/securityGroup:SecurityGroup", "-tracking-db-sg");
    expect(db().inputs.vpcSecurityGroupIds).toEqual([sg.outputs.id]);
    const clusterSg = clusterSecurityGroupId(b());
    const ingress = b()
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.outputs.id);
    expect(ingress.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort])).toEqual([[clusterSg, 5432, 5432]]);
  });

  it("uses a random password that is only handled as a secret, and hands MLflow a secret TLS URL", async () => {
    const password = b().one("random:index/randomPassword:RandomPassword", "-tracking-db-password");
    expect(db().inputs.password).toBe(password.outputs.result);
    expect(db().secretPaths).toContain("password");
    const url = b().foundation.trackingDatabase.url;
    expect(await pulumi.isSecret(url)).toBe(true);
    expect(await outputValue(url)).toBe(
      `postgresql://mlflow:${password.outputs.result}@${db().outputs.address}:5432/mlflow?sslmode=require`,
    );
  });
});

describe("a stack with tracking off", () => {
  it("creates no database and hands out an empty (secret) URL", async () => {
    expect(built["no-tracking"].ofType(DB)).toEqual([]);
    expect(await outputValue(built["no-tracking"].foundation.trackingDatabase.url)).toBe("");
    // The bucket stays (serving and drift still use it), with its access-log bucket.
    expect(
      built["no-tracking"]
        .ofType("aws:s3/bucket:Bucket")
        .map((b) => b.name)
        .sort(),
    ).toEqual(["no-tracking-artifacts", "no-tracking-artifacts-logs"]);
  });
});
