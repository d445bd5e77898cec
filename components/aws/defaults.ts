import type * as pulumi from "@pulumi/pulumi";
import { cloudTags } from "../names";
import type { StackSpec } from "../../definition";

/**
 * The AWS layer's secure defaults, resolved in one place from the stack spec. Every component
 * reads its knobs from here, so a reviewer sees each default and its reason once.
 */
export interface AwsDefaults {
  prod: boolean;
  /** Stateful resources (stores, databases, buckets, KMS keys) are protected from `pulumi destroy`. */
  protect: boolean;
  /** In prod, deleting a stateful resource from the program leaves it in the account (no data loss by refactor). */
  retainOnDelete: boolean;
  /** Service-level deletion protection flags (EKS, RDS, DynamoDB). Defaults: on in prod. */
  deletionProtection: boolean;
  /** KMS keys wait this long before deletion, so a mistake can be undone. Defaults: 30 days prod, 7 dev. */
  kmsDeletionWindowDays: number;
  /** Control-plane and audit log retention. Defaults: 365 days prod (audit), 30 dev. */
  logRetentionDays: number;
  /** Automated database backups kept. Defaults: 14 days prod, 7 dev (the database-backups-enabled policy asks for 7; RDS backup storage up to the DB size is free). */
  backupRetentionDays: number;
  /** Days a noncurrent artifact version is kept before expiry. Defaults: 90 prod, 7 dev. */
  noncurrentVersionDays: number;
  /** Days prediction logs (drift input) are kept. Defaults: 90 prod, 14 dev. */
  predictionLogDays: number;
  /** RDS storage in GiB and its autoscaling ceiling. */
  databaseStorageGb: number;
  databaseMaxStorageGb: number;
}

export function awsDefaults(stack: StackSpec): AwsDefaults {
  const prod = stack.environment === "prod";
  return {
    prod,
    protect: stack.protect,
    retainOnDelete: prod,
    deletionProtection: stack.protect,
    kmsDeletionWindowDays: prod ? 30 : 7,
    logRetentionDays: prod ? 365 : 30,
    backupRetentionDays: prod ? 14 : 7,
    noncurrentVersionDays: prod ? 90 : 7,
    predictionLogDays: prod ? 90 : 14,
    databaseStorageGb: prod ? 100 : 20,
    databaseMaxStorageGb: prod ? 1000 : 100,
  };
}

/** Tags for one resource: the stack's team/environment/costCenter tags plus a readable Name. */
export function awsTags(stack: StackSpec, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...cloudTags(stack), Name: name, ...extra };
}

/** Options for a stateful child: protected, and retained on delete in prod. */
export function statefulOptions(stack: StackSpec, parent: pulumi.Resource): pulumi.CustomResourceOptions {
  const d = awsDefaults(stack);
  return { parent, protect: d.protect, retainOnDelete: d.retainOnDelete };
}

/** AWS resource names allow fewer characters than Pulumi names; this keeps them valid and short. */
export function awsName(name: string, maxLength: number): string {
  const clean = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "");
  return clean.slice(0, maxLength).replace(/-+$/, "");
}
