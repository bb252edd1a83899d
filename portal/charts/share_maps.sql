-- Each ballot option's share of the valid votes in each region (party_list_results_named), with the
-- region's place on the tile map; `dark` marks the upper part of each option's range (white labels).
SELECT p.option_name AS option, p.region_id, p.region_name, p.vote_share_pct AS share_pct,
       n.vote_share_pct AS national_share_pct, t.col, t.row,
       t.short,
       p.vote_share_pct > min(p.vote_share_pct) OVER w + 0.6 * (max(p.vote_share_pct) OVER w - min(p.vote_share_pct) OVER w) AS dark
FROM party_list_results_named AS p JOIN tiles AS t USING (region_id)
JOIN national_party_list_results AS n USING (option_id)
WINDOW w AS (PARTITION BY p.option_id)
ORDER BY n.vote_share_pct DESC, p.region_id
