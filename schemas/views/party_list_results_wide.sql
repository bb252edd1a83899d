-- name: party_list_results_wide
-- description: One row per region with one votes column per option (the article's layout), plus invalid ballots, ballots cast and turnout; for spreadsheets, not for analysis.
CREATE VIEW party_list_results_wide AS
SELECT r.region_id, r.region_name,
       sum(p.votes) FILTER (WHERE p.option_id = 'amanat') AS amanat_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'auyl') AS auyl_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'respublica') AS respublica_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'aq_jol') AS aq_jol_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'qhp') AS qhp_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'jsdp') AS jsdp_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'baytaq') AS baytaq_votes,
       sum(p.votes) FILTER (WHERE p.option_id = 'against_all') AS against_all_votes,
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
