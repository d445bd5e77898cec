UNLOAD ('SELECT "export_rows".*, MOD(STRTOL(SUBSTRING(MD5(COALESCE(CAST("driver_id" AS VARCHAR), '''')), 1, 8), 16), 3) AS "_shard"
FROM (
SELECT "driver_id", "conv_rate", "acc_rate", "avg_daily_trips", "event_timestamp" AS "event_timestamp"
FROM (
  SELECT "driver_id", "conv_rate", "acc_rate", "avg_daily_trips", "event_timestamp",
    ROW_NUMBER() OVER (PARTITION BY "driver_id" ORDER BY "event_timestamp" DESC, "created" DESC) AS "_feast_row"
  FROM "driver_hourly_stats" AS "source"
  WHERE "event_timestamp" BETWEEN TIMESTAMP ''2024-05-01 00:00:00.000'' AND TIMESTAMP ''2024-05-02 00:00:00.000''
) AS "latest"
WHERE "_feast_row" = 1
) AS "export_rows"')
TO 's3://acme-ml-artifacts/materialization/driver_hourly_stats/run-1/'
IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-unload'
FORMAT AS PARQUET
PARTITION BY ("_shard")
MAXFILESIZE 256 MB
MANIFEST VERBOSE
ALLOWOVERWRITE
