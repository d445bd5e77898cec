import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { buildTrainingSet } from "../../../../services/features/training-set";
import { type OfflineUnderTest, offlineStoresUnderTest } from "../support";

const catalog = loadCatalog(join(__dirname, "..", "..", "..", "definition", "fixtures", "aggregations"), "p");

/** The worked example of docs/feature-engineering.md, plus a second card with no events in range. */
const EVENTS = [
  "CREATE TABLE transactions (card_id BIGINT, event_timestamp TIMESTAMP, amount DOUBLE PRECISION, merchant_id BIGINT)",
  `INSERT INTO transactions VALUES
    (1, '2024-06-01 10:00:00', 10, 7),
    (1, '2024-06-01 10:02:30', 20, 7),
    (1, '2024-06-01 11:00:00', 30, 8),
    (1, '2024-06-01 11:03:00', NULL, 9),
    (1, '2024-06-01 11:03:00.000001', 500, 9),
    (2, '2024-05-01 00:00:00', 1, 1)`,
];

const ENTITY_ROWS = [
  { card_id: 1, event_timestamp: "2024-06-01 11:00:00", amount: "15", ts: "2024-06-01 11:00:00" },
  { card_id: 1, event_timestamp: "2024-06-01 11:03:00", amount: "40", ts: "2024-06-01 11:03:00" },
  { card_id: 1, event_timestamp: "2024-06-01 11:05:00", amount: "0", ts: "2024-06-01 11:05:00" },
  { card_id: 2, event_timestamp: "2024-06-01 11:05:00", amount: "3", ts: "2024-06-02 11:05:00" },
];

describe.each(offlineStoresUnderTest("agg_training"))("training sets of aggregated views on %s", (_name, open) => {
  let store: OfflineUnderTest;
  beforeAll(async () => {
    store = await open();
    await store.setup(EVENTS);
  });
  afterAll(() => store.done());

  it("aggregate the events with floor_tile(t - window) < event time <= t, as the worked example says", async () => {
    const result = await buildTrainingSet(catalog, store.offline, {
      entities: { rows: ENTITY_ROWS },
      features: [
        "card_txn:count_1h",
        "card_txn:amount_mean_7d",
        "card_txn:amount_max_24h",
        "card_txn:high_value_sum_30d",
        "card_txn:merchant_id_count_distinct_30d",
        "card_txn:amount_last_n_1d",
        "card_txn:amount_trend_7d_30d",
        "txn_context:amount_vs_mean_7d",
        "txn_context:hour_of_day",
        "txn_context:is_weekend",
      ],
    });
    expect(result.records?.map((r) => ({ ...r }))).toEqual([
      {
        card_id: 1,
        event_timestamp: expect.anything(),
        amount: "15",
        ts: "2024-06-01 11:00:00",
        count_1h: 2,
        amount_mean_7d: 20,
        amount_max_24h: 30,
        high_value_sum_30d: null,
        merchant_id_count_distinct_30d: 2,
        amount_last_n_1d: [30, 20, 10],
        amount_trend_7d_30d: 1,
        amount_vs_mean_7d: 0.75,
        hour_of_day: 11,
        is_weekend: true,
      },
      expect.objectContaining({ count_1h: 3, amount_mean_7d: 20, merchant_id_count_distinct_30d: 3, amount_vs_mean_7d: 2 }),
      expect.objectContaining({ count_1h: 3, amount_mean_7d: 140, high_value_sum_30d: 500, amount_last_n_1d: [500, 30, 20] }),
      expect.objectContaining({
        card_id: 2,
        count_1h: 0,
        amount_mean_7d: null,
        merchant_id_count_distinct_30d: 0,
        amount_last_n_1d: [],
        amount_trend_7d_30d: null,
        amount_vs_mean_7d: null,
        hour_of_day: 11,
        is_weekend: true, // 2024-06-02 was a Sunday
      }),
    ]);
  });
});
