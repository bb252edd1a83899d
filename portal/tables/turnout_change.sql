-- The turnout of 2023 against 2021 on the regions of 2021 (turnout_change), with the names of the 2021
-- regions; election night for every region, the final count for the country.
SELECT c.area_id, c.protocol_version, CASE WHEN c.area_id = 'KZ' THEN 'Kazakhstan' ELSE r.region_name END AS region,
       CASE c.protocol_version WHEN 'final' THEN 'final count' ELSE 'election night (22:00)' END AS figure,
       c.earlier_turnout_pct AS turnout_2021_pct, c.turnout_pct AS turnout_2023_pct, c.turnout_change_pp,
       c.regions_added_count AS regions_of_2023
FROM turnout_change AS c LEFT JOIN regions AS r ON r.region_id = c.area_id
WHERE c.election_id = 'kz-majilis-2023-03-19' AND c.earlier_election_id = 'kz-majilis-2021-01-10'
ORDER BY c.area_id = 'KZ' DESC, c.protocol_version, c.turnout_change_pp, c.area_id  -- (Akmola and Turkistan tie)
