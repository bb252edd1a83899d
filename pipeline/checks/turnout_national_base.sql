-- id: turnout_national_base
-- severity: error
-- description: Every national turnout report's percentage equals its voter count over a registered-voter total the article states (the final roll or an earlier one), to two decimals.
-- table: national_turnout_by_hour
-- tolerance: 0.005
-- The bases tried are the final roll (national_ballots) and the earlier rolls the 'Voter
-- registration' prose states (voter_roll_reports). A report no base reproduces is reported.
WITH bases AS (
    SELECT registered_voters_count AS base FROM national_ballots
    UNION SELECT registered_voters_count FROM voter_roll_reports
),
fits AS (
    SELECT h.reported_at, h.voters_count, h.turnout_pct,
           list(b.base ORDER BY b.base) FILTER (WHERE abs(100.0 * h.voters_count / b.base - h.turnout_pct) <= getvariable('tolerance') + 1e-9) AS fitting
    FROM national_turnout_by_hour AS h CROSS JOIN bases AS b
    GROUP BY ALL
)
SELECT 'national_turnout_by_hour' AS table_name, 'reported_at=' || strftime(reported_at, '%H:%M') AS record_key,
       'turnout_pct' AS column_name,
       'voters_count / one of ' || (SELECT string_agg(base, ', ' ORDER BY base) FROM bases) AS expected,
       CAST(turnout_pct AS VARCHAR) AS actual,
       'no stated registered-voter total reproduces the published turnout' AS message
FROM fits
WHERE fitting IS NULL OR len(fitting) = 0
ORDER BY record_key
