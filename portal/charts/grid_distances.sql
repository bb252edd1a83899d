-- Forensics: the distance of each regional share, recomputed exactly from the counts, to the nearest
-- step of the published 0.01-point grid (forensic_region_shares), in ten bins of 0.05 step. The null
-- (fractional parts uniform) expects a tenth of the shares in each bin; the first bin is 'on the grid'.
WITH bins AS (SELECT range AS bin FROM range(10)),
counted AS (
    SELECT least(floor(grid_distance_steps * 20), 9)::INTEGER AS bin, count(*) AS shares
    FROM forensic_region_shares GROUP BY ALL
)
SELECT round(b.bin * 0.05, 2)::DOUBLE AS distance_from, round((b.bin + 1) * 0.05, 2)::DOUBLE AS distance_to, coalesce(c.shares, 0) AS shares,
       (SELECT count(*) FROM forensic_region_shares) / 10.0 AS expected_under_null
FROM bins AS b LEFT JOIN counted AS c USING (bin)
ORDER BY b.bin
