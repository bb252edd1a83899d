-- id: polls_fieldwork_dates
-- severity: error
-- description: Every opinion poll's fieldwork starts no later than it ends, and ends before election day (19 March 2023) and before the publication ban of 14 March.
-- table: opinion_polls
-- tolerance: 0
-- The law bans publishing polls from five days before the vote (14 March 2023), so fieldwork must end before it.
SELECT DISTINCT 'opinion_polls' AS table_name, 'poll_id=' || poll_id AS record_key, 'fieldwork_end_date' AS column_name,
       '<= 2023-03-13 and >= ' || fieldwork_start_date AS expected, CAST(fieldwork_end_date AS VARCHAR) AS actual,
       CASE WHEN fieldwork_start_date > fieldwork_end_date THEN 'fieldwork ends before it starts'
            ELSE 'fieldwork ends on or after the publication ban' END AS message
FROM opinion_polls
WHERE fieldwork_start_date > fieldwork_end_date OR fieldwork_end_date > DATE '2023-03-13'
ORDER BY record_key
