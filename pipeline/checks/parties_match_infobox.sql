-- id: parties_match_infobox
-- severity: error
-- description: The party table's leader, 2021 status and 2021 share agree with the infobox wherever both give them.
-- table: parties
-- tolerance: 0.05
-- The party table rounds 2021 shares to one decimal (or none: '11%'), the infobox to two, so the
-- shares may differ by up to half a unit of the table's last decimal (0.05); names must match exactly.
-- Coverage guard: a party without a row in national_results is reported.
WITH pairs AS (
    SELECT p.party_id, p.leader_name AS table_leader, n.leader_name AS infobox_leader,
           p.status_2021 AS table_status, n.status_2021 AS infobox_status,
           p.vote_share_2021_pct AS table_share, n.vote_share_2021_pct AS infobox_share
    FROM parties AS p LEFT JOIN national_results AS n USING (party_id)
)
SELECT 'parties' AS table_name, 'party_id=' || party_id AS record_key, 'leader_name' AS column_name,
       infobox_leader AS expected, table_leader AS actual, 'the party table and the infobox name different leaders' AS message
FROM pairs WHERE infobox_leader IS NOT NULL AND table_leader <> infobox_leader
UNION ALL
SELECT 'parties', 'party_id=' || party_id, 'status_2021', infobox_status, table_status,
       'the party table and the infobox disagree on the 2021 election'
FROM pairs WHERE infobox_status IS NOT NULL AND table_status <> infobox_status
UNION ALL
SELECT 'parties', 'party_id=' || party_id, 'vote_share_2021_pct', CAST(infobox_share AS VARCHAR), CAST(table_share AS VARCHAR),
       'the party table and the infobox give different 2021 shares'
FROM pairs WHERE infobox_share IS NOT NULL AND table_share IS NOT NULL
             AND abs(infobox_share - table_share) > getvariable('tolerance') + 1e-9
UNION ALL
SELECT 'parties', 'party_id=' || p.party_id, '*', 'a national_results row', 'none', 'the party has no national result'
FROM parties AS p WHERE p.party_id NOT IN (SELECT party_id FROM national_results)
ORDER BY 2, 3
