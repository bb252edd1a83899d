-- id: polls_fieldwork_dates
-- severity: error
-- description: Every opinion poll's fieldwork starts no earlier than the day the election was called (19 January 2023), starts no later than it ends, and ends before the publication ban of 14 March (five days before election day, 19 March 2023).
-- table: opinion_polls
-- tolerance: 0
-- The snap election was called by the decree of 19 January 2023 (the timetable's first event), so a poll of
-- this election cannot start before it; the law bans publishing polls from five days before the vote
-- (14 March 2023), so fieldwork must end before that.
SELECT DISTINCT 'opinion_polls' AS table_name, 'poll_id=' || poll_id AS record_key,
       CASE WHEN fieldwork_start_date < DATE '2023-01-19' THEN 'fieldwork_start_date' ELSE 'fieldwork_end_date' END
           AS column_name,
       CASE WHEN fieldwork_start_date < DATE '2023-01-19' THEN '>= 2023-01-19'
            ELSE '<= 2023-03-13 and >= ' || fieldwork_start_date END AS expected,
       CAST(CASE WHEN fieldwork_start_date < DATE '2023-01-19' THEN fieldwork_start_date ELSE fieldwork_end_date END
            AS VARCHAR) AS actual,
       CASE WHEN fieldwork_start_date < DATE '2023-01-19' THEN 'fieldwork starts before the election was called'
            WHEN fieldwork_start_date > fieldwork_end_date THEN 'fieldwork ends before it starts'
            ELSE 'fieldwork ends on or after the publication ban' END AS message
FROM opinion_polls
WHERE fieldwork_start_date < DATE '2023-01-19' OR fieldwork_start_date > fieldwork_end_date
   OR fieldwork_end_date > DATE '2023-03-13'
ORDER BY record_key
