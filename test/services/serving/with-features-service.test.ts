import { nanosFromSeconds } from "../../../services/features/timestamp";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import { createRegistry } from "../../../services/core";
import { EmbeddedOnlineStore } from "../../../services/features/online/embedded";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { createServingServer } from "../../../services/serving";
import { expected, maxError, modelPath, ROOT } from "./fakes";

/**
 * Serving in front of the platform's own features service (in process, embedded online store).
 * card_stats aggregates raw transactions in the example catalog; here it is a plain view holding
 * the model's recorded inputs as rows (on-demand-features.test.ts covers aggregates through serving).
 */
const example = loadCatalog(join(ROOT, "catalog"), "mlops");
const cardStats = example.featureViews.card_stats as (typeof example.featureViews)[string];
const catalog = {
  ...example,
  featureViews: {
    ...example.featureViews,
    card_stats: {
      ...cardStats,
      aggregations: undefined,
      fields: [
        { name: "txn_count_1h", dtype: "Int64" as const, description: "" },
        { name: "txn_amount_avg_7d", dtype: "Float64" as const, description: "" },
        { name: "txn_amount_max_24h", dtype: "Float64" as const, description: "" },
      ],
    },
  },
};
let features: FastifyInstance;
let serving: FastifyInstance;
const store = new EmbeddedOnlineStore();

beforeAll(async () => {
  const now = Math.floor(Date.now() / 1000);
  const [count, avg, max, risk, chargeback] = [0, 1, 2, 3, 4];
  const at = (row: number, col: number) => (expected.inputs[row] as number[])[col] as number;
  await store.writeFeatures(
    onlineViewOf(catalog, "card_stats"),
    expected.inputs.map((_, r) => ({
      key: [100 + r],
      eventTimestamp: nanosFromSeconds(now - 60),
      values: { txn_count_1h: at(r, count), txn_amount_avg_7d: at(r, avg), txn_amount_max_24h: at(r, max) },
    })),
  );
  await store.writeFeatures(
    onlineViewOf(catalog, "merchant_stats"),
    expected.inputs.map((_, r) => ({
      key: [200 + r],
      eventTimestamp: nanosFromSeconds(now - 60),
      values: { merchant_risk: at(r, risk), chargeback_rate_30d: at(r, chargeback) },
    })),
  );
  features = await createFeaturesServer({ catalog, onlineStore: store, registry: createRegistry("features-test") });
  const featuresUrl = await features.listen({ port: 0, host: "127.0.0.1" });
  serving = await createServingServer({
    models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
    catalog,
    featuresUrl,
    registry: createRegistry("serving-test"),
    maxEventLoopDelayMs: 0,
  });
});
afterAll(async () => {
  await serving?.close();
  await features?.close();
});

describe("entity-keyed predict through the platform's features service", () => {
  it("predicts from features read from the online store, equal to the model's expected outputs", async () => {
    const res = await serving.inject({
      method: "POST",
      url: "/v1/models/fraud-scorer/predict",
      payload: { entities: { card_id: [100, 101, 102, 103, 104], merchant_id: [200, 201, 202, 203, 204] }, return_features: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(
      maxError(
        body.predictions.map((p: { probability: number }) => p.probability),
        expected.versions.v1.probability,
      ),
    ).toBeLessThan(1e-6);
    expect(Object.keys(body.features[0])).toEqual(expected.features);
  });

  it("an entity the store has never seen is a 422 naming it and the first missing feature", async () => {
    const res = await serving.inject({
      method: "POST",
      url: "/v1/models/fraud-scorer/predict",
      payload: { entities: { card_id: [100, 999], merchant_id: [200, 200] } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ feature: "txn_count_1h", status: "NOT_FOUND", entity: { card_id: 999, merchant_id: 200 } });
  });
});
