-- id: totals_ballots
-- severity: error
-- description: Registered voters, invalid ballots and ballots cast of the 20 regions sum to the national totals.
-- table: region_ballots
-- tolerance: 0
-- Coverage guard: a column whose national value is missing, or which fewer regions than the
-- regions table lists report, is reported as failing.
WITH regional AS (
    SELECT column_name, sum(value) AS actual, count(DISTINCT region_id) AS regions_present
    FROM (
        UNPIVOT region_ballots
        ON registered_voters_count, invalid_ballots_count, ballots_cast_count
        INTO NAME column_name VALUE value
    )
    GROUP BY column_name
),
national AS (
    SELECT column_name, value AS expected
    FROM (
        UNPIVOT national_ballots
        ON registered_voters_count, invalid_ballots_count, ballots_cast_count
        INTO NAME column_name VALUE value
    )
),
checked AS (
    SELECT unnest(['registered_voters_count', 'invalid_ballots_count', 'ballots_cast_count']) AS column_name
),
expected_regions AS (SELECT count(*) AS n FROM regions)
SELECT
    'region_ballots' AS table_name,
    'country_code=KZ' AS record_key,
    c.column_name,
    CAST(n.expected AS VARCHAR) AS expected,
    CAST(r.actual AS VARCHAR) AS actual,
    CASE
        WHEN n.expected IS NULL THEN 'no national total for this column'
        WHEN r.actual IS NULL THEN 'no regional values for this column'
        WHEN r.regions_present <> e.n THEN 'only ' || r.regions_present || ' of ' || e.n || ' regions present'
        ELSE 'the regions sum to ' || r.actual || ', the national total is ' || n.expected
    END AS message
FROM checked AS c
CROSS JOIN expected_regions AS e
LEFT JOIN regional AS r USING (column_name)
LEFT JOIN national AS n USING (column_name)
WHERE n.expected IS NULL OR r.actual IS NULL OR r.regions_present <> e.n
   OR abs(r.actual - n.expected) > getvariable('tolerance')
ORDER BY c.column_name
