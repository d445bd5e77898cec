import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { PlanMocks } from "../../stacks/plan/mocks";
import { recorded, useMocks, valueOf } from "../support/mocks";

let mocks: PlanMocks;
beforeAll(async () => {
  mocks = await useMocks("mock-check", { region: "eu-west-1" });
});

class Box extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Box", name, {}, opts);
    new aws.s3.Bucket(`${name}-bucket`, { tags: { team: "t" } }, { parent: this, protect: true });
    this.registerOutputs({});
  }
}

describe("plan mocks", () => {
  it("record parent, protect and realistic outputs of each resource", async () => {
    new Box("box");
    const cluster = new aws.eks.Cluster("c", { roleArn: "arn:aws:iam::123456789012:role/r", vpcConfig: { subnetIds: ["s"] } });
    expect(await valueOf(cluster.endpoint)).toMatch(/^https:\/\/[0-9A-F]{32}\.gr7\.eu-west-1\.eks\.amazonaws\.com$/);
    const all = await recorded(mocks);
    const bucket = all.find((r) => r.type === "aws:s3/bucket:Bucket");
    const box = all.find((r) => r.type === "test:index:Box");
    expect(bucket?.options.protect).toBe(true);
    expect(bucket?.parent).toBe(box?.urn);
    expect(box?.custom).toBe(false);
    expect(bucket?.outputs.arn).toBe("arn:aws:s3:::box-bucket");
  });

  it("refuse an invoke they do not know, so a missing mock cannot pass silently", async () => {
    await expect(aws.ec2.getVpc({ default: true })).rejects.toBeDefined();
    expect(mocks.unknownInvokes).toContain("aws:ec2/getVpc:getVpc");
  });
});
