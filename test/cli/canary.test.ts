import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Io, main } from "../../cli/canary";

const ROOT = join(__dirname, "..", "..");
const FRAUD = join("models", "fraud", "fraud-scorer.yaml");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function freshCatalog(): string {
  const dir = mkdtempSync(join(tmpdir(), "canary-"));
  made.push(dir);
  cpSync(join(ROOT, "catalog"), dir, { recursive: true });
  return dir;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const io: Io = { stdout: (t) => (out += t), stderr: (t) => (err += t), env, cwd: ROOT };
  const code = main(args, io);
  return { code, out, err };
}

function weights(dir: string, file = FRAUD): number[] {
  return [...readFileSync(join(dir, file), "utf8").matchAll(/^\s+weight: (\d+)$/gm)].map((m) => Number(m[1]));
}

function changedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b).toHaveLength(a.length);
  return b.filter((line, i) => line !== a[i]);
}

describe("canary --step and --rollback", () => {
  it("moves the canary to the next declared step and gives the rest to the stable version", () => {
    const dir = freshCatalog();
    const r = run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    expect(r.code).toBe(0);
    expect(weights(dir)).toEqual([75, 25]);
    expect(r.out).toContain("fraud-scorer: v2 10% -> 25%, v1 90% -> 75% (next steps: 50, 100)");
  });

  it("changes only the two weight lines, keeping comments, order and layout", () => {
    const dir = freshCatalog();
    const before = readFileSync(join(dir, FRAUD), "utf8");
    run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    const after = readFileSync(join(dir, FRAUD), "utf8");
    expect(changedLines(before, after)).toEqual(["    weight: 75", "    weight: 25"]);
    expect(after).toContain("# v2 is a canary at 10% of live traffic");
    expect(after).toContain("resources: { cpu: 500m, memory: 512Mi }");
  });

  it("walks the whole schedule to 100, then reports nothing to do", () => {
    const dir = freshCatalog();
    const seen: number[][] = [];
    for (let i = 0; i < 3; i++) {
      expect(run(["fraud-scorer", "v2", "--step", "--catalog", dir]).code).toBe(0);
      seen.push(weights(dir));
    }
    expect(seen).toEqual([
      [75, 25],
      [50, 50],
      [0, 100],
    ]);
    const last = run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    expect(last.code).toBe(0);
    expect(last.out).toContain("already at 100%");
    expect(weights(dir)).toEqual([0, 100]);
  });

  it("rolls the canary back to 0 and returns its traffic to the stable version", () => {
    const dir = freshCatalog();
    run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    const r = run(["fraud-scorer", "v2", "--rollback", "--catalog", dir]);
    expect(r.code).toBe(0);
    expect(weights(dir)).toEqual([100, 0]);
  });

  it("keeps the edited catalog valid for the plan", () => {
    const dir = freshCatalog();
    run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    const r = run(["fraud-scorer", "v2", "--step", "--catalog", dir, "--json"]);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({
      model: "fraud-scorer",
      version: "v2",
      stable: "v1",
      before: { v1: 75, v2: 25 },
      after: { v1: 50, v2: 50 },
      changed: true,
      written: true,
      remainingSteps: [100],
    });
  });

  it("writes nothing on --dry-run", () => {
    const dir = freshCatalog();
    const before = readFileSync(join(dir, FRAUD), "utf8");
    const r = run(["fraud-scorer", "v2", "--step", "--dry-run", "--catalog", dir]);
    expect(r.out).toContain("would write");
    expect(readFileSync(join(dir, FRAUD), "utf8")).toBe(before);
  });

  it("steps a 0-weight version against the named stable version, adding the weight key it lacked", () => {
    const dir = freshCatalog();
    const file = join(dir, FRAUD);
    writeFileSync(file, readFileSync(file, "utf8").replace("    weight: 90\n", "    weight: 100\n").replace("    weight: 10\n", ""));
    const r = run(["fraud-scorer", "v2", "--step", "--to", "v1", "--catalog", dir]);
    expect(r.code, r.err).toBe(0);
    expect(weights(dir)).toEqual([90, 10]);
  });

  it("refuses to give live traffic to the shadow version, naming the fix", () => {
    const dir = freshCatalog();
    const r = run(["churn-predictor", "v4", "--step", "--catalog", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('"v4" is the shadow version of churn-predictor');
    expect(r.err).toContain("remove shadow:");
  });

  it("refuses an unknown model or version, listing the ones that exist", () => {
    const dir = freshCatalog();
    expect(run(["fraud-scorer", "v9", "--step", "--catalog", dir]).err).toContain('has no version "v9"; use one of v1, v2');
    expect(run(["fraud-scorer-x", "v1", "--step", "--catalog", dir]).err).toContain(
      "models: churn-predictor, fraud-scorer, support-assistant",
    );
  });

  it("leaves an invalid catalog untouched and says why", () => {
    const dir = freshCatalog();
    const file = join(dir, FRAUD);
    const broken = readFileSync(file, "utf8").replace("weight: 90", "weight: 95");
    writeFileSync(file, broken);
    const r = run(["fraud-scorer", "v2", "--step", "--catalog", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/fraud-scorer\.yaml:\d+: versions: weights sum to 105/);
    expect(readFileSync(file, "utf8")).toBe(broken);
  });

  it("answers usage mistakes with exit 64 and --help with the flags and their env twins", () => {
    expect(run(["fraud-scorer", "v2"]).code).toBe(64);
    expect(run(["fraud-scorer", "v2", "--step", "--rollback"]).err).toContain("exactly one of --step and --rollback");
    expect(run(["fraud-scorer", "v2", "--stepp"]).code).toBe(64);
    const help = run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--rollback");
    expect(help.out).toContain("[env CATALOG]");
  });

  it("takes flags from their environment twins", () => {
    const dir = freshCatalog();
    expect(run(["fraud-scorer", "v2"], { CANARY_STEP: "true", CATALOG: dir }).code).toBe(0);
    expect(weights(dir)).toEqual([75, 25]);
  });

  it("runs as a command with the documented exit codes", () => {
    const dir = freshCatalog();
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const ok = execFileSync(tsx, ["cli/canary.ts", "fraud-scorer", "v2", "--step", "--catalog", dir, "--json"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(JSON.parse(ok).after).toEqual({ v1: 75, v2: 25 });
    const bad = spawnSync(tsx, ["cli/canary.ts", "churn-predictor", "v4", "--step", "--catalog", dir], { cwd: ROOT, encoding: "utf8" });
    expect(bad.status).toBe(1);
  });
});

describe("applyWeights", () => {
  it("edits flow-style versions in place, adding a missing weight inside the braces", async () => {
    const { applyWeights } = await import("../../cli/canary");
    const text =
      "owner: a@b.c # owner\nfeatureService: svc\nversions:\n  - { name: v1, modelUri: 's3://b/1', weight: 100 }\n  - { name: v2, modelUri: \"s3://b/2\" }\n";
    const out = applyWeights(text, { v1: 95, v2: 5 });
    expect(out).toBe(
      "owner: a@b.c # owner\nfeatureService: svc\nversions:\n  - { name: v1, modelUri: 's3://b/1', weight: 95 }\n  - { name: v2, weight: 5, modelUri: \"s3://b/2\" }\n",
    );
  });
});
