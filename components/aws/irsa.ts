import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { WORKLOADS, type Workload, workloadNamespace } from "../names";
import type { StackSpec } from "../../definition";
import { BUCKET_PREFIXES, type PrefixGrant, s3AccessStatements } from "./artifact-store";
import { awsTags } from "./defaults";
import { dynamoAccessStatements } from "./dynamodb";
import { STS_AUDIENCE } from "./eks-cluster";
import { type PolicyDocument, type PolicyStatement, policyDocument } from "./iam-policy";
import { redshiftDataAccessStatements } from "./offline-store";

/** The annotation EKS's pod identity webhook reads to inject a role's web identity token. */
export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

/** Each workload runs as a ServiceAccount of its own name (components/names.ts WORKLOADS). */
export function serviceAccountName(workload: Workload): string {
  return workload;
}

/** `system:serviceaccount:<namespace>:<name>`: the token subject IAM matches. */
export function serviceAccountSubject(workload: Workload, stack: StackSpec): string {
  return `system:serviceaccount:${workloadNamespace(workload, stack)}:${serviceAccountName(workload)}`;
}

/**
 * Trust policy of a workload role: only tokens issued by this cluster's OIDC provider, for
 * exactly this ServiceAccount, with the STS audience. StringEquals (not StringLike), so no other
 * ServiceAccount, namespace or wildcard can assume it.
 */
export function irsaTrustPolicy(providerArn: string, issuer: string, subject: string): PolicyDocument {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${issuer}:sub`]: subject, [`${issuer}:aud`]: STS_AUDIENCE } },
    },
  ]);
}

/** The AWS resources workloads are granted on, as plain strings. Absent parts grant nothing. */
export interface WorkloadResources {
  region: string;
  bucketArn: string;
  bucketKeyArn: string;
  /** DynamoDB online store (absent for Redis, which uses its AUTH token instead of IAM). */
  dynamo?: { tableArns: string[]; kmsKeyArn: string };
  /** Redshift offline store. */
  redshift?: { workgroupArn: string };
}

const ARTIFACTS_READ: PrefixGrant = { prefix: BUCKET_PREFIXES.artifacts, write: false };
const ARTIFACTS_WRITE: PrefixGrant = { prefix: BUCKET_PREFIXES.artifacts, write: true };
const PREDICTIONS_WRITE: PrefixGrant = { prefix: BUCKET_PREFIXES.predictionLogs, write: true };

/** Materialization writers read their shard of a Redshift UNLOAD (only on stacks with Redshift). */
export const MATERIALIZATION_READ: PrefixGrant = { prefix: BUCKET_PREFIXES.materialization, write: false };

/** Which bucket prefixes each workload touches: the whole least-privilege story of S3 in one table. */
export const BUCKET_GRANTS: Record<Workload, PrefixGrant[]> = {
  /** Online lookups and materialization: stores only; with Redshift, read of `materialization/` (workloadGrants). */
  features: [],
  /** Loads models; writes sampled prediction logs. */
  serving: [ARTIFACTS_READ, PREDICTIONS_WRITE],
  /** Reads reference profiles; reads (and compacts) prediction logs. */
  drift: [ARTIFACTS_READ, PREDICTIONS_WRITE],
  /** MLflow serves and stores artifacts (--serve-artifacts). */
  tracking: [ARTIFACTS_WRITE],
  /** Training jobs log models and profiles to MLflow's artifact prefix. */
  training: [ARTIFACTS_WRITE],
};

/** The IAM statements one workload's role gets. */
export function workloadGrants(workload: Workload, r: WorkloadResources): PolicyStatement[] {
  const statements: PolicyStatement[] = s3AccessStatements(r.bucketArn, r.bucketKeyArn, r.region, BUCKET_GRANTS[workload]).map((s) => ({
    ...s,
    Sid: `Bucket${s.Sid ?? ""}`,
  }));
  if (workload === "features") {
    if (r.dynamo) statements.push(...dynamoAccessStatements(r.dynamo.tableArns, r.dynamo.kmsKeyArn, r.region));
    if (r.redshift) {
      statements.push(...redshiftDataAccessStatements(r.redshift.workgroupArn));
      statements.push(
        ...s3AccessStatements(r.bucketArn, r.bucketKeyArn, r.region, [MATERIALIZATION_READ]).map((s) => ({
          ...s,
          Sid: `Export${s.Sid ?? ""}`,
        })),
      );
    }
  }
  return statements;
}

/**
 * Whether a workload gets any grant, from the shape of the stack alone (known before any ARN):
 * IAM refuses a policy without statements, so a workload without grants keeps a bare role.
 */
export function hasGrants(workload: Workload, shape: { dynamo: boolean; redshift: boolean }): boolean {
  return BUCKET_GRANTS[workload].length > 0 || (workload === "features" && (shape.dynamo || shape.redshift));
}

export interface WorkloadIdentitiesArgs {
  stack: StackSpec;
  oidcProviderArn: pulumi.Input<string>;
  /** Issuer without https://, e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
  oidcIssuer: pulumi.Input<string>;
  /** The resources granted on; give `dynamo` only when the online store has tables. */
  resources: {
    region: string;
    bucketArn: pulumi.Input<string>;
    bucketKeyArn: pulumi.Input<string>;
    dynamo?: { tableArns: pulumi.Input<string[]>; kmsKeyArn: pulumi.Input<string> };
    redshift?: { workgroupArn: pulumi.Input<string> };
  };
}

/**
 * An IAM role per platform workload (IRSA), trusted for exactly that workload's ServiceAccount,
 * with an inline least-privilege policy. Pods get temporary credentials; no static keys exist.
 */
export class WorkloadIdentities extends pulumi.ComponentResource {
  readonly roleArns: Record<Workload, pulumi.Output<string>>;
  /** ServiceAccount annotations per workload: { "eks.amazonaws.com/role-arn": <role ARN> }. */
  readonly identities: Record<Workload, pulumi.Output<Record<string, string>>>;

  constructor(name: string, args: WorkloadIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:WorkloadIdentities", name, {}, opts);
    const { stack } = args;
    const r = args.resources;
    const shape = { dynamo: r.dynamo !== undefined, redshift: r.redshift !== undefined };
    const resolved: pulumi.Output<WorkloadResources> = pulumi.output({
      region: r.region,
      bucketArn: r.bucketArn,
      bucketKeyArn: r.bucketKeyArn,
      dynamo: r.dynamo,
      redshift: r.redshift,
    }) as pulumi.Output<WorkloadResources>;
    const roleArns = {} as Record<Workload, pulumi.Output<string>>;
    const identities = {} as Record<Workload, pulumi.Output<Record<string, string>>>;
    for (const workload of WORKLOADS) {
      const subject = serviceAccountSubject(workload, stack);
      const role = new aws.iam.Role(
        `${name}-${workload}`,
        {
          description: `IRSA role of ${subject}`,
          assumeRolePolicy: pulumi
            .all([args.oidcProviderArn, args.oidcIssuer])
            .apply(([arn, issuer]) => JSON.stringify(irsaTrustPolicy(arn, issuer, subject))),
          maxSessionDuration: 3600,
          tags: awsTags(stack, `${name}-${workload}`, { workload }),
        },
        { parent: this },
      );
      if (hasGrants(workload, shape)) {
        new aws.iam.RolePolicy(
          `${name}-${workload}`,
          { role: role.id, policy: resolved.apply((res) => JSON.stringify(policyDocument(workloadGrants(workload, res)))) },
          { parent: this },
        );
      }
      roleArns[workload] = role.arn;
      identities[workload] = role.arn.apply((arn): Record<string, string> => ({ [IRSA_ANNOTATION]: arn }));
    }
    this.roleArns = roleArns;
    this.identities = identities;
    this.registerOutputs({ roleArns, identities });
  }
}
