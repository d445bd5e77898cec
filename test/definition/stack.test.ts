import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  ACCELERATOR_LABEL,
  GPU_TAINT,
  listStacks,
  loadPlatform,
  loadStack,
  PLATFORM_KEY,
  parseStack,
  POOL_ROLE_LABEL,
  SpecError,
  type StackConfigInput,
} from "../../definition";

const base: StackConfigInput = {
  cloud: "aws",
  environment: "dev",
  region: "us-east-1",
  tags: { team: "ml", costCenter: "cc-1" },
  cluster: { version: "1.31", publicAccessCidrs: ["81.2.69.160/32"] },
  nodePools: [
    { name: "system", role: "system", machineType: "m6i.large" },
    { name: "gpu", role: "gpu", machineType: "g6.xlarge", accelerator: { type: "nvidia-l4", count: 1 } },
  ],
};

function parse(overrides: Partial<StackConfigInput>, name = "test") {
  return parseStack({ ...base, ...overrides }, name, `stacks/Pulumi.${name}.yaml`);
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((i) => `${i.file}: ${i.path}: ${i.message}; ${i.fix ?? ""}`);
    throw error;
  }
  throw new Error("expected a SpecError");
}

/** Writes a stack file with the platform object under its config key, like `pulumi config set --path`. */
function stackDir(platform: unknown, name = "bad"): string {
  const dir = mkdtempSync(join(tmpdir(), "stacks-"));
  writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config: { [PLATFORM_KEY]: platform } }));
  return dir;
}

describe("stack defaults", () => {
  it("dev stacks are cheap: public endpoint, single NAT, two AZs, no protection", () => {
    const s = parse({});
    expect(s.cluster.privateEndpoint).toBe(false);
    expect(s.network.natPerAz).toBe(false);
    expect(s.network.availabilityZones).toBe(2);
    expect(s.protect).toBe(false);
    expect(s.multiAz).toBe(false);
    expect(s.onlineStore).toEqual({ kind: "redis", nodeType: "cache.t4g.small", memorySizeGb: 1, replicas: 0, engineVersion: "7.1" });
  });

  it("prod stacks are private, multi-AZ and protected from deletion", () => {
    const s = parse({ environment: "prod", cluster: { version: "1.31" } });
    expect(s.cluster.privateEndpoint).toBe(true);
    expect(s.cluster.publicAccessCidrs).toEqual([]);
    expect(s.network.natPerAz).toBe(true);
    expect(s.network.availabilityZones).toBe(3);
    expect(s.protect).toBe(true);
    expect(s.multiAz).toBe(true);
    expect(s.cluster.releaseChannel).toBe("STABLE");
    expect(s.onlineStore).toMatchObject({ kind: "redis", replicas: 1, nodeType: "cache.r7g.large" });
  });

  it("gpu pools scale from zero, are spot in dev and carry the GPU taint and accelerator label", () => {
    const gpu = parse({}).nodePools[1]!;
    expect(gpu.minSize).toBe(0);
    expect(gpu.maxSize).toBe(2);
    expect(gpu.spot).toBe(true);
    expect(gpu.taints).toContainEqual({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
    expect(gpu.labels[ACCELERATOR_LABEL]).toBe("nvidia-l4");
    expect(gpu.labels[POOL_ROLE_LABEL]).toBe("gpu");
  });

  it("gpu pools are on demand in prod unless asked, and system pools never get the GPU taint", () => {
    const s = parse({ environment: "prod", cluster: { version: "1.31" } });
    expect(s.nodePools[1]!.spot).toBe(false);
    expect(s.nodePools[0]!.taints).toEqual([]);
    expect(s.nodePools[0]!.minSize).toBe(2);
  });

  it("the GPU taint is not added twice when the file already declares it", () => {
    const s = parse({ nodePools: [base.nodePools![0]!, { ...base.nodePools![1]!, taints: [{ ...GPU_TAINT }] }] });
    expect(s.nodePools[1]!.taints.filter((t) => t.key === GPU_TAINT.key)).toHaveLength(1);
  });

  it("each cloud gets its native offline store by default", () => {
    expect(parse({}).offlineStore).toEqual({ kind: "redshift", baseCapacity: 8, database: "features" });
    expect(parse({ cloud: "gcp", project: "p", region: "europe-west4" }).offlineStore).toEqual({
      kind: "bigquery",
      location: "europe-west4",
      dataset: "features",
    });
    expect(parse({ cloud: "local", nodePools: [] }).offlineStore).toEqual({ kind: "duckdb", path: "/data/offline.duckdb" });
  });

  it("every resource is tagged with the environment besides team and cost centre", () => {
    expect(parse({}).tags).toEqual({ team: "ml", costCenter: "cc-1", environment: "dev" });
  });
});

describe("stack cross-checks", () => {
  it("a GPU pool must name an accelerator", () => {
    const issues = issuesOf(() => parse({ nodePools: [base.nodePools![0]!, { name: "gpu", role: "gpu", machineType: "g6.xlarge" }] }));
    expect(issues).toEqual([
      expect.stringMatching(
        /^stacks\/Pulumi\.test\.yaml: nodePools\[1\]\.accelerator: GPU pool "gpu" names no accelerator; add accelerator:/,
      ),
    ]);
  });

  it("maxSize must not be below minSize", () => {
    const issues = issuesOf(() =>
      parse({ nodePools: [{ name: "system", role: "system", machineType: "m6i.large", minSize: 4, maxSize: 2 }] }),
    );
    expect(issues).toEqual([expect.stringContaining("nodePools[0].maxSize: 2 is below minSize 4; set maxSize to at least 4")]);
  });

  it("a prod stack cannot run its system pool on spot", () => {
    const issues = issuesOf(() =>
      parse({
        environment: "prod",
        cluster: { version: "1.31" },
        nodePools: [{ name: "system", role: "system", machineType: "m6i.large", spot: true }],
      }),
    );
    expect(issues).toEqual([expect.stringContaining("nodePools[0].spot: true is not allowed for the system pool of a prod stack")]);
  });

  it("a system pool cannot have an accelerator", () => {
    const issues = issuesOf(() =>
      parse({ nodePools: [{ name: "system", role: "system", machineType: "g6.xlarge", accelerator: { type: "nvidia-l4", count: 1 } }] }),
    );
    expect(issues[0]).toContain('system pool "system" has an accelerator; set role: gpu');
  });

  it("a cloud stack needs a system pool", () => {
    const issues = issuesOf(() => parse({ nodePools: [base.nodePools![1]!] }));
    expect(issues[0]).toContain("nodePools: has no system pool to run the platform's services; add a pool with role: system");
  });

  it("stores must exist on the stack's cloud", () => {
    const issues = issuesOf(() =>
      parse({ cloud: "gcp", project: "p", onlineStore: { kind: "dynamodb" }, offlineStore: { kind: "redshift" } }),
    );
    expect(issues).toEqual([
      expect.stringContaining('onlineStore.kind: "dynamodb" is not available on gcp; use one of redis'),
      expect.stringContaining('offlineStore.kind: "redshift" is not available on gcp; use one of bigquery'),
    ]);
  });

  it("a gcp stack names its project", () => {
    expect(issuesOf(() => parse({ cloud: "gcp" }))[0]).toContain("project: is required for a gcp stack; set project:");
  });

  it("pool names are unique", () => {
    expect(issuesOf(() => parse({ nodePools: [base.nodePools![0]!, { ...base.nodePools![0]! }] }))[0]).toContain(
      '"system" is used by two node pools',
    );
  });

  it("a public endpoint needs allowed CIDRs: the API server is never open to the internet by default", () => {
    expect(issuesOf(() => parse({ cluster: { version: "1.31", publicAccessCidrs: [] } }))[0]).toContain(
      "cluster.publicAccessCidrs: is empty while the endpoint is public",
    );
    expect(issuesOf(() => parse({ cluster: { version: "1.31" } }))[0]).toContain(
      "cluster.publicAccessCidrs: is empty while the endpoint is public",
    );
  });

  it("all problems are reported together, not only the first", () => {
    const issues = issuesOf(() =>
      parse({
        nodePools: [
          { name: "system", role: "system", machineType: "m", minSize: 3, maxSize: 1 },
          { name: "g", role: "gpu", machineType: "g" },
        ],
      }),
    );
    expect(issues).toHaveLength(2);
  });
});

describe("stack file errors", () => {
  it("a bad value names the file with its line, the field path, the value and the fix", () => {
    const dir = stackDir({ ...base, nodePools: [{ name: "system", role: "sytem", machineType: "m6i.large" }] });
    const issues = issuesOf(() => loadStack(dir, "bad"));
    expect(issues).toEqual([
      expect.stringMatching(/Pulumi\.bad\.yaml:\d+: nodePools\[0\]\.role: "sytem" is not valid: .*; use one of "system", "gpu"/),
    ]);
  });

  it("an unknown field is named with a fix", () => {
    const dir = stackDir({ ...base, clustr: {} });
    expect(issuesOf(() => loadStack(dir, "bad"))[0]).toMatch(/unknown field "clustr"; remove it, or check its spelling/);
  });

  it("a missing required field says to add it", () => {
    const { tags: _tags, ...rest } = base;
    expect(issuesOf(() => loadStack(stackDir(rest), "bad"))[0]).toMatch(/: tags: .*; add it/);
  });

  it("a missing platform key explains what to write", () => {
    const dir = mkdtempSync(join(tmpdir(), "stacks-"));
    writeFileSync(join(dir, "Pulumi.empty.yaml"), "config:\n  aws:region: us-east-1\n");
    expect(issuesOf(() => loadStack(dir, "empty"))[0]).toContain(`config.${PLATFORM_KEY}: is missing`);
  });

  it("invalid YAML names the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "stacks-"));
    writeFileSync(join(dir, "Pulumi.broken.yaml"), "config:\n  a: [1, 2\n  b: c\n");
    expect(issuesOf(() => loadStack(dir, "broken"))[0]).toMatch(/Pulumi\.broken\.yaml:\d+: : is not valid YAML/);
  });

  it("an unknown stack lists the stacks that exist", () => {
    expect(issuesOf(() => loadStack("stacks", "aws-staging"))[0]).toContain(
      'stack "aws-staging" does not exist; use one of: aws-dev, aws-prod, gcp-dev, gcp-prod, local',
    );
  });
});

describe("the shipped stacks", () => {
  it.each(listStacks("stacks"))("%s loads with the example catalog", (name) => {
    const { stack, catalog } = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: name });
    expect(stack.name).toBe(name);
    expect(Object.keys(catalog.models).length).toBeGreaterThan(0);
    for (const pool of stack.nodePools.filter((p) => p.role === "gpu")) {
      expect(pool.taints).toContainEqual({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
      if (stack.environment === "dev") expect(pool.minSize).toBe(0);
    }
  });

  it("the five stacks of the design exist", () => {
    expect(listStacks("stacks")).toEqual(["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]);
  });

  it("a GPU model deploys only to the stacks it names", () => {
    const local = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "local" });
    const aws = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "aws-dev" });
    expect(Object.keys(local.catalog.models)).not.toContain("support-assistant");
    expect(Object.keys(aws.catalog.models)).toContain("support-assistant");
  });
});
