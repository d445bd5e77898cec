import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
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

/**
 * A customer-managed key (and an alias naming it) owned by one component, so each store's data
 * can be revoked or audited on its own. Keys are stateful: losing one loses the data it encrypts,
 * so they are protected like the stores.
 */
export function encryptionKey(name: string, stack: StackSpec, purpose: string, parent: pulumi.Resource): aws.kms.Key {
  const key = new aws.kms.Key(`${name}-key`, kmsKeySettings(stack, purpose), statefulOptions(stack, parent));
  // Alias names are unique per account and region: the stack keeps two stacks' aliases apart.
  new aws.kms.Alias(`${name}-key-alias`, { name: kmsAliasName(stack, name), targetKeyId: key.keyId }, { parent });
  return key;
}
