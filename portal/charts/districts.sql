-- The 29 single-member district races (district_races): winner against runner-up.
SELECT d.district_number, d.region_name,
       d.winner_name, CASE WHEN d.winner_is_independent THEN 'Independent' ELSE p.party_short_name END AS winner_party,
       d.winner_votes, d.winner_vote_share_pct AS winner_share_pct,
       d.runner_up_name, CASE WHEN d.runner_up_party = 'independent' THEN 'Independent' ELSE q.party_short_name END AS runner_up_party,
       d.runner_up_votes, d.runner_up_vote_share_pct AS runner_up_share_pct,
       d.margin_votes, d.margin_pp
FROM district_races AS d LEFT JOIN parties AS p ON p.party_id = d.winner_party
LEFT JOIN parties AS q ON q.party_id = d.runner_up_party
ORDER BY d.district_number
