import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { expected, modelPath, startV2Runtime } from "./fakes";

const v2Request = { inputs: [{ name: "INPUT0", shape: [1, 2], datatype: "FP32", data: [1, 2] }] };
const fraudRequest = { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: expected.inputs[0] as number[] }] };

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: "127.0.0.1" });
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("load shedding", () => {
  it("sheds requests past the in-flight bound with 503 and Retry-After, serves the rest, and keeps running", async () => {
    const runtime = await startV2Runtime({ delayMs: 300 });
    const app = await createServingServer({
      models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }],
      registry: createRegistry("serving-test"),
      maxInFlight: 3,
      retryAfterSeconds: 2,
      maxEventLoopDelayMs: 0,
    });
    try {
      const base = await listen(app);
      const responses = await Promise.all(Array.from({ length: 12 }, () => post(`${base}/v2/models/scorer/infer`, v2Request)));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 503)).toHaveLength(9);
      const shed = responses.find((r) => r.status === 503) as Response;
      expect(shed.headers.get("retry-after")).toBe("2");
      expect((await shed.json()).error).toMatch(/overloaded \(3 requests in flight, limit 3\)/);
      // Probes are never shed, and once the burst is over requests are served again.
      expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
      expect((await post(`${base}/v2/models/scorer/infer`, v2Request)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/mlops_serving_predictions_total\{[^}]*model="scorer",version="v1",status="shed"[^}]*\} 9/);
    } finally {
      await app.close();
      await runtime.close();
    }
  });

  it("sheds prediction requests while the event loop is delayed, but not probes, and recovers", async () => {
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 40,
    });
    try {
      // Saturate the loop the way CPU-bound work does: 100 ms slices back to back for a second.
      const hogUntil = Date.now() + 1000;
      const hog = () => {
        const sliceEnd = Date.now() + 100;
        while (Date.now() < sliceEnd) {
          /* busy */
        }
        if (Date.now() < hogUntil) setImmediate(hog);
      };
      setImmediate(hog);
      const during: { status: number; retryAfter?: string; error?: string; live: number }[] = [];
      while (Date.now() < hogUntil) {
        const res = await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload: fraudRequest });
        const live = (await app.inject("/v2/health/live")).statusCode;
        during.push({
          status: res.statusCode,
          retryAfter: res.headers["retry-after"] as string | undefined,
          error: res.json().error,
          live,
        });
      }
      const shed = during.filter((d) => d.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(shed[0]).toMatchObject({ retryAfter: "1", error: expect.stringMatching(/event-loop delay/) });
      // Liveness never fails under load (a restart would make the overload worse).
      expect(during.every((d) => d.live === 200)).toBe(true);
      let status = 503;
      for (let i = 0; i < 100 && status === 503; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await app.inject({ method: "POST", url: "/v2/models/fraud-scorer/infer", payload: fraudRequest })).statusCode;
      }
      expect(status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe("clients that hang up", () => {
  it("release their in-flight slot and gauge, so aborted requests cannot wedge the server into shedding", async () => {
    const runtime = await startV2Runtime({ delayMs: 300 });
    const app = await createServingServer({
      models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }],
      registry: createRegistry("serving-test"),
      maxInFlight: 1,
      maxEventLoopDelayMs: 0,
    });
    try {
      const base = await listen(app);
      for (let i = 0; i < 3; i++) {
        const controller = new AbortController();
        const aborted = fetch(`${base}/v2/models/scorer/infer`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(v2Request),
          signal: controller.signal,
        });
        await new Promise((r) => setTimeout(r, 50));
        controller.abort();
        await expect(aborted).rejects.toThrow();
        await new Promise((r) => setTimeout(r, 400));
      }
      expect((await post(`${base}/v2/models/scorer/infer`, v2Request)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/mlops_serving_in_flight_requests\{[^}]*model="scorer",version="v1"[^}]*\} 0/);
      expect(metrics).toMatch(/mlops_serving_predictions_total\{[^}]*model="scorer",version="v1",status="error"[^}]*\} 3/);
      expect(metrics).toMatch(
        /mlops_serving_request_duration_seconds_count\{[^}]*model="scorer",version="v1",route="\/v2\/models\/:name\/infer",status="499"[^}]*\} 3/,
      );
    } finally {
      await app.close();
      await runtime.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("drains in-flight requests, refuses new ones, then flushes the prediction log", async () => {
    const runtime = await startV2Runtime({ delayMs: 400 });
    const logDir = mkdtempSync(join(tmpdir(), "serving-drain-"));
    const app = await createServingServer({
      models: [{ name: "scorer", version: "v1", runtime: "kserve-v2", upstream: { url: runtime.url } }],
      registry: createRegistry("serving-test"),
      maxEventLoopDelayMs: 0,
      // A flush interval longer than the test: only shutdown can have written the record.
      predictionLog: { target: logDir, sampleRate: 1, flushIntervalMs: 60_000 },
    });
    const base = await listen(app);
    try {
      const inFlight = post(`${base}/v2/models/scorer/infer`, { ...v2Request, id: "draining" });
      // Close once the request is inside the server (the runtime has it and is taking 400 ms).
      while (!runtime.requests.some((r) => r.path.endsWith("/infer"))) await new Promise((r) => setTimeout(r, 5));
      const closing = app.close();
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect((await response.json()).id).toBe("draining");
      await closing;
      await expect(fetch(`${base}/v2/health/live`)).rejects.toThrow();
      const dir = join(logDir, "scorer");
      const day = readdirSync(dir)[0] as string;
      const hour = readdirSync(join(dir, day))[0] as string;
      const files = readdirSync(join(dir, day, hour));
      expect(files).toHaveLength(1);
      const record = JSON.parse(readFileSync(join(dir, day, hour, files[0] as string), "utf8"));
      expect(record).toMatchObject({
        model: "scorer",
        version: "v1",
        request_id: "draining",
        features: { INPUT0_0: 1, INPUT0_1: 2 },
        outputs: { OUTPUT0: 3 },
      });
    } finally {
      await runtime.close();
    }
  });
});
