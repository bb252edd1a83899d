-- id: stations_in_their_region
-- severity: error
-- description: Every station is in a known region or abroad, consistently (abroad: no region, commission 0); its id repeats its region, commission and number; its vote rows carry the region whose totals count it; and it has a final protocol.
-- table: stations
-- tolerance: 0
-- Coverage guard: a station without a final protocol is reported (the region sums would miss it).
WITH expected_ids AS (
    SELECT *, CASE WHEN is_abroad THEN 'ab/0/' ELSE substr(region_id, 4) || '/' || territorial_commission_number || '/' END
              || station_number AS expected_id
    FROM stations
)
SELECT 'stations' AS table_name, 'station_id=' || station_id AS record_key, 'region_id' AS column_name,
       'null abroad, a region otherwise' AS expected, coalesce(region_id, 'null') AS actual,
       'is_abroad is ' || is_abroad || ' but region_id is ' || coalesce(region_id, 'null') AS message
FROM stations WHERE is_abroad = (region_id IS NOT NULL)
UNION ALL
SELECT 'stations', 'station_id=' || station_id, 'counted_in_region_id', region_id, counted_in_region_id,
       'a station in Kazakhstan is counted in its own region'
FROM stations WHERE NOT is_abroad AND counted_in_region_id <> region_id
UNION ALL
SELECT 'stations', 'station_id=' || station_id, 'station_id', coalesce(expected_id, 'null'), station_id,
       'the id does not repeat the station''s region, commission and number'
FROM expected_ids WHERE expected_id IS DISTINCT FROM station_id
UNION ALL
SELECT 'stations', 'station_id=' || station_id, 'territorial_commission_number', '0 abroad, 1 or more at home',
       coalesce(CAST(territorial_commission_number AS VARCHAR), 'null'),
       'a station abroad has commission 0, a station at home a commission of its region'
FROM stations WHERE (territorial_commission_number = 0) IS DISTINCT FROM is_abroad
UNION ALL
SELECT 'stations', 'station_id=' || station_id, 'station_id', 'a final protocol', 'none',
       'the station has no final protocol in station_ballots'
FROM stations ANTI JOIN (SELECT station_id FROM station_ballots WHERE protocol_version = 'final') USING (station_id)
UNION ALL
SELECT 'station_votes', 'station_id=' || v.station_id || ', protocol_version=' || v.protocol_version || ', option_id=' || v.option_id,
       'region_id', s.counted_in_region_id, v.region_id,
       'the vote row carries another region than the one whose totals count the station'
FROM station_votes AS v JOIN stations AS s USING (station_id)
WHERE v.region_id <> s.counted_in_region_id
ORDER BY table_name, record_key, column_name
