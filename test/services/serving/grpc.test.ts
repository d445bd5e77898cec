import { type Client, credentials, loadPackageDefinition, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { FastifyInstance } from "fastify";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer, type ServingServerOptions } from "../../../services/serving";
import { expected, type FakeServer, modelPath, ROOT, startV2Runtime } from "./fakes";

/** A grpc-js client on the vendored proto: what the server must answer, from the wire. */
const PROTO = join(ROOT, "services", "serving", "proto");
const opts = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
type Ctor = new (target: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
const inference = (
  loadPackageDefinition(loadSync(join(PROTO, "open_inference_grpc.proto"), opts)) as unknown as {
    inference: { GRPCInferenceService: Ctor };
  }
).inference.GRPCInferenceService;
const health = (
  loadPackageDefinition(loadSync(join(PROTO, "health.proto"), opts)) as unknown as { grpc: { health: { v1: { Health: Ctor } } } }
).grpc.health.v1.Health;

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline?: number },
  callback: (error: ServiceError | null, response: unknown) => void,
) => {
  on(event: "metadata", listener: (md: Metadata) => void): void;
};
function call(
  client: Client,
  method: string,
  request: unknown,
  deadlineMs?: number,
): Promise<{ response: Record<string, unknown>; metadata?: Metadata }> {
  return new Promise((resolve, reject) => {
    let metadata: Metadata | undefined;
    const fn = (client as unknown as Record<string, Unary>)[method] as Unary;
    const running = fn.call(client, request, new Metadata(), deadlineMs ? { deadline: Date.now() + deadlineMs } : {}, (error, response) =>
      error ? reject(error) : resolve({ response: response as Record<string, unknown>, metadata }),
    );
    running.on("metadata", (md) => {
      metadata = md;
    });
  });
}

let app: FastifyInstance | undefined;
let runtime: FakeServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await app?.close();
  await runtime?.close();
  app = undefined;
  runtime = undefined;
});

async function start(options: Partial<ServingServerOptions>): Promise<{ grpc: Client; healthClient: Client }> {
  app = await createServingServer({
    models: [],
    registry: createRegistry("serving-grpc-test"),
    maxEventLoopDelayMs: 0,
    ...options,
  } as ServingServerOptions);
  const port = await app.serving.listenGrpc({ port: 0, host: "127.0.0.1" });
  const grpc = new inference(`127.0.0.1:${port}`, credentials.createInsecure());
  const healthClient = new health(`127.0.0.1:${port}`, credentials.createInsecure());
  clients.push(grpc, healthClient);
  return { grpc, healthClient };
}

const scorerRequest = {
  model_name: "scorer",
  inputs: [{ name: "INPUT0", datatype: "FP32", shape: ["1", "2"], contents: { fp32_contents: [1, 2] } }],
};

describe("V2 gRPC on the real ONNX model", () => {
  it("answers ModelInfer with raw outputs equal to the REST route's, with version metadata and metrics labelled by version", async () => {
    const { grpc } = await start({ models: [{ name: "fraud-scorer", version: "v2", uri: modelPath("v2") }] });
    const { response, metadata } = await call(grpc, "ModelInfer", {
      model_name: "fraud-scorer",
      id: "g-1",
      inputs: [{ name: "features", datatype: "FP32", shape: ["5", "5"], contents: { fp32_contents: expected.inputs.flat() } }],
    });
    expect(response).toMatchObject({ model_name: "fraud-scorer", model_version: "v2", id: "g-1" });
    const raw = (response.raw_output_contents as Buffer[])[0] as Buffer;
    const got = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    const rest = (
      await (app as FastifyInstance).inject({
        method: "POST",
        url: "/v2/models/fraud-scorer/infer",
        payload: { inputs: [{ name: "features", datatype: "FP32", shape: [5, 5], data: expected.inputs.flat() }] },
      })
    ).json();
    expect(got).toEqual(rest.outputs[0].data);
    expect(metadata?.get("x-model-version")).toEqual(["v2"]);
    const text = (await (app as FastifyInstance).inject("/metrics")).body;
    expect(text).toMatch(
      /mlops_serving_request_duration_seconds_count\{[^}]*model="fraud-scorer",version="v2",route="\/inference.GRPCInferenceService\/ModelInfer",status="200"[^}]*\} 1/,
    );
    // One gRPC and one REST prediction.
    expect(text).toMatch(/mlops_serving_predictions_total\{[^}]*model="fraud-scorer",version="v2",status="ok"[^}]*\} 2/);
  });

  it("answers a bad request with INVALID_ARGUMENT and our message, and an unknown model with NOT_FOUND", async () => {
    const { grpc } = await start({ models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }] });
    const bad = call(grpc, "ModelInfer", {
      model_name: "fraud-scorer",
      inputs: [{ name: "features", datatype: "FP32", shape: ["1", "4"], contents: { fp32_contents: [1, 2, 3, 4] } }],
    });
    await expect(bad).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/dimension 1 must be 5/) });
    await expect(call(grpc, "ModelMetadata", { name: "nope" })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(/served models: fraud-scorer/),
    });
  });

  it("answers the health service Kubernetes' grpc probe calls", async () => {
    const { healthClient } = await start({ models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }] });
    expect((await call(healthClient, "Check", { service: "" })).response).toEqual({ status: "SERVING" });
    expect((await call(healthClient, "Check", { service: "inference.GRPCInferenceService" })).response).toEqual({ status: "SERVING" });
    await expect(call(healthClient, "Check", { service: "other" })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });
});

describe("V2 gRPC under load and at shutdown", () => {
  it("sheds past the in-flight bound with RESOURCE_EXHAUSTED, shared with REST, and serves the rest", async () => {
    runtime = await startV2Runtime({ delayMs: 300 });
    const { grpc } = await start({
      models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }],
      maxInFlight: 1,
    });
    const first = call(grpc, "ModelInfer", scorerRequest);
    while (!runtime.requests.some((r) => r.method === "POST")) await new Promise((r) => setTimeout(r, 5));
    const rest = await (app as FastifyInstance).inject({
      method: "POST",
      url: "/v2/models/scorer/infer",
      payload: { inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 2], data: [1, 2] }] },
    });
    expect(rest.statusCode).toBe(503);
    await expect(call(grpc, "ModelInfer", scorerRequest)).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/1 requests in flight, limit 1/),
    });
    const { response } = await first;
    const raw = (response.raw_output_contents as Buffer[])[0] as Buffer;
    expect(raw.readFloatLE(0)).toBe(3);
    const text = (await (app as FastifyInstance).inject("/metrics")).body;
    expect(text).toMatch(/mlops_serving_predictions_total\{[^}]*model="scorer",version="v1",status="shed"[^}]*\} 2/);
  });

  it("answers DEADLINE_EXCEEDED when inference passes the server's deadline", async () => {
    runtime = await startV2Runtime({ delayMs: 500 });
    const { grpc } = await start({
      models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }],
      inferenceTimeoutMs: 100,
    });
    await expect(call(grpc, "ModelInfer", scorerRequest)).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringMatching(/timed out after 100 ms/),
    });
  });

  it("drains at close: the call in flight completes, and the server then refuses new ones", async () => {
    runtime = await startV2Runtime({ delayMs: 300 });
    const { grpc } = await start({ models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }] });
    const inFlight = call(grpc, "ModelInfer", scorerRequest);
    // Close only once the call is running (the runtime has it), not while the channel is still connecting.
    while (!runtime.requests.some((r) => r.method === "POST")) await new Promise((r) => setTimeout(r, 5));
    const closed = (app as FastifyInstance).close();
    const { response } = await inFlight;
    expect((response.raw_output_contents as Buffer[])[0]?.readFloatLE(0)).toBe(3);
    await closed;
    app = undefined;
    await expect(call(grpc, "ModelInfer", scorerRequest, 1000)).rejects.toMatchObject({ code: expect.any(Number) });
  });
});
