-- Each region's turnout at each release time of election day (local time) beside the nation's
-- (turnout_by_hour, national_turnout_by_hour).
SELECT t.region_id, strftime(t.reported_at, '%H:%M') AS time, t.turnout_pct, n.turnout_pct AS national_turnout_pct
FROM turnout_by_hour AS t LEFT JOIN national_turnout_by_hour AS n USING (reported_at)
ORDER BY t.region_id, t.reported_at
