import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { StackSpec } from "../../definition";
import type { ClusterAccess } from "../types";
import { GKE_ACCELERATORS, NODE_OAUTH_SCOPES } from "./gpu-node-pool";
import { KmsKey } from "./kms-key";
import { SECONDARY_RANGES } from "./network";
import { type GcpComponentArgs, gcpTarget, projectInput } from "./project";

export interface GkeClusterArgs extends GcpComponentArgs {
  /** The VPC and subnet (with the `pods` and `services` secondary ranges) the cluster lives in. */
  networkId: pulumi.Input<string>;
  subnetId: pulumi.Input<string>;
  /** The control plane's /28 (GcpNetwork settings). */
  masterIpv4CidrBlock: string;
  /** The nodes' service account (NodeServiceAccount): node auto-provisioning's pools run as it. */
  nodeServiceAccountEmail?: pulumi.Input<string>;
}

/** The cluster as plain settings: everything except the ids of resources created alongside it. */
export interface GkeClusterSettings {
  location: string;
  minMasterVersion: string;
  removeDefaultNodePool: true;
  initialNodeCount: number;
  /** The temporary default pool's node config: metadata server and Shielded VM like our pools (CKV_GCP_69). */
  nodeConfig: {
    workloadMetadataConfig: { mode: "GKE_METADATA" };
    shieldedInstanceConfig: { enableSecureBoot: true; enableIntegrityMonitoring: true };
  };
  /** Pod-to-pod traffic on one node goes through the VPC, so flow logs and firewall rules see it (CKV_GCP_61). */
  enableIntranodeVisibility: true;
  networkingMode: "VPC_NATIVE";
  datapathProvider: string;
  ipAllocationPolicy: { clusterSecondaryRangeName: string; servicesSecondaryRangeName: string };
  privateClusterConfig: {
    enablePrivateNodes: true;
    enablePrivateEndpoint: boolean;
    masterIpv4CidrBlock: string;
    masterGlobalAccessConfig: { enabled: boolean };
  };
  masterAuthorizedNetworksConfig: { cidrBlocks: { cidrBlock: string; displayName: string }[]; gcpPublicCidrsAccessEnabled: boolean };
  workloadIdentityConfig: { workloadPool: string };
  releaseChannel: { channel: string };
  enableShieldedNodes: true;
  enableLegacyAbac: false;
  masterAuth: { clientCertificateConfig: { issueClientCertificate: false } };
  loggingConfig: { enableComponents: string[] };
  monitoringConfig: { enableComponents: string[]; managedPrometheus: { enabled: boolean } };
  securityPostureConfig: { mode: string; vulnerabilityMode: string };
  addonsConfig: {
    httpLoadBalancing: { disabled: boolean };
    horizontalPodAutoscaling: { disabled: boolean };
    gcePersistentDiskCsiDriverConfig: { enabled: boolean };
  };
  maintenancePolicy: { dailyMaintenanceWindow: { startTime: string } };
  deletionProtection: boolean;
  resourceLabels: Record<string, string>;
}

/** The IAM role `cluster.admins` get on GCP. */
export const GKE_ADMIN_ROLE = "roles/container.admin";

/** The Workload Identity pool of a project: Kubernetes ServiceAccounts appear in IAM as members of it. */
export function workloadPool(project: string): string {
  return `${project}.svc.id.goog`;
}

/**
 * Plain cluster settings. Secure defaults, resolved once: private nodes, Workload Identity,
 * shielded nodes, no client certificates or legacy ABAC, Dataplane V2 (enforces NetworkPolicy),
 * deletion protection in prod. Control-plane logs (API server, scheduler, controller manager)
 * are kept in prod only: they are the bulk of a cluster's log bill and dev rarely needs them.
 * Monitoring stays on system components: the platform brings its own Prometheus.
 */
export function gkeClusterSettings(args: Pick<GkeClusterArgs, "stack" | "masterIpv4CidrBlock">): GkeClusterSettings {
  const { stack } = args;
  const { project, region, labels, prod } = gcpTarget(stack);
  return {
    location: region,
    minMasterVersion: stack.cluster.version,
    // The default pool cannot be configured like ours (service account, taints); GKE needs one node to create the cluster.
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    // Even the one node GKE creates and we delete gets no legacy metadata and boots verified.
    nodeConfig: {
      workloadMetadataConfig: { mode: "GKE_METADATA" },
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    },
    enableIntranodeVisibility: true,
    networkingMode: "VPC_NATIVE",
    datapathProvider: "ADVANCED_DATAPATH",
    ipAllocationPolicy: { clusterSecondaryRangeName: SECONDARY_RANGES.pods, servicesSecondaryRangeName: SECONDARY_RANGES.services },
    privateClusterConfig: {
      enablePrivateNodes: true,
      enablePrivateEndpoint: stack.cluster.privateEndpoint,
      masterIpv4CidrBlock: args.masterIpv4CidrBlock,
      masterGlobalAccessConfig: { enabled: false },
    },
    masterAuthorizedNetworksConfig: {
      cidrBlocks: stack.cluster.publicAccessCidrs.map((cidrBlock, i) => ({ cidrBlock, displayName: `allowed-${i}` })),
      // Without this, any Google Cloud VM of any customer could reach the public endpoint.
      gcpPublicCidrsAccessEnabled: false,
    },
    workloadIdentityConfig: { workloadPool: workloadPool(project) },
    releaseChannel: { channel: stack.cluster.releaseChannel },
    enableShieldedNodes: true,
    enableLegacyAbac: false,
    masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
    loggingConfig: {
      enableComponents: prod
        ? ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"]
        : ["SYSTEM_COMPONENTS", "WORKLOADS"],
    },
    monitoringConfig: { enableComponents: ["SYSTEM_COMPONENTS"], managedPrometheus: { enabled: false } },
    securityPostureConfig: { mode: "BASIC", vulnerabilityMode: "VULNERABILITY_BASIC" },
    addonsConfig: {
      httpLoadBalancing: { disabled: false },
      horizontalPodAutoscaling: { disabled: false },
      gcePersistentDiskCsiDriverConfig: { enabled: true },
    },
    maintenancePolicy: { dailyMaintenanceWindow: { startTime: "03:00" } },
    deletionProtection: prod,
    resourceLabels: labels,
  };
}

export type GkeAutoProvisioning = {
  enabled: true;
  autoscalingProfile: "BALANCED" | "OPTIMIZE_UTILIZATION";
  resourceLimits: { resourceType: string; minimum: number; maximum: number }[];
  autoProvisioningDefaults: {
    serviceAccount: string;
    oauthScopes: string[];
    imageType: "COS_CONTAINERD";
    diskType: string;
    shieldedInstanceConfig: { enableSecureBoot: true; enableIntegrityMonitoring: true };
    management: { autoRepair: true; autoUpgrade: true };
    upgradeSettings: { strategy: "SURGE"; maxSurge: number; maxUnavailable: number };
  };
};

/**
 * GKE node auto-provisioning (the cluster's clusterAutoscaling) from the spec's
 * cluster.autoProvisioning, or undefined when the stack does not ask for it. GKE's limits are
 * cluster-wide and cap the node pools' own autoscaling too: cpu and memory are the spec's totals
 * (docs/gcp.md: they must cover the pools), and each GPU type's limit is the pools' GPUs of that
 * type (maxSize x count) plus what the spec lets auto-provisioning add, so NAP never starves a
 * pool. The pools GKE creates are hardened like ours: the least-privilege node service account,
 * cloud-platform scope (IAM decides), Container-Optimized OS, Shielded VM with secure boot,
 * auto-repair and auto-upgrade, surge upgrades. GKE taints the GPU pools it creates with
 * nvidia.com/gpu itself. Dev removes idle nodes sooner (OPTIMIZE_UTILIZATION); prod keeps headroom.
 */
export function gkeAutoProvisioning(stack: StackSpec, serviceAccount: string): GkeAutoProvisioning | undefined {
  const nap = stack.cluster.autoProvisioning;
  if (!nap) return undefined;
  const gpus = new Map<string, number>();
  const add = (accelerator: keyof typeof GKE_ACCELERATORS, n: number) => {
    const type = GKE_ACCELERATORS[accelerator];
    if (!type) throw new Error(`cluster.autoProvisioning.gpus: "${accelerator}" is not offered on GKE`);
    gpus.set(type, (gpus.get(type) ?? 0) + n);
  };
  for (const pool of stack.nodePools) if (pool.accelerator) add(pool.accelerator.type, pool.maxSize * pool.accelerator.count);
  for (const [accelerator, n] of Object.entries(nap.gpus)) add(accelerator as keyof typeof GKE_ACCELERATORS, n ?? 0);
  return {
    enabled: true,
    autoscalingProfile: stack.environment === "prod" ? "BALANCED" : "OPTIMIZE_UTILIZATION",
    resourceLimits: [
      { resourceType: "cpu", minimum: 0, maximum: nap.maxCpu },
      { resourceType: "memory", minimum: 0, maximum: nap.maxMemoryGb },
      ...[...gpus.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([resourceType, maximum]) => ({ resourceType, minimum: 0, maximum })),
    ],
    autoProvisioningDefaults: {
      serviceAccount,
      oauthScopes: NODE_OAUTH_SCOPES,
      imageType: "COS_CONTAINERD",
      diskType: "pd-balanced",
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      management: { autoRepair: true, autoUpgrade: true },
      upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
    },
  };
}

/**
 * A kubeconfig for a GKE cluster that authenticates through `gke-gcloud-auth-plugin` (the only
 * supported way since GKE 1.26): it holds no credential, so it is safe to hand around, but it
 * is still marked secret by the component because it names internal endpoints.
 */
export function gkeKubeconfig(cluster: { context: string; endpoint: string; caCertificate: string }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: cluster.context, cluster: { "certificate-authority-data": cluster.caCertificate, server: `https://${cluster.endpoint}` } },
    ],
    contexts: [{ name: cluster.context, context: { cluster: cluster.context, user: cluster.context } }],
    "current-context": cluster.context,
    users: [
      {
        name: cluster.context,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            installHint:
              "Install gke-gcloud-auth-plugin: https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin",
            provideClusterInfo: true,
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

/**
 * A regional, VPC-native, private GKE Standard cluster with Workload Identity, shielded nodes
 * and Kubernetes Secrets encrypted at the application layer with a rotating Cloud KMS key.
 * Node pools are separate resources (GkeNodePool), so the default pool is removed.
 */
export class GkeCluster extends pulumi.ComponentResource {
  readonly cluster: gcp.container.Cluster;
  readonly secretsKey: KmsKey;
  readonly access: ClusterAccess;
  readonly kubeconfig: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;

  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:GkeCluster", name, {}, opts);
    const project = projectInput(args);
    const settings = gkeClusterSettings(args);
    const email = args.nodeServiceAccountEmail;
    if (args.stack.cluster.autoProvisioning && email === undefined) {
      throw new Error(
        `GkeCluster ${name}: cluster.autoProvisioning needs nodeServiceAccountEmail (NAP's nodes would run as the Compute Engine default account)`,
      );
    }
    const clusterAutoscaling =
      args.stack.cluster.autoProvisioning && email !== undefined
        ? pulumi.output(email).apply((sa) => gkeAutoProvisioning(args.stack, sa))
        : undefined;

    // GKE's service agent encrypts Secrets with the key; it exists once the container API is enabled.
    const projectInfo = gcp.organizations.getProjectOutput({ projectId: project }, { parent: this });
    const gkeAgent = pulumi.interpolate`serviceAccount:service-${projectInfo.number}@container-engine-robot.iam.gserviceaccount.com`;
    this.secretsKey = new KmsKey(
      `${name}-secrets`,
      { stack: args.stack, project, protects: "gke-secrets", encrypterDecrypters: [gkeAgent] },
      { parent: this },
    );

    this.cluster = new gcp.container.Cluster(
      `${name}`,
      {
        project,
        ...settings,
        network: args.networkId,
        subnetwork: args.subnetId,
        databaseEncryption: { state: "ENCRYPTED", keyName: this.secretsKey.keyId },
        clusterAutoscaling,
      },
      { parent: this, dependsOn: this.secretsKey.grants, ignoreChanges: ["initialNodeCount"] },
    );

    this.clusterName = this.cluster.name;
    const context = pulumi.interpolate`gke_${project}_${this.cluster.location}_${this.cluster.name}`;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([context, this.cluster.endpoint, this.cluster.masterAuth])
        .apply(([ctx, endpoint, auth]) => gkeKubeconfig({ context: ctx, endpoint, caCertificate: auth.clusterCaCertificate ?? "" })),
    );
    // GKE's GPU driver installation runs NVIDIA's device plugin itself.
    this.access = {
      name: this.clusterName,
      kubeconfig: this.kubeconfig,
      workloadIdentity: "gke",
      managedGpuDevicePlugin: true,
      // GKE limits the critical priority classes to kube-system unless a namespace has a quota for them.
      criticalPodsNeedQuota: true,
    };
    // Administrators named in the stack: GKE maps IAM onto Kubernetes, and container.admin is full
    // access to the clusters of the project and their objects (there is no per-cluster IAM binding).
    args.stack.cluster.admins.forEach((member, i) => {
      new gcp.projects.IAMMember(
        `${name}-admin-${i}`,
        { project, role: GKE_ADMIN_ROLE, member },
        { parent: this, dependsOn: [this.cluster] },
      );
    });
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      endpoint: this.cluster.endpoint,
      secretsKeyId: this.secretsKey.keyId,
    });
  }
}
