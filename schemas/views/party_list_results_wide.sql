-- name: party_list_results_wide
-- description: One row per region with one votes column per option (the article's layout), plus invalid ballots, ballots cast and turnout; for spreadsheets, not for analysis.
CREATE VIEW party_list_results_wide AS
SELECT r.region_id, r.region_name,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'amanat') AS BIGINT) AS amanat_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'auyl') AS BIGINT) AS auyl_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'respublica') AS BIGINT) AS respublica_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'aq_jol') AS BIGINT) AS aq_jol_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'qhp') AS BIGINT) AS qhp_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'jsdp') AS BIGINT) AS jsdp_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'baytaq') AS BIGINT) AS baytaq_votes,
       CAST(sum(p.votes) FILTER (WHERE p.option_id = 'against_all') AS BIGINT) AS against_all_votes,
       any_value(b.invalid_ballots_count) AS invalid_ballots_count,
       any_value(b.ballots_cast_count) AS ballots_cast_count,
       any_value(b.registered_voters_count) AS registered_voters_count,
       any_value(b.turnout_pct) AS turnout_pct
FROM regions AS r
JOIN party_list_results AS p USING (region_id)
JOIN region_ballots AS b USING (region_id)
GROUP BY r.region_id, r.region_name;
-- column amanat_votes: Party-list votes for Amanat in the region.
-- column auyl_votes: Party-list votes for Auyl in the region.
-- column respublica_votes: Party-list votes for Respublica in the region.
-- column aq_jol_votes: Party-list votes for Aq Jol in the region.
-- column qhp_votes: Party-list votes for the People's Party of Kazakhstan (QHP) in the region.
-- column jsdp_votes: Party-list votes for the Nationwide Social Democratic Party (JSDP) in the region.
-- column baytaq_votes: Party-list votes for Baytaq in the region.
-- column against_all_votes: Party-list votes 'against all' in the region.
