-- id: claims_name_official_winners
-- severity: error
-- description: Every claim against a district result names that district's official winner (in the district the article gives, else the district the named winner officially won), and its challenger is the official runner-up.
-- table: district_result_claims
-- tolerance: 0
-- Names are compared as the article writes them: the challenger may be named by surname only. Coverage
-- guard: a claim whose district or official winner cannot be found in district_results is reported.
WITH winners AS (SELECT district_number, candidate_name FROM district_results WHERE candidate_rank = 1),
     runners_up AS (SELECT district_number, candidate_name FROM district_results WHERE candidate_rank = 2),
matched AS (
    SELECT c.claim_id, c.challenger_name, c.official_winner_name,
           w.district_number, w.candidate_name AS winner_name, u.candidate_name AS runner_up_name
    FROM district_result_claims AS c
    LEFT JOIN winners AS w ON (c.district_number IS NOT NULL AND w.district_number = c.district_number)
        OR (c.district_number IS NULL AND w.candidate_name = c.official_winner_name)
    LEFT JOIN runners_up AS u ON u.district_number = w.district_number
)
SELECT 'district_result_claims' AS table_name, 'claim_id=' || claim_id AS record_key,
       CASE WHEN winner_name IS NULL OR winner_name <> official_winner_name THEN 'official_winner_name'
            ELSE 'challenger_name' END AS column_name,
       coalesce(CASE WHEN winner_name IS NULL OR winner_name <> official_winner_name THEN winner_name ELSE runner_up_name END,
                'a district in district_results') AS expected,
       CASE WHEN winner_name IS NULL OR winner_name <> official_winner_name THEN official_winner_name ELSE challenger_name END AS actual,
       CASE WHEN winner_name IS NULL THEN 'no district of district_results matches the claim'
            WHEN winner_name <> official_winner_name THEN 'the claim names another official winner than district_results'
            ELSE 'the challenger is not the official runner-up' END AS message
FROM matched
WHERE winner_name IS NULL OR winner_name <> official_winner_name
   OR runner_up_name IS NULL OR NOT (runner_up_name = challenger_name OR runner_up_name LIKE '% ' || challenger_name)
ORDER BY record_key
