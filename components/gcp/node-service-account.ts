import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { type GcpComponentArgs, projectInput, serviceAccountId } from "./project";

/**
 * The only project roles GKE nodes need (Google's "least privilege node service account"):
 * write logs and metrics, read monitoring, and pull images. Pods never see this identity:
 * node pools run with GKE_METADATA, so pods get their own Workload Identity instead.
 */
export const NODE_ROLES = [
  "roles/logging.logWriter",
  "roles/monitoring.metricWriter",
  "roles/monitoring.viewer",
  "roles/stackdriver.resourceMetadata.writer",
  "roles/autoscaling.metricsWriter",
  "roles/artifactregistry.reader",
] as const;

export interface NodeServiceAccountArgs extends GcpComponentArgs {}

/** A dedicated service account for the cluster's nodes, instead of the over-privileged Compute Engine default. */
export class NodeServiceAccount extends pulumi.ComponentResource {
  readonly account: gcp.serviceaccount.Account;
  readonly email: pulumi.Output<string>;

  constructor(name: string, args: NodeServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:NodeServiceAccount", name, {}, opts);
    const project = projectInput(args);
    this.account = new gcp.serviceaccount.Account(
      `${name}-sa`,
      { project, accountId: serviceAccountId(`mlops-${args.stack.name}`, "nodes"), displayName: `GKE nodes of stack ${args.stack.name}` },
      { parent: this },
    );
    for (const role of NODE_ROLES) {
      new gcp.projects.IAMMember(
        `${name}-${role.replace(/^roles\//, "").replace(/\./g, "-")}`,
        { project, role, member: this.account.member },
        { parent: this },
      );
    }
    this.email = this.account.email;
    this.registerOutputs({ email: this.email });
  }
}
