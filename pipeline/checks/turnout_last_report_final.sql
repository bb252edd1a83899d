-- id: turnout_last_report_final
-- severity: error
-- description: The turnout at the last reporting time of election day equals the final published turnout (regions and nation).
-- table: turnout_by_hour
-- tolerance: 0.005
-- Coverage guard: a region (or the nation) missing from the turnout-by-hour table, or without a
-- report at the last reporting time, is reported. Tolerance: half a unit of the last decimal.
WITH last_time AS (
    SELECT max(reported_at) AS t FROM (SELECT reported_at FROM turnout_by_hour UNION ALL SELECT reported_at FROM national_turnout_by_hour)
),
final AS (
    SELECT 'turnout_by_hour' AS table_name, region_id AS unit, 'region_id=' || region_id AS record_key, turnout_pct FROM region_ballots
    UNION ALL
    SELECT 'national_turnout_by_hour', 'KZ', 'country_code=KZ', turnout_pct FROM national_ballots
),
last_report AS (
    SELECT h.region_id AS unit, h.turnout_pct FROM turnout_by_hour AS h, last_time WHERE h.reported_at = last_time.t
    UNION ALL
    SELECT 'KZ', h.turnout_pct FROM national_turnout_by_hour AS h, last_time WHERE h.reported_at = last_time.t
)
SELECT f.table_name, f.record_key, 'turnout_pct' AS column_name,
       CAST(f.turnout_pct AS VARCHAR) AS expected, CAST(l.turnout_pct AS VARCHAR) AS actual,
       CASE WHEN l.turnout_pct IS NULL THEN 'no report at the last reporting time'
            ELSE 'the last report differs from the final turnout by ' || round(l.turnout_pct - f.turnout_pct, 4) || ' points'
       END AS message
FROM final AS f LEFT JOIN last_report AS l USING (unit)
WHERE l.turnout_pct IS NULL OR abs(l.turnout_pct - f.turnout_pct) > getvariable('tolerance') + 1e-9
ORDER BY f.table_name, f.record_key
