-- Each region's row of the forensic tables (forensic_region_summary, forensic_region_rounding): how many of its
-- shares recomputed from the counts lie on the grid of their published decimals, how many counts a
-- two-decimal share gives back exactly, the rounding model the counts prefer, and its p-value with Holm's
-- adjustment over the 20 regions. The article's numbers.
SELECT s.region_id, s.valid_votes_count AS valid_votes, s.shares_on_grid_count AS shares_on_grid,
       s.counts_reproducible_count AS counts_reproducible, r.preferred_model, r.p_value, r.adjusted_p_value
FROM forensic_region_summary AS s JOIN forensic_region_rounding AS r USING (region_id)
ORDER BY s.region_id
