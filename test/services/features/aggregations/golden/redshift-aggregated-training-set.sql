WITH "entity" AS (SELECT * FROM (SELECT ROW_NUMBER() OVER (ORDER BY event_timestamp) AS _entity_row, * FROM "features"."entity_rows") AS "entity_rows"),
"card_txn__asof" AS (
  SELECT "agg"."_entity_row",
    "agg"."card_txn__count_1h",
    "agg"."card_txn__amount_mean_7d",
    "agg"."card_txn__amount_mean_30d",
    "agg"."card_txn__high_value_sum_30d",
    "agg"."card_txn__merchant_id_count_distinct_30d",
    (CAST("agg"."card_txn__amount_mean_7d" AS DOUBLE PRECISION) / NULLIF(CAST("agg"."card_txn__amount_mean_30d" AS DOUBLE PRECISION), 0)) AS "card_txn__amount_trend_7d_30d"
  FROM (
    SELECT "e"."_entity_row",
    COUNT(CASE WHEN "source"."__us" > ((("e"."__entity_us" - 3600000000) / 300000000) * 300000000) THEN "source"."__us" END) AS "card_txn__count_1h",
    AVG(CASE WHEN "source"."__us" > ((("e"."__entity_us" - 604800000000) / 3600000000) * 3600000000) THEN CAST("source"."amount" AS DOUBLE PRECISION) END) AS "card_txn__amount_mean_7d",
    AVG(CASE WHEN "source"."__us" > ((("e"."__entity_us" - 2592000000000) / 86400000000) * 86400000000) THEN CAST("source"."amount" AS DOUBLE PRECISION) END) AS "card_txn__amount_mean_30d",
    CAST(SUM(CASE WHEN "source"."__us" > ((("e"."__entity_us" - 2592000000000) / 86400000000) * 86400000000) AND (("source"."amount" > 100)) THEN "source"."amount" END) AS DOUBLE PRECISION) AS "card_txn__high_value_sum_30d",
    COUNT(DISTINCT CASE WHEN "source"."__us" > ((("e"."__entity_us" - 2592000000000) / 86400000000) * 86400000000) THEN "source"."merchant_id" END) AS "card_txn__merchant_id_count_distinct_30d"
    FROM (SELECT "_entity_row", "card_id", DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', "event_timestamp") AS "__entity_us" FROM "entity") AS "e"
    LEFT JOIN (SELECT *, DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', "event_timestamp") AS "__us" FROM "transactions" AS "raw") AS "source"
      ON "source"."card_id" = "e"."card_id"
      AND "source"."__us" <= "e"."__entity_us"
      AND "source"."__us" > "e"."__entity_us" - 2678400000000
    GROUP BY "e"."_entity_row"
  ) AS "agg"
)
SELECT "entity"."card_id",
  "entity"."event_timestamp",
  "entity"."amount",
  "entity"."ts",
  "card_txn__asof"."card_txn__count_1h" AS "count_1h",
  "card_txn__asof"."card_txn__amount_mean_7d" AS "amount_mean_7d",
  "card_txn__asof"."card_txn__high_value_sum_30d" AS "high_value_sum_30d",
  "card_txn__asof"."card_txn__merchant_id_count_distinct_30d" AS "merchant_id_count_distinct_30d",
  "card_txn__asof"."card_txn__amount_trend_7d_30d" AS "amount_trend_7d_30d",
  (CAST(CAST("entity"."amount" AS DOUBLE PRECISION) AS DOUBLE PRECISION) / NULLIF(CAST("card_txn__asof"."card_txn__amount_mean_7d" AS DOUBLE PRECISION), 0)) AS "amount_vs_mean_7d",
  (((((DATEDIFF(microsecond, TIMESTAMP '1970-01-01 00:00:00', CAST("entity"."ts" AS TIMESTAMP))) / 86400000000) + 3) % 7) >= 5) AS "is_weekend"
FROM "entity"
LEFT JOIN "card_txn__asof" ON "card_txn__asof"."_entity_row" = "entity"."_entity_row"
ORDER BY "entity"."_entity_row"
