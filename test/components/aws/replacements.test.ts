import { beforeAll, describe, expect, it } from "vitest";
import { useMocks } from "../../support/mocks";
import { type BuiltFoundation, buildFoundations, type Inputs, variantOf } from "./fixture";

const ADMIN = "arn:aws:iam::123456789012:role/platform-admins";
let built: Record<"aws-dev" | "aws-dev2" | "admins", BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("aws-replace", { region: "us-east-1" });
  const dynamo = (p: Record<string, unknown>) => {
    p.onlineStore = { kind: "dynamodb" };
  };
  built = await buildFoundations(mocks, {
    // Two stacks of one account and region: nothing with a fixed name may collide.
    "aws-dev": variantOf("aws-dev", "aws-dev", dynamo),
    "aws-dev2": variantOf("aws-dev", "aws-dev2", dynamo),
    admins: variantOf("aws-prod", "admins", (p) => {
      (p.cluster as Record<string, unknown>).admins = [ADMIN];
    }),
  });
  expect(mocks.unknownInvokes).toEqual([]);
});

/** Physical names AWS keeps unique per account and region, by the input that holds them. */
const NAMED: Record<string, string> = {
  "aws:kms/alias:Alias": "name",
  "aws:dynamodb/table:Table": "name",
  "aws:eks/cluster:Cluster": "name",
  "aws:cloudwatch/logGroup:LogGroup": "name",
  "aws:redshiftserverless/namespace:Namespace": "namespaceName",
  "aws:redshiftserverless/workgroup:Workgroup": "workgroupName",
};

describe("two AWS stacks in one account and region", () => {
  it("name every KMS alias after the stack", () => {
    const aliases = built["aws-dev"].ofType("aws:kms/alias:Alias").map((a) => a.inputs.name as string);
    expect(aliases.length).toBeGreaterThan(3);
    for (const alias of aliases) expect(alias).toMatch(/^alias\/aws-dev\/aws-dev-[a-z0-9-]+$/);
  });

  it("share no physical name (KMS aliases, DynamoDB tables, EKS, log groups, Redshift)", () => {
    const names = (b: BuiltFoundation) =>
      Object.entries(NAMED).flatMap(([type, field]) =>
        b
          .ofType(type)
          .filter((r) => r.inputs[field] !== undefined)
          .map((r) => `${type} ${String(r.inputs[field])}`),
      );
    const first = names(built["aws-dev"]);
    // Both foundations are named after their stack here, as `mlops` is in every real stack: only the stack differs.
    const second = names(built["aws-dev2"]).map((n) => n.replaceAll("aws-dev2", "aws-dev"));
    expect(first.length).toBeGreaterThan(Object.keys(NAMED).length);
    expect(names(built["aws-dev2"]).filter((n) => first.includes(n))).toEqual([]);
    expect(second.sort()).toEqual([...first].sort());
  });
});

describe("resources whose physical name is fixed", () => {
  const b = () => built["aws-dev"];
  it.each(Object.keys(NAMED).filter((t) => t !== "aws:kms/alias:Alias"))("%s is deleted before its replacement is created", (type) => {
    // Auto-named resources (Pulumi adds a random suffix) replace safely create-first.
    const resources = b()
      .ofType(type)
      .filter((r) => r.inputs[NAMED[type] as string] !== undefined);
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) expect(r.options.deleteBeforeReplace, r.name).toBe(true);
  });

  it("KMS keys (no name) keep create-before-delete, so data is never left without a key", () => {
    for (const key of b().ofType("aws:kms/key:Key")) expect(key.options.deleteBeforeReplace).toBeUndefined();
  });
});

describe("Redshift Serverless workgroup parameters", () => {
  it("sets audit logging and TLS, and ignores the drift of the full set the API returns", () => {
    const wg = b().one("aws:redshiftserverless/workgroup:Workgroup", "-offline-wg");
    expect(wg.inputs.configParameters as Inputs[]).toEqual([
      { parameterKey: "enable_user_activity_logging", parameterValue: "true" },
      { parameterKey: "require_ssl", parameterValue: "true" },
    ]);
    expect(wg.options.ignoreChanges).toEqual(["configParameters"]);
  });
  const b = () => built["aws-dev"];
});

describe("cluster.admins on EKS", () => {
  it("become access entries with the cluster-admin policy, scoped to the cluster", () => {
    const entries = built.admins.ofType("aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.type === "STANDARD");
    expect(entries.map((e) => e.inputs.principalArn)).toEqual([ADMIN]);
    const association = built.admins.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "-admin-0");
    expect(association.inputs).toMatchObject({
      principalArn: ADMIN,
      policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      accessScope: { type: "cluster" },
    });
    expect(association.options.dependsOn).toContain(entries[0]?.urn);
  });

  it("default to none: a stack without admins gets no access entry for people", () => {
    expect(built["aws-dev"].ofType("aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.type === "STANDARD")).toEqual([]);
  });
});
