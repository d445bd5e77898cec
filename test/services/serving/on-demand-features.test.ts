import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import type { ModelSpec } from "../../../definition/registry";
import { createRegistry } from "../../../services/core";
import { openTileStore } from "../../../services/features/aggregations";
import type { TileStore } from "../../../services/features/aggregations/tile-store";
import { type OnlineStore, openOnlineStore } from "../../../services/features/online/store";
import { createFeaturesServer } from "../../../services/features/server";
import { createServingServer } from "../../../services/serving";
import { type RedisServer, startRedis } from "../../support/redis";
import { modelPath, ROOT } from "./fakes";

/**
 * Serving's entity-keyed predict in front of the platform's features service on a real Redis, for a
 * feature service with aggregates (from raw events pushed into tiles), a derived feature and
 * on-demand features computed from the request's own fields (amount, ts): serving must pass those
 * fields on, and the model must see exactly what the features service computes from them.
 */
const fixture = loadCatalog(join(ROOT, "test", "definition", "fixtures", "aggregations"), "p");
const fraud = loadCatalog(join(ROOT, "catalog"), "mlops");
// The fraud scorer takes [N, 5] floats; card_scorer has five features too (the last one a Bool).
const catalog = {
  ...fixture,
  models: { "card-scorer": { ...(fraud.models["fraud-scorer"] as ModelSpec), featureService: "card_scorer" } },
};
let redis: RedisServer;
let online: OnlineStore;
let tiles: TileStore;
let features: FastifyInstance;
let serving: FastifyInstance;
const nowMs = Date.now();

beforeAll(async () => {
  redis = await startRedis();
  online = await openOnlineStore(redis.url, { timeoutMs: 1000 });
  tiles = await openTileStore(redis.url, catalog, { timeoutMs: 1000 });
  features = await createFeaturesServer({ catalog, onlineStore: online, tileStore: tiles, registry: createRegistry("features-odfv") });
  const featuresUrl = await features.listen({ port: 0, host: "127.0.0.1" });
  serving = await createServingServer({
    models: [{ name: "card-scorer", version: "v1", uri: modelPath("v1") }],
    catalog,
    featuresUrl,
    registry: createRegistry("serving-odfv"),
    maxEventLoopDelayMs: 0,
  });
  const at = (minutesAgo: number) => new Date(nowMs - minutesAgo * 60_000).toISOString();
  const pushed = await features.inject({
    method: "POST",
    url: "/push",
    payload: {
      push_source_name: "transactions_push",
      df: { card_id: [1, 1, 2], event_timestamp: [at(30), at(10), at(20)], amount: [10, 30, 8], merchant_id: [7, 8, 7] },
    },
  });
  expect(pushed.statusCode, pushed.body).toBe(200);
});
afterAll(async () => {
  await serving?.close();
  await features?.close();
  await tiles?.close();
  await online?.close();
  await redis?.stop();
});

describe("entity-keyed predict with on-demand features", () => {
  it("passes the request's fields to the features service and predicts on what it computes from them", async () => {
    const res = await serving.inject({
      method: "POST",
      url: "/v1/models/card-scorer/predict",
      payload: {
        entities: { card_id: [1, 2], amount: [40.5, 4], ts: ["2024-06-01T11:03:00Z", "2024-06-03T09:00:00Z"] },
        return_features: true,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { predictions: { probability: number[] }[]; features: Record<string, unknown>[] };
    // card 1: mean 20 over 7 days, so amount_vs_mean_7d = 40.5 / 20; 2024-06-01 is a Saturday.
    expect(body.features).toEqual([
      { count_1h: 2, amount_mean_7d: 20, amount_trend_7d_30d: 1, amount_vs_mean_7d: 2.025, is_weekend: true },
      { count_1h: 1, amount_mean_7d: 8, amount_trend_7d_30d: 1, amount_vs_mean_7d: 0.5, is_weekend: false },
    ]);
    const session = await ort.InferenceSession.create(modelPath("v1"));
    const input = new ort.Tensor("float32", Float32Array.from([2, 20, 1, 2.025, 1, 1, 8, 1, 0.5, 0]), [2, 5]);
    const out = await session.run({ [session.inputNames[0] as string]: input });
    const want = Array.from(out[session.outputNames[0] as string]?.data as Float32Array);
    expect(body.predictions.map((p) => (Array.isArray(p.probability) ? p.probability[0] : p.probability))).toEqual(want);
  });

  it("answers 400 naming a request field the caller left out", async () => {
    const res = await serving.inject({
      method: "POST",
      url: "/v1/models/card-scorer/predict",
      payload: { entities: { card_id: [1], amount: [40.5] } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/request field\(s\) "ts"/);
  });
});
