import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as promote } from "../../cli/promote";
import { createRegistry } from "../../services/core";
import { MlflowClient } from "../../services/core/mlflow";
import { buildProfile, tableFromRows, writeProfile } from "../../services/drift";
import { createServingServer, fetchModel } from "../../services/serving";
import { type MlflowServer, registerVersion, startMlflow } from "../support/mlflow";
import { peerPython } from "../support/peers";
import { expected, maxError, modelPath } from "../services/serving/fakes";

/**
 * The model lifecycle against a real MLflow tracking server (venv-mlflow, the tracking image's
 * pin): a scikit-learn training script logs params and metrics and registers versions (MLflow 3
 * logged models); `promote` reads the run metrics, checks the catalog's gates, resolves
 * models:/<name>/<version> and models:/<name>@<alias> and moves the alias; serving loads the
 * model through the server's proxied artifacts. Then the same against the PostgreSQL backend
 * store the platform deploys.
 */
const root = resolve(__dirname, "../..");
const run = promisify(execFile);

interface Trained {
  variant: "real" | "shuffled";
  run_id: string;
  version: string;
  source: string;
  metrics: { auc: number; f1: number };
  probe: { rows: number[][]; probability: number[] };
}

function rows(n: number, seed: number): Record<string, number>[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: n }, () => ({
    txn_count_1h: Math.floor(rand() * 6),
    txn_amount_avg_7d: 20 + rand() * 80,
    txn_amount_max_24h: 30 + rand() * 300,
    merchant_risk: rand() * 0.5,
    chargeback_rate_30d: rand() * 0.05,
  }));
}

async function promoteCli(args: string[]): Promise<{ code: number; printed: string }> {
  const printed: string[] = [];
  const [log, err] = [console.log, console.error];
  console.log = (line: string) => printed.push(line);
  console.error = (line: string) => printed.push(line);
  try {
    const code = await promote(args);
    return { code, printed: printed.join("\n") };
  } finally {
    console.log = log;
    console.error = err;
  }
}

describe("the lifecycle against a real MLflow server (SQLite backend store, proxied artifacts)", () => {
  let mlflow: MlflowServer;
  let client: MlflowClient;
  let work: string;
  let real: Trained;
  let shuffled: Trained;

  beforeAll(async () => {
    mlflow = await startMlflow();
    client = new MlflowClient(mlflow.url, { timeoutMs: 20_000 });
    const { stdout } = await run(
      peerPython("mlflow"),
      [join(__dirname, "mlflow", "train_fraud.py"), "--tracking-uri", mlflow.url, "--variants", "real,shuffled"],
      { timeout: 400_000, env: { ...process.env, MLFLOW_ENABLE_TELEMETRY: "false", DO_NOT_TRACK: "true" } },
    );
    const trained = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Trained);
    [real, shuffled] = trained as [Trained, Trained];
    work = mkdtempSync(join(tmpdir(), "lifecycle-"));
    cpSync(join(root, "catalog"), join(work, "catalog"), { recursive: true });
    // Latency on a loaded 2-core machine is noisy; the latency gate has its own test (test/cli/promote.test.ts).
    const scorer = join(work, "catalog/models/fraud/fraud-scorer.yaml");
    writeFileSync(
      scorer,
      readFileSync(scorer, "utf8").replace("maxP99Ms: 20", "maxP99Ms: 1000").replace("p99LatencyMs: 50", "p99LatencyMs: 1000"),
    );
    const sample = rows(200, 7);
    const cols = Object.keys(sample[0] as object);
    writeFileSync(join(work, "sample.csv"), `${cols.join(",")}\n${sample.map((r) => cols.map((c) => r[c]).join(",")).join("\n")}\n`);
    writeProfile(join(work, "reference.json"), buildProfile(tableFromRows(rows(2000, 3))));
  }, 900_000);
  afterAll(() => mlflow?.stop());

  const common = () => ["--tracking-uri", mlflow.url, "--sample", join(work, "sample.csv"), "--reference", join(work, "reference.json")];

  it("the training script's runs hold its params and metrics, and its versions are MLflow 3 logged models", async () => {
    expect([real.version, shuffled.version]).toEqual(["1", "2"]);
    const logged = await client.getRun(real.run_id);
    expect(Object.fromEntries((logged.data.params ?? []).map((p) => [p.key, p.value]))).toMatchObject({
      C: "1.0",
      samples: "4000",
      seed: "7",
    });
    expect(await client.runMetrics(real.run_id)).toEqual(real.metrics);
    expect(real.metrics.auc).toBeGreaterThan(0.85);
    expect(shuffled.metrics.auc).toBeLessThan(0.6);
    const version = await client.getModelVersion("fraud-scorer", "1");
    expect(version).toMatchObject({ run_id: real.run_id, status: "READY" });
    // MLflow 3: the source is the logged model, not a path; get-download-uri says where its files are.
    expect(version.source).toMatch(/^models:\/m-[0-9a-f]{32}$/);
    const files = await client.getDownloadUri("fraud-scorer", "1");
    expect(files).toMatch(/^mlflow-artifacts:\/\d+\/models\/m-[0-9a-f]{32}\/artifacts$/);
    expect((await client.listArtifacts(files)).map((f) => f.path)).toEqual(expect.arrayContaining(["MLmodel", "model.onnx"]));
  });

  it("promote passes the trained version on its run metrics, sets the alias and pins the version in the catalog", async () => {
    const { code, printed } = await promoteCli([
      "fraud-scorer",
      "1",
      ...common(),
      "--catalog",
      join(work, "catalog"),
      "--alias",
      "champion",
      "--name",
      "v3",
    ]);
    expect(code, printed).toBe(0);
    expect(printed).toMatch(new RegExp(`metric auc +${real.metrics.auc.toFixed(4)} +>= 0.85 +pass`));
    expect(printed).toContain("models:/fraud-scorer@champion is version 1");
    expect((await client.getVersionByAlias("fraud-scorer", "champion")).version).toBe("1");
    expect(readFileSync(join(work, "catalog/models/fraud/fraud-scorer.yaml"), "utf8")).toContain(
      "  - name: v3\n    runtime: onnx\n    modelUri: models:/fraud-scorer/1\n",
    );
  });

  it("promote refuses the shuffled-label version with the gate table, and the alias stays where it was", async () => {
    const { code, printed } = await promoteCli([
      "fraud-scorer",
      "2",
      ...common(),
      "--catalog",
      join(work, "catalog"),
      "--alias",
      "champion",
    ]);
    expect(code).toBe(1);
    expect(printed).toMatch(/^gate +value +threshold +result$/m);
    expect(printed).toMatch(new RegExp(`^metric auc +${shuffled.metrics.auc.toFixed(4)} +>= 0.85 +FAIL$`, "m"));
    expect(printed).toMatch(/^metric f1 +0\.\d{4} +>= 0.6 +FAIL$/m);
    expect(printed).toMatch(/2 of 6 gates failed: not promoted/);
    expect((await client.getVersionByAlias("fraud-scorer", "champion")).version).toBe("1");
  });

  it("serving loads models:/fraud-scorer@champion and /1 through the proxied artifacts and answers what scikit-learn predicted", async () => {
    const app = await createServingServer({
      models: [
        { name: "fraud-scorer", version: "champion", uri: "models:/fraud-scorer@champion" },
        { name: "fraud-scorer", version: "shuffled", uri: "models:/fraud-scorer/2" },
      ],
      modelSource: { mlflowTrackingUri: mlflow.url },
      registry: createRegistry("serving-lifecycle"),
      maxEventLoopDelayMs: 0,
    });
    try {
      for (const [version, trained] of [
        ["champion", real],
        ["shuffled", shuffled],
      ] as const) {
        const response = await app.inject({
          method: "POST",
          url: `/v2/models/fraud-scorer/versions/${version}/infer`,
          payload: { inputs: [{ name: "features", shape: [3, 5], datatype: "FP32", data: trained.probe.rows.flat() }] },
        });
        expect(response.statusCode, response.body).toBe(200);
        // float32 in ONNX against float64 in scikit-learn.
        expect(maxError(response.json().outputs[0].data, trained.probe.probability)).toBeLessThan(1e-5);
      }
    } finally {
      await app.close();
    }
  });

  it("serving names MLflow's reason for a version or alias that does not exist", async () => {
    const options = { mlflowTrackingUri: mlflow.url };
    await expect(fetchModel("models:/fraud-scorer/9", options)).rejects.toThrow(
      "MLflow could not resolve models:/fraud-scorer/9: Model Version (name=fraud-scorer, version=9) not found",
    );
    await expect(fetchModel("models:/fraud-scorer@gone", options)).rejects.toThrow(/Registered model alias gone not found/);
  });
});

describe("the tracking server on PostgreSQL, as the platform deploys it", () => {
  let mlflow: MlflowServer;
  beforeAll(async () => {
    mlflow = await startMlflow({ backend: "postgres" });
  }, 400_000);
  afterAll(() => mlflow?.stop());

  it("keeps the registry in PostgreSQL and serves an MLflow 2-style version (run artifacts, MLmodel naming the file)", async () => {
    const registered = await registerVersion(mlflow.url, {
      name: "fraud-scorer",
      metrics: { auc: 0.9, f1: 0.7 },
      files: {
        MLmodel: Buffer.from("flavors:\n  onnx:\n    data: scorer.onnx\n    onnx_version: 1.23.2\n"),
        "scorer.onnx": readFileSync(modelPath("v2")),
      },
    });
    const client = new MlflowClient(mlflow.url);
    await client.setAlias("fraud-scorer", "champion", registered.version);
    const db = new pg.Client({ connectionString: mlflow.backendStoreUri.replace(/^postgresql:/, "postgres:") });
    await db.connect();
    try {
      const stored = await db.query("SELECT version, source FROM model_versions WHERE name = 'fraud-scorer'");
      expect(stored.rows).toEqual([{ version: 1, source: registered.source }]);
      expect((await db.query("SELECT alias FROM registered_model_aliases")).rows).toEqual([{ alias: "champion" }]);
    } finally {
      await db.end();
    }
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "champion", uri: "models:/fraud-scorer@champion" }],
      modelSource: { mlflowTrackingUri: mlflow.url },
      registry: createRegistry("serving-lifecycle-pg"),
      maxEventLoopDelayMs: 0,
    });
    try {
      const response = await app.inject({
        method: "POST",
        url: "/v2/models/fraud-scorer/infer",
        payload: { inputs: [{ name: "features", shape: [5, 5], datatype: "FP32", data: expected.inputs.flat() }] },
      });
      expect(maxError(response.json().outputs[0].data, expected.versions.v2.probability)).toBeLessThan(1e-6);
    } finally {
      await app.close();
    }
  });
});
