import { describe, expect, it } from "vitest";
import { isReadOnlyAction, isServiceWildcard, principalIsEveryone, scopedByCondition, statements } from "../../policies/iam-documents";

/** The statement `statements()` makes of one raw IAM statement. */
const one = (statement: Record<string, unknown>) => {
  const [s] = statements({ Version: "2012-10-17", Statement: [statement] });
  if (!s) throw new Error("no statement");
  return s;
};

describe("statements", () => {
  it("reads a document given as an object or as its JSON text alike", () => {
    const doc = { Statement: [{ Sid: "Read", Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: "arn:aws:s3:::b/*" }] };
    const expected = [
      {
        sid: "Read",
        effect: "Allow",
        principal: undefined,
        actions: ["s3:GetObject", "s3:ListBucket"],
        notActions: [],
        resources: ["arn:aws:s3:::b/*"],
        hasCondition: false,
        condition: {},
      },
    ];
    expect(statements(doc)).toEqual(expected);
    expect(statements(JSON.stringify(doc))).toEqual(expected);
  });

  it("takes a single Statement object, and none from a document without statements or text that is not JSON", () => {
    expect(statements({ Statement: { Effect: "Deny", Action: "*", Resource: "*" } }).map((s) => [s.sid, s.effect, s.actions])).toEqual([
      ["#0", "Deny", ["*"]],
    ]);
    expect(statements({ Version: "2012-10-17" })).toEqual([]);
    expect(statements("{ not json")).toEqual([]);
  });

  it("keeps only the strings of a list, and leaves a missing Principal undefined", () => {
    const s = one({ Effect: "Allow", Action: ["s3:GetObject", 7, null], Principal: { AWS: ["arn:aws:iam::1:root", 3] } });
    expect(s.actions).toEqual(["s3:GetObject"]);
    expect(s.principal).toEqual({ AWS: ["arn:aws:iam::1:root"] });
    expect(one({ Effect: "Allow", Action: "s3:GetObject" }).principal).toBeUndefined();
  });
});

describe("principalIsEveryone", () => {
  it('is "*" or { AWS: "*" }, and not a named or missing principal', () => {
    expect(principalIsEveryone(one({ Effect: "Allow", Principal: "*" }))).toBe(true);
    expect(principalIsEveryone(one({ Effect: "Allow", Principal: { AWS: ["arn:aws:iam::1:root", "*"] } }))).toBe(true);
    expect(principalIsEveryone(one({ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" } }))).toBe(false);
    expect(principalIsEveryone(one({ Effect: "Allow", Action: "s3:GetObject" }))).toBe(false);
  });
});

describe("isReadOnlyAction", () => {
  it("takes Describe, List and Get actions, and their wildcards", () => {
    expect(isReadOnlyAction("ec2:DescribeInstances")).toBe(true);
    expect(isReadOnlyAction("s3:ListBucket")).toBe(true);
    expect(isReadOnlyAction("s3:Get*")).toBe(true);
    expect(isReadOnlyAction("s3:GetBucket*")).toBe(true);
    // IAM matches action names case-insensitively.
    expect(isReadOnlyAction("s3:listbucket")).toBe(true);
  });

  it("refuses writes, whole-service wildcards and wildcards in the middle of a verb", () => {
    expect(isReadOnlyAction("s3:PutObject")).toBe(false);
    expect(isReadOnlyAction("s3:Put*")).toBe(false);
    expect(isReadOnlyAction("s3:*")).toBe(false);
    expect(isReadOnlyAction("s3:Get*Acl")).toBe(false);
    // "List" inside a verb is not a read.
    expect(isReadOnlyAction("elasticloadbalancing:ModifyListener")).toBe(false);
  });

  it("refuses the Gets that hand out data or credentials", () => {
    expect(isReadOnlyAction("s3:GetObject")).toBe(false);
    expect(isReadOnlyAction("secretsmanager:GetSecretValue")).toBe(false);
    expect(isReadOnlyAction("ssm:GetParameters")).toBe(false);
    expect(isReadOnlyAction("cognito-identity:GetCredentialsForIdentity")).toBe(false);
    // IAM matches action names case-insensitively: a data-reading Get in other casing is still one.
    expect(isReadOnlyAction("s3:Getobject")).toBe(false);
    expect(isReadOnlyAction("secretsmanager:getsecretvalue")).toBe(false);
  });
});

describe("isServiceWildcard", () => {
  it('is "*" or "service:*" only', () => {
    expect(isServiceWildcard("*")).toBe(true);
    expect(isServiceWildcard("s3:*")).toBe(true);
    expect(isServiceWildcard("s3:Get*")).toBe(false);
    expect(isServiceWildcard("s3:*Object")).toBe(false);
    // IAM matches action names case-insensitively: "S3:*" grants every S3 action too.
    expect(isServiceWildcard("S3:*")).toBe(true);
    expect(isServiceWildcard("Iam:*")).toBe(true);
    expect(isServiceWildcard("S3:Get*")).toBe(false);
  });
});

describe("scopedByCondition", () => {
  it("is true when any condition key pins the caller or source, in any case", () => {
    expect(scopedByCondition(one({ Effect: "Allow", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } }))).toBe(true);
    expect(scopedByCondition(one({ Effect: "Allow", Condition: { ArnLike: { "AWS:SourceArn": "arn:aws:sns:*:1:t" } } }))).toBe(true);
    expect(
      scopedByCondition(one({ Effect: "Allow", Condition: { StringEquals: { "aws:UserAgent": "x", "aws:PrincipalOrgID": "o-1" } } })),
    ).toBe(true);
  });

  it("is false for conditions that pin nobody", () => {
    expect(scopedByCondition(one({ Effect: "Allow", Condition: { Bool: { "aws:SecureTransport": "true" } } }))).toBe(false);
    expect(scopedByCondition(one({ Effect: "Allow" }))).toBe(false);
  });
});
