import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowClient, MlflowError } from "../../../services/core/mlflow";
import { type FakeMlflow, startFakeMlflow } from "../../support/mlflow-server";

let mlflow: FakeMlflow;
let client: MlflowClient;

beforeAll(async () => {
  mlflow = await startFakeMlflow({
    runs: { r1: { metrics: { auc: 0.91, f1: 0.7 }, params: { lr: "0.1" } } },
    versions: [
      { name: "fraud-scorer", version: "1", runId: "r1", source: "mlflow-artifacts:/1/r1/artifacts/model", aliases: ["champion"] },
      { name: "fraud-scorer", version: "2", runId: "r1", source: "mlflow-artifacts:/1/r1/artifacts/model2" },
    ],
    artifacts: {
      "1/r1/artifacts/model/model.onnx": Buffer.from([8, 7, 18, 3]),
      "1/r1/artifacts/model/MLmodel": Buffer.from("flavors: {}\n"),
    },
  });
  client = new MlflowClient(mlflow.url, { timeoutMs: 2000 });
});
afterAll(() => mlflow.close());

describe("MLflow registry client (against documented MLflow REST responses)", () => {
  it("reads a run's latest metrics as a map", async () => {
    expect(await client.runMetrics("r1")).toEqual({ auc: 0.91, f1: 0.7 });
  });

  it("resolves models:/name/version and models:/name@alias", async () => {
    expect((await client.resolveModelUri("models:/fraud-scorer/2")).source).toBe("mlflow-artifacts:/1/r1/artifacts/model2");
    expect((await client.resolveModelUri("models:/fraud-scorer@champion")).version).toBe("1");
  });

  it("moves an alias and a stage with POSTs in MLflow's body shape", async () => {
    await client.setAlias("fraud-scorer", "champion", "2");
    expect((await client.getVersionByAlias("fraud-scorer", "champion")).version).toBe("2");
    const moved = await client.transitionStage("fraud-scorer", "2", "Production", true);
    expect(moved.current_stage).toBe("Production");
    expect(mlflow.requests.find((r) => r.path.endsWith("transition-stage"))?.body).toEqual({
      name: "fraud-scorer",
      version: "2",
      stage: "Production",
      archive_existing_versions: "true",
    });
  });

  it("lists and downloads artifacts through the proxied artifact API", async () => {
    const version = await client.getModelVersion("fraud-scorer", "1");
    expect((await client.listArtifacts(version.source)).map((f) => f.path).sort()).toEqual(["MLmodel", "model.onnx"]);
    expect([...(await client.downloadArtifact(version.source, "model.onnx"))]).toEqual([8, 7, 18, 3]);
  });

  it("turns MLflow's error body into an error with its code", async () => {
    const error = await client.getModelVersion("fraud-scorer", "9").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlflowError);
    expect(error).toMatchObject({ status: 404, errorCode: "RESOURCE_DOES_NOT_EXIST" });
  });

  it("fails fast with 503 when the server is unreachable", async () => {
    const dead = new MlflowClient("http://127.0.0.1:9", { timeoutMs: 500 });
    await expect(dead.getRun("r1")).rejects.toMatchObject({ status: 503, errorCode: "UNAVAILABLE" });
  });
});
