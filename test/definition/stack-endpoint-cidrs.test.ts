import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  CIDR_PLACEHOLDER,
  loadStack,
  PLATFORM_KEY,
  parseStack,
  parseYaml,
  placeholderFields,
  SpecError,
  type StackConfigInput,
} from "../../definition";

const base: StackConfigInput = {
  cloud: "aws",
  environment: "dev",
  region: "us-east-1",
  tags: { team: "ml", costCenter: "cc-1" },
  cluster: { version: "1.31", publicAccessCidrs: ["81.2.69.160/32"] },
  nodePools: [{ name: "system", role: "system", machineType: "m6i.large" }],
};

/** A stack file as a user writes it, parsed as the program parses the engine's config (with the file's lines). */
function parseFile(cluster: Record<string, unknown>, options?: { allowPlaceholders?: boolean }) {
  const platform = { ...base, cluster: { ...base.cluster, ...cluster } };
  const text = stringify({ config: { [PLATFORM_KEY]: platform } });
  const source = parseYaml(text, "stacks/Pulumi.aws-dev.yaml");
  return parseStack(platform, "aws-dev", "stacks/Pulumi.aws-dev.yaml", source, options);
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((i) => `${i.file}: ${i.path}: ${i.message}; ${i.fix ?? ""}`);
    throw error;
  }
  return [];
}

describe("a public endpoint's allowed CIDRs", () => {
  it("refuse the RFC 5737 documentation range the dev stacks used to ship, naming file, line, field and an example", () => {
    const [issue, ...rest] = problems(() => parseFile({ publicAccessCidrs: ["203.0.113.0/24"] }));
    expect(rest).toEqual([]);
    expect(issue).toMatch(/^stacks\/Pulumi\.aws-dev\.yaml:\d+: cluster\.publicAccessCidrs\[0\]: "203\.0\.113\.0\/24"/);
    expect(issue).toContain("RFC 5737 documentation range (TEST-NET-3)");
    expect(issue).toContain("every call would time out");
    expect(issue).toContain('e.g. "81.2.69.160/32"');
  });

  it.each([
    ["192.0.2.10/32", "TEST-NET-1"],
    ["198.51.100.0/24", "TEST-NET-2"],
    ["10.20.0.0/16", "RFC 1918"],
    ["172.16.5.0/24", "RFC 1918"],
    ["192.168.1.0/24", "RFC 1918"],
    ["100.64.0.0/10", "carrier-grade NAT"],
    ["127.0.0.1/32", "loopback"],
    ["169.254.169.254/32", "link-local"],
    ["198.18.0.0/15", "benchmarking"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.1/32", "reserved"],
    ["0.0.0.0/8", "this network"],
  ])("refuse %s (%s): no client of a public endpoint has such an address", (cidr, what) => {
    const [issue] = problems(() => parseFile({ publicAccessCidrs: [cidr] }));
    expect(issue).toContain(`cluster.publicAccessCidrs[0]: "${cidr}"`);
    expect(issue).toContain(what);
  });

  it("accept a routable address and ranges that only contain a reserved one", () => {
    expect(parseFile({ publicAccessCidrs: ["81.2.69.160/32", "52.0.0.0/8", "0.0.0.0/1"] }).cluster.publicAccessCidrs).toHaveLength(3);
  });

  it("refuse a value that is not a CIDR, with the parse error and the example", () => {
    const [issue] = problems(() => parseFile({ publicAccessCidrs: ["81.2.69.160"] }));
    expect(issue).toContain('"81.2.69.160" is not valid');
    expect(issue).toContain("81.2.69.160/32");
  });

  it("are not checked on a private endpoint, which takes none", () => {
    expect(problems(() => parseFile({ privateEndpoint: true, publicAccessCidrs: [] }))).toEqual([]);
  });
});

describe("the endpoint CIDR placeholder of the shipped dev stacks", () => {
  it("is refused where the real engine runs the program, naming the field and what to put there", () => {
    const [issue, ...rest] = problems(() => parseFile({ publicAccessCidrs: [CIDR_PLACEHOLDER] }));
    expect(rest).toEqual([]);
    expect(issue).toMatch(
      /^stacks\/Pulumi\.aws-dev\.yaml:\d+: cluster\.publicAccessCidrs\[0\]: "REPLACE-WITH-YOUR-EGRESS-CIDR" is a placeholder/,
    );
    expect(issue).toContain("checkip.amazonaws.com");
  });

  it("is accepted by the offline plan, which reports where it is", () => {
    const stack = parseFile({ publicAccessCidrs: [CIDR_PLACEHOLDER] }, { allowPlaceholders: true });
    expect(placeholderFields(stack)).toEqual(["cluster.publicAccessCidrs[0]"]);
  });

  it.each(["aws-dev", "gcp-dev"])("is what %s ships, so its user must choose; offline readers accept it, the program does not", (name) => {
    expect(loadStack("stacks", name).cluster.publicAccessCidrs).toEqual([CIDR_PLACEHOLDER]);
    const issues = problems(() => loadStack("stacks", name, { allowPlaceholders: false }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^stacks/Pulumi\\.${name}\\.yaml:\\d+: cluster\\.publicAccessCidrs\\[0\\]: .* is a placeholder`));
  });
});

describe("cluster.admins", () => {
  it("takes IAM role ARNs on AWS and refuses anything else", () => {
    const arn = "arn:aws:iam::123456789012:role/platform-admins";
    expect(parseFile({ admins: [arn] }).cluster.admins).toEqual([arn]);
    const [issue] = problems(() => parseFile({ admins: ["arn:aws:iam::123456789012:user/ana"] }));
    expect(issue).toContain('cluster.admins[0]: "arn:aws:iam::123456789012:user/ana" is not an IAM role ARN');
  });

  it("takes IAM members on GCP", () => {
    const gcp = { ...base, cloud: "gcp" as const, project: "p-1", region: "us-central1" };
    const parsed = parseStack({ ...gcp, cluster: { ...base.cluster, admins: ["group:admins@example.com"] } }, "g", "stacks/Pulumi.g.yaml");
    expect(parsed.cluster.admins).toEqual(["group:admins@example.com"]);
    const issues = problems(() => parseStack({ ...gcp, cluster: { ...base.cluster, admins: ["admins@example.com"] } }, "g", "g.yaml"));
    expect(issues[0]).toContain('"admins@example.com" is not an IAM member');
  });

  it("defaults to none", () => {
    expect(parseFile({}).cluster.admins).toEqual([]);
  });
});
