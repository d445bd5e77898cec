CREATE TEMP TABLE `materialize_export` AS
SELECT `export_rows`.*, MOD(CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(COALESCE(CAST(`driver_id` AS STRING), ''))), 1, 8)) AS INT64), 3) AS `_shard`
FROM (
SELECT `driver_id`, `conv_rate`, `acc_rate`, `avg_daily_trips`, `event_timestamp` AS `event_timestamp`
FROM (
  SELECT `driver_id`, `conv_rate`, `acc_rate`, `avg_daily_trips`, `event_timestamp`,
    ROW_NUMBER() OVER (PARTITION BY `driver_id` ORDER BY `event_timestamp` DESC, `created` DESC) AS `_feast_row`
  FROM `acme-ml.features.driver_hourly_stats` AS `source`
  WHERE `event_timestamp` BETWEEN TIMESTAMP('2024-05-01 00:00:00.000+00:00') AND TIMESTAMP('2024-05-02 00:00:00.000+00:00')
) AS `latest`
WHERE `_feast_row` = 1
) AS `export_rows`;
EXPORT DATA OPTIONS (uri = 'gs://acme-ml-artifacts/materialization/driver_hourly_stats/run-1/_shard=0/part-*.parquet', format = 'PARQUET', overwrite = true) AS
SELECT * EXCEPT (`_shard`) FROM `materialize_export` WHERE `_shard` = 0;
EXPORT DATA OPTIONS (uri = 'gs://acme-ml-artifacts/materialization/driver_hourly_stats/run-1/_shard=1/part-*.parquet', format = 'PARQUET', overwrite = true) AS
SELECT * EXCEPT (`_shard`) FROM `materialize_export` WHERE `_shard` = 1;
EXPORT DATA OPTIONS (uri = 'gs://acme-ml-artifacts/materialization/driver_hourly_stats/run-1/_shard=2/part-*.parquet', format = 'PARQUET', overwrite = true) AS
SELECT * EXCEPT (`_shard`) FROM `materialize_export` WHERE `_shard` = 2;
SELECT `_shard` AS shard, COUNT(*) AS `rows` FROM `materialize_export` GROUP BY `_shard` ORDER BY shard;
