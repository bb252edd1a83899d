-- The cross-checks and how each ended (quality_checks), one row per check.
SELECT check_id, any_value(severity) AS severity, count(*) FILTER (WHERE status <> 'passed') = 0 AS found_nothing,
       count(*) FILTER (WHERE status = 'corrected') AS corrected, count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged
FROM quality_checks GROUP BY check_id ORDER BY check_id
