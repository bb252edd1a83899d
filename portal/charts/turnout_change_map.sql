-- The turnout of election night (the commission's 22:00 figures) in 2023 against 2021, on the 17 regions
-- of 2021 (turnout_change): each square of the tile map takes its 2021 region's value, so the three regions
-- created in 2022 (Abai, Jetisu, Ulytau) show the region they were part of in 2021, and say so.
SELECT t.region_id, r.region_name, t.col, t.row, c.area_id AS region_2021_id, q.region_name AS region_2021, c.turnout_change_pp,
       c.earlier_turnout_pct AS turnout_2021_pct, c.turnout_pct AS turnout_2023_pct,
       t.short, p.short AS parent_short
FROM tiles AS t JOIN regions AS r USING (region_id)
LEFT JOIN region_lineage AS l ON l.region_id = t.region_id
LEFT JOIN tiles AS p ON p.region_id = l.parent_region_id
JOIN turnout_change AS c ON c.area_id = coalesce(l.parent_region_id, t.region_id)
JOIN regions AS q ON q.region_id = c.area_id
WHERE c.election_id = 'kz-majilis-2023-03-19' AND c.earlier_election_id = 'kz-majilis-2021-01-10'
  AND c.protocol_version = 'preliminary'
ORDER BY t.region_id
