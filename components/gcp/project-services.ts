import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { type GcpComponentArgs, gcpTarget } from "./project";

/**
 * The Google APIs the GCP layer calls. Cloud Resource Manager serves project IAM, Service
 * Networking the private services peering, and enabling the container API creates the GKE
 * service agent that the Secrets key is granted to.
 */
export const REQUIRED_APIS = [
  "cloudresourcemanager.googleapis.com",
  "iam.googleapis.com",
  "compute.googleapis.com",
  "container.googleapis.com",
  "servicenetworking.googleapis.com",
  "cloudkms.googleapis.com",
  "redis.googleapis.com",
  // Private Service Connect for Memorystore Cluster (onlineStore.shards): the policy, and the
  // consumer management API Memorystore creates its endpoints through.
  "networkconnectivity.googleapis.com",
  "serviceconsumermanagement.googleapis.com",
  "sqladmin.googleapis.com",
  "bigquery.googleapis.com",
  "storage.googleapis.com",
] as const;

export interface ProjectServicesArgs extends GcpComponentArgs {
  /** APIs to enable. Defaults to REQUIRED_APIS. */
  apis?: readonly string[];
}

/**
 * Enables the APIs the platform needs on its project, and never disables them on destroy:
 * other workloads in the project may use them too.
 */
export class ProjectServices extends pulumi.ComponentResource {
  readonly services: gcp.projects.Service[];
  /** The project id, resolved only once every API is enabled: pass it as `project` to every component. */
  readonly project: pulumi.Output<string>;

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:ProjectServices", name, {}, opts);
    const { project } = gcpTarget(args.stack);
    this.services = (args.apis ?? REQUIRED_APIS).map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split(".")[0]}`,
          { project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.project = pulumi.all(this.services.map((s) => s.project)).apply(() => project);
    this.registerOutputs({ project: this.project, apis: this.services.map((s) => s.service) });
  }
}
