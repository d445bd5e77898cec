import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { awsDefaults, awsTags, statefulOptions } from "./defaults";

/** Settings of a customer-managed KMS key: symmetric, rotated yearly, with a deletion window. */
export function kmsKeySettings(stack: StackSpec, purpose: string): aws.kms.KeyArgs {
  return {
    description: `${purpose} (${stack.name})`,
    enableKeyRotation: true,
    deletionWindowInDays: awsDefaults(stack).kmsDeletionWindowDays,
    keyUsage: "ENCRYPT_DECRYPT",
    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    tags: awsTags(stack, `${stack.name}-${purpose}`),
  };
}

/** `alias/<stack>/<component>`: unique per account and region, readable in the console. */
export function kmsAliasName(stack: StackSpec, name: string): string {
  return `alias/${stack.name}/${name}`;
}

export interface KeyPolicyArgs {
  accountId: string;
  partition: string;
  region: string;
  /** Let CloudWatch Logs in this account and region encrypt log groups with the key. Defaults to false. */
  cloudWatchLogs?: boolean;
}

/**
 * The key's policy, written out instead of left to AWS's default (CKV2_AWS_64): the account
 * administers and uses the key through IAM (so the roles' own policies decide who may decrypt,
 * and the key can never become unmanageable), and, for log keys, CloudWatch Logs may use it only
 * for this account's log groups in this region (the encryption-context condition).
 */
export function keyPolicy(a: KeyPolicyArgs): string {
  const statements: Record<string, unknown>[] = [
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:${a.partition}:iam::${a.accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ];
  if (a.cloudWatchLogs) {
    statements.push({
      Sid: "CloudWatchLogsOfThisAccount",
      Effect: "Allow",
      Principal: { Service: `logs.${a.region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${a.partition}:logs:${a.region}:${a.accountId}:log-group:*` } },
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * A customer-managed key (and an alias naming it) owned by one component, so each store's data
 * can be revoked or audited on its own. Keys are stateful: losing one loses the data it encrypts,
 * so they are protected like the stores.
 */
export function encryptionKey(
  name: string,
  stack: StackSpec,
  purpose: string,
  parent: pulumi.Resource,
  options: { cloudWatchLogs?: boolean } = {},
): aws.kms.Key {
  const identity = aws.getCallerIdentityOutput({}, { parent });
  const partition = aws.getPartitionOutput({}, { parent });
  const policy = pulumi
    .all([identity.accountId, partition.partition])
    .apply(([accountId, p]) => keyPolicy({ accountId, partition: p, region: stack.region, cloudWatchLogs: options.cloudWatchLogs }));
  const key = new aws.kms.Key(`${name}-key`, { ...kmsKeySettings(stack, purpose), policy }, statefulOptions(stack, parent));
  // Alias names are unique per account and region: the stack keeps two stacks' aliases apart.
  new aws.kms.Alias(`${name}-key-alias`, { name: kmsAliasName(stack, name), targetKeyId: key.keyId }, { parent });
  return key;
}
