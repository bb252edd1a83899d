-- id: station_ballots_sum_to_regions
-- severity: error
-- description: The final protocols' registered voters, ballots cast and invalid ballots, summed over the stations a region's totals count, equal the region's published figures (region_ballots), and summed over all stations the national ones (national_ballots).
-- table: station_ballots
-- tolerance: 0
-- Coverage guard: a published region with no station is reported, and so is a region the release does
-- not publish.
WITH per_station AS (
    SELECT s.counted_in_region_id AS region_id, b.registered_voters_count, b.ballots_cast_count, b.invalid_ballots_count
    FROM station_ballots AS b JOIN stations AS s USING (station_id)
    WHERE b.protocol_version = 'final'
),
sums AS (
    SELECT region_id, sum(registered_voters_count) AS registered_voters_count,
           sum(ballots_cast_count) AS ballots_cast_count, sum(invalid_ballots_count) AS invalid_ballots_count
    FROM per_station GROUP BY region_id
    UNION ALL
    SELECT 'KZ', sum(registered_voters_count), sum(ballots_cast_count), sum(invalid_ballots_count) FROM per_station
),
published AS (
    SELECT region_id, registered_voters_count, ballots_cast_count, invalid_ballots_count FROM region_ballots
    UNION ALL
    SELECT country_code, registered_voters_count, ballots_cast_count, invalid_ballots_count FROM national_ballots
),
compared AS (
    SELECT region_id, column_name, p.value AS expected, s.value AS actual
    FROM (UNPIVOT published ON registered_voters_count, ballots_cast_count, invalid_ballots_count
          INTO NAME column_name VALUE value) AS p
    FULL JOIN (UNPIVOT sums ON registered_voters_count, ballots_cast_count, invalid_ballots_count
               INTO NAME column_name VALUE value) AS s
    USING (region_id, column_name)
)
SELECT 'station_ballots' AS table_name,
       CASE WHEN region_id = 'KZ' THEN 'country_code=KZ' ELSE 'region_id=' || region_id END AS record_key,
       column_name, CAST(expected AS VARCHAR) AS expected, CAST(actual AS VARCHAR) AS actual,
       CASE WHEN actual IS NULL THEN 'no station returns for this published total'
            WHEN expected IS NULL THEN 'the release publishes no total for this region'
            ELSE 'the stations'' sum differs from the published total by ' || (actual - expected) END AS message
FROM compared
WHERE expected IS NULL OR actual IS NULL OR abs(actual - expected) > getvariable('tolerance')
ORDER BY record_key, column_name
