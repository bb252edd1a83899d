-- name: party_list_results_named
-- description: party_list_results with the region's and the option's names joined in, for reading without joins.
CREATE VIEW party_list_results_named AS
SELECT p.region_id, r.region_name, r.region_kind, p.option_id, o.option_name, o.option_kind, o.party_id,
       p.votes, p.vote_share_pct
FROM party_list_results AS p
JOIN regions AS r USING (region_id)
JOIN vote_options AS o USING (option_id);
