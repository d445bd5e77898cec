import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer, fetchModel } from "../../../services/serving";
import { expected, modelPath, startGcs, startS3 } from "./fakes";

/**
 * Model loading from the places the catalog's modelUri can point at: S3 against an in-test
 * S3-compatible endpoint through the SDK, GCS likewise. `models:/` is loaded from a real MLflow
 * tracking server in test/e2e/mlflow-lifecycle.test.ts.
 */
const v1Bytes = readFileSync(modelPath("v1"));
const v2Bytes = readFileSync(modelPath("v2"));
const fraudRequest = { inputs: [{ name: "features", shape: [5, 5], datatype: "FP32", data: expected.inputs.flat() }] };

describe("model sources", () => {
  it("s3:// URIs are downloaded with the SDK to a temporary file that is removed after loading", async () => {
    const objects = new Map([["models/fraud/v1/model.onnx", v1Bytes]]);
    const s3 = await startS3(objects);
    const client = new S3Client({
      endpoint: s3.url,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    try {
      const local = await fetchModel("s3://models/fraud/v1/", { s3: client });
      expect(readFileSync(local.path)).toEqual(v1Bytes);
      await local.cleanup();
      expect(existsSync(dirname(local.path))).toBe(false);
      await expect(fetchModel("s3://models/fraud/v9/model.onnx", { s3: client })).rejects.toThrow(
        /could not download model s3:\/\/models\/fraud\/v9\/model.onnx/,
      );
    } finally {
      await s3.close();
    }
  });

  it("gs:// URIs are downloaded with the GCS SDK, hashes checked", async () => {
    const objects = new Map([["models/fraud/v2/model.onnx", v2Bytes]]);
    const gcs = await startGcs(objects);
    try {
      const local = await fetchModel("gs://models/fraud/v2/", { gcs: new Storage({ apiEndpoint: gcs.url, projectId: "test" }) });
      expect(readFileSync(local.path)).toEqual(v2Bytes);
      await local.cleanup();
    } finally {
      await gcs.close();
    }
  });

  it("a local directory means its model.onnx; a missing path says what to give instead", async () => {
    const local = await fetchModel(dirname(modelPath("v1")));
    expect(local.path).toBe(modelPath("v1"));
    await expect(fetchModel("/nowhere/model.onnx")).rejects.toThrow(
      /does not exist; give a path to a .onnx file, s3:\/\/, gs:\/\/ or models:\//,
    );
  });

  it("a file that is not ONNX fails loading with the file named", async () => {
    await expect(
      createServingServer({
        models: [{ name: "broken", version: "v1", uri: __filename }],
        registry: createRegistry("serving-test"),
        maxEventLoopDelayMs: 0,
      }),
    ).rejects.toThrow(/broken v1: .*model-source.test.ts is not a loadable ONNX model/);
  });
});

describe("readiness", () => {
  it("fails until the model is downloaded, loaded and warmed, then passes", async () => {
    let releaseDownload: () => void = () => {};
    const gate = new Promise<void>((r) => (releaseDownload = r));
    // An MLflow that holds the artifact download until the test lets it go.
    const server = createServer(async (req, res) => {
      if (req.url?.startsWith("/api/2.0/mlflow/model-versions/get-download-uri")) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ artifact_uri: "mlflow-artifacts:/1/r/artifacts/model/model.onnx" }));
      }
      if (req.url?.startsWith("/api/2.0/mlflow/model-versions/get")) {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(
          JSON.stringify({
            model_version: {
              name: "fraud-scorer",
              version: "1",
              source: "mlflow-artifacts:/1/r/artifacts/model/model.onnx",
              status: "READY",
            },
          }),
        );
      }
      await gate;
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(v1Bytes);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: "models:/fraud-scorer/1" }],
      modelSource: { mlflowTrackingUri: url },
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
      waitUntilReady: false,
    });
    try {
      const ready = await app.inject("/v2/health/ready");
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ ready: false, error: "model fraud-scorer version v1 is still loading" });
      expect((await app.inject("/readyz")).statusCode).toBe(503);
      expect((await app.inject("/v2/models/fraud-scorer/ready")).json()).toMatchObject({ name: "fraud-scorer", ready: false });
      const early = await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload: fraudRequest });
      expect(early.statusCode).toBe(503);
      expect(early.json().error).toMatch(/still loading/);
      expect((await app.inject("/v2/health/live")).statusCode).toBe(200);
      releaseDownload();
      await app.serving.loaded;
      expect((await app.inject("/v2/health/ready")).json()).toEqual({ ready: true });
      expect((await app.inject("/readyz")).statusCode).toBe(200);
      expect((await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload: fraudRequest })).statusCode).toBe(200);
    } finally {
      await app.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
