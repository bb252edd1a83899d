-- id: station_votes_sum_to_regions
-- severity: error
-- description: The final protocols' votes for each option, summed over the stations a region's totals count, equal the region's published votes (party_list_results), and summed over all stations the national votes (national_party_list_results).
-- table: station_votes
-- tolerance: 0
-- Coverage guard: a published region and option with no station row is reported (a missing station
-- must not pass), and so is a region or option the release does not publish.
WITH sums AS (
    SELECT region_id, option_id, sum(votes) AS votes
    FROM station_votes WHERE protocol_version = 'final' GROUP BY region_id, option_id
),
units AS (
    SELECT 'region_id=' || region_id || ', option_id=' || option_id AS record_key, region_id, option_id, votes
    FROM party_list_results
    UNION ALL
    SELECT 'country_code=KZ, option_id=' || option_id, 'KZ', option_id, votes FROM national_party_list_results
),
stations AS (
    SELECT region_id, option_id, votes FROM sums
    UNION ALL
    SELECT 'KZ', option_id, sum(votes) FROM sums GROUP BY option_id
)
SELECT 'station_votes' AS table_name, coalesce(u.record_key, 'region_id=' || s.region_id || ', option_id=' || s.option_id) AS record_key,
       'votes' AS column_name, CAST(u.votes AS VARCHAR) AS expected, CAST(s.votes AS VARCHAR) AS actual,
       CASE WHEN s.votes IS NULL THEN 'no station returns for this published total'
            WHEN u.votes IS NULL THEN 'the release publishes no total for this region and option'
            ELSE 'the stations'' sum differs from the published total by ' || (s.votes - u.votes) || ' votes' END AS message
FROM units AS u FULL JOIN stations AS s USING (region_id, option_id)
WHERE u.votes IS NULL OR s.votes IS NULL OR abs(s.votes - u.votes) > getvariable('tolerance')
ORDER BY record_key
