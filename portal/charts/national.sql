-- The national party-list result, from national_party_list_results and vote_options, with the
-- parties' official names in Kazakh and Russian (party_names_wide).
SELECT o.option_name AS option, n.votes, n.vote_share_pct AS share_pct, w.name_kk, w.name_ru
FROM national_party_list_results AS n JOIN vote_options AS o USING (option_id)
LEFT JOIN party_names_wide AS w ON w.party_id = o.party_id
ORDER BY n.votes DESC
