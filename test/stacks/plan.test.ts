import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { copyProject, PLAN_TIMEOUT, plan } from "../support/plan";

describe("npm run plan", () => {
  it(
    "plans the local stack: exit 0, a tree, plan.json and valid manifests",
    () => {
      const out = mkdtempSync(join(tmpdir(), "plan-out-"));
      const { code, stdout, stderr } = plan(["local", "--out", out]);
      expect(stderr + stdout).toContain("PASS");
      expect(code).toBe(0);
      expect(stdout).toMatch(/└─ mlops \(mlops:index:Platform, \d+ resources\)/);
      const planJson = JSON.parse(readFileSync(join(out, "plan.json"), "utf8"));
      expect(planJson.stack).toBe("local");
      expect(planJson.kubernetes.invalid).toEqual([]);
      const deployments = planJson.resources.filter((r: { type: string }) => r.type === "kubernetes:apps/v1:Deployment");
      expect(deployments.length).toBeGreaterThan(2);
      for (const r of planJson.resources) expect(Object.keys(r)).toEqual(expect.arrayContaining(["type", "name", "urn", "inputs"]));
      const manifests = readdirSync(join(out, "manifests"));
      expect(manifests.length).toBe(planJson.kubernetes.objects);
      const vs = manifests.find((f) => f.includes("virtualservice.fraud-scorer"));
      expect(vs).toBeDefined();
      const virtualService = parse(readFileSync(join(out, "manifests", vs as string), "utf8"));
      expect(virtualService.kind).toBe("VirtualService");
    },
    PLAN_TIMEOUT,
  );

  it(
    "masks secrets in plan.json and in rendered Secrets",
    () => {
      const out = mkdtempSync(join(tmpdir(), "plan-out-"));
      expect(plan(["local", "--out", out]).code).toBe(0);
      const text = readFileSync(join(out, "plan.json"), "utf8");
      const secrets = JSON.parse(text).resources.filter((r: { type: string }) => r.type === "kubernetes:core/v1:Secret");
      expect(secrets.length).toBeGreaterThan(0);
      for (const s of secrets) {
        for (const field of ["stringData", "data"]) {
          const payload = s.inputs[field];
          if (payload === undefined) continue;
          // Either the whole payload was a Pulumi secret, or each value is masked.
          if (typeof payload === "string") expect(payload).toBe("[secret]");
          else for (const v of Object.values(payload)) expect(v).toBe("[secret]");
        }
      }
      const passwords = JSON.parse(text).resources.filter((r: { type: string }) => r.type === "random:index/randomPassword:RandomPassword");
      expect(passwords.length).toBeGreaterThan(0);
      expect(text).not.toMatch(/"result": "Mock/);
    },
    PLAN_TIMEOUT,
  );

  it.each(["local", "aws-dev", "aws-prod", "gcp-dev", "gcp-prod"])(
    "plans %s with --json: exit 0, every object valid, no mandatory violation, progress on stderr",
    (stack) => {
      const out = mkdtempSync(join(tmpdir(), "plan-out-"));
      const { code, stdout, stderr } = plan([stack, "--json", "--out", out]);
      const summary = JSON.parse(stdout);
      expect(summary.errors).toEqual([]);
      expect(summary).toMatchObject({ stack, ok: true, kubernetes: { invalid: [] }, policies: { mandatory: 0 } });
      expect(code).toBe(0);
      expect(summary.resources).toBeGreaterThan(stack === "local" ? 50 : 120);
      expect(summary.policies.run).toBeGreaterThanOrEqual(40);
      expect(stderr).toContain(`plan ${stack}: spec ok`);
    },
    PLAN_TIMEOUT,
  );

  it(
    "names the stacks that exist when the stack is unknown",
    () => {
      const { code, stderr } = plan(["aws-staging"]);
      expect(code).toBe(2);
      expect(stderr).toContain('stack "aws-staging" does not exist');
      expect(stderr).toContain("aws-dev, aws-prod, gcp-dev, gcp-prod, local");
    },
    PLAN_TIMEOUT,
  );

  it(
    "prints help",
    () => {
      const { code, stdout } = plan(["--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: npm run plan -- <stack> [--out DIR] [--json]");
      expect(stdout).toContain("[env PLAN_OUT]");
    },
    PLAN_TIMEOUT,
  );

  it(
    "fails a stack file with a bad field, naming the file, the field and the fix",
    () => {
      const dir = copyProject();
      const file = join(dir, "stacks", "Pulumi.aws-dev.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("maxSize: 2\n", "maxSize: -1\n"));
      const { code, stderr } = plan(["aws-dev"], dir);
      expect(code).toBe(2);
      expect(stderr).toMatch(/stacks\/Pulumi\.aws-dev\.yaml:\d+: nodePools\[1\]\.maxSize: -1 is not valid/);
      expect(existsSync(join(dir, "out", "aws-dev", "plan.json"))).toBe(false);
    },
    PLAN_TIMEOUT,
  );

  it(
    "fails a bad catalog file with its path",
    () => {
      const dir = copyProject();
      const file = join(dir, "catalog", "models", "fraud", "fraud-scorer.yaml");
      writeFileSync(file, readFileSync(file, "utf8").replace("weight: 10\n", "weight: 20\n"));
      const { code, stderr } = plan(["local"], dir);
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /catalog\/models\/fraud\/fraud-scorer\.yaml:\d+: versions: weights sum to 110 \(v1=90, v2=20\); weights must sum to 100/,
      );
    },
    PLAN_TIMEOUT,
  );
});
