import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { openTileStore } from "../../../../services/features/aggregations";
import type { TileStore } from "../../../../services/features/aggregations/tile-store";
import { openOnlineStore, type OnlineStore } from "../../../../services/features/online/store";
import { createFeaturesServer } from "../../../../services/features/server";
import { type RedisServer, startRedis } from "../../../support/redis";

const fixture = loadCatalog(join(__dirname, "..", "..", "..", "definition", "fixtures", "aggregations"), "p");
const cardTxn = fixture.featureViews.card_txn as (typeof fixture.featureViews)[string];
// Two hours of lateness, so the worked example's 10:00 event can still be pushed at 11:03.
const catalog = { ...fixture, featureViews: { ...fixture.featureViews, card_txn: { ...cardTxn, allowedLateness: 7200 } } };
// Saturday 2024-06-01 11:03:00 UTC, the worked example's second t.
let clock = Date.UTC(2024, 5, 1, 11, 3) / 1000;

let redis: RedisServer;
let store: OnlineStore;
let tiles: TileStore;
let app: FastifyInstance;

beforeAll(async () => {
  redis = await startRedis();
  store = await openOnlineStore(redis.url, { timeoutMs: 500 });
  tiles = await openTileStore(redis.url, catalog, { timeoutMs: 500 });
  app = await createFeaturesServer({ catalog, onlineStore: store, tileStore: tiles, now: () => clock });
});
afterAll(async () => {
  await app?.close();
  await tiles?.close();
  await store?.close();
  await redis?.stop();
});

const post = async (url: string, payload: unknown) => {
  const response = await app.inject({ method: "POST", url, payload: payload as Record<string, unknown> });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
};

describe("raw events pushed to an aggregated view", () => {
  it("are served as aggregates, derived and on-demand features as of now (the worked example)", async () => {
    const pushed = await post("/push", {
      push_source_name: "transactions_push",
      df: {
        card_id: [1, 1, 1, 1],
        event_timestamp: ["2024-06-01 11:00:00", "2024-06-01 10:00:00", "2024-06-01 11:03:00", "2024-06-01 10:02:30"],
        amount: [30, 10, null, 20],
        merchant_id: [8, 7, 9, 7],
      },
    });
    expect(pushed).toEqual({ status: 200, body: { rows: 4, online: { written: 4, skipped: 0 } } });
    const read = await post("/get-online-features", {
      features: [
        "card_txn:count_1h",
        "card_txn:amount_mean_7d",
        "card_txn:amount_last_n_1d",
        "txn_context:amount_vs_mean_7d",
        "txn_context:is_weekend",
      ],
      entities: { card_id: [1, 2], amount: [40, 5], ts: ["2024-06-01T11:03:00Z", "2024-06-03T09:00:00Z"] },
    });
    expect(read.status).toBe(200);
    const names = (read.body.metadata as { feature_names: string[] }).feature_names;
    const values = Object.fromEntries(names.map((n, i) => [n, (read.body.results as { values: unknown[] }[])[i]?.values]));
    expect(values).toMatchObject({
      card_id: [1, 2],
      count_1h: [3, 0],
      amount_mean_7d: [20, null],
      amount_last_n_1d: [[30, 20, 10], []],
      amount_vs_mean_7d: [2, null],
      is_weekend: [true, false],
    });
    // Five minutes later the event at 10:02:30 has left the hour (tiles of 5 minutes).
    clock += 120;
    const later = await post("/get-online-features", { features: ["card_txn:count_1h"], entities: { card_id: [1] } });
    expect((later.body.results as { values: unknown[] }[])[1]?.values).toEqual([2]);
  });

  it("refuses events older than allowedLateness with the reason and counts them", async () => {
    const pushed = await post("/push", {
      push_source_name: "transactions_push",
      df: { card_id: [3, 3], event_timestamp: ["2024-06-01 08:00:00", "2024-06-01 11:04:00"], amount: [1, 2], merchant_id: [1, 1] },
    });
    expect(pushed.status).toBe(200);
    expect(pushed.body.online).toEqual({ written: 1, skipped: 0 });
    expect(pushed.body.refused).toEqual([
      {
        row: 0,
        feature_view: "card_txn",
        reason: expect.stringMatching(/s old, beyond allowedLateness 7200 s of feature view "card_txn"/),
      },
    ]);
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/mlops_features_late_events_total\{[^}]*feature_view="card_txn"[^}]*\} 1/);
  });

  it("answers 400 naming the row and the column for a value of the wrong type", async () => {
    const pushed = await post("/push", {
      push_source_name: "transactions_push",
      df: { card_id: [4], event_timestamp: ["2024-06-01 11:04:00"], amount: ["lots"], merchant_id: [1] },
    });
    expect(pushed.status).toBe(400);
    expect(String(pushed.body.error)).toMatch(/df row 0: .*lots/);
  });
});
