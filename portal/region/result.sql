-- Each region's party-list result beside the national one (party_list_results, national_party_list_results):
-- votes and share of the valid votes, and the difference from the national share in points.
SELECT r.region_id, o.option_name AS option, r.votes, r.vote_share_pct AS share_pct,
       n.vote_share_pct AS national_share_pct, round(r.vote_share_pct - n.vote_share_pct, 2) AS difference_pp
FROM party_list_results AS r JOIN vote_options AS o USING (option_id)
JOIN national_party_list_results AS n USING (option_id)
ORDER BY r.region_id, n.vote_share_pct DESC
