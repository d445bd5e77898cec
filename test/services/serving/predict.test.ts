import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import { createRegistry } from "../../../services/core";
import { createServingServer } from "../../../services/serving";
import { freePort } from "../../support/redis";
import { expected, maxError, modelPath, ROOT, startFeast, type FakeServer, type FeatureRows } from "./fakes";

/**
 * Entity-keyed predict against a Feast-compatible features service. The platform's own
 * features service was not yet in the tree when this was written, so the other side is an
 * in-test server answering with Feast's documented /get-online-features shape.
 */
const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
const rowFor = (values: number[]) => Object.fromEntries(expected.features.map((f, i) => [f, values[i] as number]));
const rows: FeatureRows = {
  "1/7": rowFor(expected.inputs[0] as number[]),
  "2/8": rowFor(expected.inputs[1] as number[]),
  "3/9": rowFor(expected.inputs[2] as number[]),
  "4/7": { ...rowFor(expected.inputs[3] as number[]), merchant_risk: undefined },
  "5/7": { ...rowFor(expected.inputs[4] as number[]), chargeback_rate_30d: null },
};

async function server(featuresUrl: string, featuresTimeoutMs = 1000): Promise<FastifyInstance> {
  return createServingServer({
    models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
    catalog,
    featuresUrl,
    featuresTimeoutMs,
    registry: createRegistry("serving-test"),
    maxEventLoopDelayMs: 0,
  });
}

let feast: FakeServer;
let app: FastifyInstance;
beforeAll(async () => {
  feast = await startFeast(rows);
  app = await server(feast.url);
});
afterAll(async () => {
  await app.close();
  await feast.close();
});

const predict = (target: FastifyInstance, payload: unknown) =>
  target.inject({ method: "POST", url: "/v1/models/fraud-scorer/predict", payload: payload as object });

describe("entity-keyed predict", () => {
  it("fetches the feature service, builds the tensor in its order and returns the model's predictions", async () => {
    const res = await predict(app, { entities: { card_id: [1, 2, 3], merchant_id: [7, 8, 9] }, return_features: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["x-model-version"]).toBe("v1");
    const body = res.json();
    expect(body.model_name).toBe("fraud-scorer");
    expect(body.predictions).toHaveLength(3);
    expect(
      maxError(
        body.predictions.map((p: { probability: number }) => p.probability),
        expected.versions.v1.probability,
      ),
    ).toBeLessThan(1e-6);
    expect(body.features[2]).toEqual(rowFor(expected.inputs[2] as number[]));
    expect(Object.keys(body.features[0])).toEqual(expected.features);
    const sent = feast.requests.at(-1)?.body as { feature_service: string; entities: unknown };
    expect(sent.feature_service).toBe("fraud_scorer_v1");
    expect(sent.entities).toEqual({ card_id: [1, 2, 3], merchant_id: [7, 8, 9] });
  });

  it("leaves the features out unless asked", async () => {
    const res = await predict(app, { entities: { card_id: [1], merchant_id: [7] } });
    expect(res.statusCode).toBe(200);
    expect(res.json().features).toBeUndefined();
  });

  it("a feature the store does not have is a 422 naming the entity and the feature", async () => {
    const res = await predict(app, { entities: { card_id: [1, 4], merchant_id: [7, 7] } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ feature: "merchant_risk", status: "NOT_FOUND", entity: { card_id: 4, merchant_id: 7 } });
    expect(res.json().error).toMatch(/merchant_risk.*NOT_FOUND.*"card_id":4/);
  });

  it("a null feature value is a 422 too, not a made-up zero", async () => {
    const res = await predict(app, { entities: { card_id: [5], merchant_id: [7] } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ feature: "chargeback_rate_30d", status: "NULL_VALUE" });
  });

  it("a missing join key is a 400 naming it", async () => {
    const res = await predict(app, { entities: { card_id: [1] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/"merchant_id"/);
  });

  it("entity columns of different lengths are a 400", async () => {
    const res = await predict(app, { entities: { card_id: [1, 2], merchant_id: [7] } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/card_id: 2, merchant_id: 1/);
  });

  it("records the feature fetch time by model and version", async () => {
    await predict(app, { entities: { card_id: [1], merchant_id: [7] } });
    const text = (await app.inject("/metrics")).body;
    expect(text).toMatch(/mlops_serving_feature_fetch_duration_seconds_count\{[^}]*model="fraud-scorer",version="v1"[^}]*\} [1-9]/);
  });
});

describe("when the features service fails", () => {
  it("an unreachable features service is a 503 with the reason", async () => {
    const port = await freePort();
    const down = await server(`http://127.0.0.1:${port}`);
    try {
      const res = await predict(down, { entities: { card_id: [1], merchant_id: [7] } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/features service .* is unavailable: .*ECONNREFUSED/);
      // The process is fine: raw-tensor inference still works.
      const infer = await down.inject({
        method: "POST",
        url: "/v2/models/fraud-scorer/infer",
        payload: { inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: expected.inputs[0] as number[] }] },
      });
      expect(infer.statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });

  it("a features service slower than the timeout is a 503, not a hang", async () => {
    const slow = await startFeast(rows, { delayMs: 500 });
    const target = await server(slow.url, 100);
    try {
      const started = Date.now();
      const res = await predict(target, { entities: { card_id: [1], merchant_id: [7] } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/no answer within 100 ms/);
      expect(Date.now() - started).toBeLessThan(450);
    } finally {
      await target.close();
      await slow.close();
    }
  });

  it("a features service answering 500 is a 503 passing on its reason", async () => {
    const broken = await startFeast(rows, { status: 500 });
    const target = await server(broken.url);
    try {
      const res = await predict(target, { entities: { card_id: [1], merchant_id: [7] } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/online store unavailable/);
    } finally {
      await target.close();
      await broken.close();
    }
  });
});
