import { beforeAll, describe, expect, it } from "vitest";
import { IRSA_ANNOTATION, redshiftSettings, redshiftUrl } from "../../../components/aws";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import {
  AWS_STACKS,
  type AwsStackName,
  awsStacks,
  type BuiltFoundation,
  buildFoundations,
  clusterSecurityGroupId,
  loadAwsStack,
} from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-offline", { region: "us-east-1" });
  built = await buildFoundations(mocks, awsStacks());
  expect(mocks.unknownInvokes).toEqual([]);
});

const NAMESPACE = "aws:redshiftserverless/namespace:Namespace";
const WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup";

describe("Redshift settings (pure)", () => {
  it("are private, audit-logged, TLS-only and named per stack; the URL has the services' form", () => {
    const stack = loadAwsStack("aws-prod").stack;
    if (stack.offlineStore.kind !== "redshift") throw new Error("redshift expected");
    const s = redshiftSettings(stack, stack.offlineStore, "platform-offline");
    expect(s).toMatchObject({
      publiclyAccessible: false,
      enhancedVpcRouting: true,
      baseCapacity: 32,
      dbName: "features",
      workgroupName: "platform-offline-aws-prod-wg",
      namespaceName: "platform-offline-aws-prod-ns",
    });
    expect(s.logExports).toEqual(["connectionlog", "userlog", "useractivitylog"]);
    expect(s.configParameters).toContainEqual({ parameterKey: "enable_user_activity_logging", parameterValue: "true" });
    expect(s.configParameters).toContainEqual({ parameterKey: "require_ssl", parameterValue: "true" });
    expect(redshiftUrl("wg", "features")).toBe("redshift://wg/features");
  });
});

describe.each(AWS_STACKS)("Redshift Serverless offline store of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName === "aws-prod";
  const namespace = () => b().one(NAMESPACE, "-offline-ns");
  const workgroup = () => b().one(WORKGROUP, "-offline-wg");

  it("encrypts the namespace with its own KMS key and lets Secrets Manager keep the admin password", () => {
    const key = b().one("aws:kms/key:Key", "-offline-key");
    expect(namespace().inputs).toMatchObject({
      kmsKeyId: key.outputs.arn,
      manageAdminPassword: true,
      adminPasswordSecretKmsKeyId: key.outputs.arn,
      dbName: "features",
    });
    expect(namespace().inputs.adminUserPassword).toBeUndefined();
  });

  it("exports the connection, user and user-activity audit logs", () => {
    expect(namespace().inputs.logExports).toEqual(["connectionlog", "userlog", "useractivitylog"]);
    expect(workgroup().inputs.configParameters).toContainEqual({ parameterKey: "enable_user_activity_logging", parameterValue: "true" });
  });

  it("is not publicly accessible and sits in three private subnets", () => {
    expect(workgroup().inputs).toMatchObject({ publiclyAccessible: false, enhancedVpcRouting: true, baseCapacity: prod ? 32 : 8 });
    const privateIds = b()
      .ofType("aws:ec2/subnet:Subnet")
      .filter((s) => s.name.includes("-private-"))
      .map((s) => s.outputs.id);
    expect(workgroup().inputs.subnetIds).toEqual(privateIds);
    expect(privateIds).toHaveLength(3);
  });

  it("admits 5439 only from the cluster, and reaches out only to S3 through the gateway endpoint", () => {
    const sg = b().one("aws:ec2/securityGroup:SecurityGroup", "-offline-sg");
    expect(workgroup().inputs.securityGroupIds).toEqual([sg.outputs.id]);
    const clusterSg = clusterSecurityGroupId(b());
    const ingress = b()
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.securityGroupId === sg.outputs.id);
    expect(ingress.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort])).toEqual([[clusterSg, 5439, 5439]]);
    const egress = b()
      .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
      .filter((r) => r.inputs.securityGroupId === sg.outputs.id);
    const s3 = b().one("aws:ec2/vpcEndpoint:VpcEndpoint", "-s3");
    expect(egress.map((r) => [r.inputs.prefixListId, r.inputs.fromPort, r.inputs.cidrIpv4])).toEqual([
      [s3.outputs.prefixListId, 443, undefined],
    ]);
  });

  it("hands the services redshift://<workgroup>/<database> and the features role", async () => {
    const offline = b().foundation.offline;
    expect(offline.kind).toBe("redshift");
    expect(await outputValue(offline.url)).toBe(`redshift://${workgroup().inputs.workgroupName}/features`);
    expect(offline.password).toBeUndefined();
    const features = b().one("aws:iam/role:Role", "-irsa-features");
    expect(await outputValue(offline.serviceAccountAnnotations)).toEqual({ [IRSA_ANNOTATION]: features.outputs.arn });
  });

  it("lets Redshift UNLOAD sharded materialization only under the artifact bucket's materialization/ prefix", () => {
    const role = b().one("aws:iam/role:Role", "-offline-unload");
    expect(namespace().inputs).toMatchObject({ iamRoles: [role.outputs.arn], defaultIamRoleArn: role.outputs.arn });
    expect(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] },
        Action: "sts:AssumeRole",
      },
    ]);
    const bucket = b().one("aws:s3/bucket:Bucket", "-artifacts");
    const policy = JSON.parse(String(b().one("aws:iam/rolePolicy:RolePolicy", "-offline-unload").inputs.policy));
    const bySid = Object.fromEntries((policy.Statement as { Sid: string; Action: unknown; Resource: unknown }[]).map((s) => [s.Sid, s]));
    expect(bySid.UnloadObjects).toMatchObject({
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: `${bucket.outputs.arn}/materialization/*`,
    });
    expect(bySid.UnloadList).toMatchObject({
      Resource: bucket.outputs.arn,
      Condition: { StringLike: { "s3:prefix": ["materialization/", "materialization/*"] } },
    });
    // No read, no delete, nothing outside the prefix.
    const actions = (policy.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => ["s3:GetObject", "s3:DeleteObject", "s3:*"].includes(a))).toEqual([]);
  });

  it(prod ? "protects the namespace (the data) in prod" : "leaves the dev namespace deletable", () => {
    expect(namespace().options.protect).toBe(prod);
    expect(namespace().options.retainOnDelete).toBe(prod);
  });
});
