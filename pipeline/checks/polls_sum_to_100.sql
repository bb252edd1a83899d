-- id: polls_sum_to_100
-- severity: warning
-- description: The shares of every opinion poll, exit poll and debate audience poll add up to 100% within the rounding of the published shares.
-- table: opinion_polls
-- tolerance: 0.05
-- Each share is published to one decimal, so rounding moves the sum by at most 0.05 per option:
-- the allowed gap is 0.05 times the number of options. Coverage guard: a poll with fewer options
-- than the others of its table is reported.
WITH polls AS (
    SELECT 'opinion_polls' AS table_name, poll_id, sum(share_pct) AS total, count(*) AS options FROM opinion_polls GROUP BY poll_id
    UNION ALL
    SELECT 'exit_polls', poll_id, sum(share_pct), count(*) FROM exit_polls GROUP BY poll_id
    UNION ALL
    SELECT 'debate_polls', debate_id, sum(share_pct), count(*) FROM debate_polls GROUP BY debate_id
),
widest AS (SELECT table_name, max(options) AS n FROM polls GROUP BY table_name)
SELECT p.table_name, CASE p.table_name WHEN 'debate_polls' THEN 'debate_id=' ELSE 'poll_id=' END || p.poll_id AS record_key, 'share_pct' AS column_name,
       '100 ± ' || round(p.options * getvariable('tolerance'), 2) AS expected, CAST(round(p.total, 2) AS VARCHAR) AS actual,
       CASE WHEN p.options < w.n THEN 'only ' || p.options || ' of ' || w.n || ' options present'
            ELSE 'the shares add up to ' || round(p.total, 2) || '%' END AS message
FROM polls AS p JOIN widest AS w USING (table_name)
WHERE p.options < w.n OR abs(p.total - 100) > p.options * getvariable('tolerance') + 1e-9
ORDER BY 1, 2
