import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { type PolicyResource, validateResourceOfType } from "@pulumi/policy";
import { ofTypes, safeProp } from "./links";
import { asArray, type Facts, facts, get, type PlatformPolicy, violation } from "./support";

/**
 * Security of the Kubernetes clusters themselves, on EKS and GKE: private nodes, a private API
 * endpoint in prod (and never one open to the world), envelope encryption of Secrets, workload
 * identity instead of node credentials, control-plane logs and GKE node hardening.
 */

const EKS_CLUSTER = "aws:eks/cluster:Cluster";
const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const GKE_CLUSTER = "gcp:container/cluster:Cluster";
const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";
const WORLD = "0.0.0.0/0";

/**
 * Ids of the subnets whose route table sends the default route to an internet gateway: public
 * subnets whatever their mapPublicIpOnLaunch (ours set it false and still route to the gateway).
 * An aws.ec2.Route names its destination destinationCidrBlock / destinationIpv6CidrBlock; a
 * RouteTable's inline routes name it cidrBlock / ipv6CidrBlock.
 */
export function internetRoutedSubnets(resources: PolicyResource[]): Set<string> {
  const gateways = new Set(ofTypes(resources, ["aws:ec2/internetGateway:InternetGateway"]).map((g) => safeProp(g, "id")));
  const toGateway = (ipv4: unknown, ipv6: unknown, gatewayId: unknown) => (ipv4 === WORLD || ipv6 === "::/0") && gateways.has(gatewayId);
  const tables = new Set<unknown>();
  for (const route of ofTypes(resources, ["aws:ec2/route:Route"]))
    if (toGateway(safeProp(route, "destinationCidrBlock"), safeProp(route, "destinationIpv6CidrBlock"), safeProp(route, "gatewayId")))
      tables.add(safeProp(route, "routeTableId"));
  for (const table of ofTypes(resources, ["aws:ec2/routeTable:RouteTable"]))
    if (asArray(safeProp(table, "routes")).some((r) => toGateway(get(r, "cidrBlock"), get(r, "ipv6CidrBlock"), get(r, "gatewayId"))))
      tables.add(safeProp(table, "id"));
  const subnets = new Set<string>();
  for (const link of ofTypes(resources, ["aws:ec2/routeTableAssociation:RouteTableAssociation"]))
    if (tables.has(safeProp(link, "routeTableId"))) subnets.add(String(safeProp(link, "subnetId")));
  return subnets;
}

export const kubernetesNodesPrivate: PlatformPolicy = {
  area: "security",
  name: "kubernetes-nodes-private",
  description:
    "Cluster nodes have no public IP: EKS node groups in private subnets (none that maps public IPs or routes 0.0.0.0/0 to the internet gateway) without open SSH, GKE private nodes.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const subnets = ofTypes(args.resources, ["aws:ec2/subnet:Subnet"]);
    const clusters = ofTypes(args.resources, [EKS_NODE_GROUP, GKE_CLUSTER, GKE_NODE_POOL]);
    if (clusters.length === 0) args.notApplicable("no EKS node groups or GKE clusters in the stack");
    const routedToInternet = internetRoutedSubnets(args.resources);
    for (const group of ofTypes(args.resources, [EKS_NODE_GROUP])) {
      const subject = `EKS node group "${group.name}"`;
      for (const id of asArray(safeProp(group, "subnetIds"))) {
        const subnet = subnets.find((s) => safeProp(s, "id") === id);
        if (!subnet) continue;
        const why =
          safeProp(subnet, "mapPublicIpOnLaunch") === true
            ? "mapPublicIpOnLaunch"
            : routedToInternet.has(id as string)
              ? "its route table sends 0.0.0.0/0 to an internet gateway"
              : undefined;
        if (why) {
          report(
            violation(
              subject,
              `runs in public subnet "${subnet.name}" (${why})`,
              "place node groups in the private subnets (NAT for egress)",
            ),
            group.urn,
          );
        }
      }
      const remote = safeProp(group, "remoteAccess");
      if (remote && asArray(get(remote, "sourceSecurityGroupIds")).length === 0) {
        report(
          violation(
            subject,
            "allows SSH from anywhere (remoteAccess without sourceSecurityGroupIds)",
            "remove remoteAccess (use SSM) or restrict it with sourceSecurityGroupIds",
          ),
          group.urn,
        );
      }
    }
    for (const cluster of ofTypes(args.resources, [GKE_CLUSTER])) {
      if (get(safeProp(cluster, "privateClusterConfig"), "enablePrivateNodes") !== true) {
        report(
          violation(
            `GKE cluster "${cluster.name}"`,
            "nodes get public IPs",
            "set privateClusterConfig: { enablePrivateNodes: true, masterIpv4CidrBlock } and Cloud NAT for egress",
          ),
          cluster.urn,
        );
      }
    }
    for (const pool of ofTypes(args.resources, [GKE_NODE_POOL])) {
      if (get(safeProp(pool, "networkConfig"), "enablePrivateNodes") === false) {
        report(
          violation(
            `GKE node pool "${pool.name}"`,
            "overrides the cluster with public nodes",
            "remove networkConfig.enablePrivateNodes: false",
          ),
          pool.urn,
        );
      }
    }
  },
};

export const kubernetesEndpointPrivate: PlatformPolicy = {
  area: "security",
  name: "kubernetes-endpoint-private",
  description:
    "The Kubernetes API endpoint is private in prod; in dev a public endpoint is allowed only from listed CIDRs, never 0.0.0.0/0.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { environment: facts.environment } },
  validateResource: [
    validateResourceOfType(aws.eks.Cluster, (cluster, args, report) => {
      const { environment } = args.getConfig<Facts>();
      const subject = `EKS cluster "${args.name}"`;
      const vpc = cluster.vpcConfig;
      if (vpc?.endpointPrivateAccess !== true)
        report(
          violation(
            subject,
            "nodes reach the API over the internet (endpointPrivateAccess is off)",
            "set vpcConfig.endpointPrivateAccess: true",
          ),
        );
      const isPublic = vpc?.endpointPublicAccess !== false;
      if (isPublic && environment === "prod")
        report(
          violation(
            subject,
            "has a public API endpoint in a prod stack",
            "set vpcConfig.endpointPublicAccess: false (cluster.privateEndpoint: true in the stack file)",
          ),
        );
      const cidrs = asArray(vpc?.publicAccessCidrs);
      if (isPublic && environment !== "prod" && (cidrs.length === 0 || cidrs.includes(WORLD))) {
        report(
          violation(
            subject,
            "public API endpoint is open to 0.0.0.0/0",
            "list your office/VPN ranges in cluster.publicAccessCidrs in the stack file (vpcConfig.publicAccessCidrs)",
          ),
        );
      }
    }),
    validateResourceOfType(gcp.container.Cluster, (cluster, args, report) => {
      const { environment } = args.getConfig<Facts>();
      const subject = `GKE cluster "${args.name}"`;
      const isPublic = cluster.privateClusterConfig?.enablePrivateEndpoint !== true;
      if (isPublic && environment === "prod")
        report(
          violation(
            subject,
            "has a public API endpoint in a prod stack",
            "set privateClusterConfig.enablePrivateEndpoint: true (cluster.privateEndpoint: true in the stack file)",
          ),
        );
      // No masterAuthorizedNetworksConfig reads as no blocks: open to the world.
      const blocks = asArray(cluster.masterAuthorizedNetworksConfig?.cidrBlocks).map((b) => get(b, "cidrBlock"));
      if (isPublic && environment !== "prod" && (blocks.length === 0 || blocks.includes(WORLD))) {
        report(
          violation(
            subject,
            "public API endpoint is open to 0.0.0.0/0",
            "set masterAuthorizedNetworksConfig.cidrBlocks to your office/VPN ranges (cluster.publicAccessCidrs in the stack file)",
          ),
        );
      }
    }),
  ],
};

export const kubernetesSecretsEncrypted: PlatformPolicy = {
  area: "security",
  name: "kubernetes-secrets-encrypted",
  description:
    "Kubernetes Secrets are envelope-encrypted in etcd with a KMS key (EKS encryptionConfig, GKE application-layer secrets encryption).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(aws.eks.Cluster, (cluster, args, report) => {
      const enc = cluster.encryptionConfig;
      if (!asArray(enc?.resources).includes("secrets") || !enc?.provider?.keyArn) {
        report(
          violation(
            `EKS cluster "${args.name}"`,
            "Secrets are not envelope-encrypted with KMS",
            'set encryptionConfig: { resources: ["secrets"], provider: { keyArn: <aws.kms.Key arn> } }',
          ),
        );
      }
    }),
    validateResourceOfType(gcp.container.Cluster, (cluster, args, report) => {
      if (cluster.databaseEncryption?.state !== "ENCRYPTED" || !cluster.databaseEncryption.keyName) {
        report(
          violation(
            `GKE cluster "${args.name}"`,
            "Secrets are not encrypted at the application layer",
            'set databaseEncryption: { state: "ENCRYPTED", keyName: <gcp.kms.CryptoKey id> }',
          ),
        );
      }
    }),
  ],
};

function gkePoolsOf(cluster: PolicyResource, pools: PolicyResource[]): PolicyResource[] {
  return pools.filter((p) => {
    const ref = safeProp(p, "cluster");
    return p.dependencies.includes(cluster) || ref === safeProp(cluster, "id") || ref === safeProp(cluster, "name");
  });
}

export const kubernetesWorkloadIdentity: PlatformPolicy = {
  area: "security",
  name: "kubernetes-workload-identity",
  description:
    "Pods get cloud access through workload identity (EKS IRSA or Pod Identity, GKE Workload Identity with the GKE metadata server), never node credentials.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const eks = ofTypes(args.resources, [EKS_CLUSTER]);
    const gke = ofTypes(args.resources, [GKE_CLUSTER]);
    if (eks.length + gke.length === 0) args.notApplicable("no EKS or GKE clusters in the stack");
    const irsa = ofTypes(args.resources, [
      "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
      "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    ]);
    for (const cluster of eks) {
      if (irsa.length === 0) {
        report(
          violation(
            `EKS cluster "${cluster.name}"`,
            "has no IAM OIDC provider (IRSA) or Pod Identity association, so pods would need node or static credentials",
            "create an aws.iam.OpenIdConnectProvider for the cluster's OIDC issuer and annotate ServiceAccounts with eks.amazonaws.com/role-arn",
          ),
          cluster.urn,
        );
      }
    }
    const pools = ofTypes(args.resources, [GKE_NODE_POOL]);
    for (const cluster of gke) {
      if (!get(safeProp(cluster, "workloadIdentityConfig"), "workloadPool")) {
        report(
          violation(
            `GKE cluster "${cluster.name}"`,
            "Workload Identity is off",
            'set workloadIdentityConfig: { workloadPool: "<project>.svc.id.goog" }',
          ),
          cluster.urn,
        );
      }
      for (const pool of gkePoolsOf(cluster, pools)) {
        if (get(safeProp(pool, "nodeConfig"), "workloadMetadataConfig", "mode") !== "GKE_METADATA") {
          report(
            violation(
              `GKE node pool "${pool.name}"`,
              "pods can read the node's metadata server (and its credentials)",
              'set nodeConfig.workloadMetadataConfig: { mode: "GKE_METADATA" }',
            ),
            pool.urn,
          );
        }
      }
    }
  },
};

/** EKS control-plane log types Checkov (CKV_AWS_37) expects. */
const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

export const kubernetesControlPlaneLogs: PlatformPolicy = {
  area: "security",
  name: "kubernetes-control-plane-logs",
  description:
    "Control-plane logs (API, audit, authenticator) are shipped: EKS log types enabled; GKE logging and monitoring not disabled.",
  enforcementLevel: "mandatory",
  // Control-plane logs cost CloudWatch ingestion in throwaway dev clusters: advise there.
  devEnforcementLevel: "advisory",
  configSchema: {
    properties: {
      logTypes: {
        type: "array",
        items: { type: "string" },
        default: EKS_LOG_TYPES,
        description: "EKS control-plane log types that must be enabled.",
      },
    },
  },
  validateResource: [
    validateResourceOfType(aws.eks.Cluster, (cluster, args, report) => {
      const { logTypes } = args.getConfig<{ logTypes: string[] }>();
      const enabled = asArray(cluster.enabledClusterLogTypes);
      const missing = logTypes.filter((t) => !enabled.includes(t));
      if (missing.length)
        report(
          violation(
            `EKS cluster "${args.name}"`,
            `control-plane log types ${missing.join(", ")} are off`,
            `set enabledClusterLogTypes: ${JSON.stringify(logTypes)}`,
          ),
        );
    }),
    validateResourceOfType(gcp.container.Cluster, (cluster, args, report) => {
      if (cluster.loggingService === "none" || cluster.monitoringService === "none") {
        report(
          violation(
            `GKE cluster "${args.name}"`,
            "Cloud Logging or Monitoring is disabled",
            "remove loggingService/monitoringService: none (the defaults ship system and workload logs)",
          ),
        );
      }
    }),
  ],
};

export const gkeHardened: PlatformPolicy = {
  area: "security",
  name: "gke-hardened",
  description:
    "GKE: no legacy ABAC or client certificates, NetworkPolicy enforced (Dataplane V2); node pools on Container-Optimized OS with Secure Boot, auto-repair, auto-upgrade and a dedicated service account.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(gcp.container.Cluster, (cluster, args, report) => {
      const subject = `GKE cluster "${args.name}"`;
      if (cluster.enableLegacyAbac === true) report(violation(subject, "legacy ABAC is on", "remove enableLegacyAbac (RBAC only)"));
      if (cluster.masterAuth?.clientCertificateConfig?.issueClientCertificate === true)
        report(violation(subject, "issues client certificates", "set masterAuth.clientCertificateConfig.issueClientCertificate: false"));
      if (cluster.enableShieldedNodes === false)
        report(violation(subject, "Shielded GKE nodes are off", "remove enableShieldedNodes: false"));
      if (cluster.datapathProvider !== "ADVANCED_DATAPATH" && cluster.networkPolicy?.enabled !== true) {
        report(violation(subject, "does not enforce Kubernetes NetworkPolicy", 'set datapathProvider: "ADVANCED_DATAPATH" (Dataplane V2)'));
      }
    }),
    validateResourceOfType(gcp.container.NodePool, (pool, args, report) => {
      const subject = `GKE node pool "${args.name}"`;
      const node = pool.nodeConfig;
      if (node?.shieldedInstanceConfig?.enableSecureBoot !== true || node.shieldedInstanceConfig.enableIntegrityMonitoring === false) {
        report(
          violation(
            subject,
            "Secure Boot or integrity monitoring is off",
            "set nodeConfig.shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true }",
          ),
        );
      }
      if (node?.imageType && !node.imageType.toUpperCase().startsWith("COS"))
        report(violation(subject, `runs image type ${node.imageType}`, 'use imageType "COS_CONTAINERD" (the default)'));
      if (!node?.serviceAccount)
        report(
          violation(
            subject,
            "runs as the Compute Engine default service account (Editor on the project)",
            "set nodeConfig.serviceAccount to a dedicated least-privilege service account",
          ),
        );
      if (pool.management?.autoRepair === false || pool.management?.autoUpgrade === false) {
        report(violation(subject, "auto-repair or auto-upgrade is off", "set management: { autoRepair: true, autoUpgrade: true }"));
      }
    }),
  ],
};

export const clusterPolicies: PlatformPolicy[] = [
  kubernetesNodesPrivate,
  kubernetesEndpointPrivate,
  kubernetesSecretsEncrypted,
  kubernetesWorkloadIdentity,
  kubernetesControlPlaneLogs,
  gkeHardened,
];
