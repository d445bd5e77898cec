import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { evaluate, type Props, policy, violationsOf } from "./fixtures/resource";

/**
 * kubernetes-endpoint-private and kubernetes-control-plane-logs (policies/security-cluster.ts) on
 * aws-dev's real EKS cluster "mlops-aws-eks", whose public endpoint is allowed from the listed
 * CIDRs only (stacks/aws-dev: cluster.publicAccessCidrs), broken one way at a time, each case
 * asserting the whole list of violations (message and fix).
 */

const EKS = "aws:eks/cluster:Cluster";

const resources = realPlan("aws-dev");

const run = (name: string, all: PlanResource[]) => violationsOf(all, "aws-dev", name);
const cluster = (change: (r: Props) => void) => withBreakage(resources, { type: EKS, match: (r) => r.name === "mlops-aws-eks", change });

const OPEN = {
  message: 'EKS cluster "mlops-aws-eks": public API endpoint is open to 0.0.0.0/0.',
  fix: "list your office/VPN ranges in cluster.publicAccessCidrs in the stack file (vpcConfig.publicAccessCidrs)",
};

describe("kubernetes-endpoint-private on aws-dev's real EKS cluster", () => {
  const endpoint = (all: PlanResource[]) => run("kubernetes-endpoint-private", all);

  it("passes the real output: a public endpoint limited to the listed CIDRs is allowed in dev", () => {
    expect(endpoint(resources)).toEqual([]);
  });

  it("a public endpoint open to 0.0.0.0/0 among other CIDRs", () => {
    const all = cluster((r) => {
      r.vpcConfig.publicAccessCidrs = ["203.0.113.0/24", "0.0.0.0/0"];
    });
    expect(endpoint(all)).toEqual([OPEN]);
  });

  it("a public endpoint with an empty CIDR list is open to the world (the EKS default)", () => {
    const all = cluster((r) => {
      r.vpcConfig.publicAccessCidrs = [];
    });
    expect(endpoint(all)).toEqual([OPEN]);
  });

  it("a public endpoint with no CIDR list is open to the world", () => {
    expect(endpoint(cluster((r) => delete r.vpcConfig.publicAccessCidrs))).toEqual([OPEN]);
  });

  it("a private-only endpoint needs no CIDR list", () => {
    const all = cluster((r) => {
      r.vpcConfig.endpointPublicAccess = false;
      delete r.vpcConfig.publicAccessCidrs;
    });
    expect(endpoint(all)).toEqual([]);
  });

  it("no vpcConfig at all: no private access and a public endpoint open to the world, and no prod message in dev", () => {
    expect(endpoint(cluster((r) => delete r.vpcConfig))).toEqual([
      {
        message: 'EKS cluster "mlops-aws-eks": nodes reach the API over the internet (endpointPrivateAccess is off).',
        fix: "set vpcConfig.endpointPrivateAccess: true",
      },
      OPEN,
    ]);
  });
});

describe("kubernetes-control-plane-logs on aws-dev's real EKS cluster", () => {
  it("passes the real output", () => {
    expect(run("kubernetes-control-plane-logs", resources)).toEqual([]);
  });

  it("missing log types are only advised in a dev stack (CloudWatch ingestion of throwaway clusters)", () => {
    const all = cluster((r) => {
      r.enabledClusterLogTypes = ["api", "audit", "authenticator", "controllerManager"];
    });
    const report = evaluate(all, "aws-dev", { policies: [policy("kubernetes-control-plane-logs")] });
    expect(report.violations.map((v) => ({ message: v.message, fix: v.fix, level: v.enforcementLevel }))).toEqual([
      {
        message: 'EKS cluster "mlops-aws-eks": control-plane log types scheduler are off.',
        fix: 'set enabledClusterLogTypes: ["api","audit","authenticator","controllerManager","scheduler"]',
        level: "advisory",
      },
    ]);
  });
});
