import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type Client, credentials } from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { inferenceService } from "../../../services/serving/grpc-server";
import { peerPython } from "../../support/peers";
import { freePort } from "../../support/redis";
import { expected, maxError, modelPath } from "./fakes";

/**
 * The proxy in front of a real V2 runtime: KServe's own ModelServer (kserve_server.py, venv-triton)
 * running the fraud scorer through onnxruntime from PyPI. Binary tensors go through both ways.
 */
let runtime: ChildProcess;
let app: FastifyInstance;
let runtimeUrl: string;
let runtimeGrpc: string;

beforeAll(async () => {
  const [http, grpc] = [await freePort(), await freePort()];
  runtimeUrl = `http://127.0.0.1:${http}`;
  runtimeGrpc = `127.0.0.1:${grpc}`;
  runtime = spawn(
    peerPython("triton"),
    [join(__dirname, "clients", "kserve_server.py"), "fraud-scorer", modelPath("v1"), String(http), String(grpc)],
    {
      stdio: "ignore",
    },
  );
  const until = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`${runtimeUrl}/v2/models/fraud-scorer/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) throw new Error("KServe ModelServer did not become ready in 90 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  app = await createServingServer({
    models: [{ name: "fraud-scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtimeUrl, grpcTarget: runtimeGrpc } }],
    registry: createRegistry("serving-proxy-kserve"),
    maxEventLoopDelayMs: 0,
  });
}, 120_000);
afterAll(async () => {
  await app?.close();
  runtime?.kill("SIGTERM");
});

describe("proxy to KServe's ModelServer", () => {
  it("forwards binary inputs and answers the runtime's binary outputs unchanged, under our name and version", async () => {
    const features = Buffer.from(new Float32Array(expected.inputs.flat()).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: "features", shape: [5, 5], datatype: "FP32", parameters: { binary_data_size: features.length } }],
        // KServe's server reads the request-wide flag (InferRequest.use_binary_outputs).
        parameters: { binary_data_output: true },
      }),
    );
    const headers = { "inference-header-content-length": String(header.length) };
    const body = Buffer.concat([header, features]);
    const ours = await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload: body, headers });
    expect(ours.statusCode, ours.body).toBe(200);
    const n = Number(ours.headers["inference-header-content-length"]);
    const json = JSON.parse(ours.rawPayload.subarray(0, n).toString());
    expect(json).toMatchObject({ model_name: "fraud-scorer", model_version: "v1" });
    expect(json.outputs).toEqual([{ name: "probability", datatype: "FP32", shape: [5, 1], parameters: { binary_data_size: 20 } }]);
    const tail = ours.rawPayload.subarray(n);
    // The runtime's own answer to the same bytes: our tail is its tail, byte for byte.
    const direct = await fetch(`${runtimeUrl}/v2/models/fraud-scorer/infer`, {
      method: "POST",
      body,
      headers: { ...headers, "content-type": "application/octet-stream" },
    });
    const directBytes = Buffer.from(await direct.arrayBuffer());
    const m = Number(direct.headers.get("inference-header-content-length"));
    expect(Buffer.compare(tail, directBytes.subarray(m))).toBe(0);
    const probabilities = Array.from(new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.byteLength)));
    expect(maxError(probabilities, expected.versions.v1.probability)).toBeLessThan(1e-6);
  });

  it("forwards gRPC calls to the runtime's gRPC port, raw tensors in and out", async () => {
    const port = await app.serving.listenGrpc({ port: 0, host: "127.0.0.1" });
    const Ctor = inferenceService as unknown as new (target: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
    const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure());
    const features = Buffer.from(new Float32Array(expected.inputs.flat()).buffer);
    const response = await new Promise<{ model_version: string; raw_output_contents: Buffer[] }>((resolve, reject) =>
      (client as unknown as { ModelInfer: (r: unknown, cb: (e: Error | null, r: never) => void) => void }).ModelInfer(
        { model_name: "fraud-scorer", inputs: [{ name: "features", datatype: "FP32", shape: ["5", "5"] }], raw_input_contents: [features] },
        (error, answer) => (error ? reject(error) : resolve(answer)),
      ),
    );
    client.close();
    expect(response.model_version).toBe("v1");
    const raw = response.raw_output_contents[0] as Buffer;
    const probabilities = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    expect(maxError(probabilities, expected.versions.v1.probability)).toBeLessThan(1e-6);
  });

  it("forwards JSON and answers JSON", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/models/fraud-scorer/infer",
      payload: { inputs: [{ name: "features", shape: [5, 5], datatype: "FP32", data: expected.inputs.flat() }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(maxError(res.json().outputs[0].data, expected.versions.v1.probability)).toBeLessThan(1e-6);
  });
});
