import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AwsFoundation, awsStackIssues } from "../../../components/aws";
import { WORKLOADS } from "../../../components/names";
import type { PlanResource } from "../../../components/plan-resource";
import { evaluatePolicies } from "../../../policies/harness";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import { AWS_STACKS, type AwsStackName, awsStacks, type BuiltFoundation, buildFoundations, loadAwsStack, variantOf } from "./fixture";

let built: Record<AwsStackName | "dynamo-prod", BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-foundation", { region: "us-east-1" });
  const dynamoProd = variantOf("aws-prod", "dynamo-prod", (p) => {
    p.onlineStore = { kind: "dynamodb" };
  });
  built = await buildFoundations(mocks, { ...awsStacks(), "dynamo-prod": dynamoProd });
  expect(mocks.unknownInvokes).toEqual([]);
});

/** Resources that hold data (or the keys to it): protected and retained in prod. */
const STATEFUL = [
  "aws:kms/key:Key",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:dynamodb/table:Table",
  "aws:redshiftserverless/namespace:Namespace",
  "aws:s3/bucket:Bucket",
  "aws:rds/instance:Instance",
];

/** AWS types whose API takes no tags; every other AWS resource must carry the stack's tags. */
const UNTAGGABLE = new Set([
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:kms/alias:Alias",
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  "aws:autoscaling/tag:Tag",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketLogging:BucketLogging",
  // Karpenter's interruption queue policy and EventBridge targets: the SQS and EventBridge APIs take no tags on them.
  "aws:sqs/queuePolicy:QueuePolicy",
  "aws:cloudwatch/eventTarget:EventTarget",
]);

const awsResources = (b: BuiltFoundation): PlanResource[] => b.resources.filter((r) => r.custom && r.type.startsWith("aws:"));

describe.each([...AWS_STACKS, "dynamo-prod"] as const)("AwsFoundation of %s under mocks", (stackName) => {
  const b = () => built[stackName];
  const prod = stackName !== "aws-dev";

  it(prod ? "protects and retains every stateful resource in prod" : "leaves stateful resources unprotected in dev", () => {
    const stateful = b().resources.filter((r) => STATEFUL.includes(r.type));
    expect(stateful.length).toBeGreaterThanOrEqual(prod ? 8 : 9);
    for (const r of stateful) {
      expect({ name: r.name, protect: r.options.protect, retain: r.options.retainOnDelete }).toEqual({
        name: r.name,
        protect: prod,
        retain: prod,
      });
    }
    // Nothing stateless is protected: protection is a statement about data, not a blanket.
    for (const r of b().resources.filter((x) => !STATEFUL.includes(x.type))) expect(r.options.protect).toBe(false);
  });

  it("tags every taggable AWS resource with team, environment and cost centre", () => {
    const stack = b().spec.stack;
    const taggable = awsResources(b()).filter((r) => !UNTAGGABLE.has(r.type));
    expect(taggable.length).toBeGreaterThan(40);
    for (const r of taggable) {
      expect({ resource: `${r.type} ${r.name}`, tags: r.inputs.tags }).toEqual({
        resource: `${r.type} ${r.name}`,
        tags: expect.objectContaining({
          team: "ml-platform",
          environment: stack.environment,
          costCenter: "cc-ml-1001",
          "managed-by": "pulumi",
        }),
      });
    }
  });

  it("contains no static AWS credentials anywhere in its inputs", () => {
    const text = JSON.stringify(b().resources.map((r) => r.inputs));
    expect(text).not.toMatch(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/);
    expect(text).not.toMatch(/aws_access_key_id|aws_secret_access_key|secretAccessKey|AWS_SECRET/i);
    expect(b().resources.filter((r) => ["aws:iam/accessKey:AccessKey", "aws:iam/user:User"].includes(r.type))).toEqual([]);
  });

  it("passes every policy of the pack that looks at cloud resources (the mesh and models come later, from the k8s layer)", () => {
    const report = evaluatePolicies(b().resources, { stack: b().spec.stack, catalog: b().spec.catalog });
    const own = report.violations.filter(
      (v) => v.type.startsWith("aws:") || v.type.startsWith("mlops:aws:") || v.type.startsWith("random:"),
    );
    expect(own.map((v) => `${v.policy}: ${v.message}`)).toEqual([]);
    expect(report.policiesRun).toBeGreaterThan(30);
  });

  it("parents every resource under the foundation", () => {
    const root = b().resources.find((r) => r.type === "mlops:aws:AwsFoundation");
    expect(root?.parent).toBeUndefined();
    const urns = new Set(b().resources.map((r) => r.urn));
    for (const r of b().resources.filter((x) => x !== root)) expect(urns.has(r.parent ?? "")).toBe(true);
  });

  it("hands the Kubernetes layer the cloud-neutral connection shape", async () => {
    const f = b().foundation;
    expect(f.cluster.workloadIdentity).toBe("irsa");
    expect(Object.keys(f.identities).sort()).toEqual([...WORKLOADS].sort());
    expect(await outputValue(f.online.url)).toMatch(
      stackName === "dynamo-prod"
        ? /^dynamodb:\/\/[a-z0-9-]+\?tableNameTemplate=%7Bproject%7D\.dynamo-prod\.%7Btable_name%7D$/
        : /^rediss:\/\/master\.[a-z0-9.-]+\.cache\.amazonaws\.com:6379$/,
    );
    expect(await outputValue(f.offline.url)).toMatch(/^redshift:\/\/[a-z0-9-]+\/features$/);
    expect(await outputValue(f.artifacts.uri)).toMatch(/^s3:\/\/[a-z0-9.-]+\/mlflow$/);
    expect(await outputValue(f.trackingDatabase.url)).toMatch(
      /^postgresql:\/\/mlflow:[A-Za-z0-9]{40}@[a-z0-9.-]+:5432\/mlflow\?sslmode=require$/,
    );
    expect(await pulumi.isSecret(f.trackingDatabase.url)).toBe(true);
    expect(await pulumi.isSecret(f.cluster.kubeconfig)).toBe(true);
  });
});

describe("AwsFoundation refuses what it cannot build", () => {
  it("a stack for another cloud", () => {
    const gcp = loadAwsStack("gcp-dev");
    expect(() => new AwsFoundation("wrong-cloud", { stack: gcp.stack, catalog: gcp.catalog })).toThrow(
      /stack gcp-dev cannot be built on AWS:\n {2}- cloud: is "gcp"/,
    );
  });

  it("reports every problem at once, each with its field and fix (the spec refuses some first; this guards direct callers)", () => {
    const dev = loadAwsStack("aws-dev");
    const stack = {
      ...dev.stack,
      name: "aws-bad",
      offlineStore: { kind: "duckdb" as const, path: "/data/offline.duckdb" },
      network: { ...dev.stack.network, cidr: "10.0.0.0/24" },
      cluster: { ...dev.stack.cluster, privateEndpoint: false, publicAccessCidrs: [] },
    };
    expect(awsStackIssues(stack).map((i) => i.propertyPath)).toEqual(["offlineStore.kind", "network.cidr", "cluster.publicAccessCidrs"]);
    let thrown: unknown;
    try {
      new AwsFoundation("bad", { stack, catalog: dev.catalog });
    } catch (error) {
      thrown = error;
    }
    expect(pulumi.InputPropertiesError.isInstance(thrown)).toBe(true);
    const error = thrown as pulumi.InputPropertiesError;
    expect(error.errors).toEqual([
      { propertyPath: "offlineStore.kind", reason: '"duckdb" is not available on AWS; use kind: redshift' },
      {
        propertyPath: "network.cidr",
        reason: "10.0.0.0/24 is too small for the platform's subnets; use a /20 or larger (a /16 is recommended)",
      },
      {
        propertyPath: "cluster.publicAccessCidrs",
        reason: expect.stringMatching(/AWS reads as 0\.0\.0\.0\/0; .* or set cluster\.privateEndpoint: true$/),
      },
    ]);
    expect(error.message).toMatch(/^stack aws-bad cannot be built on AWS:\n {2}- offlineStore\.kind: /);
  });

  it("finds nothing to report in the repository's AWS stacks", () => {
    for (const name of AWS_STACKS) expect(awsStackIssues(loadAwsStack(name).stack)).toEqual([]);
  });
});

describe("resource counts", () => {
  it("scale with the stack: NAT gateways per AZ, a managed node group per system pool, a Karpenter NodePool per GPU pool", () => {
    const count = (name: AwsStackName, type: string) => built[name].ofType(type).length;
    expect(count("aws-dev", "aws:ec2/natGateway:NatGateway")).toBe(1);
    expect(count("aws-prod", "aws:ec2/natGateway:NatGateway")).toBe(3);
    const pools = (name: AwsStackName, role: "system" | "gpu") => built[name].spec.stack.nodePools.filter((p) => p.role === role).length;
    expect(count("aws-dev", "aws:eks/nodeGroup:NodeGroup")).toBe(pools("aws-dev", "system"));
    expect(count("aws-prod", "aws:eks/nodeGroup:NodeGroup")).toBe(pools("aws-prod", "system"));
    expect(pools("aws-prod", "gpu")).toBe(2);
    // Cluster, nodes, flow logs and the tracking database's enhanced monitoring (prod), plus one per workload,
    // plus Karpenter's controller (IRSA) and node roles, the EBS CSI driver's (IRSA) and Redshift's UNLOAD role.
    expect(count("aws-prod", "aws:iam/role:Role")).toBe(4 + 4 + WORKLOADS.length);
    expect(count("aws-dev", "aws:iam/role:Role")).toBe(3 + 4 + WORKLOADS.length);
    // One per store, EKS secrets, and one per log group (CloudWatch Logs may use only those).
    expect(count("aws-prod", "aws:kms/key:Key")).toBe(7);
  });
});
