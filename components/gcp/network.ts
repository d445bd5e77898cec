import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { type GcpComponentArgs, gcpTarget, projectInput } from "./project";

/** Names of the subnet's secondary ranges that GKE's VPC-native mode allocates from. */
export const SECONDARY_RANGES = { pods: "pods", services: "services" } as const;

export interface GcpNetworkArgs extends GcpComponentArgs {
  /** The /28 the GKE control plane peers into. Defaults to 172.16.0.0/28 (outside RFC 1918 10/8 plans). */
  masterIpv4CidrBlock?: string;
  /** Size of the private services access range for Memorystore and Cloud SQL. Defaults to 20 (a /20). */
  privateServicesPrefixLength?: number;
}

/** The network as plain settings: what the resources below receive. */
export interface NetworkSettings {
  subnet: {
    ipCidrRange: string;
    secondaryIpRanges: { rangeName: string; ipCidrRange: string }[];
    privateIpGoogleAccess: boolean;
    logConfig: { aggregationInterval: string; flowSampling: number; metadata: string };
  };
  nat: {
    natIpAllocateOption: string;
    sourceSubnetworkIpRangesToNat: string;
    minPortsPerVm: number;
    logConfig: { enable: boolean; filter: string };
  };
  privateServices: { purpose: string; addressType: string; prefixLength: number };
  masterIpv4CidrBlock: string;
  /** Ports the control plane must reach on nodes for admission webhooks (Istio's sidecar injector). */
  webhookPorts: string[];
}

/**
 * Plain network settings for a stack. Secure defaults are resolved here, once:
 * nodes have no public IPs (egress through Cloud NAT), reach Google APIs privately, and
 * flow logs are on (sampled less in dev, where they are mostly cost).
 */
export function networkSettings(args: GcpNetworkArgs): NetworkSettings {
  const { stack } = args;
  const prod = stack.environment === "prod";
  const masterIpv4CidrBlock = args.masterIpv4CidrBlock ?? "172.16.0.0/28";
  const prefixLength = args.privateServicesPrefixLength ?? 20;
  if (!/^\d+\.\d+\.\d+\.\d+\/28$/.test(masterIpv4CidrBlock)) {
    throw new pulumi.InputPropertiesError({
      message: "invalid GKE control-plane range",
      errors: [{ propertyPath: "masterIpv4CidrBlock", reason: `"${masterIpv4CidrBlock}" must be a /28 CIDR, e.g. 172.16.0.0/28` }],
    });
  }
  return {
    subnet: {
      ipCidrRange: stack.network.cidr,
      secondaryIpRanges: [
        { rangeName: SECONDARY_RANGES.pods, ipCidrRange: stack.network.podsCidr },
        { rangeName: SECONDARY_RANGES.services, ipCidrRange: stack.network.servicesCidr },
      ],
      privateIpGoogleAccess: true,
      logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: prod ? 0.5 : 0.1, metadata: "INCLUDE_ALL_METADATA" },
    },
    nat: {
      natIpAllocateOption: "AUTO_ONLY",
      sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
      // Image pulls from many pods per node exhaust the default 64 ports quickly.
      minPortsPerVm: 256,
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    },
    privateServices: { purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength },
    masterIpv4CidrBlock,
    // A private cluster's control plane may only reach nodes on 443 and 10250; Istio's injector listens on 15017.
    webhookPorts: ["15017"],
  };
}

/**
 * A custom-mode VPC for one stack: one regional subnet with secondary ranges for pods and
 * services, Cloud Router + Cloud NAT so private nodes can pull images, and a private services
 * access range peered to Google's service producer network for Memorystore and Cloud SQL.
 * Cloud NAT is a regional, managed service, so `network.natPerAz` has no GCP counterpart.
 */
export class GcpNetwork extends pulumi.ComponentResource {
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** The peering that private-IP services (Memorystore, Cloud SQL) must depend on. */
  readonly privateServices: gcp.servicenetworking.Connection;
  readonly settings: NetworkSettings;
  readonly networkId: pulumi.Output<string>;
  readonly subnetId: pulumi.Output<string>;

  constructor(name: string, args: GcpNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:Network", name, {}, opts);
    const { region, labels } = gcpTarget(args.stack);
    const project = projectInput(args);
    const settings = networkSettings(args);
    const parent = { parent: this };
    this.settings = settings;

    this.network = new gcp.compute.Network(
      `${name}-vpc`,
      { project, autoCreateSubnetworks: false, routingMode: "REGIONAL", description: `MLOps platform network of stack ${args.stack.name}` },
      parent,
    );
    this.subnet = new gcp.compute.Subnetwork(`${name}-subnet`, { project, region, network: this.network.id, ...settings.subnet }, parent);
    const router = new gcp.compute.Router(`${name}-router`, { project, region, network: this.network.id }, parent);
    new gcp.compute.RouterNat(
      `${name}-nat`,
      {
        project,
        region,
        router: router.name,
        ...settings.nat,
        subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
      },
      parent,
    );
    const range = new gcp.compute.GlobalAddress(
      `${name}-private-services`,
      {
        project,
        network: this.network.id,
        ...settings.privateServices,
        labels,
        description: "Private services access (Memorystore, Cloud SQL)",
      },
      parent,
    );
    // Deleting the peering fails for days after Cloud SQL / Memorystore are gone ("Producer services
    // still using this connection"): ABANDON drops it from the state instead, and deleting the
    // network then removes the peering with it. The explicit dependsOn keeps the order on destroy:
    // the stores, then the connection, then the range and the network.
    this.privateServices = new gcp.servicenetworking.Connection(
      `${name}-private-services`,
      {
        network: this.network.id,
        service: "servicenetworking.googleapis.com",
        reservedPeeringRanges: [range.name],
        deletionPolicy: "ABANDON",
      },
      { parent: this, dependsOn: [this.network, range] },
    );
    new gcp.compute.Firewall(
      `${name}-control-plane-webhooks`,
      {
        project,
        network: this.network.id,
        direction: "INGRESS",
        sourceRanges: [settings.masterIpv4CidrBlock],
        allows: [{ protocol: "tcp", ports: settings.webhookPorts }],
        description: "GKE control plane to admission webhooks on nodes (Istio sidecar injector)",
      },
      parent,
    );

    this.networkId = this.network.id;
    this.subnetId = this.subnet.id;
    this.registerOutputs({ networkId: this.networkId, subnetId: this.subnetId, privateServicesPeering: this.privateServices.peering });
  }
}
