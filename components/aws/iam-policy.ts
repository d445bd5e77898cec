/**
 * IAM policy documents as plain, typed objects. Written by hand rather than through
 * `aws.iam.getPolicyDocument` so they are pure values (tested directly, no invoke at plan time).
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy letting an AWS service (eks.amazonaws.com, ec2.amazonaws.com, ...) assume a role. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return policyDocument([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }]);
}

/** ARN of an AWS managed policy in the given partition ("aws", "aws-cn", "aws-us-gov"). */
export function managedPolicyArn(partition: string, policy: string): string {
  return `arn:${partition}:iam::aws:policy/${policy}`;
}
