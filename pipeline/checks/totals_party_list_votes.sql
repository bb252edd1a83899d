-- id: totals_party_list_votes
-- severity: error
-- description: For every ballot option, the votes of the 20 regions sum to the national total.
-- table: party_list_results
-- tolerance: 0
-- Coverage guard: an option with no national row, no regional rows, or fewer regions than the
-- regions table lists is reported as failing, so a missing row cannot pass.
WITH regional AS (
    SELECT option_id, sum(votes) AS actual, count(DISTINCT region_id) AS regions_present
    FROM party_list_results
    GROUP BY option_id
),
expected_regions AS (SELECT count(*) AS n FROM regions),
ballot_options AS (
    SELECT option_id FROM vote_options WHERE option_kind IN ('party', 'against_all')
)
SELECT
    'party_list_results' AS table_name,
    'option_id=' || o.option_id AS record_key,
    'votes' AS column_name,
    CAST(n.votes AS VARCHAR) AS expected,
    CAST(r.actual AS VARCHAR) AS actual,
    CASE
        WHEN n.votes IS NULL THEN 'no national total for this option'
        WHEN r.actual IS NULL THEN 'no regional rows for this option'
        WHEN r.regions_present <> e.n THEN 'only ' || r.regions_present || ' of ' || e.n || ' regions present'
        ELSE 'the regions sum to ' || r.actual || ', the national total is ' || n.votes
    END AS message
FROM ballot_options AS o
CROSS JOIN expected_regions AS e
LEFT JOIN regional AS r USING (option_id)
LEFT JOIN national_party_list_results AS n USING (option_id)
WHERE n.votes IS NULL OR r.actual IS NULL OR r.regions_present <> e.n
   OR abs(r.actual - n.votes) > getvariable('tolerance')
ORDER BY o.option_id
