-- Final turnout per region, with each region's place on the tile map (portal/tiles.yaml).
SELECT r.region_id, r.region_name, b.turnout_pct, t.col, t.row,
       t.short
FROM regions AS r JOIN region_ballots AS b USING (region_id) JOIN tiles AS t USING (region_id)
ORDER BY r.region_id
