-- id: candidates_add_up
-- severity: error
-- description: Per party, list candidates plus district candidates equal the published total.
-- table: party_candidates
-- tolerance: 0
-- Coverage guard: a party row with any of the three counts missing is reported.
SELECT 'party_candidates' AS table_name, 'nominator_id=' || nominator_id AS record_key, 'candidates_count' AS column_name,
       CAST(list_candidates_count + district_candidates_count AS VARCHAR) AS expected, CAST(candidates_count AS VARCHAR) AS actual,
       'list plus district candidates differ from the total' AS message
FROM party_candidates
WHERE party_id IS NOT NULL
  AND (candidates_count IS NULL OR list_candidates_count IS NULL OR district_candidates_count IS NULL
       OR abs(list_candidates_count + district_candidates_count - candidates_count) > getvariable('tolerance'))
ORDER BY record_key
