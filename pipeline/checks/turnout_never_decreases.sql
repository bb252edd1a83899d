-- id: turnout_never_decreases
-- severity: error
-- description: Through election day, no report's turnout (or national voter count) is lower than the one before it.
-- table: turnout_by_hour
-- tolerance: 0
-- Coverage guard: every region and the nation must have the same number of reports as the
-- reporting times in the table; a unit with fewer is reported.
WITH series AS (
    SELECT 'turnout_by_hour' AS table_name, region_id AS unit, 'region_id=' || region_id AS record_key,
           reported_at, turnout_pct AS value, 'turnout_pct' AS column_name
    FROM turnout_by_hour
    UNION ALL
    SELECT 'national_turnout_by_hour', 'KZ', 'country_code=KZ', reported_at, turnout_pct, 'turnout_pct'
    FROM national_turnout_by_hour
    UNION ALL
    SELECT 'national_turnout_by_hour', 'KZ-count', 'country_code=KZ', reported_at, voters_count, 'voters_count'
    FROM national_turnout_by_hour
),
steps AS (
    SELECT *, lag(value) OVER (PARTITION BY unit ORDER BY reported_at) AS previous,
           lag(reported_at) OVER (PARTITION BY unit ORDER BY reported_at) AS previous_at
    FROM series
),
times AS (SELECT count(DISTINCT reported_at) AS n FROM series),
units AS (
    SELECT 'turnout_by_hour' AS table_name, region_id AS unit, 'region_id=' || region_id AS record_key FROM regions
    UNION ALL SELECT 'national_turnout_by_hour', 'KZ', 'country_code=KZ'
    UNION ALL SELECT 'national_turnout_by_hour', 'KZ-count', 'country_code=KZ'
),
counts AS (SELECT unit, count(*) AS n FROM series GROUP BY unit)
SELECT table_name, record_key || ', reported_at=' || strftime(reported_at, '%H:%M') AS record_key, column_name,
       '>= ' || previous AS expected, CAST(value AS VARCHAR) AS actual,
       'lower than at ' || strftime(previous_at, '%H:%M') AS message
FROM steps
WHERE value < previous - getvariable('tolerance')
UNION ALL
SELECT u.table_name, u.record_key, '*', CAST(t.n AS VARCHAR), CAST(coalesce(c.n, 0) AS VARCHAR),
       'reports missing for this unit'
FROM units AS u CROSS JOIN times AS t LEFT JOIN counts AS c USING (unit)
WHERE coalesce(c.n, 0) <> t.n
ORDER BY 1, 2, 3
