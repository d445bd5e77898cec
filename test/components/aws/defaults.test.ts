import { describe, expect, it } from "vitest";
import { awsDefaults, awsName, awsTags } from "../../../components/aws";
import { loadAwsStack } from "./fixture";

const dev = loadAwsStack("aws-dev");
const prod = loadAwsStack("aws-prod");

describe("AWS defaults", () => {
  it("protect, retain and deletion-protect in prod only", () => {
    expect(awsDefaults(prod.stack)).toMatchObject({
      protect: true,
      retainOnDelete: true,
      deletionProtection: true,
      kmsDeletionWindowDays: 30,
    });
    expect(awsDefaults(dev.stack)).toMatchObject({
      protect: false,
      retainOnDelete: false,
      deletionProtection: false,
      kmsDeletionWindowDays: 7,
    });
  });

  it("tags with the stack's team, environment and cost centre plus a Name", () => {
    expect(awsTags(prod.stack, "x", { tier: "private" })).toEqual({
      team: "ml-platform",
      costCenter: "cc-ml-1001",
      environment: "prod",
      "managed-by": "pulumi",
      stack: "aws-prod",
      Name: "x",
      tier: "private",
    });
  });

  it("keeps AWS names lower-case, short and starting with a letter", () => {
    expect(awsName("9_Platform--AWS_eks", 12)).toBe("platform-aws");
    expect(awsName("a".repeat(80), 40)).toHaveLength(40);
  });
});
