WITH `entity` AS (SELECT * FROM (SELECT ROW_NUMBER() OVER () AS _entity_row, * FROM `acme-ml.features.entity_rows`) AS `entity_rows`),
`driver_hourly_stats__asof` AS (
  SELECT `entity`.`_entity_row`, `source`.`conv_rate` AS `driver_hourly_stats__conv_rate`, `source`.`avg_daily_trips` AS `driver_hourly_stats__avg_daily_trips`,
    ROW_NUMBER() OVER (PARTITION BY `entity`.`_entity_row` ORDER BY `source`.`event_timestamp` DESC, `source`.`created` DESC) AS `_feast_rank`
  FROM `entity`
  JOIN `acme-ml.features.driver_hourly_stats` AS `source`
    ON `source`.`driver_id` = `entity`.`driver_id`
    AND `source`.`event_timestamp` <= `entity`.`event_timestamp`
    AND `source`.`event_timestamp` >= TIMESTAMP_SUB(`entity`.`event_timestamp`, INTERVAL 7200 SECOND)
),
`zone_demand__asof` AS (
  SELECT `entity`.`_entity_row`, `source`.`demand` AS `zone_demand__demand`,
    ROW_NUMBER() OVER (PARTITION BY `entity`.`_entity_row` ORDER BY `source`.`event_timestamp` DESC) AS `_feast_rank`
  FROM `entity`
  JOIN `acme-ml.features.zone_demand` AS `source`
    ON `source`.`zone` = `entity`.`zone`
    AND `source`.`hour` = `entity`.`hour`
    AND `source`.`event_timestamp` <= `entity`.`event_timestamp`
    AND `source`.`event_timestamp` >= TIMESTAMP_SUB(`entity`.`event_timestamp`, INTERVAL 3600 SECOND)
),
`rider_profile__asof` AS (
  SELECT `entity`.`_entity_row`, `source`.`home_city` AS `rider_profile__home_city`,
    ROW_NUMBER() OVER (PARTITION BY `entity`.`_entity_row` ORDER BY `source`.`event_timestamp` DESC) AS `_feast_rank`
  FROM `entity`
  JOIN `acme-ml.features.rider_profile` AS `source`
    ON `source`.`rider_id` = `entity`.`rider_id`
    AND `source`.`event_timestamp` <= `entity`.`event_timestamp`
)
SELECT `entity`.`driver_id`,
  `entity`.`zone`,
  `entity`.`hour`,
  `entity`.`rider_id`,
  `entity`.`event_timestamp`,
  `driver_hourly_stats__asof`.`driver_hourly_stats__conv_rate` AS `driver_hourly_stats__conv_rate`,
  `driver_hourly_stats__asof`.`driver_hourly_stats__avg_daily_trips` AS `driver_hourly_stats__avg_daily_trips`,
  `zone_demand__asof`.`zone_demand__demand` AS `zone_demand__demand`,
  `rider_profile__asof`.`rider_profile__home_city` AS `rider_profile__home_city`
FROM `entity`
LEFT JOIN `driver_hourly_stats__asof` ON `driver_hourly_stats__asof`.`_entity_row` = `entity`.`_entity_row` AND `driver_hourly_stats__asof`.`_feast_rank` = 1
LEFT JOIN `zone_demand__asof` ON `zone_demand__asof`.`_entity_row` = `entity`.`_entity_row` AND `zone_demand__asof`.`_feast_rank` = 1
LEFT JOIN `rider_profile__asof` ON `rider_profile__asof`.`_entity_row` = `entity`.`_entity_row` AND `rider_profile__asof`.`_feast_rank` = 1
ORDER BY `entity`.`_entity_row`
