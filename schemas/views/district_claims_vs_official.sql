-- name: district_claims_vs_official
-- description: Each claim against a district result beside the official figures: the district (as the article names it, else the one the official winner won), the votes the claim gives the challenger and the winner, and their official votes (the challenger's where the official results list them as the runner-up).
CREATE VIEW district_claims_vs_official AS
WITH winners AS (SELECT district_number, candidate_name, votes FROM district_results WHERE candidate_rank = 1),
     runners_up AS (SELECT district_number, candidate_name, votes FROM district_results WHERE candidate_rank = 2)
SELECT c.claim_id, w.district_number, c.challenger_name, c.official_winner_name,
       c.challenger_claimed_votes, u.votes AS challenger_official_votes,
       c.winner_claimed_votes, w.votes AS winner_official_votes
FROM district_result_claims AS c
JOIN winners AS w ON w.district_number = c.district_number
    OR (c.district_number IS NULL AND w.candidate_name = c.official_winner_name)
LEFT JOIN runners_up AS u ON u.district_number = w.district_number
    AND (u.candidate_name = c.challenger_name OR u.candidate_name LIKE '% ' || c.challenger_name)
ORDER BY w.district_number;
-- column challenger_official_votes: The challenger's official votes, where the official results list the challenger as the district's runner-up.
-- column winner_official_votes: The official winner's official votes (district_results).
