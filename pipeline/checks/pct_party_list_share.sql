-- id: pct_party_list_share
-- severity: error
-- description: Every published party-list share equals 100 x votes / (ballots cast - invalid ballots), the votes for all options, to the published two decimals.
-- table: party_list_results
-- tolerance: 0.005
-- The base was found by trying the candidates: ballots cast minus invalid reproduces every one of
-- the 168 published shares; ballots cast alone misses most. Tolerance: half a unit of the last
-- published decimal. Coverage guard: a row whose unit has no ballots row is reported.
WITH shares AS (
    SELECT 'party_list_results' AS table_name, 'region_id=' || p.region_id || ', option_id=' || p.option_id AS record_key,
           p.votes, p.vote_share_pct, b.ballots_cast_count - b.invalid_ballots_count AS base
    FROM party_list_results AS p LEFT JOIN region_ballots AS b USING (region_id)
    UNION ALL
    SELECT 'national_party_list_results', 'option_id=' || n.option_id, n.votes, n.vote_share_pct,
           (SELECT ballots_cast_count - invalid_ballots_count FROM national_ballots)
    FROM national_party_list_results AS n
)
SELECT table_name, record_key, 'vote_share_pct' AS column_name,
       CAST(round(100.0 * votes / base, 4) AS VARCHAR) AS expected,
       CAST(vote_share_pct AS VARCHAR) AS actual,
       CASE WHEN base IS NULL OR base <= 0 THEN 'no ballots row to recompute the share from'
            ELSE 'published share differs from the recomputed one by '
                 || round(vote_share_pct - 100.0 * votes / base, 4) || ' points'
       END AS message
FROM shares
WHERE base IS NULL OR base <= 0
   OR abs(vote_share_pct - 100.0 * votes / base) > getvariable('tolerance') + 1e-9
ORDER BY table_name, record_key
