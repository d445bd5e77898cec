import { beforeAll, describe, expect, it } from "vitest";
import {
  BUCKET_GRANTS,
  hasGrants,
  IRSA_ANNOTATION,
  irsaTrustPolicy,
  serviceAccountSubject,
  type WorkloadResources,
  workloadGrants,
} from "../../../components/aws";
import { WORKLOADS } from "../../../components/names";
import { valueOf as outputValue } from "../../support/mocks";
import { AWS_STACKS, type AwsStackName, type BuiltFoundation, builtFoundations, type Inputs, loadAwsStack, parseJson } from "./fixture";

let built: Record<AwsStackName, BuiltFoundation>;
beforeAll(async () => {
  built = await builtFoundations("aws-irsa");
});

const ROLE = "aws:iam/role:Role";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const RESOURCES: WorkloadResources = {
  region: "eu-west-1",
  bucketArn: "arn:aws:s3:::artifacts-1",
  bucketKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k1",
  dynamo: {
    tableArns: ["arn:aws:dynamodb:eu-west-1:123456789012:table/mlops.card_stats"],
    kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k2",
  },
  redshift: { workgroupArn: "arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/w1" },
};
const actionsOf = (statements: { Action: string | string[] }[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe("IRSA policies (pure)", () => {
  const stack = loadAwsStack("aws-prod").stack;

  it("trusts only the cluster's OIDC provider, for exactly one ServiceAccount and the STS audience", () => {
    const doc = irsaTrustPolicy(
      "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
      "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
      "system:serviceaccount:mlops:features",
    );
    expect(doc.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:mlops:features",
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
          },
        },
      },
    ]);
  });

  it("names each workload's ServiceAccount in its own namespace (serving and training in the models namespace)", () => {
    expect(serviceAccountSubject("features", stack)).toBe("system:serviceaccount:mlops:features");
    expect(serviceAccountSubject("serving", stack)).toBe("system:serviceaccount:models:serving");
    expect(serviceAccountSubject("training", stack)).toBe("system:serviceaccount:models:training");
  });

  it("features may query its stores, and of the bucket only read sharded exports under materialization/", () => {
    const grants = workloadGrants("features", RESOURCES);
    expect(actionsOf(grants)).toEqual(
      expect.arrayContaining([
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "redshift-data:ExecuteStatement",
        "redshift-serverless:GetCredentials",
      ]),
    );
    const s3 = grants.filter((s) => actionsOf([s]).some((a) => a.startsWith("s3:")));
    expect(s3).toEqual([
      { Sid: "ExportObjects0", Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::artifacts-1/materialization/*" },
      {
        Sid: "ExportList",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::artifacts-1",
        Condition: { StringLike: { "s3:prefix": ["materialization/", "materialization/*"] } },
      },
    ]);
    expect(grants.find((s) => s.Sid === "ExportBucketKey")?.Action).toEqual(["kms:Decrypt"]);
    // Without Redshift nothing exports to the bucket: no bucket grant at all.
    expect(actionsOf(workloadGrants("features", { ...RESOURCES, redshift: undefined })).some((a) => a.startsWith("s3:"))).toBe(false);
    // Tiles of aggregated views are updated in place.
    expect(grants.find((s) => s.Sid === "OnlineStoreTables")?.Action).toContain("dynamodb:UpdateItem");
    const tables = grants.find((s) => s.Sid === "OnlineStoreTables");
    expect(tables?.Resource).toEqual(RESOURCES.dynamo?.tableArns);
    const results = grants.find((s) => s.Sid === "OfflineStoreOwnResults");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM
    expect(results?.Condition).toEqual({ StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } });
  });

  it("serving and drift read artifacts and write only under the prediction-log prefix", () => {
    for (const workload of ["serving", "drift"] as const) {
      const grants = workloadGrants(workload, RESOURCES);
      expect(grants.find((s) => s.Resource === "arn:aws:s3:::artifacts-1/mlflow/*")?.Action).toEqual(["s3:GetObject"]);
      expect(grants.find((s) => s.Resource === "arn:aws:s3:::artifacts-1/predictions/*")?.Action).toEqual([
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
      ]);
      expect(actionsOf(grants).some((a) => a.startsWith("dynamodb:") || a.startsWith("redshift"))).toBe(false);
    }
  });

  it("tracking reads and writes the artifact prefix, with the bucket key only through S3", () => {
    const grants = workloadGrants("tracking", RESOURCES);
    expect(grants.find((s) => s.Resource === "arn:aws:s3:::artifacts-1/mlflow/*")?.Action).toContain("s3:PutObject");
    expect(grants.find((s) => s.Sid === "BucketList")?.Condition).toEqual({ StringLike: { "s3:prefix": ["mlflow/", "mlflow/*"] } });
    expect(grants.find((s) => s.Sid === "BucketBucketKey")).toMatchObject({
      Resource: RESOURCES.bucketKeyArn,
      Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
    });
  });

  it("never grants a wildcard action", () => {
    for (const workload of WORKLOADS)
      for (const action of actionsOf(workloadGrants(workload, RESOURCES))) expect(action).not.toMatch(/^(\*|[a-z-]+:\*)$/);
  });

  it("knows from the stack's shape alone which workloads get a policy", () => {
    for (const dynamo of [false, true]) {
      for (const redshift of [false, true]) {
        const r = { ...RESOURCES, dynamo: dynamo ? RESOURCES.dynamo : undefined, redshift: redshift ? RESOURCES.redshift : undefined };
        for (const workload of WORKLOADS) expect(hasGrants(workload, { dynamo, redshift })).toBe(workloadGrants(workload, r).length > 0);
      }
    }
    expect(BUCKET_GRANTS.features).toEqual([]);
  });
});

describe.each(AWS_STACKS)("workload identities of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const role = (w: string) => b().one(ROLE, `-irsa-${w}`);

  it("creates one role per workload, each trusted for exactly its ServiceAccount by this cluster's OIDC provider", () => {
    const provider = b().one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "-eks-oidc");
    const issuer = String(provider.inputs.url).replace("https://", "");
    for (const workload of WORKLOADS) {
      const trust = parseJson(role(workload).inputs.assumeRolePolicy);
      expect(trust.Statement).toHaveLength(1);
      expect(trust.Statement[0].Principal).toEqual({ Federated: provider.outputs.arn });
      expect(trust.Statement[0].Condition.StringEquals).toEqual({
        [`${issuer}:sub`]: serviceAccountSubject(workload, b().spec.stack),
        [`${issuer}:aud`]: "sts.amazonaws.com",
      });
    }
    expect(parseJson(role("features").inputs.assumeRolePolicy).Statement[0].Condition.StringEquals[`${issuer}:sub`]).toBe(
      "system:serviceaccount:mlops:features",
    );
  });

  it("hands each workload the IRSA annotation naming its own role", async () => {
    for (const workload of WORKLOADS) {
      expect(await outputValue(b().foundation.identities[workload])).toEqual({ [IRSA_ANNOTATION]: role(workload).outputs.arn });
    }
  });

  it("grants features the Data API on this stack's Redshift workgroup, and the artifact prefix to tracking", () => {
    const workgroup = b().ofType("aws:redshiftserverless/workgroup:Workgroup")[0];
    const features = parseJson(b().one(POLICY, "-irsa-features").inputs.policy);
    const statements = features.Statement as Inputs[];
    expect(statements.find((s) => s.Sid === "OfflineStoreStatements")?.Resource).toBe(workgroup?.outputs.arn);
    const bucket = b().ofType("aws:s3/bucket:Bucket")[0];
    const tracking = parseJson(b().one(POLICY, "-irsa-tracking").inputs.policy).Statement as Inputs[];
    expect(tracking.find((s) => s.Sid === "BucketObjects0")?.Resource).toBe(`${bucket?.outputs.arn}/mlflow/*`);
  });
});
