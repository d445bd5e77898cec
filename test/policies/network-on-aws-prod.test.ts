import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The two network policies (policies/security-network.ts) over aws-prod's real plan, broken one way
 * at a time, each case asserting the whole list of violations (message and fix). aws-prod's groups:
 * the VPC's default group (no rules), one group per data store (Redis, Redshift, PostgreSQL) with v7
 * ingress rules from the nodes' group, and the Redshift group's HTTPS egress to a prefix list.
 */

const SG = "aws:ec2/securityGroup:SecurityGroup";
const DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

const resources = realPlan("aws-prod");

/** The plan with the resource of `type` named `name` changed. */
function broken(type: string, name: string, change: (r: Props) => void): PlanResource[] {
  return withBreakage(resources, { type, match: (r) => r.name === name, change });
}

const ADMIN_FIX =
  "allow the callers' security group (referencedSecurityGroupId) or a private CIDR; reach nodes through SSM Session Manager / IAP, not SSH from the internet";
const opens = (subject: string, what: string) => ({ message: `${subject}: opens ${what}.`, fix: ADMIN_FIX });

describe("network-no-public-admin-ports on aws-prod's real groups", () => {
  const admin = (all: PlanResource[]) => violationsOf(all, "aws-prod", "network-no-public-admin-ports");

  it("passes the real output", () => {
    expect(admin(resources)).toEqual([]);
  });

  it("the Redis rule admitting 0.0.0.0/0 instead of the nodes' group opens Redis", () => {
    const found = admin(
      broken(INGRESS_RULE, "mlops-aws-online-redis-from-nodes", (r) => {
        delete r.referencedSecurityGroupId;
        r.cidrIpv4 = "0.0.0.0/0";
      }),
    );
    expect(found).toEqual([opens('security group rule "mlops-aws-online-redis-from-nodes"', "6379 (Redis) to 0.0.0.0/0")]);
  });

  it("the Redis rule admitting a private CIDR opens nothing to the internet", () => {
    const found = admin(
      broken(INGRESS_RULE, "mlops-aws-online-redis-from-nodes", (r) => {
        delete r.referencedSecurityGroupId;
        r.cidrIpv4 = "10.0.0.0/8";
      }),
    );
    expect(found).toEqual([]);
  });

  it("an inline range from SSH to RDP open to both internets names each port and both CIDRs", () => {
    const found = admin(
      broken(SG, "mlops-aws-tracking-db-sg", (r) => {
        r.ingress = [{ protocol: "tcp", fromPort: 20, toPort: 3389, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }];
      }),
    );
    expect(found).toEqual([
      opens(
        'security group rule "mlops-aws-tracking-db-sg"',
        "22 (SSH), 23 (Telnet), 2375 (Docker), 2376 (Docker), 3306 (MySQL), 3389 (RDP) to 0.0.0.0/0, ::/0",
      ),
    ]);
  });

  it("each open inline rule of a group is its own violation, in order", () => {
    const found = admin(
      broken(SG, "mlops-aws-tracking-db-sg", (r) => {
        r.ingress = [
          { protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] },
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          { protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] },
        ];
      }),
    );
    const subject = 'security group rule "mlops-aws-tracking-db-sg"';
    expect(found).toEqual([opens(subject, "5432 (PostgreSQL) to 0.0.0.0/0"), opens(subject, "every port (all protocols) to ::/0")]);
  });

  it("a group's inline egress on SSH to the internet exposes nothing", () => {
    const found = admin(
      broken(SG, "mlops-aws-tracking-db-sg", (r) => {
        r.egress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }];
      }),
    );
    expect(found).toEqual([]);
  });

  it("the VPC's default group with a public SSH rule", () => {
    const found = admin(
      broken(DEFAULT_SG, "mlops-aws-net-default-sg", (r) => {
        r.ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }];
      }),
    );
    expect(found).toEqual([opens('security group rule "mlops-aws-net-default-sg"', "22 (SSH) to 0.0.0.0/0")]);
  });

  it("a legacy SecurityGroupRule of every protocol from the internet", () => {
    const rule = resource(LEGACY_RULE, "tracking-db-any", {
      type: "ingress",
      protocol: "-1",
      fromPort: 0,
      toPort: 0,
      cidrBlocks: ["0.0.0.0/0"],
      securityGroupId: "sg-d2a1d2595c9810f75",
    });
    expect(admin([...resources, rule])).toEqual([
      opens('security group rule "tracking-db-any"', "every port (all protocols) to 0.0.0.0/0"),
    ]);
  });

  it("a legacy SecurityGroupRule of type egress on SSH exposes nothing", () => {
    const rule = resource(LEGACY_RULE, "tracking-db-ssh-out", {
      type: "egress",
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrBlocks: ["0.0.0.0/0"],
    });
    expect(admin([...resources, rule])).toEqual([]);
  });
});

const EGRESS_FIX =
  "allow the ports and destinations the store needs (a VPC endpoint's prefixListId for AWS APIs, a security group for peers)";
const DEFAULT_FIX = "leave ingress and egress empty (Checkov CKV2_AWS_12) and give each resource its own group";

describe("network-no-unrestricted-egress on aws-prod's real groups", () => {
  const egress = (all: PlanResource[]) => violationsOf(all, "aws-prod", "network-no-unrestricted-egress");

  it("passes the real output", () => {
    expect(egress(resources)).toEqual([]);
  });

  it("the Redshift group's HTTPS rule turned into every protocol to the internet", () => {
    const found = egress(
      broken(EGRESS_RULE, "mlops-aws-offline-https-out-0", (r) => {
        delete r.prefixListId;
        r.ipProtocol = "-1";
        r.cidrIpv4 = "0.0.0.0/0";
      }),
    );
    expect(found).toEqual([
      { message: 'security group rule "mlops-aws-offline-https-out-0": allows egress of everything to 0.0.0.0/0.', fix: EGRESS_FIX },
    ]);
  });

  it("the Redshift group's HTTPS rule widened to every TCP port of the internet", () => {
    const found = egress(
      broken(EGRESS_RULE, "mlops-aws-offline-https-out-0", (r) => {
        delete r.prefixListId;
        r.fromPort = 0;
        r.toPort = 65535;
        r.cidrIpv6 = "::/0";
      }),
    );
    expect(found).toEqual([
      { message: 'security group rule "mlops-aws-offline-https-out-0": allows egress of everything to ::/0.', fix: EGRESS_FIX },
    ]);
  });

  it("HTTPS alone to the internet is restricted egress", () => {
    const found = egress(
      broken(EGRESS_RULE, "mlops-aws-offline-https-out-0", (r) => {
        delete r.prefixListId;
        r.cidrIpv4 = "0.0.0.0/0";
      }),
    );
    expect(found).toEqual([]);
  });

  it("a group with HTTPS out and one unrestricted rule names only the unrestricted rule's CIDRs", () => {
    const found = egress(
      broken(SG, "mlops-aws-online-redis-sg", (r) => {
        r.egress = [
          { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
          { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
        ];
      }),
    );
    expect(found).toEqual([
      { message: 'security group rule "mlops-aws-online-redis-sg": allows egress of everything to 0.0.0.0/0, ::/0.', fix: EGRESS_FIX },
    ]);
  });

  it("a group admitting everything from the internet is an ingress matter, not egress", () => {
    const found = egress(
      broken(SG, "mlops-aws-online-redis-sg", (r) => {
        r.ingress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }];
      }),
    );
    expect(found).toEqual([]);
  });

  it("the VPC's default group with one private rule still has a rule", () => {
    const found = egress(
      broken(DEFAULT_SG, "mlops-aws-net-default-sg", (r) => {
        r.ingress = [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }];
      }),
    );
    expect(found).toEqual([
      {
        message: 'default security group "mlops-aws-net-default-sg": has 1 rule(s); anything launched without a group gets them.',
        fix: DEFAULT_FIX,
      },
    ]);
  });

  it("the VPC's default group allowing all egress: one violation counting both its rules, not an egress one", () => {
    const found = egress(
      broken(DEFAULT_SG, "mlops-aws-net-default-sg", (r) => {
        r.ingress = [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }];
        r.egress = [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }];
      }),
    );
    expect(found).toEqual([
      {
        message: 'default security group "mlops-aws-net-default-sg": has 2 rule(s); anything launched without a group gets them.',
        fix: DEFAULT_FIX,
      },
    ]);
  });
});
