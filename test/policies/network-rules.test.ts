import type { PolicyResource } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { exposedAdminPorts, isUnrestrictedEgress, publicCidrs, type Rule, rulesOf } from "../../policies/security-network";

/**
 * How policies/security-network.ts reads each AWS and GCP shape into (direction, protocol, port
 * range, CIDRs), and the two decisions over that shape, tested directly on hand-made rules.
 */

/** A resource as the engine hands it to a stack policy: only type and props are read. */
const of = (type: string, props: Record<string, unknown>): PolicyResource =>
  ({ type, name: "r", urn: `urn:pulumi:test::p::${type}::r`, props }) as unknown as PolicyResource;

const SG = "aws:ec2/securityGroup:SecurityGroup";
const DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const FIREWALL = "gcp:compute/firewall:Firewall";

const rule = (r: Partial<Rule>): Rule => ({ direction: "ingress", protocol: "tcp", fromPort: 0, toPort: 65535, cidrs: [], ...r });

describe("rulesOf reads every shape into rules", () => {
  it("an inline security group: its ingress and egress blocks, IPv4 and IPv6 CIDRs, in order", () => {
    const sg = of(SG, {
      ingress: [{ protocol: "TCP", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"], ipv6CidrBlocks: ["::/0"] }],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    expect(rulesOf(sg)).toEqual([
      { direction: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, cidrs: ["10.0.0.0/8", "::/0"] },
      { direction: "egress", protocol: "all", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] },
    ]);
  });

  it("the VPC's default security group is read like any group", () => {
    expect(rulesOf(of(DEFAULT_SG, { ingress: [{ protocol: "udp", fromPort: 53, toPort: 53, cidrBlocks: ["10.0.0.0/16"] }] }))).toEqual([
      { direction: "ingress", protocol: "udp", fromPort: 53, toPort: 53, cidrs: ["10.0.0.0/16"] },
    ]);
  });

  it("a v7 ingress rule reads ipProtocol and cidrIpv4, and no CIDR when it references a group", () => {
    expect(rulesOf(of(INGRESS_RULE, { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }))).toEqual([
      { direction: "ingress", protocol: "tcp", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] },
    ]);
    expect(rulesOf(of(INGRESS_RULE, { ipProtocol: "tcp", fromPort: 22, toPort: 22, referencedSecurityGroupId: "sg-1" }))).toEqual([
      { direction: "ingress", protocol: "tcp", fromPort: 22, toPort: 22, cidrs: [] },
    ]);
  });

  it("a v7 egress rule with ipProtocol -1 (number or string) covers every port", () => {
    for (const ipProtocol of [-1, "-1"])
      expect(rulesOf(of(EGRESS_RULE, { ipProtocol, cidrIpv6: "::/0" }))).toEqual([
        { direction: "egress", protocol: "all", fromPort: 0, toPort: 65535, cidrs: ["::/0"] },
      ]);
  });

  it("a legacy SecurityGroupRule is ingress unless its type is egress", () => {
    const legacy = (type: string) => of(LEGACY_RULE, { type, protocol: "all", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] });
    expect(rulesOf(legacy("egress"))).toEqual([{ direction: "egress", protocol: "all", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] }]);
    expect(rulesOf(legacy("ingress"))).toEqual([
      { direction: "ingress", protocol: "all", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] },
    ]);
  });

  it("a rule whose protocol and ports are not known yet (preview) is read as TCP on every port", () => {
    expect(rulesOf(of(LEGACY_RULE, { type: "ingress", cidrBlocks: ["0.0.0.0/0"] }))).toEqual([
      { direction: "ingress", protocol: "tcp", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] },
    ]);
    expect(rulesOf(of(INGRESS_RULE, { ipProtocol: "tcp", fromPort: "x", toPort: null, cidrIpv4: "0.0.0.0/0" }))).toEqual([
      { direction: "ingress", protocol: "tcp", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] },
    ]);
  });

  it("ports given as strings are read as numbers", () => {
    expect(rulesOf(of(INGRESS_RULE, { ipProtocol: "6", fromPort: "3306", toPort: "3306", cidrIpv4: "0.0.0.0/0" }))).toEqual([
      { direction: "ingress", protocol: "6", fromPort: 3306, toPort: 3306, cidrs: ["0.0.0.0/0"] },
    ]);
  });

  it("a GCP firewall: one rule per port or range of each allow, from its sourceRanges", () => {
    const firewall = of(FIREWALL, {
      direction: "INGRESS",
      sourceRanges: ["0.0.0.0/0"],
      allows: [{ protocol: "TCP", ports: ["22", "8000-8080"] }, { protocol: "udp" }, { protocol: "all" }],
    });
    const from = { direction: "ingress", cidrs: ["0.0.0.0/0"] };
    expect(rulesOf(firewall)).toEqual([
      { ...from, protocol: "tcp", fromPort: 22, toPort: 22 },
      { ...from, protocol: "tcp", fromPort: 8000, toPort: 8080 },
      { ...from, protocol: "udp", fromPort: 0, toPort: 65535 },
      { ...from, protocol: "all", fromPort: 0, toPort: 65535 },
    ]);
  });

  it("a GCP egress firewall reads its destinationRanges, not its sourceRanges", () => {
    const firewall = of(FIREWALL, {
      direction: "EGRESS",
      sourceRanges: ["10.0.0.0/8"],
      destinationRanges: ["0.0.0.0/0"],
      allows: [{ protocol: "tcp", ports: ["443"] }],
    });
    expect(rulesOf(firewall)).toEqual([{ direction: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"] }]);
  });

  it("a GCP firewall that names no range gets GCP's default, 0.0.0.0/0, unless tags or accounts name its sources", () => {
    const allows = [{ protocol: "tcp", ports: ["22"] }];
    const ssh = { protocol: "tcp", fromPort: 22, toPort: 22 };
    expect(rulesOf(of(FIREWALL, { direction: "INGRESS", allows }))).toEqual([{ direction: "ingress", ...ssh, cidrs: ["0.0.0.0/0"] }]);
    expect(rulesOf(of(FIREWALL, { sourceRanges: [], sourceTags: ["bastion"], allows }))).toEqual([
      { direction: "ingress", ...ssh, cidrs: [] },
    ]);
    expect(rulesOf(of(FIREWALL, { sourceServiceAccounts: ["bastion@p.iam.gserviceaccount.com"], allows }))).toEqual([
      { direction: "ingress", ...ssh, cidrs: [] },
    ]);
    // Tags and accounts name an egress rule's targets, not its destinations.
    expect(rulesOf(of(FIREWALL, { direction: "EGRESS", sourceTags: ["bastion"], allows }))).toEqual([
      { direction: "egress", ...ssh, cidrs: ["0.0.0.0/0"] },
    ]);
  });

  it("a disabled GCP firewall has no rules", () => {
    expect(rulesOf(of(FIREWALL, { disabled: true, sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "all" }] }))).toEqual([]);
  });

  it("a resource of another type has no rules", () => {
    expect(rulesOf(of("aws:ec2/instance:Instance", { ingress: [{ protocol: "-1", cidrBlocks: ["0.0.0.0/0"] }] }))).toEqual([]);
  });
});

describe("publicCidrs", () => {
  it("keeps only the whole internet, IPv4 and IPv6", () => {
    expect(publicCidrs(rule({ cidrs: ["10.0.0.0/8", "0.0.0.0/0", "0.0.0.0/1", "::/0"] }))).toEqual(["0.0.0.0/0", "::/0"]);
  });
});

describe("exposedAdminPorts", () => {
  it("names each admin port inside the range, with its service, bounds included", () => {
    expect(exposedAdminPorts(rule({ fromPort: 22, toPort: 3306, cidrs: ["0.0.0.0/0"] }))).toEqual([
      "22 (SSH)",
      "23 (Telnet)",
      "2375 (Docker)",
      "2376 (Docker)",
      "3306 (MySQL)",
    ]);
    expect(exposedAdminPorts(rule({ fromPort: 23, toPort: 2375, cidrs: ["::/0"] }))).toEqual(["23 (Telnet)", "2375 (Docker)"]);
  });

  it("a range between admin ports exposes none", () => {
    expect(exposedAdminPorts(rule({ fromPort: 24, toPort: 2374, cidrs: ["0.0.0.0/0"] }))).toEqual([]);
  });

  it("protocol 6 is TCP", () => {
    expect(exposedAdminPorts(rule({ protocol: "6", fromPort: 6379, toPort: 6379, cidrs: ["0.0.0.0/0"] }))).toEqual(["6379 (Redis)"]);
  });

  it("UDP and ICMP reach no admin service", () => {
    for (const protocol of ["udp", "17", "icmp"])
      expect(exposedAdminPorts(rule({ protocol, fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] }))).toEqual([]);
  });

  it("an all-protocol rule exposes every port", () => {
    expect(exposedAdminPorts(rule({ protocol: "all", fromPort: 0, toPort: 0, cidrs: ["0.0.0.0/0"] }))).toEqual([
      "every port (all protocols)",
    ]);
  });

  it("only public ingress counts: a private CIDR, or egress, exposes nothing", () => {
    expect(exposedAdminPorts(rule({ protocol: "all", cidrs: ["10.0.0.0/8"] }))).toEqual([]);
    expect(exposedAdminPorts(rule({ direction: "egress", protocol: "all", cidrs: ["0.0.0.0/0"] }))).toEqual([]);
    expect(exposedAdminPorts(rule({ direction: "egress", fromPort: 22, toPort: 22, cidrs: ["0.0.0.0/0"] }))).toEqual([]);
  });
});

describe("isUnrestrictedEgress", () => {
  it("all protocols, or every TCP port, to the internet", () => {
    expect(isUnrestrictedEgress(rule({ direction: "egress", protocol: "all", fromPort: 443, toPort: 443, cidrs: ["::/0"] }))).toBe(true);
    expect(isUnrestrictedEgress(rule({ direction: "egress", fromPort: 0, toPort: 65535, cidrs: ["0.0.0.0/0"] }))).toBe(true);
  });

  it("a port range short of every port at either end is restricted", () => {
    expect(isUnrestrictedEgress(rule({ direction: "egress", fromPort: 0, toPort: 1023, cidrs: ["0.0.0.0/0"] }))).toBe(false);
    expect(isUnrestrictedEgress(rule({ direction: "egress", fromPort: 1024, toPort: 65535, cidrs: ["0.0.0.0/0"] }))).toBe(false);
  });

  it("only egress to the internet counts", () => {
    expect(isUnrestrictedEgress(rule({ direction: "egress", protocol: "all", cidrs: ["10.0.0.0/8"] }))).toBe(false);
    expect(isUnrestrictedEgress(rule({ direction: "ingress", protocol: "all", cidrs: ["0.0.0.0/0"] }))).toBe(false);
  });
});
