import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { parseCidr } from "./cidr";

/** One stack field the AWS layer cannot build, and what to do instead. */
export interface AwsStackIssue {
  propertyPath: string;
  reason: string;
}

/**
 * What the spec's schema allows but AWS cannot build, collected together so a user fixes them in
 * one pass. The pure settings functions check the same things where they use them; this is the
 * up-front report.
 */
export function awsStackIssues(stack: StackSpec): AwsStackIssue[] {
  const issues: AwsStackIssue[] = [];
  if (stack.cloud !== "aws") issues.push({ propertyPath: "cloud", reason: `is "${stack.cloud}"; AwsFoundation builds only aws stacks` });
  if (stack.offlineStore.kind !== "redshift") {
    issues.push({ propertyPath: "offlineStore.kind", reason: `"${stack.offlineStore.kind}" is not available on AWS; use kind: redshift` });
  }
  try {
    const vpc = parseCidr(stack.network.cidr);
    if (vpc.prefix > 20)
      issues.push({
        propertyPath: "network.cidr",
        reason: `${stack.network.cidr} is too small for the platform's subnets; use a /20 or larger (a /16 is recommended)`,
      });
  } catch (error) {
    issues.push({ propertyPath: "network.cidr", reason: (error as Error).message });
  }
  if (!stack.cluster.privateEndpoint && stack.cluster.publicAccessCidrs.length === 0) {
    issues.push({
      propertyPath: "cluster.publicAccessCidrs",
      reason:
        "is empty while the API endpoint is public, which AWS reads as 0.0.0.0/0; list the CIDRs allowed to reach it, or set cluster.privateEndpoint: true",
    });
  }
  return issues;
}

/** Throws every issue at once, as the engine's InputPropertiesError (pretty-printed by `pulumi up`). */
export function assertAwsStack(stack: StackSpec): void {
  const errors = awsStackIssues(stack);
  if (errors.length === 0) return;
  const lines = errors.map((e) => `  - ${e.propertyPath}: ${e.reason}`).join("\n");
  throw new pulumi.InputPropertiesError({ message: `stack ${stack.name} cannot be built on AWS:\n${lines}`, errors });
}
