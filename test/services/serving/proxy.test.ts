import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { freePort } from "../../support/redis";
import { type FakeServer, startOpenAiRuntime, startV2Runtime } from "./fakes";

const v2Request = { id: "r1", inputs: [{ name: "INPUT0", shape: [2, 2], datatype: "FP32", data: [1, 2, 3, 4] }] };

async function proxy(url: string, extra: { retries?: number; timeoutMs?: number } = {}): Promise<FastifyInstance> {
  return createServingServer({
    models: [
      {
        name: "scorer",
        version: "canary",
        runtime: "triton",
        upstream: { url, retries: extra.retries ?? 2, timeoutMs: extra.timeoutMs ?? 2000, backoffMs: 5 },
        upstreamVersion: "3",
      },
    ],
    registry: createRegistry("serving-test"),
    maxEventLoopDelayMs: 0,
  });
}

describe("proxy mode in front of a KServe V2 runtime", () => {
  let runtime: FakeServer;
  let app: FastifyInstance;
  beforeAll(async () => {
    runtime = await startV2Runtime();
    app = await proxy(runtime.url);
  });
  afterAll(async () => {
    await app.close();
    await runtime.close();
  });

  it("forwards V2 inference and answers with the runtime's outputs under this service's name and version", async () => {
    const res = await app.inject({ method: "POST", url: "/v2/models/scorer/infer", payload: v2Request });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-model-version"]).toBe("canary");
    expect(res.json()).toEqual({
      model_name: "scorer",
      model_version: "canary",
      id: "r1",
      outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: [2, 1], data: [3, 7] }],
    });
    const forwarded = runtime.requests.find((r) => r.path === "/v2/models/scorer/versions/3/infer");
    expect(forwarded?.body).toEqual(v2Request);
  });

  it("serves the runtime's model metadata", async () => {
    const res = await app.inject("/v2/models/scorer");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: "scorer",
      versions: ["canary"],
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [-1, 2] }],
    });
  });

  it("passes the runtime's 4xx through with its reason", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/models/scorer/infer",
      payload: { inputs: [{ name: "WRONG", shape: [1], datatype: "FP32", data: [1] }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("input 'INPUT0' is missing");
  });
});

describe("proxy retries and failures", () => {
  it("retries a runtime answering 503 and succeeds when it recovers", async () => {
    const recovering = await startV2Runtime({ failFirst: 2 });
    const app = await proxy(recovering.url);
    try {
      const res = await app.inject({ method: "POST", url: "/v2/models/scorer/infer", payload: v2Request });
      expect(res.statusCode).toBe(200);
      expect(res.json().outputs[0].data).toEqual([3, 7]);
      expect(recovering.requests.filter((r) => r.path.endsWith("/infer"))).toHaveLength(3);
    } finally {
      await app.close();
      await recovering.close();
    }
  });

  it("gives up after the retries with a 503 naming the runtime", async () => {
    const failing = await startV2Runtime({ failFirst: 100 });
    const app = await proxy(failing.url, { retries: 1 });
    try {
      const res = await app.inject({ method: "POST", url: "/v2/models/scorer/infer", payload: v2Request });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(new RegExp(`runtime at ${failing.url} is unavailable after 2 attempts: HTTP 503`));
      expect(failing.requests.filter((r) => r.path.endsWith("/infer"))).toHaveLength(2);
    } finally {
      await app.close();
      await failing.close();
    }
  });

  it("a runtime that stops answering is a 504 after the timeout, and is not retried", async () => {
    const slow = await startV2Runtime();
    const app = await proxy(slow.url, { timeoutMs: 100 });
    slow.setDelay(1000);
    try {
      const res = await app.inject({ method: "POST", url: "/v2/models/scorer/infer", payload: v2Request });
      expect(res.statusCode).toBe(504);
      expect(res.json().error).toMatch(/did not answer .* within 100 ms/);
      expect(slow.requests.filter((r) => r.path.endsWith("/infer"))).toHaveLength(1);
    } finally {
      await app.close();
      await slow.close();
    }
  });

  it("a runtime that is down at startup keeps the server unready and the load fails with the reason", async () => {
    const port = await freePort();
    await expect(proxy(`http://127.0.0.1:${port}`, { retries: 0 })).rejects.toThrow(
      /scorer canary: runtime at .* is unavailable after 1 attempts: .*ECONNREFUSED/,
    );
  });
});

describe("OpenAI-compatible passthrough for vLLM", () => {
  let runtime: FakeServer;
  let app: FastifyInstance;
  let logDir: string;
  beforeAll(async () => {
    runtime = await startOpenAiRuntime({ failFirst: 1 });
    logDir = mkdtempSync(join(tmpdir(), "serving-openai-log-"));
    app = await createServingServer({
      models: [{ name: "support-assistant", version: "llama-8b", runtime: "openai", upstream: { url: runtime.url, backoffMs: 5 } }],
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
      predictionLog: { target: logDir, sampleRate: 1 },
    });
  });
  afterAll(async () => {
    await app.close();
    await runtime.close();
  });

  it("forwards chat completions under the model name the runtime reports, retrying a 502, with version headers", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { model: "support-assistant", messages: [{ role: "user", content: "hi" }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-model-name"]).toBe("support-assistant");
    expect(res.headers["x-model-version"]).toBe("llama-8b");
    expect(res.json().choices[0].message.content).toBe("Hello");
    const sent = runtime.requests.filter((r) => r.path === "/v1/chat/completions");
    expect(sent).toHaveLength(2);
    expect((sent[1]?.body as { model?: string } | undefined)?.model).toBe("llama-8b");
  });

  it("streams server-sent events through unchanged", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: { messages: [{ role: "user", content: "hi" }], stream: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/event-stream");
    expect(res.body).toContain('"content":"Hel"');
    expect(res.body.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("refuses V2 tensor inference for an LLM with a 400 pointing at the OpenAI routes", async () => {
    const res = await app.inject({ method: "POST", url: "/v2/models/support-assistant/infer", payload: v2Request });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/\/v1\/chat\/completions/);
  });

  it("logs token counts of completions to the prediction log", async () => {
    await app.inject({ method: "POST", url: "/v1/completions", payload: { prompt: "hi" } });
    await app.serving.predictionLog?.flush();
    const dir = join(logDir, "support-assistant");
    const day = readdirSync(dir)[0] as string;
    const hour = readdirSync(join(dir, day))[0] as string;
    const lines = readdirSync(join(dir, day, hour)).flatMap((f) =>
      readFileSync(join(dir, day, hour, f), "utf8")
        .trim()
        .split("\n"),
    );
    const record = JSON.parse(lines.at(-1) as string);
    expect(record).toMatchObject({
      model: "support-assistant",
      version: "llama-8b",
      entities: {},
      features: {},
      outputs: { prompt_tokens: 12, completion_tokens: 3 },
    });
  });
});
