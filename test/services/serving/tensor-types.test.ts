import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { DATATYPES, DTYPES_MODEL, ROOT } from "./fakes";

let app: FastifyInstance;

beforeAll(async () => {
  app = await createServingServer({
    models: [{ name: "dtypes", version: "v1", uri: DTYPES_MODEL }],
    registry: createRegistry("serving-dtypes-test"),
    maxEventLoopDelayMs: 0,
  });
});
afterAll(() => app.close());

const ZERO: Record<string, unknown> = { BOOL: false, BYTES: "" };
/** A request with every input two elements long: `values` for the one under test, zeros elsewhere. */
function request(datatype: string, values: unknown[] | undefined, extra: Record<string, unknown> = {}) {
  return {
    inputs: DATATYPES.map((t) => ({
      name: `in_${t}`,
      datatype: t,
      shape: [2],
      data: t === datatype && values ? values : [ZERO[t] ?? 0, ZERO[t] ?? 0],
    })),
    outputs: [{ name: `out_${datatype}` }],
    ...extra,
  };
}
/** Sent as text, so the test controls every digit of the JSON (a JS number could not hold them). */
const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  app.inject({ method: "POST", url: "/v2/models/dtypes/infer", payload: body, headers });
/** The exact text of the output's data array. */
const dataText = (body: string) => /"data":(\[[^\]]*\])/.exec(body)?.[1];

describe("64-bit integers are exact in and out", () => {
  for (const [datatype, literals] of [
    ["INT64", ["9007199254740993", "9223372036854775807"]],
    ["INT64", ["-9223372036854775808", "-9007199254740993"]],
    ["UINT64", ["18446744073709551615", "9007199254740993"]],
  ] as const) {
    it(`${datatype} ${literals.join(", ")} come back digit for digit`, async () => {
      const body = JSON.stringify(request(datatype, [0, 0])).replace(
        `"name":"in_${datatype}","datatype":"${datatype}","shape":[2],"data":[0,0]`,
        `"name":"in_${datatype}","datatype":"${datatype}","shape":[2],"data":[${literals.join(",")}]`,
      );
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(200);
      expect(dataText(res.body)).toBe(`[${literals.join(",")}]`);
    });
  }

  it("an INT64 beyond 2^63-1, or a UINT64 below 0, is a 400 naming the range", async () => {
    const over = JSON.stringify(request("INT64", [0, 0])).replace(
      '"shape":[2],"data":[0,0]},{"name":"in_FP16"',
      '"shape":[2],"data":[9223372036854775808,0]},{"name":"in_FP16"',
    );
    const res = await post(over);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/input "in_INT64": data\[0\] is 9223372036854775808, but an integer in INT64's range/);
    const under = await post(JSON.stringify(request("UINT64", [-1, 0])));
    expect(under.statusCode).toBe(400);
    expect(under.json().error).toMatch(/in_UINT64.*UINT64's range 0\.\.18446744073709551615/);
  });

  it("a fraction or an exponent literal that is not an exact integer is refused for INT64", async () => {
    const res = await post(JSON.stringify(request("INT64", [1.5, 0])));
    expect(res.statusCode).toBe(400);
    const exp = await post(
      JSON.stringify(request("INT64", [0, 0])).replace(
        '"shape":[2],"data":[0,0]},{"name":"in_FP16"',
        '"shape":[2],"data":[1e300,0]},{"name":"in_FP16"',
      ),
    );
    expect(exp.statusCode).toBe(400);
  });
});

describe("FP16 and narrow integers", () => {
  it("FP16 is converted both ways: 1.0 is 1.0, not the bit pattern 15360", async () => {
    const res = await post(JSON.stringify(request("FP16", [1, -2.5])));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().outputs[0]).toEqual({ name: "out_FP16", datatype: "FP16", shape: [2], data: [1, -2.5] });
  });

  it("FP16 rounds to the nearest half-precision value, and a value beyond 65504 is a 400", async () => {
    const res = await post(JSON.stringify(request("FP16", [0.1, 65504])));
    expect(res.json().outputs[0].data).toEqual([0.0999755859375, 65504]);
    const over = await post(JSON.stringify(request("FP16", [70000, 0])));
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatch(/FP16's range ±65504/);
  });

  for (const [datatype, value] of [
    ["INT8", 300],
    ["INT8", -129],
    ["UINT8", 256],
    ["UINT16", -1],
    ["INT32", 2147483648],
    ["UINT32", 4294967296],
    ["INT16", 1.5],
  ] as const) {
    it(`${datatype} ${value} is a 400 naming the range, not a silent wrap`, async () => {
      const res = await post(JSON.stringify(request(datatype, [value, 0])));
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(new RegExp(`in_${datatype}": data\\[0\\] is ${value}, but an integer in ${datatype}'s range`));
    });
  }

  it("every datatype's edges come back unchanged", async () => {
    const edges: Record<string, unknown[]> = {
      BOOL: [true, false],
      UINT8: [0, 255],
      UINT16: [0, 65535],
      UINT32: [0, 4294967295],
      INT8: [-128, 127],
      INT16: [-32768, 32767],
      INT32: [-2147483648, 2147483647],
      FP32: [3.4028234663852886e38, -1.401298464324817e-45],
      FP64: [Number.MAX_VALUE, Number.MIN_VALUE],
      BYTES: ["", "naïve ✓"],
    };
    for (const [datatype, values] of Object.entries(edges)) {
      const res = await post(JSON.stringify(request(datatype, values)));
      expect(res.statusCode, `${datatype}: ${res.body}`).toBe(200);
      expect(res.json().outputs[0].data, datatype).toEqual(values);
    }
  });
});

describe("tensor data follows the shape", () => {
  it("data nested 200,000 levels deep is a 400, not a 500", async () => {
    const deep = `${"[".repeat(200_000)}1${"]".repeat(200_000)}`;
    const res = await post(
      JSON.stringify(request("FP32", [0, 0])).replace(
        '"datatype":"FP32","shape":[2],"data":[0,0]',
        `"datatype":"FP32","shape":[2],"data":${deep}`,
      ),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/in_FP32.*(nested deeper|needs 2)|too deeply/);
  });
});

describe("BF16", () => {
  it("a model with a BF16 tensor fails to load with the reason and the way out, not a crash", async () => {
    await expect(
      createServingServer({
        models: [{ name: "bf16", version: "v1", uri: join(ROOT, "models", "dtypes", "bf16.onnx") }],
        registry: createRegistry("serving-bf16-test"),
        maxEventLoopDelayMs: 0,
      }),
    ).rejects.toThrow(/BF16 \(bfloat16\) tensor, which onnxruntime-node cannot run; serve it with --runtime triton/);
  });
});

describe("Triton's binary tensor extension, in process", () => {
  it("takes binary inputs after the JSON header and answers binary outputs with Inference-Header-Content-Length", async () => {
    const int64 = new BigInt64Array([9223372036854775807n, -3n]);
    const raw = Buffer.from(int64.buffer);
    const body = request("INT64", [0, 0], { parameters: { binary_data_output: true } });
    const input = body.inputs.find((i) => i.name === "in_INT64") as Record<string, unknown>;
    delete input.data;
    input.parameters = { binary_data_size: raw.length };
    const header = Buffer.from(JSON.stringify(body));
    // No Content-Type, as tritonclient sends it.
    const res = await app.inject({
      method: "POST",
      url: "/v2/models/dtypes/infer",
      payload: Buffer.concat([header, raw]),
      headers: { "inference-header-content-length": String(header.length) },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const n = Number(res.headers["inference-header-content-length"]);
    const json = JSON.parse(res.rawPayload.subarray(0, n).toString());
    expect(json.outputs).toEqual([{ name: "out_INT64", datatype: "INT64", shape: [2], parameters: { binary_data_size: 16 } }]);
    expect(Buffer.compare(res.rawPayload.subarray(n), raw)).toBe(0);
  });

  it("a 1 MiB FP32 tensor comes back byte for byte with its Content-Length, whichever byte its tail starts at", async () => {
    const floats = Float32Array.from({ length: 262_144 }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    const raw = Buffer.from(floats.buffer);
    for (const spaces of [0, 1, 3, 6]) {
      const body = request("FP32", [0, 0], { outputs: [{ name: "out_FP32", parameters: { binary_data: true } }] });
      const input = body.inputs.find((i) => i.name === "in_FP32") as Record<string, unknown>;
      delete input.data;
      input.shape = [floats.length];
      input.parameters = { binary_data_size: raw.length };
      // Trailing blanks move the tail's offset; JSON allows them.
      const header = Buffer.from(JSON.stringify(body) + " ".repeat(spaces));
      const res = await app.inject({
        method: "POST",
        url: "/v2/models/dtypes/infer",
        payload: Buffer.concat([header, raw]),
        headers: { "inference-header-content-length": String(header.length) },
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      const n = Number(res.headers["inference-header-content-length"]);
      expect(Number(res.headers["content-length"])).toBe(n + raw.length);
      expect(res.rawPayload.length).toBe(n + raw.length);
      expect(JSON.parse(res.rawPayload.subarray(0, n).toString()).outputs[0]).toMatchObject({
        name: "out_FP32",
        shape: [floats.length],
        parameters: { binary_data_size: raw.length },
      });
      expect(Buffer.compare(res.rawPayload.subarray(n), raw), `tail after ${header.length} header bytes`).toBe(0);
    }
  });

  it("concurrent 1 MiB binary requests over a socket each get their own bytes back, also once their body buffers are reused", async () => {
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    const send = async (fill: number) => {
      const raw = Buffer.from(new Float32Array(262_144).fill(fill).buffer);
      const body = request("FP32", [0, 0], { outputs: [{ name: "out_FP32", parameters: { binary_data: true } }] });
      const input = body.inputs.find((i) => i.name === "in_FP32") as Record<string, unknown>;
      delete input.data;
      input.shape = [262_144];
      input.parameters = { binary_data_size: raw.length };
      const header = Buffer.from(JSON.stringify(body));
      const res = await fetch(`${url}/v2/models/dtypes/infer`, {
        method: "POST",
        body: Buffer.concat([header, raw]),
        headers: { "inference-header-content-length": String(header.length) },
      });
      const answer = Buffer.from(await res.arrayBuffer());
      expect(res.status, answer.subarray(0, 300).toString()).toBe(200);
      const tail = answer.subarray(Number(res.headers.get("inference-header-content-length")));
      expect(Buffer.compare(tail, raw), `answer to the request filled with ${fill}`).toBe(0);
    };
    for (let round = 0; round < 3; round++) await Promise.all([1, 2, 3, 4].map((k) => send(round * 10 + k)));
  });

  it("a binary size that does not match the shape, or bytes left over, is a 400 saying which", async () => {
    const body = request("FP32", [0, 0]);
    const input = body.inputs.find((i) => i.name === "in_FP32") as Record<string, unknown>;
    delete input.data;
    input.parameters = { binary_data_size: 4 };
    const header = Buffer.from(JSON.stringify(body));
    const headers = { "inference-header-content-length": String(header.length) };
    const short = await app.inject({
      method: "POST",
      url: "/v2/models/dtypes/infer",
      payload: Buffer.concat([header, Buffer.alloc(4)]),
      headers,
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error).toMatch(/input "in_FP32" has 4 bytes of binary data, but shape \[2\] of FP32 needs 8/);
    const extra = await app.inject({
      method: "POST",
      url: "/v2/models/dtypes/infer",
      payload: Buffer.concat([header, Buffer.alloc(9)]),
      headers,
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error).toMatch(/5 bytes after the last binary input/);
  });
});
