import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, violationsOf } from "./fixtures/resource";

/**
 * kubernetes-endpoint-private (policies/security-cluster.ts) on gcp-dev's real GKE cluster
 * "mlops-gcp-gke", whose public endpoint is allowed from the listed authorized networks only
 * (stacks/gcp-dev: cluster.publicAccessCidrs), broken one way at a time, each case asserting the
 * whole list of violations (message and fix).
 */

const GKE = "gcp:container/cluster:Cluster";

const resources = realPlan("gcp-dev");

const endpoint = (all: PlanResource[]) => violationsOf(all, "gcp-dev", "kubernetes-endpoint-private");
const cluster = (change: (r: Props) => void) => withBreakage(resources, { type: GKE, match: (r) => r.name === "mlops-gcp-gke", change });

const OPEN = [
  {
    message: 'GKE cluster "mlops-gcp-gke": public API endpoint is open to 0.0.0.0/0.',
    fix: "set masterAuthorizedNetworksConfig.cidrBlocks to your office/VPN ranges (cluster.publicAccessCidrs in the stack file)",
  },
];

describe("kubernetes-endpoint-private on gcp-dev's real GKE cluster", () => {
  it("passes the real output: a public endpoint limited to authorized networks is allowed in dev", () => {
    expect(endpoint(resources)).toEqual([]);
  });

  it("no masterAuthorizedNetworksConfig: open to the world", () => {
    expect(endpoint(cluster((r) => delete r.masterAuthorizedNetworksConfig))).toEqual(OPEN);
  });

  it("authorized networks with no CIDR blocks: open to the world", () => {
    expect(
      endpoint(
        cluster((r) => {
          r.masterAuthorizedNetworksConfig.cidrBlocks = [];
        }),
      ),
    ).toEqual(OPEN);
  });

  it("authorized networks that include 0.0.0.0/0", () => {
    expect(
      endpoint(
        cluster((r) => {
          r.masterAuthorizedNetworksConfig.cidrBlocks.push({ cidrBlock: "0.0.0.0/0", displayName: "anywhere" });
        }),
      ),
    ).toEqual(OPEN);
  });

  it("a private endpoint needs no authorized networks, in dev too", () => {
    expect(
      endpoint(
        cluster((r) => {
          r.privateClusterConfig.enablePrivateEndpoint = true;
          delete r.masterAuthorizedNetworksConfig;
        }),
      ),
    ).toEqual([]);
  });

  it("no privateClusterConfig: a public endpoint, judged by its authorized networks in dev", () => {
    expect(endpoint(cluster((r) => delete r.privateClusterConfig))).toEqual([]);
    expect(
      endpoint(
        cluster((r) => {
          delete r.privateClusterConfig;
          r.masterAuthorizedNetworksConfig.cidrBlocks = [];
        }),
      ),
    ).toEqual(OPEN);
  });
});
