import { describeRule, edit } from "./fixtures/cases";
import { resource } from "./fixtures/resource";

describeRule(
  "kubernetes-nodes-private",
  ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "the GPU node group runs in a public subnet",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.subnetIds = ["subnet-public-a"];
        }),
      names: '"pool-gpu-l4"',
      fix: "private subnets",
    },
    {
      stack: "aws-dev",
      change: "a node group runs in a subnet routed to the internet gateway, though mapPublicIpOnLaunch is false",
      edit: (p) => {
        edit(p, "publicSubnet", (r) => {
          r.mapPublicIpOnLaunch = false;
        });
        edit(p, "pool-gpu-l4", (r) => {
          r.subnetIds = ["subnet-public-a"];
        });
        p.igw = resource("aws:ec2/internetGateway:InternetGateway", "igw", { vpcId: "vpc-id" }, { outputs: { id: "igw-1" } });
        p.publicRoutes = resource("aws:ec2/routeTable:RouteTable", "public-rt", { vpcId: "vpc-id" }, { outputs: { id: "rtb-public" } });
        p.defaultRoute = resource("aws:ec2/route:Route", "public-default", {
          routeTableId: "rtb-public",
          destinationCidrBlock: "0.0.0.0/0",
          gatewayId: "igw-1",
        });
        p.publicLink = resource("aws:ec2/routeTableAssociation:RouteTableAssociation", "public-a-rt", {
          routeTableId: "rtb-public",
          subnetId: "subnet-public-a",
        });
      },
      names: 'public subnet "public-a" (its route table sends 0.0.0.0/0 to an internet gateway)',
      fix: "private subnets",
    },
    {
      stack: "aws-dev",
      change: "a node group runs in a subnet whose inline route table routes ::/0 to the internet gateway",
      edit: (p) => {
        edit(p, "publicSubnet", (r) => {
          r.mapPublicIpOnLaunch = false;
        });
        edit(p, "pool-gpu-l4", (r) => {
          r.subnetIds = ["subnet-public-a"];
        });
        p.igw = resource("aws:ec2/internetGateway:InternetGateway", "igw", { vpcId: "vpc-id" }, { outputs: { id: "igw-1" } });
        p.publicRoutes = resource(
          "aws:ec2/routeTable:RouteTable",
          "public-rt",
          { vpcId: "vpc-id", routes: [{ ipv6CidrBlock: "::/0", gatewayId: "igw-1" }] },
          { outputs: { id: "rtb-public" } },
        );
        p.publicLink = resource("aws:ec2/routeTableAssociation:RouteTableAssociation", "public-a-rt", {
          routeTableId: "rtb-public",
          subnetId: "subnet-public-a",
        });
      },
      names: 'public subnet "public-a" (its route table',
      fix: "private subnets",
    },
    {
      stack: "aws-prod",
      change: "SSH is open to the world",
      edit: (p) =>
        edit(p, "pool-system", (r) => {
          r.remoteAccess = { ec2SshKey: "ops" };
        }),
      names: '"pool-system"',
      fix: "sourceSecurityGroupIds",
    },
    {
      stack: "gcp-dev",
      change: "GKE nodes get public IPs",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.privateClusterConfig.enablePrivateNodes = false;
        }),
      names: 'GKE cluster "cluster"',
      fix: "enablePrivateNodes: true",
    },
  ],
);

describeRule(
  "kubernetes-endpoint-private",
  ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"],
  [
    {
      stack: "aws-prod",
      change: "the prod EKS endpoint is public",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.vpcConfig.endpointPublicAccess = true;
        }),
      names: 'EKS cluster "cluster"',
      fix: "endpointPublicAccess: false",
    },
    {
      stack: "aws-dev",
      change: "the dev EKS endpoint is open to 0.0.0.0/0",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"];
        }),
      names: 'EKS cluster "cluster"',
      fix: "publicAccessCidrs",
    },
    {
      stack: "aws-dev",
      change: "nodes reach the API over the internet",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.vpcConfig.endpointPrivateAccess = false;
        }),
      names: 'EKS cluster "cluster"',
      fix: "endpointPrivateAccess: true",
    },
    {
      stack: "gcp-prod",
      change: "the prod GKE endpoint is public",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.privateClusterConfig.enablePrivateEndpoint = false;
        }),
      names: 'GKE cluster "cluster"',
      fix: "enablePrivateEndpoint: true",
    },
    {
      stack: "gcp-dev",
      change: "the dev GKE endpoint has no authorized networks",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          delete r.masterAuthorizedNetworksConfig;
        }),
      names: 'GKE cluster "cluster"',
      fix: "masterAuthorizedNetworksConfig",
    },
  ],
);

describeRule(
  "kubernetes-secrets-encrypted",
  ["aws-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "EKS has no envelope encryption",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          delete r.encryptionConfig;
        }),
      names: 'EKS cluster "cluster"',
      fix: '"secrets"',
    },
    {
      stack: "gcp-prod",
      change: "GKE secrets are not encrypted",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.databaseEncryption.state = "DECRYPTED";
        }),
      names: 'GKE cluster "cluster"',
      fix: '"ENCRYPTED"',
    },
  ],
);

describeRule(
  "kubernetes-workload-identity",
  ["aws-dev", "gcp-dev"],
  [
    {
      stack: "aws-dev",
      change: "there is no IAM OIDC provider",
      edit: (p) => {
        delete p.oidc;
      },
      names: 'EKS cluster "cluster"',
      fix: "OpenIdConnectProvider",
    },
    {
      stack: "gcp-dev",
      change: "Workload Identity is off",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          delete r.workloadIdentityConfig;
        }),
      names: 'GKE cluster "cluster"',
      fix: "workloadPool",
    },
    {
      stack: "gcp-dev",
      change: "a pool exposes the node metadata server",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.nodeConfig.workloadMetadataConfig.mode = "GCE_METADATA";
        }),
      names: '"pool-gpu-l4"',
      fix: "GKE_METADATA",
    },
  ],
);

describeRule(
  "kubernetes-control-plane-logs",
  ["aws-prod", "gcp-prod"],
  [
    {
      stack: "aws-prod",
      change: "only API logs are enabled",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.enabledClusterLogTypes = ["api"];
        }),
      names: 'EKS cluster "cluster"',
      fix: "enabledClusterLogTypes",
    },
    {
      stack: "gcp-prod",
      change: "Cloud Logging is disabled",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.loggingService = "none";
        }),
      names: 'GKE cluster "cluster"',
      fix: "loggingService",
    },
  ],
);

describeRule(
  "gke-hardened",
  ["gcp-dev", "gcp-prod"],
  [
    {
      stack: "gcp-dev",
      change: "NetworkPolicy is not enforced",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          delete r.datapathProvider;
        }),
      names: 'GKE cluster "cluster"',
      fix: "ADVANCED_DATAPATH",
    },
    {
      stack: "gcp-dev",
      change: "legacy ABAC is on",
      edit: (p) =>
        edit(p, "cluster", (r) => {
          r.enableLegacyAbac = true;
        }),
      names: 'GKE cluster "cluster"',
      fix: "enableLegacyAbac",
    },
    {
      stack: "gcp-prod",
      change: "a pool has no Secure Boot",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.nodeConfig.shieldedInstanceConfig.enableSecureBoot = false;
        }),
      names: '"pool-gpu-l4"',
      fix: "enableSecureBoot: true",
    },
    {
      stack: "gcp-prod",
      change: "a pool runs as the default compute service account",
      edit: (p) =>
        edit(p, "pool-system", (r) => {
          delete r.nodeConfig.serviceAccount;
        }),
      names: '"pool-system"',
      fix: "nodeConfig.serviceAccount",
    },
  ],
);
