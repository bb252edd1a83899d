-- id: turnout_recomputed
-- severity: error
-- description: Every published turnout equals 100 x ballots cast / registered voters, to the published two decimals (regions and nation).
-- table: region_ballots
-- tolerance: 0.005
-- Tolerance: half a unit of the last published decimal. Coverage guard: a region without a ballots
-- row, or no national row, is reported.
WITH units AS (
    SELECT 'region_ballots' AS table_name, 'region_id=' || region_id AS record_key,
           ballots_cast_count, registered_voters_count, turnout_pct
    FROM region_ballots
    UNION ALL
    SELECT 'national_ballots', 'country_code=' || country_code, ballots_cast_count, registered_voters_count, turnout_pct
    FROM national_ballots
)
SELECT table_name, record_key, 'turnout_pct' AS column_name,
       CAST(round(100.0 * ballots_cast_count / registered_voters_count, 4) AS VARCHAR) AS expected,
       CAST(turnout_pct AS VARCHAR) AS actual,
       'published turnout differs from ballots cast / registered voters by '
           || round(turnout_pct - 100.0 * ballots_cast_count / registered_voters_count, 4) || ' points' AS message
FROM units
WHERE abs(turnout_pct - 100.0 * ballots_cast_count / registered_voters_count) > getvariable('tolerance') + 1e-9
UNION ALL
SELECT 'region_ballots', 'region_id=' || region_id, '*', 'a ballots row', 'none', 'the region has no ballots row'
FROM regions WHERE region_id NOT IN (SELECT region_id FROM region_ballots)
UNION ALL
SELECT 'national_ballots', 'country_code=KZ', '*', 'a ballots row', 'none', 'there is no national ballots row'
WHERE NOT EXISTS (SELECT 1 FROM national_ballots)
ORDER BY 1, 2
