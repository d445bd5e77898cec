import { describe, expect, it } from "vitest";
import { keyPolicy } from "../../../components/aws/kms";

const doc = (cloudWatchLogs?: boolean) =>
  JSON.parse(keyPolicy({ accountId: "123456789012", partition: "aws", region: "eu-west-1", cloudWatchLogs })) as {
    Statement: { Sid: string; Principal: Record<string, string>; Action: string | string[]; Condition?: unknown }[];
  };

describe("KMS key policies", () => {
  it("let the account administer and use the key through IAM, and no one else, by default", () => {
    expect(doc().Statement).toEqual([
      {
        Sid: "AccountAdministersThroughIam",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:root" },
        Action: "kms:*",
        Resource: "*",
      },
    ]);
  });

  it("let CloudWatch Logs of this region use a log key only for this account's log groups", () => {
    const logs = doc(true).Statement.find((s) => s.Sid === "CloudWatchLogsOfThisAccount");
    expect(logs?.Principal).toEqual({ Service: "logs.eu-west-1.amazonaws.com" });
    expect(logs?.Action).not.toContain("kms:*");
    expect(logs?.Condition).toEqual({
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*" },
    });
  });
});
