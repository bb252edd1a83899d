-- id: infobox_matches_totals_row
-- severity: error
-- description: The infobox's votes and shares per party equal the totals row of the party-list results table.
-- table: national_results
-- tolerance: 0
-- Coverage guard: every party the infobox lists must have a row in national_party_list_results, and
-- a party with infobox votes must have an infobox share (and the other way round).
SELECT 'national_results' AS table_name, 'party_id=' || i.party_id AS record_key, c.column_name,
       CAST(CASE c.column_name WHEN 'votes' THEN t.votes ELSE t.vote_share_pct END AS VARCHAR) AS expected,
       CAST(CASE c.column_name WHEN 'votes' THEN i.votes ELSE i.vote_share_pct END AS VARCHAR) AS actual,
       CASE WHEN t.option_id IS NULL THEN 'no totals-row value for this party'
            ELSE 'the infobox differs from the totals row' END AS message
FROM national_results AS i
CROSS JOIN (SELECT unnest(['votes', 'vote_share_pct']) AS column_name) AS c
LEFT JOIN national_party_list_results AS t ON t.option_id = i.party_id
WHERE (i.votes IS NULL) <> (i.vote_share_pct IS NULL)
   OR i.votes IS NOT NULL AND (
    t.option_id IS NULL
    OR (c.column_name = 'votes' AND abs(i.votes - t.votes) > getvariable('tolerance'))
    OR (c.column_name = 'vote_share_pct' AND abs(i.vote_share_pct - t.vote_share_pct) > getvariable('tolerance') + 1e-9))
ORDER BY 2, 3
