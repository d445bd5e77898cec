/**
 * A real MLflow tracking server for the tests: `mlflow server` from venv-mlflow (built from
 * scripts/constraints/tracking.txt, the list the tracking image installs), on a free port, with a
 * SQLite file or a fresh PostgreSQL database as the backend store (PostgreSQL is what the
 * platform deploys) and a local directory behind `--serve-artifacts`, so clients read and write
 * artifacts through the server as pods do. Also: the REST calls a training job makes, for tests
 * that need registered versions faster than the Python training script gives them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { peerBin } from "./peers";
import { PG_URL } from "./postgres";
import { freePort } from "./redis";

export interface MlflowServer {
  url: string;
  /** The directory behind --artifacts-destination. */
  artifacts: string;
  backendStoreUri: string;
  /** The `mlflow server` process (its uvicorn workers are its descendants). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts `mlflow server`; waits (up to `startupMs`, default 240 s on a loaded machine) for /health. */
export async function startMlflow(options: { backend?: "sqlite" | "postgres"; startupMs?: number } = {}): Promise<MlflowServer> {
  const mlflow = peerBin("mlflow", "mlflow");
  const dir = mkdtempSync(join(tmpdir(), "mlflow-"));
  let database: string | undefined;
  let backendStoreUri = `sqlite:///${join(dir, "mlflow.db")}`;
  if (options.backend === "postgres") {
    database = `mlflow_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    await admin((client) => client.query(`CREATE DATABASE ${database}`));
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    backendStoreUri = url.toString().replace(/^postgres:/, "postgresql:");
  }
  const port = await freePort();
  const artifacts = join(dir, "artifacts");
  const child = spawn(
    mlflow,
    [
      "server",
      ...["--host", "127.0.0.1", "--port", String(port), "--workers", "1"],
      ...["--backend-store-uri", backendStoreUri, "--artifacts-destination", artifacts, "--serve-artifacts"],
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MLFLOW_ENABLE_TELEMETRY: "false", DO_NOT_TRACK: "true" } },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await kill(child);
    if (database) await admin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startupMs ?? 240_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`mlflow server exited with ${child.exitCode} before it was ready:\n${output}`);
    }
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (healthy) return { url, artifacts, backendStoreUri, pid: child.pid as number, stop };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error(`mlflow server did not answer /health within ${options.startupMs ?? 240_000} ms:\n${output}`);
}

async function admin(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); run scripts/test-env.sh first`);
  }
  try {
    await run(client);
  } finally {
    await client.end();
  }
}

/** SIGTERM, then SIGKILL after 5 s: uvicorn's workers must not outlive the test file. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** MLflow REST as a training job uses it (POST JSON, the body or MLflow's error). */
async function rest<T>(url: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${url}/api/2.0/mlflow/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`MLflow ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Registers a model version the way MLflow 2's `log_model(registered_model_name=...)` did: a run
 * with the given metrics, the files uploaded under the run's artifacts through the proxied
 * artifact API (PUT), and a version whose source is that `mlflow-artifacts:` directory.
 */
export async function registerVersion(
  url: string,
  options: { name: string; metrics: Record<string, number>; files: Record<string, Buffer>; experiment?: string },
): Promise<{ version: string; runId: string; source: string }> {
  const experimentName = options.experiment ?? "rest-registered";
  const found = await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experimentName)}`);
  const experimentId = found.ok
    ? ((await found.json()) as { experiment: { experiment_id: string } }).experiment.experiment_id
    : (await rest<{ experiment_id: string }>(url, "experiments/create", { name: experimentName })).experiment_id;
  const run = (await rest<{ run: { info: { run_id: string; artifact_uri: string } } }>(url, "runs/create", { experiment_id: experimentId }))
    .run.info;
  const timestamp = Date.now();
  await rest(url, "runs/log-batch", {
    run_id: run.run_id,
    metrics: Object.entries(options.metrics).map(([key, value]) => ({ key, value, timestamp, step: 0 })),
  });
  const source = `${run.artifact_uri}/model`;
  const path = source.replace(/^mlflow-artifacts:\/?/, "");
  for (const [file, bytes] of Object.entries(options.files)) {
    const put = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${path}/${file}`, { method: "PUT", body: new Uint8Array(bytes) });
    if (!put.ok) throw new Error(`artifact upload of ${file} answered ${put.status}: ${await put.text()}`);
  }
  await rest(url, "runs/update", { run_id: run.run_id, status: "FINISHED", end_time: Date.now() });
  await rest(url, "registered-models/create", { name: options.name }).catch((error: Error) => {
    if (!/RESOURCE_ALREADY_EXISTS/.test(error.message)) throw error;
  });
  const version = (
    await rest<{ model_version: { version: string } }>(url, "model-versions/create", { name: options.name, source, run_id: run.run_id })
  ).model_version.version;
  return { version, runId: run.run_id, source };
}
