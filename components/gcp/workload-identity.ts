import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { WORKLOADS, type Workload, workloadServiceAccount } from "../names";
import { ARTIFACT_PREFIXES } from "./artifact-store";
import { workloadPool } from "./gke-cluster";
import { type GcpComponentArgs, gcpTarget, projectInput, serviceAccountId } from "./project";

/** The GKE annotation binding a Kubernetes ServiceAccount to a Google service account. */
export const GKE_SA_ANNOTATION = "iam.gke.io/gcp-service-account";

/** One IAM role a workload holds, and on what: the project, the offline dataset, or a prefix of the artifact bucket. */
export type WorkloadGrant =
  | { scope: "project"; role: string }
  | { scope: "dataset"; role: string }
  | { scope: "bucket"; role: string; prefix: string };

/**
 * What each workload may do, and nothing more. Decisions, with why:
 * - features, training: run query jobs (materialization, training sets) and edit tables of the
 *   offline dataset only: the features service appends pushed rows (`/push` to offline) and loads
 *   entity files into the dataset for training sets (services/features/offline/bigquery.ts), so
 *   read-only dataViewer would break both. No access to any other dataset.
 * - features also exports sharded materialization: BigQuery's EXPORT DATA writes GCS as the caller
 *   (this account), with overwrite (create and delete), and the writers read their shard back, so
 *   it holds objectUser (objects only, no IAM) on `materialization/` and nothing else of the bucket.
 * - serving: append prediction logs (objectCreator cannot overwrite or delete) and read model files.
 * - drift: read prediction logs and reference profiles; writes nothing.
 * - tracking: the MLflow server proxies every artifact (`--serve-artifacts`), so it alone manages `mlflow/`.
 * Bucket roles are IAM-conditioned on the prefix, which uniform bucket-level access makes possible.
 */
export const WORKLOAD_GRANTS: Record<Workload, WorkloadGrant[]> = {
  features: [
    { scope: "dataset", role: "roles/bigquery.dataEditor" },
    { scope: "project", role: "roles/bigquery.jobUser" },
    { scope: "bucket", role: "roles/storage.objectUser", prefix: ARTIFACT_PREFIXES.materialization },
  ],
  training: [
    { scope: "dataset", role: "roles/bigquery.dataEditor" },
    { scope: "project", role: "roles/bigquery.jobUser" },
  ],
  serving: [
    { scope: "bucket", role: "roles/storage.objectCreator", prefix: ARTIFACT_PREFIXES.predictions },
    { scope: "bucket", role: "roles/storage.objectViewer", prefix: ARTIFACT_PREFIXES.mlflow },
  ],
  drift: [
    { scope: "bucket", role: "roles/storage.objectViewer", prefix: ARTIFACT_PREFIXES.predictions },
    { scope: "bucket", role: "roles/storage.objectViewer", prefix: ARTIFACT_PREFIXES.mlflow },
  ],
  tracking: [{ scope: "bucket", role: "roles/storage.objectAdmin", prefix: ARTIFACT_PREFIXES.mlflow }],
};

/** The IAM member standing for a Kubernetes ServiceAccount under GKE Workload Identity. */
export function workloadIdentityMember(project: string, namespace: string, serviceAccount: string): string {
  return `serviceAccount:${workloadPool(project)}[${namespace}/${serviceAccount}]`;
}

/**
 * An IAM condition limiting a bucket role to one prefix. Listing is a bucket-level call, so it is
 * allowed only when the list is itself restricted to the prefix.
 */
export function prefixCondition(bucket: string, prefix: string): { title: string; description: string; expression: string } {
  return {
    title: `only-${prefix.replace(/\/$/, "")}`,
    description: `Objects under gs://${bucket}/${prefix} only`,
    expression: `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}") || api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${prefix}")`,
  };
}

export interface WorkloadIdentitiesArgs extends GcpComponentArgs {
  /** The offline store's BigQuery dataset id. */
  datasetId: pulumi.Input<string>;
  /** The artifact bucket's name. */
  bucketName: pulumi.Input<string>;
  /**
   * The GKE cluster: its creation creates the `<project>.svc.id.goog` pool the bindings name, so they
   * wait for it (on a fresh project IAM refuses them otherwise: "Identity Pool does not exist").
   */
  cluster: pulumi.Resource;
}

/**
 * A Google service account per platform workload, usable only by that workload's Kubernetes
 * ServiceAccount through Workload Identity, with the grants above. No keys are ever created:
 * pods get short-lived tokens from the GKE metadata server.
 */
export class WorkloadIdentities extends pulumi.ComponentResource {
  readonly accounts: Record<Workload, gcp.serviceaccount.Account>;
  /** ServiceAccount annotations per workload: { "iam.gke.io/gcp-service-account": email }. */
  readonly identities: Record<Workload, pulumi.Output<Record<string, string>>>;
  readonly emails: Record<Workload, pulumi.Output<string>>;

  constructor(name: string, args: WorkloadIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:WorkloadIdentities", name, {}, opts);
    const project = projectInput(args);
    const projectId = gcpTarget(args.stack).project;
    const parent = { parent: this };
    const accounts = {} as Record<Workload, gcp.serviceaccount.Account>;
    const identities = {} as Record<Workload, pulumi.Output<Record<string, string>>>;
    const emails = {} as Record<Workload, pulumi.Output<string>>;

    for (const workload of WORKLOADS) {
      const ksa = workloadServiceAccount(workload, args.stack);
      const account = new gcp.serviceaccount.Account(
        `${name}-${workload}`,
        {
          project,
          accountId: serviceAccountId(`mlops-${args.stack.name}`, workload),
          displayName: `${workload} (${ksa.namespace}/${ksa.name}) of stack ${args.stack.name}`,
        },
        parent,
      );
      new gcp.serviceaccount.IAMMember(
        `${name}-${workload}-wi`,
        {
          serviceAccountId: account.name,
          role: "roles/iam.workloadIdentityUser",
          member: workloadIdentityMember(projectId, ksa.namespace, ksa.name),
        },
        { parent: this, dependsOn: [args.cluster] },
      );
      WORKLOAD_GRANTS[workload].forEach((grant, i) => {
        const grantName = `${name}-${workload}-${grant.scope}-${i}`;
        if (grant.scope === "project") {
          new gcp.projects.IAMMember(grantName, { project, role: grant.role, member: account.member }, parent);
        } else if (grant.scope === "dataset") {
          new gcp.bigquery.DatasetIamMember(
            grantName,
            { project, datasetId: args.datasetId, role: grant.role, member: account.member },
            parent,
          );
        } else {
          const condition = pulumi.output(args.bucketName).apply((bucket) => prefixCondition(bucket, grant.prefix));
          new gcp.storage.BucketIAMMember(
            grantName,
            { bucket: args.bucketName, role: grant.role, member: account.member, condition },
            parent,
          );
        }
      });
      accounts[workload] = account;
      emails[workload] = account.email;
      identities[workload] = account.email.apply((email): Record<string, string> => ({ [GKE_SA_ANNOTATION]: email }));
    }
    this.accounts = accounts;
    this.identities = identities;
    this.emails = emails;
    this.registerOutputs({ emails, identities });
  }
}
