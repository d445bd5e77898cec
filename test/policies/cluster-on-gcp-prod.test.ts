import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { changed, type Props, violationsOf } from "./fixtures/resource";

/**
 * The GKE cluster policies (policies/security-cluster.ts) and node-metadata-hardened
 * (policies/security-nodes.ts) over gcp-prod's real plan, broken one way at a time, each case
 * asserting the whole list of violations (message and fix). gcp-prod: GKE cluster "mlops-gcp-gke"
 * (private nodes and endpoint, Dataplane V2, KMS secrets, Workload Identity) with node pools
 * "mlops-gcp-system-pool" and "mlops-gcp-gpu-l4-pool" (COS, Secure Boot, GKE metadata server,
 * legacy endpoints off), each depending on the cluster and naming it by id.
 */

const GKE = "gcp:container/cluster:Cluster";
const POOL = "gcp:container/nodePool:NodePool";
const SYSTEM = "mlops-gcp-system-pool";
const GPU = "mlops-gcp-gpu-l4-pool";

const resources = realPlan("gcp-prod");

const run = (name: string, all: PlanResource[]): Found => violationsOf(all, "gcp-prod", name);
const named = (type: string, name: string) => (r: PlanResource) => r.type === type && r.name === name;
const cluster = (change: (r: Props) => void, all = resources) =>
  withBreakage(all, { type: GKE, match: named(GKE, "mlops-gcp-gke"), change });
const pool = (name: string, change: (r: Props) => void, all = resources) =>
  withBreakage(all, { type: POOL, match: named(POOL, name), change });

const CLUSTER = 'GKE cluster "mlops-gcp-gke"';

describe("kubernetes-nodes-private on gcp-prod's real GKE cluster", () => {
  const nodes = (all: PlanResource[]) => run("kubernetes-nodes-private", all);
  const PUBLIC_NODES = [
    {
      message: `${CLUSTER}: nodes get public IPs.`,
      fix: "set privateClusterConfig: { enablePrivateNodes: true, masterIpv4CidrBlock } and Cloud NAT for egress",
    },
  ];

  it("passes the real output", () => {
    expect(nodes(resources)).toEqual([]);
  });

  it("private nodes off", () => {
    expect(
      nodes(
        cluster((r) => {
          r.privateClusterConfig.enablePrivateNodes = false;
        }),
      ),
    ).toEqual(PUBLIC_NODES);
  });

  it("no privateClusterConfig: public nodes", () => {
    expect(nodes(cluster((r) => delete r.privateClusterConfig))).toEqual(PUBLIC_NODES);
  });

  it("a pool that overrides the cluster with public nodes", () => {
    const all = pool(GPU, (r) => {
      r.networkConfig = { enablePrivateNodes: false };
    });
    expect(nodes(all)).toEqual([
      {
        message: `GKE node pool "${GPU}": overrides the cluster with public nodes.`,
        fix: "remove networkConfig.enablePrivateNodes: false",
      },
    ]);
  });

  it("a pool whose networkConfig repeats private nodes passes", () => {
    const all = pool(GPU, (r) => {
      r.networkConfig = { enablePrivateNodes: true };
    });
    expect(nodes(all)).toEqual([]);
  });
});

describe("kubernetes-endpoint-private on gcp-prod's real GKE cluster", () => {
  const endpoint = (all: PlanResource[]) => run("kubernetes-endpoint-private", all);
  const PUBLIC_IN_PROD = [
    {
      message: `${CLUSTER}: has a public API endpoint in a prod stack.`,
      fix: "set privateClusterConfig.enablePrivateEndpoint: true (cluster.privateEndpoint: true in the stack file)",
    },
  ];

  it("passes the real output: a private endpoint needs no authorized networks", () => {
    expect(endpoint(resources)).toEqual([]);
  });

  it("a public endpoint in prod, even with no authorized networks, says only the prod problem", () => {
    expect(
      endpoint(
        cluster((r) => {
          r.privateClusterConfig.enablePrivateEndpoint = false;
        }),
      ),
    ).toEqual(PUBLIC_IN_PROD);
  });

  it("enablePrivateEndpoint unset is public", () => {
    expect(endpoint(cluster((r) => delete r.privateClusterConfig.enablePrivateEndpoint))).toEqual(PUBLIC_IN_PROD);
  });

  it("no privateClusterConfig: public", () => {
    expect(endpoint(cluster((r) => delete r.privateClusterConfig))).toEqual(PUBLIC_IN_PROD);
  });
});

describe("kubernetes-secrets-encrypted on gcp-prod's real GKE cluster", () => {
  const secrets = (all: PlanResource[]) => run("kubernetes-secrets-encrypted", all);
  const NOT_ENCRYPTED = [
    {
      message: `${CLUSTER}: Secrets are not encrypted at the application layer.`,
      fix: 'set databaseEncryption: { state: "ENCRYPTED", keyName: <gcp.kms.CryptoKey id> }',
    },
  ];

  it("passes the real output", () => {
    expect(secrets(resources)).toEqual([]);
  });

  it("no databaseEncryption", () => {
    expect(secrets(cluster((r) => delete r.databaseEncryption))).toEqual(NOT_ENCRYPTED);
  });

  it("state DECRYPTED though a key is named", () => {
    expect(
      secrets(
        cluster((r) => {
          r.databaseEncryption.state = "DECRYPTED";
        }),
      ),
    ).toEqual(NOT_ENCRYPTED);
  });

  it("state ENCRYPTED without a key", () => {
    expect(secrets(cluster((r) => delete r.databaseEncryption.keyName))).toEqual(NOT_ENCRYPTED);
  });
});

describe("kubernetes-workload-identity on gcp-prod's real GKE cluster", () => {
  const identity = (all: PlanResource[]) => run("kubernetes-workload-identity", all);
  const OFF = [
    { message: `${CLUSTER}: Workload Identity is off.`, fix: 'set workloadIdentityConfig: { workloadPool: "<project>.svc.id.goog" }' },
  ];
  const nodeMetadata = (name: string) => ({
    message: `GKE node pool "${name}": pods can read the node's metadata server (and its credentials).`,
    fix: 'set nodeConfig.workloadMetadataConfig: { mode: "GKE_METADATA" }',
  });
  /** The GPU pool on the GCE metadata server, referring to its cluster by `ref` only (no dependency). */
  const gpuPoolOnly = (ref: (gke: PlanResource) => unknown): PlanResource[] => {
    const gke = resources.find(named(GKE, "mlops-gcp-gke")) as PlanResource;
    const i = resources.findIndex(named(POOL, GPU));
    const copy = [...resources];
    copy[i] = changed(
      resources[i] as PlanResource,
      (r) => {
        r.nodeConfig.workloadMetadataConfig.mode = "GCE_METADATA";
        r.cluster = ref(gke);
      },
      { dependsOn: (resources[i] as PlanResource).options.dependsOn?.filter((urn) => urn !== gke.urn) },
    );
    return copy;
  };

  it("passes the real output", () => {
    expect(identity(resources)).toEqual([]);
  });

  it("no workloadIdentityConfig", () => {
    expect(identity(cluster((r) => delete r.workloadIdentityConfig))).toEqual(OFF);
  });

  it("an empty workload pool", () => {
    expect(
      identity(
        cluster((r) => {
          r.workloadIdentityConfig.workloadPool = "";
        }),
      ),
    ).toEqual(OFF);
  });

  it("a pool on the GCE metadata server", () => {
    expect(
      identity(
        pool(GPU, (r) => {
          r.nodeConfig.workloadMetadataConfig.mode = "GCE_METADATA";
        }),
      ),
    ).toEqual([nodeMetadata(GPU)]);
  });

  it("a pool without workloadMetadataConfig (the GCE metadata server)", () => {
    expect(identity(pool(SYSTEM, (r) => delete r.nodeConfig.workloadMetadataConfig))).toEqual([nodeMetadata(SYSTEM)]);
  });

  it("a pool that names its cluster by id, without depending on it, is that cluster's", () => {
    expect(identity(gpuPoolOnly((gke) => gke.outputs.id))).toEqual([nodeMetadata(GPU)]);
  });

  it("a pool that names its cluster by name, without depending on it, is that cluster's", () => {
    expect(identity(gpuPoolOnly((gke) => gke.outputs.name))).toEqual([nodeMetadata(GPU)]);
  });

  it("a pool of another cluster (neither named nor depended on) is not judged with this one", () => {
    expect(identity(gpuPoolOnly(() => "projects/other/locations/europe-west4/clusters/other"))).toEqual([]);
  });
});

describe("kubernetes-control-plane-logs on gcp-prod's real GKE cluster", () => {
  const logs = (all: PlanResource[]) => run("kubernetes-control-plane-logs", all);
  const DISABLED = [
    {
      message: `${CLUSTER}: Cloud Logging or Monitoring is disabled.`,
      fix: "remove loggingService/monitoringService: none (the defaults ship system and workload logs)",
    },
  ];

  it("passes the real output", () => {
    expect(logs(resources)).toEqual([]);
  });

  it("Cloud Logging disabled", () => {
    expect(
      logs(
        cluster((r) => {
          r.loggingService = "none";
        }),
      ),
    ).toEqual(DISABLED);
  });

  it("Cloud Monitoring disabled", () => {
    expect(
      logs(
        cluster((r) => {
          r.monitoringService = "none";
        }),
      ),
    ).toEqual(DISABLED);
  });

  it("both disabled is one violation", () => {
    expect(
      logs(
        cluster((r) => {
          r.loggingService = "none";
          r.monitoringService = "none";
        }),
      ),
    ).toEqual(DISABLED);
  });

  it("explicit Cloud Logging and Monitoring services pass", () => {
    expect(
      logs(
        cluster((r) => {
          r.loggingService = "logging.googleapis.com/kubernetes";
          r.monitoringService = "monitoring.googleapis.com/kubernetes";
        }),
      ),
    ).toEqual([]);
  });
});

describe("gke-hardened on gcp-prod's real GKE cluster", () => {
  const hardened = (all: PlanResource[]) => run("gke-hardened", all);
  const NO_NETWORK_POLICY = {
    message: `${CLUSTER}: does not enforce Kubernetes NetworkPolicy.`,
    fix: 'set datapathProvider: "ADVANCED_DATAPATH" (Dataplane V2)',
  };

  it("passes the real output", () => {
    expect(hardened(resources)).toEqual([]);
  });

  it("legacy ABAC on", () => {
    expect(
      hardened(
        cluster((r) => {
          r.enableLegacyAbac = true;
        }),
      ),
    ).toEqual([{ message: `${CLUSTER}: legacy ABAC is on.`, fix: "remove enableLegacyAbac (RBAC only)" }]);
  });

  it("client certificates issued", () => {
    expect(
      hardened(
        cluster((r) => {
          r.masterAuth = { clientCertificateConfig: { issueClientCertificate: true } };
        }),
      ),
    ).toEqual([
      { message: `${CLUSTER}: issues client certificates.`, fix: "set masterAuth.clientCertificateConfig.issueClientCertificate: false" },
    ]);
  });

  it("no masterAuth, or masterAuth without clientCertificateConfig: no client certificates (the GKE default)", () => {
    expect(hardened(cluster((r) => delete r.masterAuth))).toEqual([]);
    expect(
      hardened(
        cluster((r) => {
          r.masterAuth = {};
        }),
      ),
    ).toEqual([]);
  });

  it("Shielded GKE nodes off", () => {
    expect(
      hardened(
        cluster((r) => {
          r.enableShieldedNodes = false;
        }),
      ),
    ).toEqual([{ message: `${CLUSTER}: Shielded GKE nodes are off.`, fix: "remove enableShieldedNodes: false" }]);
  });

  it("enableShieldedNodes unset is on (the GKE default)", () => {
    expect(hardened(cluster((r) => delete r.enableShieldedNodes))).toEqual([]);
  });

  it("the legacy datapath without a NetworkPolicy addon", () => {
    expect(
      hardened(
        cluster((r) => {
          r.datapathProvider = "LEGACY_DATAPATH";
        }),
      ),
    ).toEqual([NO_NETWORK_POLICY]);
  });

  it("the legacy datapath with the NetworkPolicy addon disabled", () => {
    expect(
      hardened(
        cluster((r) => {
          r.datapathProvider = "LEGACY_DATAPATH";
          r.networkPolicy = { enabled: false, provider: "CALICO" };
        }),
      ),
    ).toEqual([NO_NETWORK_POLICY]);
  });

  it("the legacy datapath with the Calico NetworkPolicy addon enforces NetworkPolicy", () => {
    expect(
      hardened(
        cluster((r) => {
          delete r.datapathProvider;
          r.networkPolicy = { enabled: true, provider: "CALICO" };
        }),
      ),
    ).toEqual([]);
  });

  const poolSubject = (name: string) => `GKE node pool "${name}"`;
  const SECURE_BOOT = (name: string) => ({
    message: `${poolSubject(name)}: Secure Boot or integrity monitoring is off.`,
    fix: "set nodeConfig.shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true }",
  });
  const DEFAULT_SA = (name: string) => ({
    message: `${poolSubject(name)}: runs as the Compute Engine default service account (Editor on the project).`,
    fix: "set nodeConfig.serviceAccount to a dedicated least-privilege service account",
  });
  const NO_AUTO = (name: string) => ({
    message: `${poolSubject(name)}: auto-repair or auto-upgrade is off.`,
    fix: "set management: { autoRepair: true, autoUpgrade: true }",
  });

  it("a pool without Secure Boot", () => {
    expect(
      hardened(
        pool(GPU, (r) => {
          r.nodeConfig.shieldedInstanceConfig.enableSecureBoot = false;
        }),
      ),
    ).toEqual([SECURE_BOOT(GPU)]);
  });

  it("a pool without integrity monitoring", () => {
    expect(
      hardened(
        pool(SYSTEM, (r) => {
          r.nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring = false;
        }),
      ),
    ).toEqual([SECURE_BOOT(SYSTEM)]);
  });

  it("a pool with Secure Boot and integrity monitoring left unset (on by default) passes", () => {
    expect(hardened(pool(SYSTEM, (r) => delete r.nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring))).toEqual([]);
  });

  it("a pool without shieldedInstanceConfig", () => {
    expect(hardened(pool(SYSTEM, (r) => delete r.nodeConfig.shieldedInstanceConfig))).toEqual([SECURE_BOOT(SYSTEM)]);
  });

  it("a pool without nodeConfig: no Secure Boot and the default service account", () => {
    expect(hardened(pool(SYSTEM, (r) => delete r.nodeConfig))).toEqual([SECURE_BOOT(SYSTEM), DEFAULT_SA(SYSTEM)]);
  });

  it("a pool on Ubuntu", () => {
    expect(
      hardened(
        pool(GPU, (r) => {
          r.nodeConfig.imageType = "UBUNTU_CONTAINERD";
        }),
      ),
    ).toEqual([
      { message: `${poolSubject(GPU)}: runs image type UBUNTU_CONTAINERD.`, fix: 'use imageType "COS_CONTAINERD" (the default)' },
    ]);
  });

  it("image types are compared case-insensitively, and unset is COS", () => {
    expect(
      hardened(
        pool(GPU, (r) => {
          r.nodeConfig.imageType = "cos_containerd";
        }),
      ),
    ).toEqual([]);
    expect(hardened(pool(GPU, (r) => delete r.nodeConfig.imageType))).toEqual([]);
  });

  it("a pool on the default service account", () => {
    expect(hardened(pool(SYSTEM, (r) => delete r.nodeConfig.serviceAccount))).toEqual([DEFAULT_SA(SYSTEM)]);
  });

  it("auto-repair off", () => {
    expect(
      hardened(
        pool(SYSTEM, (r) => {
          r.management.autoRepair = false;
        }),
      ),
    ).toEqual([NO_AUTO(SYSTEM)]);
  });

  it("auto-upgrade off", () => {
    expect(
      hardened(
        pool(GPU, (r) => {
          r.management.autoUpgrade = false;
        }),
      ),
    ).toEqual([NO_AUTO(GPU)]);
  });

  it("no management block: both on by default", () => {
    expect(hardened(pool(GPU, (r) => delete r.management))).toEqual([]);
  });
});

describe("node-metadata-hardened on gcp-prod's real GKE cluster and pools", () => {
  const metadata = (all: PlanResource[]) => run("node-metadata-hardened", all);
  const FIX = 'set nodeConfig.metadata: { "disable-legacy-endpoints": "true" }';

  it("passes the real output (the cluster's own nodeConfig leaves the metadata unset)", () => {
    expect(metadata(resources)).toEqual([]);
  });

  it('a pool with disable-legacy-endpoints "false"', () => {
    const all = pool(GPU, (r) => {
      r.nodeConfig.metadata["disable-legacy-endpoints"] = "false";
    });
    expect(metadata(all)).toEqual([
      { message: `GKE node pool "${GPU}": serves the legacy metadata endpoints (disable-legacy-endpoints is "false").`, fix: FIX },
    ]);
  });

  it("a pool without the metadata key", () => {
    expect(metadata(pool(SYSTEM, (r) => delete r.nodeConfig.metadata))).toEqual([
      { message: `GKE node pool "${SYSTEM}": serves the legacy metadata endpoints (disable-legacy-endpoints is unset).`, fix: FIX },
    ]);
  });

  it('the cluster\'s nodeConfig with an explicit "false" (the default pool it shapes is removed, but false is still wrong)', () => {
    const all = cluster((r) => {
      r.nodeConfig.metadata = { "disable-legacy-endpoints": "false" };
    });
    expect(metadata(all)).toEqual([
      { message: `${CLUSTER}: serves the legacy metadata endpoints (disable-legacy-endpoints is "false").`, fix: FIX },
    ]);
  });

  it('the cluster\'s nodeConfig with "true" passes', () => {
    const all = cluster((r) => {
      r.nodeConfig.metadata = { "disable-legacy-endpoints": "true" };
    });
    expect(metadata(all)).toEqual([]);
  });
});
