-- id: row_ballots_sum
-- severity: error
-- description: In every region and nationally, the votes for all options plus the invalid ballots equal the ballots cast.
-- table: region_ballots
-- tolerance: 0
-- Coverage guard: a region (or the nation) without option rows, or with fewer options than the
-- ballot has, is reported.
WITH units AS (
    SELECT 'region_ballots' AS table_name, 'region_id=' || region_id AS record_key, region_id AS unit,
           invalid_ballots_count, ballots_cast_count
    FROM region_ballots
    UNION ALL
    SELECT 'national_ballots', 'country_code=' || country_code, 'KZ', invalid_ballots_count, ballots_cast_count
    FROM national_ballots
),
options AS (
    SELECT region_id AS unit, sum(votes) AS votes, count(*) AS options_present FROM party_list_results GROUP BY region_id
    UNION ALL
    SELECT 'KZ', sum(votes), count(*) FROM national_party_list_results
),
ballot_options AS (SELECT count(*) AS n FROM vote_options WHERE option_kind IN ('party', 'against_all'))
SELECT u.table_name, u.record_key, 'ballots_cast_count' AS column_name,
       CAST(u.ballots_cast_count AS VARCHAR) AS expected,
       CAST(o.votes + u.invalid_ballots_count AS VARCHAR) AS actual,
       CASE WHEN o.votes IS NULL THEN 'no option votes for this unit'
            WHEN o.options_present <> b.n THEN 'only ' || o.options_present || ' of ' || b.n || ' options present'
            ELSE 'options plus invalid differ from ballots cast by ' || (o.votes + u.invalid_ballots_count - u.ballots_cast_count)
       END AS message
FROM units AS u CROSS JOIN ballot_options AS b LEFT JOIN options AS o USING (unit)
WHERE o.votes IS NULL OR o.options_present <> b.n
   OR abs(o.votes + u.invalid_ballots_count - u.ballots_cast_count) > getvariable('tolerance')
ORDER BY u.table_name, u.record_key
