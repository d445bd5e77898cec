import { request } from "node:http";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { expected, maxError, modelPath } from "./fakes";

let app: FastifyInstance;

beforeAll(async () => {
  app = await createServingServer({
    models: [
      { name: "fraud-scorer", version: "v1", uri: modelPath("v1") },
      { name: "fraud-scorer", version: "v2", uri: modelPath("v2") },
    ],
    registry: createRegistry("serving-test"),
    bodyLimit: 64 * 1024,
    maxTensorElements: 1000,
    // This machine is shared and often CPU-starved; event-loop shedding has its own test (safety.test.ts).
    maxEventLoopDelayMs: 0,
  });
});
afterAll(() => app.close());

const infer = (url: string, payload: unknown) => app.inject({ method: "POST", url, payload: payload as object });
const fraudInput = (rows: number[][], extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: "features", shape: [rows.length, 5], datatype: "FP32", data: rows.flat() }],
  ...extra,
});

describe("KServe V2 health and metadata", () => {
  it("server live and ready answer 200 with the protocol's bodies", async () => {
    const live = await app.inject("/v2/health/live");
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ live: true });
    const ready = await app.inject("/v2/health/ready");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true });
  });

  it("server metadata has name, version and extensions", async () => {
    const res = await app.inject("/v2");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: "mlops-serving", version: expect.any(String), extensions: ["binary_tensor_data"] });
    expect((await app.inject("/v2/")).json()).toEqual(res.json());
  });

  it("model metadata lists versions, platform and the model's tensors with -1 for the batch dimension", async () => {
    const res = await app.inject("/v2/models/fraud-scorer");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      name: "fraud-scorer",
      versions: ["v1", "v2"],
      platform: "onnx_onnxv1",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 5] }],
      outputs: [{ name: "probability", datatype: "FP32", shape: [-1, 1] }],
    });
    expect((await app.inject("/v2/models/fraud-scorer/versions/v2")).statusCode).toBe(200);
  });

  it("model ready answers {name, ready} with and without a version", async () => {
    expect((await app.inject("/v2/models/fraud-scorer/ready")).json()).toEqual({ name: "fraud-scorer", ready: true });
    expect((await app.inject("/v2/models/fraud-scorer/versions/v2/ready")).json()).toEqual({ name: "fraud-scorer", ready: true });
  });

  it("an unknown model or version is a 404 with {error} naming what is served", async () => {
    for (const url of [
      "/v2/models/nope",
      "/v2/models/nope/ready",
      "/v2/models/fraud-scorer/versions/v9",
      "/v2/models/fraud-scorer/versions/v9/ready",
    ]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error).toMatch(/fraud-scorer|v1, v2/);
    }
    const res = await infer("/v2/models/nope/infer", fraudInput(expected.inputs));
    expect(res.statusCode).toBe(404);
    expect(Object.keys(res.json())).toEqual(["error"]);
  });
});

describe("KServe V2 inference on the real ONNX model", () => {
  it("returns the probabilities the model was built to give, within 1e-6, for v1 and v2", async () => {
    for (const version of ["v1", "v2"] as const) {
      const res = await infer(`/v2/models/fraud-scorer/versions/${version}/infer`, fraudInput(expected.inputs, { id: "42" }));
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.model_name).toBe("fraud-scorer");
      expect(body.model_version).toBe(version);
      expect(body.id).toBe("42");
      expect(body.outputs).toHaveLength(1);
      expect(body.outputs[0]).toMatchObject({ name: "probability", datatype: "FP32", shape: [5, 1] });
      expect(maxError(body.outputs[0].data, expected.versions[version].probability)).toBeLessThan(1e-6);
    }
  });

  it("without a version the first configured version answers, and the headers say which", async () => {
    const res = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs.slice(0, 1)));
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-model-name"]).toBe("fraud-scorer");
    expect(res.headers["x-model-version"]).toBe("v1");
    expect(res.json().model_version).toBe("v1");
    expect(typeof res.json().id).toBe("string");
    const v2 = await infer("/v2/models/fraud-scorer/versions/v2/infer", fraudInput(expected.inputs.slice(0, 1)));
    expect(v2.headers["x-model-version"]).toBe("v2");
  });

  it("refuses ragged nested data with a 400 even when its total count matches the shape", async () => {
    const res = await infer("/v2/models/fraud-scorer/infer", {
      inputs: [
        {
          name: "features",
          shape: [2, 5],
          datatype: "FP32",
          data: [
            [1, 2, 3, 4, 5, 6],
            [7, 8, 9, 10],
          ],
        },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/input "features": data\[0\] has 6 items, but shape \[2,5\] needs 5 there/);
  });

  it("accepts nested (natural-shape) tensor data as well as flat data", async () => {
    const nested = await infer("/v2/models/fraud-scorer/infer", {
      inputs: [{ name: "features", shape: [5, 5], datatype: "FP32", data: expected.inputs }],
    });
    const flat = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs));
    expect(nested.statusCode).toBe(200);
    expect(nested.json().outputs[0].data).toEqual(flat.json().outputs[0].data);
  });

  it("returns only the requested outputs, and refuses an output the model does not have", async () => {
    const ok = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs, { outputs: [{ name: "probability" }] }));
    expect(ok.json().outputs.map((o: { name: string }) => o.name)).toEqual(["probability"]);
    const bad = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs, { outputs: [{ name: "logits" }] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain('"logits"');
  });
});

describe("KServe V2 inference errors", () => {
  const cases: [string, unknown, RegExp][] = [
    ["no inputs", {}, /inputs/],
    ["an input without shape", { inputs: [{ name: "features", datatype: "FP32", data: [1] }] }, /shape/],
    ["an unknown datatype", { inputs: [{ name: "features", shape: [1, 5], datatype: "FLOAT", data: [1, 2, 3, 4, 5] }] }, /datatype/],
    [
      "the wrong datatype",
      { inputs: [{ name: "features", shape: [1, 5], datatype: "FP64", data: [1, 2, 3, 4, 5] }] },
      /FP64.*expects FP32/,
    ],
    ["the wrong width", { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] }, /dimension 1 must be 5/],
    ["the wrong rank", { inputs: [{ name: "features", shape: [5], datatype: "FP32", data: [1, 2, 3, 4, 5] }] }, /rank/],
    [
      "too few data elements",
      { inputs: [{ name: "features", shape: [2, 5], datatype: "FP32", data: [1, 2, 3, 4, 5] }] },
      /5 data elements.*needs 10/,
    ],
    ["a string in FP32 data", { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: [1, 2, "x", 4, 5] }] }, /data\[2\]/],
    [
      "an unknown input name",
      { inputs: [{ name: "pixels", shape: [1, 5], datatype: "FP32", data: [1, 2, 3, 4, 5] }] },
      /"pixels" is not an input/,
    ],
  ];
  for (const [what, payload, message] of cases) {
    it(`${what} is a 400 with {error} saying what to fix`, async () => {
      const res = await infer("/v2/models/fraud-scorer/infer", payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(message);
    });
  }

  it("malformed JSON is a 400", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/models/fraud-scorer/infer",
      payload: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBeTruthy();
  });

  it("a tensor over the element limit is a 413 naming the limit", async () => {
    const rows = Array.from({ length: 201 }, () => [1, 2, 3, 4, 5]);
    const res = await infer("/v2/models/fraud-scorer/infer", fraudInput(rows));
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatch(/1005 elements; the limit is 1000/);
  });

  it("a body over the byte limit is a 413 naming the limit", async () => {
    const rows = Array.from({ length: 5000 }, () => [1.123456, 2.123456, 3.123456, 4.123456, 5.123456]);
    const res = await infer("/v2/models/fraud-scorer/infer", fraudInput(rows));
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatch(/65536-byte limit/);
  });
});

describe("what real clients send and read", () => {
  it("a request without Content-Type (tritonclient's HTTP client) is answered, JSON or binary", async () => {
    // Over a socket: inject() would add a Content-Type of its own.
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const body = Buffer.from(JSON.stringify(fraudInput(expected.inputs)));
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${address}/v2/models/fraud-scorer/infer`,
        { method: "POST", headers: { "content-length": body.length } },
        (res) => {
          let text = "";
          res.on("data", (c) => {
            text += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      expect(req.getHeader("content-type")).toBeUndefined();
      req.end(body);
    });
    expect(answer.status, answer.text).toBe(200);
    expect(maxError(JSON.parse(answer.text).outputs[0].data, expected.versions.v1.probability)).toBeLessThan(1e-6);
  });

  it("errors are exactly application/json, the one content type the KServe SDK reads a message from", async () => {
    const res = await infer("/v2/models/fraud-scorer/infer", {
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json");
    expect((await app.inject("/v2/models/fraud-scorer")).headers["content-type"]).toBe("application/json");
  });

  it("parameter values are strings, numbers or booleans: an object is a 400", async () => {
    const res = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs, { parameters: { nested: { a: 1 } } }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/parameters/);
    const ok = await infer("/v2/models/fraud-scorer/infer", fraudInput(expected.inputs, { parameters: { a: "x", b: 1, c: true } }));
    expect(ok.statusCode).toBe(200);
  });

  it("with several models served, metadata, ready and schema-rejected requests still carry the version headers", async () => {
    for (const [url, version] of [
      ["/v2/models/fraud-scorer", "v1"],
      ["/v2/models/fraud-scorer/versions/v2", "v2"],
      ["/v2/models/fraud-scorer/ready", "v1"],
      ["/v2/models/fraud-scorer/versions/v2/ready", "v2"],
    ] as const) {
      const res = await app.inject(url);
      expect([res.headers["x-model-name"], res.headers["x-model-version"]], url).toEqual(["fraud-scorer", version]);
    }
    const rejected = await infer("/v2/models/fraud-scorer/versions/v2/infer", { inputs: [] });
    expect(rejected.statusCode).toBe(400);
    expect([rejected.headers["x-model-name"], rejected.headers["x-model-version"]]).toEqual(["fraud-scorer", "v2"]);
  });
});

describe("version-aware metrics", () => {
  it("request latency, predictions and inference time are labelled by model and version", async () => {
    await infer("/v2/models/fraud-scorer/versions/v2/infer", fraudInput(expected.inputs));
    await infer("/v2/models/fraud-scorer/versions/v2/infer", {
      inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }],
    });
    const text = (await app.inject("/metrics")).body;
    expect(text).toMatch(/mlops_serving_predictions_total\{[^}]*model="fraud-scorer",version="v2",status="ok"[^}]*\} [1-9]/);
    expect(text).toMatch(/mlops_serving_predictions_total\{[^}]*model="fraud-scorer",version="v2",status="error"[^}]*\} [1-9]/);
    expect(text).toMatch(
      /mlops_serving_request_duration_seconds_bucket\{le="0.1",[^}]*model="fraud-scorer",version="v2",route="\/v2\/models\/:name\/versions\/:version\/infer",status="200"/,
    );
    expect(text).toMatch(/mlops_serving_inference_duration_seconds_count\{[^}]*model="fraud-scorer",version="v2"[^}]*\} [1-9]/);
    expect(text).toMatch(/mlops_serving_in_flight_requests\{[^}]*model="fraud-scorer",version="v2"[^}]*\} 0/);
  });
});
