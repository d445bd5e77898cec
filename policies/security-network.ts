import type { PolicyResource } from "@pulumi/policy";
import { ofTypes, safeProp } from "./links";
import { asArray, asRecord, type PlatformPolicy, violation } from "./support";

/**
 * Network exposure: AWS security groups (inline blocks, the v7 per-rule resources and the legacy
 * SecurityGroupRule) and GCP firewalls. A rule is read as (direction, protocol, port range,
 * CIDRs); the decisions are pure functions over that shape, tested directly.
 */

export interface Rule {
  direction: "ingress" | "egress";
  /** "all" for every protocol (AWS "-1", GCP "all"). */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrs: string[];
}

const INTERNET = ["0.0.0.0/0", "::/0"];
/**
 * Ports nobody on the internet should reach: remote shells and desktops, container and cluster
 * control, and the data stores the platform runs (the scanners' CKV_AWS_24/25, CKV_GCP_2/3 check
 * 22 and 3389 only; trivy's AWS-0107 rejects any public ingress).
 */
export const ADMIN_PORTS: Record<number, string> = {
  22: "SSH",
  23: "Telnet",
  3389: "RDP",
  5985: "WinRM",
  5986: "WinRM",
  2375: "Docker",
  2376: "Docker",
  6443: "Kubernetes API",
  10250: "kubelet",
  5432: "PostgreSQL",
  3306: "MySQL",
  6379: "Redis",
  5439: "Redshift",
  27017: "MongoDB",
  9200: "Elasticsearch",
};

/** AWS "-1" (a string or a number); "all" needs no case here, it is lowercased like any protocol. */
const allProtocols = (p: unknown) => p === "-1" || p === -1;

/** The rule's CIDRs that are the whole internet. */
export function publicCidrs(rule: Rule): string[] {
  return rule.cidrs.filter((c) => INTERNET.includes(c));
}

/** Admin ports (with their service) the rule opens to the internet; every port when the rule is all-protocol. */
export function exposedAdminPorts(rule: Rule): string[] {
  if (rule.direction !== "ingress" || publicCidrs(rule).length === 0) return [];
  if (rule.protocol === "all") return ["every port (all protocols)"];
  if (rule.protocol !== "tcp" && rule.protocol !== "6") return [];
  return Object.entries(ADMIN_PORTS)
    .filter(([port]) => Number(port) >= rule.fromPort && Number(port) <= rule.toPort)
    .map(([port, name]) => `${port} (${name})`);
}

/** Whether an egress rule sends anything anywhere: all protocols (or every port) to the internet. */
export function isUnrestrictedEgress(rule: Rule): boolean {
  if (rule.direction !== "egress" || publicCidrs(rule).length === 0) return false;
  return rule.protocol === "all" || (rule.fromPort <= 0 && rule.toPort >= 65535);
}

function num(value: unknown, fallback: number): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : fallback;
}

function awsRule(direction: Rule["direction"], r: Record<string, unknown>, protocolKey: string): Rule {
  const protocol = allProtocols(r[protocolKey]) ? "all" : String(r[protocolKey] ?? "tcp").toLowerCase();
  return {
    direction,
    protocol,
    fromPort: protocol === "all" ? 0 : num(r.fromPort, 0),
    toPort: protocol === "all" ? 65535 : num(r.toPort, 65535),
    cidrs: [...asArray(r.cidrBlocks), ...asArray(r.ipv6CidrBlocks), ...[r.cidrIpv4, r.cidrIpv6].filter((c) => c !== undefined)].map(String),
  };
}

/** Every rule a resource defines, whichever of the AWS shapes or GCP's it uses. */
export function rulesOf(resource: PolicyResource): Rule[] {
  const props = (key: string) => safeProp(resource, key);
  switch (resource.type) {
    case "aws:ec2/securityGroup:SecurityGroup":
    case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
      return [
        ...asArray(props("ingress")).map((r) => awsRule("ingress", asRecord(r), "protocol")),
        ...asArray(props("egress")).map((r) => awsRule("egress", asRecord(r), "protocol")),
      ];
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return [awsRule("ingress", resource.props, "ipProtocol")];
    case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
      return [awsRule("egress", resource.props, "ipProtocol")];
    case "aws:ec2/securityGroupRule:SecurityGroupRule":
      return [awsRule(props("type") === "egress" ? "egress" : "ingress", resource.props, "protocol")];
    case "gcp:compute/firewall:Firewall": {
      if (props("disabled") === true) return [];
      const direction = props("direction") === "EGRESS" ? "egress" : "ingress";
      const ranges = asArray(direction === "ingress" ? props("sourceRanges") : props("destinationRanges")).map(String);
      // GCP fills in 0.0.0.0/0 for a rule that names no range: an ingress rule without source tags or
      // service accounts either admits the whole internet, an egress rule sends to it.
      const namedSources = [...asArray(props("sourceTags")), ...asArray(props("sourceServiceAccounts"))];
      const cidrs = ranges.length === 0 && (direction === "egress" || namedSources.length === 0) ? ["0.0.0.0/0"] : ranges;
      return asArray(props("allows")).flatMap((a) => {
        const allow = asRecord(a);
        const protocol = String(allow.protocol ?? "").toLowerCase();
        const ports = asArray(allow.ports).map(String);
        if (protocol === "all" || ports.length === 0) return [{ direction, protocol, fromPort: 0, toPort: 65535, cidrs } as Rule];
        return ports.map((p) => {
          const [from, to] = p.split("-");
          return { direction, protocol, fromPort: num(from, 0), toPort: num(to ?? from, 65535), cidrs } as Rule;
        });
      });
    }
    default:
      return [];
  }
}

const NETWORK_TYPES = [
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "gcp:compute/firewall:Firewall",
];

const subjectOf = (r: PolicyResource) => `${r.type.startsWith("gcp:") ? "firewall" : "security group rule"} "${r.name}"`;

export const networkNoPublicAdminPorts: PlatformPolicy = {
  area: "security",
  name: "network-no-public-admin-ports",
  description:
    "No security group or firewall opens SSH, RDP, WinRM, Docker, the Kubernetes API or kubelet, or a data store port (or every port) to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const found = ofTypes(args.resources, NETWORK_TYPES);
    if (found.length === 0) args.notApplicable("no security groups or firewalls in the stack");
    for (const r of found) {
      for (const rule of rulesOf(r)) {
        const ports = exposedAdminPorts(rule);
        if (ports.length)
          report(
            violation(
              subjectOf(r),
              `opens ${ports.join(", ")} to ${publicCidrs(rule).join(", ")}`,
              "allow the callers' security group (referencedSecurityGroupId) or a private CIDR; reach nodes through SSM Session Manager / IAP, not SSH from the internet",
            ),
            r.urn,
          );
      }
    }
  },
};

export const networkNoUnrestrictedEgress: PlatformPolicy = {
  area: "security",
  name: "network-no-unrestricted-egress",
  description:
    "The security groups the platform defines (data stores) send only where they must: no all-protocol or all-port egress to 0.0.0.0/0; the VPC's default security group has no rules at all.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const found = ofTypes(
      args.resources,
      NETWORK_TYPES.filter((t) => t.startsWith("aws:")),
    );
    if (found.length === 0) args.notApplicable("no AWS security groups in the stack");
    for (const r of found) {
      const rules = rulesOf(r);
      if (r.type === "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup") {
        if (rules.length)
          report(
            violation(
              `default security group "${r.name}"`,
              `has ${rules.length} rule(s); anything launched without a group gets them`,
              "leave ingress and egress empty (Checkov CKV2_AWS_12) and give each resource its own group",
            ),
            r.urn,
          );
        continue;
      }
      if (rules.some(isUnrestrictedEgress))
        report(
          violation(
            subjectOf(r),
            `allows egress of everything to ${rules.filter(isUnrestrictedEgress).flatMap(publicCidrs).join(", ")}`,
            "allow the ports and destinations the store needs (a VPC endpoint's prefixListId for AWS APIs, a security group for peers)",
          ),
          r.urn,
        );
    }
  },
};

export const networkPolicies: PlatformPolicy[] = [networkNoPublicAdminPorts, networkNoUnrestrictedEgress];
