-- id: district_winner_ahead
-- severity: error
-- description: In every district the elected deputy has more votes and a larger share than the runner-up.
-- table: district_results
-- tolerance: 0
-- Coverage guard: every district in districts must have both a winner and a runner-up.
WITH pairs AS (
    SELECT d.district_number, w.votes AS winner_votes, w.vote_share_pct AS winner_pct,
           r.votes AS runner_votes, r.vote_share_pct AS runner_pct
    FROM districts AS d
    LEFT JOIN district_results AS w ON w.district_number = d.district_number AND w.candidate_rank = 1
    LEFT JOIN district_results AS r ON r.district_number = d.district_number AND r.candidate_rank = 2
)
SELECT 'district_results' AS table_name, 'district_number=' || district_number AS record_key,
       CASE WHEN winner_votes IS NULL OR runner_votes IS NULL THEN '*'
            WHEN winner_votes <= runner_votes THEN 'votes' ELSE 'vote_share_pct' END AS column_name,
       CASE WHEN winner_votes <= runner_votes THEN '> ' || runner_votes ELSE '> ' || runner_pct END AS expected,
       CASE WHEN winner_votes <= runner_votes THEN CAST(winner_votes AS VARCHAR) ELSE CAST(winner_pct AS VARCHAR) END AS actual,
       CASE WHEN winner_votes IS NULL OR runner_votes IS NULL THEN 'the district lacks its winner or runner-up'
            ELSE 'the elected deputy is not ahead of the runner-up' END AS message
FROM pairs
WHERE winner_votes IS NULL OR runner_votes IS NULL
   OR winner_votes <= runner_votes + getvariable('tolerance') OR winner_pct <= runner_pct
ORDER BY district_number
