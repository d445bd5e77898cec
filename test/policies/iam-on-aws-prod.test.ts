import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The AWS IAM policies (policies/security-iam.ts) over aws-prod's real plan, broken one way at a
 * time, each case asserting the whole list of violations (message and fix) of one policy: which
 * statements of identity policies are too wide, which trust policies let too many principals
 * assume a role, and which resource policies are open to everyone.
 */

const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy";

const resources = realPlan("aws-prod");

const run = (name: string, all: PlanResource[]): Found => violationsOf(all, "aws-prod", name);
const named = (name: string) => (r: PlanResource) => r.name === name;

/** The plan with one more statement in the document `field` of the resource `type` named `name`. */
function withStatement(type: string, name: string, statement: Props, field = "policy"): PlanResource[] {
  return withBreakage(resources, {
    type,
    match: named(name),
    change: (r) => {
      const doc = JSON.parse(r[field]);
      doc.Statement.push(statement);
      r[field] = JSON.stringify(doc);
    },
  });
}

/** The plan with the first trust statement of role `name` edited. */
function withTrust(name: string, edit: (statement: Props) => void): PlanResource[] {
  return withBreakage(resources, {
    type: ROLE,
    match: named(name),
    change: (r) => {
      const doc = JSON.parse(r.assumeRolePolicy);
      edit(doc.Statement[0]);
      r.assumeRolePolicy = JSON.stringify(doc);
    },
  });
}

describe("aws-iam-least-privilege on aws-prod's real IAM", () => {
  const least = (all: PlanResource[]) => run("aws-iam-least-privilege", all);
  const serving = (statement: Props) => least(withStatement(ROLE_POLICY, "mlops-aws-irsa-serving", statement));
  const onServing = (problem: string, fix: string) => [{ message: `IAM policy "mlops-aws-irsa-serving": ${problem}.`, fix }];

  it("passes the real output", () => {
    expect(least(resources)).toEqual([]);
  });

  it('Action "*" is an administrator grant, whatever the resource', () => {
    expect(serving({ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::one" })).toEqual(
      onServing('statement Admin allows Action "*" (administrator)', "list the actions the workload calls"),
    );
  });

  it("a NotAction grant names what it leaves out, and an unnamed statement goes by its index", () => {
    const found = serving({ Effect: "Allow", NotAction: ["iam:*", "organizations:*"], Resource: "arn:aws:s3:::one" });
    expect(found).toEqual(
      onServing("statement #4 allows NotAction [iam:*, organizations:*], i.e. every other action", "list the actions granted in Action"),
    );
  });

  it("service wildcards on every resource are named, not the plain actions beside them", () => {
    const found = serving({ Sid: "Wide", Effect: "Allow", Action: ["s3:GetObject", "s3:*", "dynamodb:*"], Resource: "*" });
    expect(found).toEqual(
      onServing("statement Wide allows s3:*, dynamodb:* on every resource", "list the actions and name the resources' ARNs"),
    );
  });

  it("a service wildcard on a named resource is not a wildcard on every resource", () => {
    expect(serving({ Sid: "OneBucket", Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::one/*" })).toEqual([]);
  });

  it('write actions on Resource "*" without a Condition are named, the reads beside them are not', () => {
    const found = serving({
      Sid: "Anywhere",
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:PutObject", "s3:DeleteObject"],
      Resource: "*",
    });
    expect(found).toEqual(
      onServing(
        'statement Anywhere allows s3:PutObject, s3:DeleteObject on Resource "*" with no Condition',
        "name the resources' ARNs, or add a Condition (aws:ResourceTag, aws:RequestedRegion, an owner key) that scopes the call",
      ),
    );
  });

  it('write actions on Resource "*" with a Condition pass', () => {
    const condition = { StringEquals: { "aws:ResourceTag/team": "ml-platform" } };
    expect(serving({ Sid: "Tagged", Effect: "Allow", Action: "ec2:TerminateInstances", Resource: "*", Condition: condition })).toEqual([]);
  });

  it('read-only actions on Resource "*" without a Condition pass', () => {
    expect(serving({ Sid: "Look", Effect: "Allow", Action: ["ec2:DescribeInstances", "s3:ListAllMyBuckets"], Resource: "*" })).toEqual([]);
  });

  it('a Deny of "*" on "*" is no grant', () => {
    expect(serving({ Sid: "NoAdmin", Effect: "Deny", Action: "*", NotAction: "s3:*", Resource: "*" })).toEqual([]);
  });

  it("every kind of identity policy is read: a managed policy, a user's and a group's", () => {
    const doc = JSON.stringify({ Statement: [{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }] });
    const extra = [
      resource("aws:iam/policy:Policy", "managed", { policy: doc }),
      resource("aws:iam/userPolicy:UserPolicy", "user", { policy: doc }),
      resource("aws:iam/groupPolicy:GroupPolicy", "group", { policy: doc }),
    ];
    expect(least([...resources, ...extra])).toEqual(
      ["managed", "user", "group"].map((n) => ({
        message: `IAM policy "${n}": statement Admin allows Action "*" (administrator).`,
        fix: "list the actions the workload calls",
      })),
    );
  });

  const adminFix = "attach a policy with the actions the role needs (an aws.iam.RolePolicy built by components/aws/iam-policy.ts)";

  it("each administrator managed policy attached is named: PowerUserAccess and IAMFullAccess too", () => {
    for (const name of ["PowerUserAccess", "IAMFullAccess"]) {
      const arn = `arn:aws:iam::aws:policy/${name}`;
      const found = least(
        withBreakage(resources, {
          type: ATTACHMENT,
          match: named("mlops-aws-eks-cluster-policy"),
          change: (r) => {
            r.policyArn = arn;
          },
        }),
      );
      expect(found).toEqual([
        { message: `IAM attachment "mlops-aws-eks-cluster-policy": attaches ${arn}, which administers the account.`, fix: adminFix },
      ]);
    }
  });

  it("a role's managedPolicyArns are read, and it is called a role", () => {
    const arns = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"];
    const found = least(
      withBreakage(resources, {
        type: ROLE,
        match: named("mlops-aws-eks-role"),
        change: (r) => {
          r.managedPolicyArns = arns;
        },
      }),
    );
    expect(found).toEqual([
      {
        message: 'IAM role "mlops-aws-eks-role": attaches arn:aws:iam::aws:policy/AdministratorAccess, which administers the account.',
        fix: adminFix,
      },
    ]);
  });

  it("user, group and plain attachments of AdministratorAccess are attachments too", () => {
    const policyArn = "arn:aws:iam::aws:policy/AdministratorAccess";
    const extra = [
      resource("aws:iam/userPolicyAttachment:UserPolicyAttachment", "user-admin", { user: "ops", policyArn }),
      resource("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "group-admin", { group: "ops", policyArn }),
      resource("aws:iam/policyAttachment:PolicyAttachment", "any-admin", { roles: ["ops"], policyArn }),
    ];
    expect(least([...resources, ...extra])).toEqual(
      ["user-admin", "group-admin", "any-admin"].map((n) => ({
        message: `IAM attachment "${n}": attaches ${policyArn}, which administers the account.`,
        fix: adminFix,
      })),
    );
  });
});

describe("aws-iam-role-trust-scoped on aws-prod's real roles", () => {
  const trust = (all: PlanResource[]) => run("aws-iam-role-trust-scoped", all);
  const ANY_FIX = "name the service (Principal.Service), the account's role ARN, or the OIDC provider (Principal.Federated)";

  it("passes the real output", () => {
    expect(trust(resources)).toEqual([]);
  });

  it('Principal "*" (the bare string) lets anyone assume a service role', () => {
    const found = trust(
      withTrust("mlops-aws-eks-role", (s) => {
        s.Principal = "*";
      }),
    );
    expect(found).toEqual([
      {
        message: 'IAM role "mlops-aws-eks-role": trust statement #0 lets any AWS principal (Principal "*") assume the role.',
        fix: ANY_FIX,
      },
    ]);
  });

  it('Principal "*" pinned to the organisation by a Condition passes', () => {
    const found = trust(
      withTrust("mlops-aws-eks-role", (s) => {
        s.Principal = { AWS: "*" };
        s.Condition = { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } };
      }),
    );
    expect(found).toEqual([]);
  });

  it("a Deny open to everyone is no trust", () => {
    const found = trust(
      withTrust("mlops-aws-eks-role", (s) => {
        s.Effect = "Deny";
        s.Principal = "*";
      }),
    );
    expect(found).toEqual([]);
  });

  it("web-identity trust whose :sub lists one wildcard subject among exact ones names only the wildcard", () => {
    const found = trust(
      withTrust("mlops-aws-irsa-drift", (s) => {
        const eq = s.Condition.StringEquals;
        const sub = Object.keys(eq).find((k) => k.endsWith(":sub")) as string;
        s.Condition.StringLike = { [sub]: ["system:serviceaccount:mlops:drift", "system:serviceaccount:models:*"] };
        delete eq[sub];
      }),
    );
    expect(found).toEqual([
      {
        message: 'IAM role "mlops-aws-irsa-drift": trust statement #0 matches subjects by wildcard (system:serviceaccount:models:*).',
        fix: "name the one ServiceAccount with StringEquals",
      },
    ]);
  });

  it("web identity pinned by :aud alone trusts every identity of the provider: only :sub names a subject", () => {
    const found = trust(
      withTrust("mlops-aws-irsa-serving", (s) => {
        for (const key of Object.keys(s.Condition.StringEquals)) if (key.endsWith(":sub")) delete s.Condition.StringEquals[key];
      }),
    );
    expect(found).toEqual([
      {
        message:
          'IAM role "mlops-aws-irsa-serving": trust statement #0 lets every identity of the OIDC provider assume the role (no ":sub" condition).',
        fix: 'add Condition.StringEquals["<provider>:sub"] = "system:serviceaccount:<namespace>:<name>" (components/aws/irsa.ts does)',
      },
    ]);
  });

  it("web identity with no Condition at all trusts every identity of the provider", () => {
    const found = trust(
      withTrust("mlops-aws-irsa-serving", (s) => {
        delete s.Condition;
      }),
    );
    expect(found).toEqual([
      {
        message:
          'IAM role "mlops-aws-irsa-serving": trust statement #0 lets every identity of the OIDC provider assume the role (no ":sub" condition).',
        fix: 'add Condition.StringEquals["<provider>:sub"] = "system:serviceaccount:<namespace>:<name>" (components/aws/irsa.ts does)',
      },
    ]);
  });

  it("AssumeRoleWithWebIdentity for a service principal (no Federated) is not read as web identity", () => {
    const found = trust(
      withTrust("mlops-aws-eks-role", (s) => {
        s.Action = ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"];
      }),
    );
    expect(found).toEqual([]);
  });

  it("plain AssumeRole by the OIDC provider is not read as web identity", () => {
    const found = trust(
      withTrust("mlops-aws-irsa-serving", (s) => {
        s.Action = "sts:AssumeRole";
        delete s.Condition;
      }),
    );
    expect(found).toEqual([]);
  });
});

describe("aws-resource-policies-not-public on aws-prod's real bucket and queue policies", () => {
  const open = (all: PlanResource[]) => run("aws-resource-policies-not-public", all);
  const FIX =
    "name the principals (a role ARN, a service), or add a Condition on aws:SourceArn / aws:PrincipalOrgID; public reads go through a CDN with origin access control";
  const artifacts = (statement: Props) => open(withStatement(BUCKET_POLICY, "mlops-aws-artifacts-policy", statement));

  it("passes the real output (its Deny of plain HTTP to everyone included)", () => {
    expect(open(resources)).toEqual([]);
  });

  it("an Allow to everyone of NotAction names every action", () => {
    const found = artifacts({
      Sid: "Everything",
      Effect: "Allow",
      Principal: { AWS: ["arn:aws:iam::123456789012:root", "*"] },
      NotAction: "s3:DeleteBucket",
      Resource: "*",
    });
    expect(found).toEqual([
      {
        message: 'resource policy "mlops-aws-artifacts-policy": statement Everything allows every action to everyone (Principal "*").',
        fix: FIX,
      },
    ]);
  });

  it("an Allow to everyone pinned by aws:SourceArn passes", () => {
    const condition = { ArnEquals: { "aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1" } };
    expect(artifacts({ Sid: "Cdn", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*", Condition: condition })).toEqual(
      [],
    );
  });

  it("an Allow to a named account passes", () => {
    expect(
      artifacts({
        Sid: "Partner",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::210987654321:root" },
        Action: "s3:GetObject",
        Resource: "*",
      }),
    ).toEqual([]);
  });

  it("a queue policy opened to everyone names both actions", () => {
    const found = open(
      withStatement(QUEUE_POLICY, "mlops-aws-addons-karpenter-interruptions", {
        Sid: "Anyone",
        Effect: "Allow",
        Principal: "*",
        Action: ["sqs:SendMessage", "sqs:ReceiveMessage"],
        Resource: "*",
      }),
    );
    expect(found).toEqual([
      {
        message:
          'resource policy "mlops-aws-addons-karpenter-interruptions": statement Anyone allows sqs:SendMessage, sqs:ReceiveMessage to everyone (Principal "*").',
        fix: FIX,
      },
    ]);
  });

  it("an SNS topic policy is a resource policy too", () => {
    const doc = JSON.stringify({ Statement: [{ Sid: "Publish", Effect: "Allow", Principal: "*", Action: "sns:Publish", Resource: "*" }] });
    const found = open([
      ...resources,
      resource("aws:sns/topicPolicy:TopicPolicy", "alerts", { arn: "arn:aws:sns:eu-west-1:123456789012:alerts", policy: doc }),
    ]);
    expect(found).toEqual([
      { message: 'resource policy "alerts": statement Publish allows sns:Publish to everyone (Principal "*").', fix: FIX },
    ]);
  });
});
