-- id: debates_in_campaign
-- severity: error
-- description: Every televised debate took place within the campaign period of the timetable, and every debate has all seven parties.
-- table: debates
-- tolerance: 0
-- Coverage guard: a missing 'Election campaigning' step in the timetable is reported, and so is a
-- debate with fewer parties than the parties table lists.
WITH campaign AS (
    SELECT start_date, end_date FROM election_timetable WHERE event_name = 'Election campaigning'
),
parties_per_debate AS (SELECT debate_id, count(*) AS n FROM debate_participants GROUP BY debate_id)
SELECT 'debates' AS table_name, 'debate_id=' || d.debate_id AS record_key, 'starts_at' AS column_name,
       coalesce(c.start_date || ' to ' || c.end_date, 'a campaign period') AS expected,
       CAST(CAST(d.starts_at AS DATE) AS VARCHAR) AS actual,
       CASE WHEN c.start_date IS NULL THEN 'the timetable has no campaign period'
            ELSE 'the debate is outside the campaign period' END AS message
FROM debates AS d LEFT JOIN campaign AS c ON true
WHERE c.start_date IS NULL OR CAST(d.starts_at AS DATE) NOT BETWEEN c.start_date AND c.end_date
UNION ALL
SELECT 'debate_participants', 'debate_id=' || d.debate_id, 'party_id', CAST((SELECT count(*) FROM parties) AS VARCHAR),
       CAST(coalesce(p.n, 0) AS VARCHAR), 'the debate lacks parties'
FROM debates AS d LEFT JOIN parties_per_debate AS p USING (debate_id)
WHERE coalesce(p.n, 0) <> (SELECT count(*) FROM parties)
ORDER BY 1, 2
