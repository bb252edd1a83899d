-- id: district_ballots_plausible
-- severity: warning
-- description: The valid district votes implied per region (sum over its districts of winner votes / winner share) lie between 85% and 101% of the region's party-list ballots cast.
-- table: district_results
-- tolerance: 0.15
-- Voters receive both ballots, so valid district votes cannot exceed the ballots cast (the 1%
-- margin covers the rounding of the shares) and fall short only by invalid and unissued district
-- ballots. In the regions with no other finding the ratio is 0.86 to 0.99; below 1 - tolerance
-- (0.85) more than one district ballot in seven would be missing. Coverage guard: a region
-- without districts or without party-list ballots is reported.
WITH implied AS (
    SELECT d.region_id, sum(100.0 * w.votes / w.vote_share_pct) AS votes, count(*) AS districts
    FROM districts AS d JOIN district_results AS w ON w.district_number = d.district_number AND w.candidate_rank = 1
    GROUP BY d.region_id
)
SELECT 'district_results' AS table_name, 'region_id=' || r.region_id AS record_key, 'votes' AS column_name,
       CAST(round((1 - getvariable('tolerance')) * b.ballots_cast_count) AS BIGINT) || '–' || CAST(round(1.01 * b.ballots_cast_count) AS BIGINT)
           || ' (85–101% of ' || b.ballots_cast_count || ' party-list ballots)' AS expected,
       CAST(CAST(round(i.votes) AS BIGINT) AS VARCHAR) AS actual,
       CASE WHEN i.votes IS NULL THEN 'no district results for this region'
            WHEN b.ballots_cast_count IS NULL THEN 'no party-list ballots for this region'
            ELSE 'implied district votes are ' || round(100 * i.votes / b.ballots_cast_count, 1) || '% of the party-list ballots cast'
       END AS message
FROM regions AS r LEFT JOIN implied AS i USING (region_id) LEFT JOIN region_ballots AS b USING (region_id)
WHERE i.votes IS NULL OR b.ballots_cast_count IS NULL
   OR i.votes < (1 - getvariable('tolerance')) * b.ballots_cast_count OR i.votes > 1.01 * b.ballots_cast_count
ORDER BY r.region_id
