SELECT `driver_id`, `conv_rate`, `acc_rate`, `avg_daily_trips`, `event_timestamp` AS `event_timestamp`
FROM (
  SELECT `driver_id`, `conv_rate`, `acc_rate`, `avg_daily_trips`, `event_timestamp`,
    ROW_NUMBER() OVER (PARTITION BY `driver_id` ORDER BY `event_timestamp` DESC, `created` DESC) AS `_feast_row`
  FROM `acme-ml.features.driver_hourly_stats` AS `source`
  WHERE `event_timestamp` BETWEEN TIMESTAMP('2024-05-01 00:00:00.000+00:00') AND TIMESTAMP('2024-05-02 00:00:00.000+00:00')
) AS `latest`
WHERE `_feast_row` = 1
