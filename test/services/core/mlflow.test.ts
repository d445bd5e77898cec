import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowClient, MlflowError } from "../../../services/core/mlflow";
import { type MlflowServer, registerVersion, startMlflow } from "../../support/mlflow";

let mlflow: MlflowServer;
let client: MlflowClient;
let runId: string;
const onnxBytes = Buffer.from([8, 7, 18, 3, 0, 255]);

beforeAll(async () => {
  mlflow = await startMlflow();
  client = new MlflowClient(mlflow.url, { timeoutMs: 20_000 });
  const files = { "model.onnx": onnxBytes, MLmodel: Buffer.from("flavors:\n  onnx:\n    data: model.onnx\n") };
  const one = await registerVersion(mlflow.url, { name: "fraud-scorer", metrics: { auc: 0.91, f1: 0.7 }, files });
  runId = one.runId;
  await registerVersion(mlflow.url, { name: "fraud-scorer", metrics: { auc: 0.5 }, files });
  await client.setAlias("fraud-scorer", "champion", "1");
}, 300_000);
afterAll(() => mlflow?.stop());

describe("MLflow registry client against a real mlflow server (SQLite backend store, proxied artifacts)", () => {
  it("reads a run's latest metrics as a map", async () => {
    expect(await client.runMetrics(runId)).toEqual({ auc: 0.91, f1: 0.7 });
  });

  it("resolves models:/name/version and models:/name@alias, and where the version's files are", async () => {
    const two = await client.resolveModelUri("models:/fraud-scorer/2");
    expect(two).toMatchObject({ name: "fraud-scorer", version: "2", status: "READY" });
    expect(two.source).toMatch(/^mlflow-artifacts:\/\d+\/[0-9a-f]{32}\/artifacts\/model$/);
    expect(await client.getDownloadUri("fraud-scorer", "2")).toBe(two.source);
    const champion = await client.resolveModelUri("models:/fraud-scorer@champion");
    expect(champion).toMatchObject({ version: "1", aliases: ["champion"] });
  });

  it("moves an alias and a stage", async () => {
    await client.setAlias("fraud-scorer", "challenger", "1");
    await client.setAlias("fraud-scorer", "challenger", "2");
    expect((await client.getVersionByAlias("fraud-scorer", "challenger")).version).toBe("2");
    expect((await client.getModelVersion("fraud-scorer", "1")).aliases).toEqual(["champion"]);
    // archive_existing_versions went as the string "false" before, which MLflow 3 refuses.
    const moved = await client.transitionStage("fraud-scorer", "2", "Staging", false);
    expect(moved.current_stage).toBe("Staging");
    expect((await client.searchModelVersions("fraud-scorer")).map((v) => v.version).sort()).toEqual(["1", "2"]);
  });

  it("lists and downloads artifacts through the proxied artifact API, byte for byte", async () => {
    const uri = await client.getDownloadUri("fraud-scorer", "1");
    expect((await client.listArtifacts(uri)).map((f) => f.path).sort()).toEqual(["MLmodel", "model.onnx"]);
    expect([...(await client.downloadArtifact(uri, "model.onnx"))]).toEqual([...onnxBytes]);
  });

  it("turns MLflow's error bodies into errors with their code: an unknown version is 404, an unknown alias 400", async () => {
    await expect(client.getModelVersion("fraud-scorer", "9")).rejects.toMatchObject({
      status: 404,
      errorCode: "RESOURCE_DOES_NOT_EXIST",
      message: "Model Version (name=fraud-scorer, version=9) not found",
    });
    // MLflow answers an unknown alias with 400 INVALID_PARAMETER_VALUE, not 404.
    await expect(client.resolveModelUri("models:/fraud-scorer@nope")).rejects.toMatchObject({
      status: 400,
      errorCode: "INVALID_PARAMETER_VALUE",
    });
    const missing = await client.downloadArtifact(await client.getDownloadUri("fraud-scorer", "1"), "absent.onnx").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MlflowError);
    expect(missing).toMatchObject({ status: 404, errorCode: "RESOURCE_DOES_NOT_EXIST" });
  });
});

/**
 * What a real server cannot be made to do on cue: be down, hang, or sit behind a proxy that
 * answers HTML. A bare HTTP server plays those, nothing of MLflow's API.
 */
describe("MLflow client faults", () => {
  let server: Server;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url?.startsWith("/hang")) return; // never answers
      if (req.url?.includes("runs/get") && hits < 3) {
        res.writeHead(503, { "content-type": "text/html" });
        return res.end("<html>upstream restarting</html>");
      }
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>login</html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fails fast with 503 UNAVAILABLE when nothing listens", async () => {
    const dead = new MlflowClient("http://127.0.0.1:9", { timeoutMs: 500, retries: 0 });
    await expect(dead.getRun("r1")).rejects.toMatchObject({ status: 503, errorCode: "UNAVAILABLE" });
  });

  it("retries a read through two 503s from a proxy, then reports a non-JSON 200 as a bad response", async () => {
    hits = 0;
    const viaProxy = new MlflowClient(url, { timeoutMs: 2000, retries: 2 });
    await expect(viaProxy.getRun("r1")).rejects.toMatchObject({ status: 502, errorCode: "BAD_RESPONSE" });
    expect(hits).toBe(3);
  });

  it("gives up on a write after one attempt, and on a hung server after its timeout", async () => {
    hits = 0;
    const once = new MlflowClient(url, { timeoutMs: 2000, retries: 2 });
    await expect(once.setAlias("m", "a", "1")).rejects.toMatchObject({ status: 502 });
    expect(hits).toBe(1);
    const hung = new MlflowClient(`${url}/hang`, { timeoutMs: 300, retries: 1 });
    const started = Date.now();
    await expect(hung.getRun("r1")).rejects.toMatchObject({ status: 503, errorCode: "UNAVAILABLE" });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
