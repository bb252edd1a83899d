-- name: district_races
-- description: One row per single-member district, the winner beside the runner-up, with the region's name and the margin in votes and percentage points.
CREATE VIEW district_races AS
SELECT d.district_number, d.region_id, r.region_name,
       w.candidate_name AS winner_name, w.is_independent AS winner_is_independent,
       coalesce(w.candidate_party_id, 'independent') AS winner_party,
       w.affiliation_name AS winner_affiliation_name, w.votes AS winner_votes, w.vote_share_pct AS winner_vote_share_pct,
       u.candidate_name AS runner_up_name, coalesce(u.candidate_party_id, 'independent') AS runner_up_party,
       u.votes AS runner_up_votes, u.vote_share_pct AS runner_up_vote_share_pct,
       w.votes - u.votes AS margin_votes, round(w.vote_share_pct - u.vote_share_pct, 2) AS margin_pp
FROM districts AS d
JOIN regions AS r USING (region_id)
JOIN district_results AS w ON w.district_number = d.district_number AND w.candidate_rank = 1
JOIN district_results AS u ON u.district_number = d.district_number AND u.candidate_rank = 2;
-- column winner_name: The elected deputy's name.
-- column winner_is_independent: True if the elected deputy ran as an independent.
-- column winner_party: party_id of the elected deputy's party, or 'independent'.
-- column winner_affiliation_name: Affiliation given in brackets for an independent winner; null if none.
-- column winner_votes: Votes of the elected deputy.
-- column winner_vote_share_pct: Published share of the elected deputy (percent).
-- column runner_up_name: The runner-up's name.
-- column runner_up_party: party_id of the runner-up's party, or 'independent'.
-- column runner_up_votes: Votes of the runner-up.
-- column runner_up_vote_share_pct: Published share of the runner-up (percent).
-- column margin_votes: Winner's votes minus the runner-up's.
-- column margin_pp: Winner's published share minus the runner-up's, in percentage points.
