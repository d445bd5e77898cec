import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { useMocks, valueOf as outputValue } from "../../support/mocks";
import { EXPECTED } from "./expected";
import { type BuiltFoundation, buildGcpFoundations, GCP_STACKS, type GcpStackName } from "./fixture";

let built: Record<GcpStackName, BuiltFoundation>;
beforeAll(async () => {
  const mocks = await useMocks("gcp-cluster", { region: "us-central1", gcpProject: "mlops-dev-4821" });
  built = await buildGcpFoundations(mocks);
  expect(mocks.unknownInvokes).toEqual([]);
});

// biome-ignore lint/suspicious/noExplicitAny: recorded engine inputs are untyped JSON, read by path in assertions
type Inputs = Record<string, any>;
const CLUSTER = "gcp:container/cluster:Cluster";
const POOL = "gcp:container/nodePool:NodePool";

describe.each(GCP_STACKS)("GCP network and cluster of %s", (stackName) => {
  const want = EXPECTED[stackName];
  const cluster = () => built[stackName].ofType(CLUSTER)[0]?.inputs as Inputs;
  const pool = (name: string) => built[stackName].one(POOL, `-${name}-pool`).inputs as Inputs;

  it("puts the VPC in custom mode, with one subnet holding the pods and services ranges", () => {
    const b = built[stackName];
    const vpc = b.one("gcp:compute/network:Network", "-vpc").inputs;
    expect(vpc.autoCreateSubnetworks).toBe(false);
    expect(vpc.project).toBe(want.project);
    const subnet = b.one("gcp:compute/subnetwork:Subnetwork", "-subnet").inputs as Inputs;
    expect(subnet.ipCidrRange).toBe(want.subnet);
    expect(subnet.region).toBe(want.region);
    expect(subnet.privateIpGoogleAccess).toBe(true);
    expect(subnet.secondaryIpRanges).toEqual([
      { rangeName: "pods", ipCidrRange: want.pods },
      { rangeName: "services", ipCidrRange: want.services },
    ]);
    expect(subnet.network).toBe(b.one("gcp:compute/network:Network", "-vpc").outputs.id);
  });

  it("gives private nodes egress through Cloud NAT on a Cloud Router in the stack's region", () => {
    const b = built[stackName];
    const router = b.one("gcp:compute/router:Router", "-router");
    const nat = b.one("gcp:compute/routerNat:RouterNat", "-nat").inputs as Inputs;
    expect(router.inputs.region).toBe(want.region);
    expect(nat.router).toBe(router.outputs.name);
    expect(nat.natIpAllocateOption).toBe("AUTO_ONLY");
    expect(nat.sourceSubnetworkIpRangesToNat).toBe("LIST_OF_SUBNETWORKS");
    expect(nat.subnetworks).toEqual([
      { name: b.one("gcp:compute/subnetwork:Subnetwork", "-subnet").outputs.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] },
    ]);
  });

  it("peers a private services access range for Memorystore and Cloud SQL", () => {
    const b = built[stackName];
    const range = b.one("gcp:compute/globalAddress:GlobalAddress", "-private-services");
    expect(range.inputs).toMatchObject({ purpose: "VPC_PEERING", addressType: "INTERNAL", prefixLength: 20, project: want.project });
    const peering = b.one("gcp:servicenetworking/connection:Connection", "-private-services").inputs as Inputs;
    expect(peering.service).toBe("servicenetworking.googleapis.com");
    expect(peering.reservedPeeringRanges).toEqual([range.outputs.name]);
  });

  it("lets only the control plane reach the Istio injector webhook on nodes", () => {
    const fw = built[stackName].one("gcp:compute/firewall:Firewall", "-control-plane-webhooks").inputs as Inputs;
    expect(fw.direction).toBe("INGRESS");
    expect(fw.sourceRanges).toEqual([cluster().privateClusterConfig.masterIpv4CidrBlock]);
    expect(fw.allows).toEqual([{ protocol: "tcp", ports: ["15017"] }]);
  });

  it("builds a regional, VPC-native cluster without the default node pool", () => {
    const c = cluster();
    expect(built[stackName].ofType(CLUSTER)).toHaveLength(1);
    expect(c.project).toBe(want.project);
    expect(c.location).toBe(want.region);
    expect(c.removeDefaultNodePool).toBe(true);
    expect(c.networkingMode).toBe("VPC_NATIVE");
    expect(c.ipAllocationPolicy).toEqual({ clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" });
    expect(c.releaseChannel).toEqual({ channel: want.channel });
    expect(c.minMasterVersion).toBe("1.31");
  });

  it(`keeps nodes private and the endpoint ${want.privateEndpoint ? "private" : "public but restricted"}`, () => {
    const c = cluster();
    expect(c.privateClusterConfig).toMatchObject({
      enablePrivateNodes: true,
      enablePrivateEndpoint: want.privateEndpoint,
      masterIpv4CidrBlock: "172.16.0.0/28",
    });
    expect(c.masterAuthorizedNetworksConfig.cidrBlocks.map((b: Inputs) => b.cidrBlock)).toEqual(want.authorizedCidrs);
    expect(c.masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled).toBe(false);
  });

  it("enables Workload Identity with the project's pool, shielded nodes and no client certificates", () => {
    const c = cluster();
    expect(c.workloadIdentityConfig).toEqual({ workloadPool: `${want.project}.svc.id.goog` });
    expect(c.enableShieldedNodes).toBe(true);
    expect(c.enableLegacyAbac).toBe(false);
    expect(c.masterAuth).toEqual({ clientCertificateConfig: { issueClientCertificate: false } });
  });

  it("encrypts Kubernetes Secrets with a rotating Cloud KMS key the GKE service agent may use", () => {
    const b = built[stackName];
    const key = b.one("gcp:kms/cryptoKey:CryptoKey", "-secrets-key");
    const ring = b.one("gcp:kms/keyRing:KeyRing", "-secrets-ring");
    expect(ring.inputs.location).toBe(want.region);
    expect(key.inputs.keyRing).toBe(ring.outputs.id);
    expect(key.inputs.rotationPeriod).toBe("7776000s");
    expect(key.inputs.purpose).toBe("ENCRYPT_DECRYPT");
    expect(cluster().databaseEncryption).toEqual({ state: "ENCRYPTED", keyName: key.outputs.id });
    const grant = b.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "-secrets-use-0");
    expect(grant.inputs).toMatchObject({
      cryptoKeyId: key.outputs.id,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com",
    });
    // The cluster waits for the grant, or GKE cannot encrypt at creation.
    expect(b.ofType(CLUSTER)[0]?.options.dependsOn).toContain(grant.urn);
  });

  it(`sends ${want.prod ? "control-plane and workload" : "system and workload"} logs, and protects the cluster from deletion only in prod`, () => {
    const c = cluster();
    expect(c.loggingConfig.enableComponents).toEqual(
      want.prod ? ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"] : ["SYSTEM_COMPONENTS", "WORKLOADS"],
    );
    expect(c.monitoringConfig.enableComponents).toEqual(["SYSTEM_COMPONENTS"]);
    expect(c.deletionProtection).toBe(want.prod);
    expect(c.resourceLabels).toEqual(want.labels);
  });

  it("hands out a secret kubeconfig that authenticates with gke-gcloud-auth-plugin and names GKE Workload Identity", async () => {
    const access = built[stackName].foundation.cluster;
    expect(access.workloadIdentity).toBe("gke");
    const text = await outputValue(access.kubeconfig);
    expect(await pulumi.isSecret(access.kubeconfig)).toBe(true);
    const config = parse(text);
    const clusterOut = built[stackName].ofType(CLUSTER)[0]?.outputs as Inputs;
    expect(config.clusters[0].cluster.server).toBe(`https://${clusterOut.endpoint}`);
    expect(config.clusters[0].cluster["certificate-authority-data"]).toBe(clusterOut.masterAuth.clusterCaCertificate);
    expect(config.users[0].user.exec.command).toBe("gke-gcloud-auth-plugin");
    expect(config["current-context"]).toBe(`gke_${want.project}_${want.region}_${clusterOut.name}`);
    expect(text).not.toMatch(/token|password|client-key/i);
    if (want.privateEndpoint) expect(clusterOut.endpoint).toBe("172.16.0.2");
  });

  it("creates one node pool per spec pool, on the cluster, in the stack's first zones", () => {
    const b = built[stackName];
    const clusterId = b.ofType(CLUSTER)[0]?.outputs.id;
    const pools = b.ofType(POOL);
    expect(pools).toHaveLength(2);
    for (const p of pools) {
      expect(p.inputs.cluster).toBe(clusterId);
      expect(p.inputs.project).toBe(want.project);
      expect(p.inputs.location).toBe(want.region);
      expect(p.inputs.nodeLocations).toEqual(want.zones);
    }
  });

  it("gives the GPU pool its accelerator, GKE-installed drivers, the GPU taint and label, and lets it scale to zero", () => {
    const gpu = pool("gpu-l4");
    expect(gpu.nodeConfig.machineType).toBe(want.gpu.machineType);
    expect(gpu.nodeConfig.guestAccelerators).toEqual([
      { type: "nvidia-l4", count: 1, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } },
    ]);
    expect(gpu.nodeConfig.taints).toEqual([{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]);
    expect(gpu.nodeConfig.labels).toMatchObject({ "mlops.platform/accelerator": "nvidia-l4", "mlops.platform/pool": "gpu" });
    expect(gpu.autoscaling).toMatchObject({ totalMinNodeCount: 0, totalMaxNodeCount: want.gpu.max, locationPolicy: "ANY" });
    expect(gpu.initialNodeCount).toBe(0);
  });

  it(`runs the GPU pool on ${want.gpu.spot ? "spot" : "on-demand"} VMs and the system pool on on-demand VMs`, () => {
    expect(pool("gpu-l4").nodeConfig.spot).toBe(want.gpu.spot);
    expect(pool("system").nodeConfig.spot).toBe(false);
  });

  it("leaves the system pool untainted, without accelerators, within the spec's bounds", () => {
    const system = pool("system");
    expect(system.nodeConfig.machineType).toBe(want.system.machineType);
    expect(system.nodeConfig.taints).toEqual([]);
    expect(system.nodeConfig.guestAccelerators).toEqual([]);
    expect(system.nodeConfig.labels).toEqual({ "mlops.platform/pool": "system" });
    expect(system.autoscaling).toEqual({
      totalMinNodeCount: want.system.min,
      totalMaxNodeCount: want.system.max,
      locationPolicy: "BALANCED",
    });
  });

  it("hardens every pool: GKE metadata server, secure boot, integrity monitoring, auto-repair and upgrade", () => {
    for (const name of ["system", "gpu-l4"]) {
      const p = pool(name);
      expect(p.nodeConfig.workloadMetadataConfig).toEqual({ mode: "GKE_METADATA" });
      expect(p.nodeConfig.shieldedInstanceConfig).toEqual({ enableSecureBoot: true, enableIntegrityMonitoring: true });
      expect(p.management).toEqual({ autoRepair: true, autoUpgrade: true });
      expect(p.nodeConfig.oauthScopes).toEqual(["https://www.googleapis.com/auth/cloud-platform"]);
      expect(p.nodeConfig.diskSizeGb).toBe(100);
      expect(p.nodeConfig.metadata).toEqual({ "disable-legacy-endpoints": "true" });
      expect(p.nodeConfig.resourceLabels).toEqual(want.labels);
    }
  });

  it("runs nodes as a dedicated service account holding only the node roles", () => {
    const b = built[stackName];
    const nodeSa = b.one("gcp:serviceaccount/account:Account", "-nodes-sa");
    expect(nodeSa.outputs.email).toBe(`mlops-${stackName}-nodes@${want.project}.iam.gserviceaccount.com`);
    for (const name of ["system", "gpu-l4"]) expect(pool(name).nodeConfig.serviceAccount).toBe(nodeSa.outputs.email);
    const roles = b
      .ofType("gcp:projects/iAMMember:IAMMember")
      .filter((r) => r.inputs.member === nodeSa.outputs.member)
      .map((r) => r.inputs.role)
      .sort();
    expect(roles).toEqual([
      "roles/artifactregistry.reader",
      "roles/autoscaling.metricsWriter",
      "roles/logging.logWriter",
      "roles/monitoring.metricWriter",
      "roles/monitoring.viewer",
      "roles/stackdriver.resourceMetadata.writer",
    ]);
  });
});
