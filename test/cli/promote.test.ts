import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelUriOf, main as promote } from "../../cli/promote";
import { MlflowClient } from "../../services/core/mlflow";
import { buildProfile, tableFromRows, writeProfile } from "../../services/drift";
import { type MlflowServer, registerVersion, startMlflow } from "../support/mlflow";

const root = resolve(__dirname, "../..");
const model = readFileSync(join(root, "models/fraud-scorer/v2/model.onnx"));
let mlflow: MlflowServer;
let work: string;

/** Rows of the fraud scorer's five features, from a seeded generator; `shift` moves every feature. */
function rows(n: number, shift = 0, seed = 7): Record<string, number>[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, () => ({
    txn_count_1h: Math.floor(rand() * 10) + shift * 10,
    txn_amount_avg_7d: 20 + rand() * 80 + shift * 200,
    txn_amount_max_24h: 30 + rand() * 300 + shift * 600,
    merchant_risk: rand() * 0.5 + shift,
    chargeback_rate_30d: rand() * 0.05 + shift * 0.2,
  }));
}

function csv(path: string, data: Record<string, number>[]): string {
  const cols = Object.keys(data[0] as object);
  writeFileSync(path, `${cols.join(",")}\n${data.map((r) => cols.map((c) => r[c]).join(",")).join("\n")}\n`);
  return path;
}

async function run(args: string[]): Promise<{
  code: number;
  out: {
    passed: boolean;
    version: string;
    alias?: string;
    gates: { gate: string; pass: boolean; detail?: string }[];
    canary?: { version: string; weight: number };
  };
}> {
  const printed: string[] = [];
  const [log, err] = [console.log, console.error];
  console.log = (line: string) => printed.push(line);
  console.error = () => {};
  try {
    const code = await promote([...args, "--tracking-uri", mlflow.url, "--json"]);
    return { code, out: JSON.parse(printed.join("\n")) };
  } finally {
    console.log = log;
    console.error = err;
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "promote-"));
  cpSync(join(root, "catalog"), join(work, "catalog"), { recursive: true });
  // Latency on a loaded 2-core CI machine is noisy: the passing cases allow 1 s; the latency case asks for 1 us.
  const scorer = join(work, "catalog/models/fraud/fraud-scorer.yaml");
  writeFileSync(
    scorer,
    readFileSync(scorer, "utf8").replace("maxP99Ms: 20", "maxP99Ms: 1000").replace("p99LatencyMs: 50", "p99LatencyMs: 1000"),
  );
  csv(join(work, "sample.csv"), rows(200));
  csv(join(work, "shifted.csv"), rows(500, 1, 11));
  writeProfile(join(work, "reference.json"), buildProfile(tableFromRows(rows(2000, 0, 3))));
  // A real tracking server; versions registered over REST as a training job would (the Python
  // training script's own run is in test/e2e/mlflow-lifecycle.test.ts). Versions 1 and 2 stand
  // for the catalog's v1 and v2, so the candidates are 3 (good metrics) and 4 (AUC too low).
  mlflow = await startMlflow();
  const files = { "model.onnx": model };
  const history: Record<string, number>[] = [{ auc: 0.9 }, { auc: 0.9 }, { auc: 0.93, f1: 0.71 }, { auc: 0.8, f1: 0.72 }];
  for (const metrics of history) await registerVersion(mlflow.url, { name: "fraud-scorer", metrics, files });
  await registerVersion(mlflow.url, { name: "churn-predictor", metrics: { auc: 0.93, f1: 0.71 }, files });
}, 300_000);
afterAll(() => mlflow?.stop());

const common = () => [
  "--sample",
  join(work, "sample.csv"),
  "--reference",
  join(work, "reference.json"),
  "--catalog",
  join(work, "catalog"),
];

describe("npm run promote", () => {
  it("a version that passes every gate is written into the catalog as a canary at the first step, comments kept", async () => {
    const file = join(work, "catalog/models/fraud/fraud-scorer.yaml");
    const before = readFileSync(file, "utf8");
    const { code, out } = await run(["fraud-scorer", "3", ...common()]);
    expect(out.gates.map((g) => [g.gate, g.pass])).toEqual([
      ["metric auc", true],
      ["metric f1", true],
      ["model size", true],
      ["input schema", true],
      ["p99 latency", true],
      ["training-set drift", true],
    ]);
    expect(code).toBe(0);
    expect(out.canary).toMatchObject({ version: "v3", weight: 10, stable: "v1", stableWeight: 80 });
    expect(out.alias).toBe("canary");
    expect((await new MlflowClient(mlflow.url).getVersionByAlias("fraud-scorer", "canary")).version).toBe("3");
    const after = readFileSync(file, "utf8");
    // Minimal edit: the header comment and every other line are untouched.
    expect(after.startsWith(before.split("\n").slice(0, 3).join("\n"))).toBe(true);
    expect(after).toContain("  - name: v3\n    runtime: onnx\n    modelUri: models:/fraud-scorer/3\n    weight: 10\n");
    const removed = before.split("\n").filter((l) => !after.split("\n").includes(l));
    expect(removed).toEqual(["    weight: 90"]);
  });

  it("fails the metric gate when the run's AUC is under the catalog minimum, and leaves alias and catalog alone", async () => {
    const file = join(work, "catalog/models/fraud/fraud-scorer.yaml");
    const before = readFileSync(file, "utf8");
    const { code, out } = await run(["fraud-scorer", "4", ...common(), "--alias", "canary"]);
    expect(code).toBe(1);
    expect(out.gates.filter((g) => !g.pass).map((g) => g.gate)).toEqual(["metric auc"]);
    expect(out.alias).toBeUndefined();
    expect((await new MlflowClient(mlflow.url).getVersionByAlias("fraud-scorer", "canary")).version).toBe("3");
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("resolves the version from models:/<name>@<alias> and from @<alias>", async () => {
    for (const spec of ["@canary", "models:/fraud-scorer@canary", "models:/fraud-scorer/3"]) {
      const { code, out } = await run(["fraud-scorer", spec, ...common(), "--dry-run"]);
      expect([code, out.version, out.passed], spec).toEqual([0, "3", true]);
    }
  });

  it("names what is wrong with a version that does not resolve or is not a version", async () => {
    await expect(run(["fraud-scorer", "@nope", ...common(), "--dry-run"])).rejects.toThrow(/alias nope not found/);
    expect(() => modelUriOf("fraud-scorer", "models:/churn-predictor/1")).toThrow(/names model "churn-predictor", not "fraud-scorer"/);
    expect(() => modelUriOf("fraud-scorer", "latest")).toThrow(/not an MLflow version number, @alias or models:\/ URI/);
    expect(modelUriOf("fraud-scorer", "12")).toBe("models:/fraud-scorer/12");
  });

  it("fails the size gate when the model is bigger than maxSizeMb", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promote-size-"));
    cpSync(join(root, "catalog"), join(dir, "catalog"), { recursive: true });
    const file = join(dir, "catalog/models/fraud/fraud-scorer.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace("maxSizeMb: 50", "maxSizeMb: 0.0001")
        .replace("maxP99Ms: 20", "maxP99Ms: 1000")
        .replace("p99LatencyMs: 50", "p99LatencyMs: 1000"),
    );
    const { code, out } = await run(["fraud-scorer", "3", ...common().slice(0, 4), "--catalog", join(dir, "catalog"), "--dry-run"]);
    expect(code).toBe(1);
    expect(out.gates.filter((g) => !g.pass).map((g) => g.gate)).toEqual(["model size"]);
  });

  it("fails the latency gate when replayed p99 is over maxP99Ms", async () => {
    const dir = mkdtempSync(join(tmpdir(), "promote-p99-"));
    cpSync(join(root, "catalog"), join(dir, "catalog"), { recursive: true });
    const file = join(dir, "catalog/models/fraud/fraud-scorer.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("maxP99Ms: 20", "maxP99Ms: 0.001"));
    const { code, out } = await run(["fraud-scorer", "3", ...common().slice(0, 4), "--catalog", join(dir, "catalog"), "--dry-run"]);
    expect(code).toBe(1);
    expect(out.gates.filter((g) => !g.pass).map((g) => g.gate)).toEqual(["p99 latency"]);
  });

  it("fails the schema gate when the model's inputs do not match the feature service", async () => {
    // churn-predictor reads 3 features; the fraud model takes 5.
    const { code, out } = await run(["churn-predictor", "1", ...common(), "--dry-run"]);
    expect(code).toBe(1);
    const schema = out.gates.find((g) => g.gate === "input schema");
    expect(schema?.pass).toBe(false);
    expect(schema?.detail).toContain("feature service churn_v3 gives 3");
  });

  it("fails the drift gate when the new training set drifted from the reference", async () => {
    const { code, out } = await run(["fraud-scorer", "3", ...common(), "--training-set", join(work, "shifted.csv"), "--dry-run"]);
    expect(code).toBe(1);
    expect(out.gates.filter((g) => !g.pass).map((g) => g.gate)).toEqual(["training-set drift"]);
  });
});
