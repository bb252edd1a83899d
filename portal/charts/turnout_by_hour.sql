-- Turnout at each release time of election day (local time), per region (turnout_by_hour) and
-- nationally (national_turnout_by_hour).
SELECT strftime(t.reported_at, '%H:%M') AS time, r.region_name AS area, false AS is_national, t.turnout_pct
FROM turnout_by_hour AS t JOIN regions AS r USING (region_id)
UNION ALL
SELECT strftime(reported_at, '%H:%M'), 'Kazakhstan', true, turnout_pct FROM national_turnout_by_hour
ORDER BY is_national, area, time
