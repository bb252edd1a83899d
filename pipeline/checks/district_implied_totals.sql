-- id: district_implied_totals
-- severity: error
-- description: The district's total vote implied by the winner's votes and share agrees with the one implied by the runner-up's, within the rounding bounds of the published shares.
-- table: district_results
-- tolerance: 0.005
-- A share published as p (two decimals) means the true share lies in [p - 0.005, p + 0.005], so
-- votes / share brackets the district total; the winner's and the runner-up's brackets must overlap.
-- Coverage guard: a district without its winner or runner-up is reported.
WITH brackets AS (
    SELECT district_number, candidate_rank,
           100.0 * votes / (vote_share_pct + getvariable('tolerance')) AS low,
           100.0 * votes / (vote_share_pct - getvariable('tolerance')) AS high
    FROM district_results
),
pairs AS (
    SELECT d.district_number, w.low AS w_low, w.high AS w_high, r.low AS r_low, r.high AS r_high
    FROM districts AS d
    LEFT JOIN brackets AS w ON w.district_number = d.district_number AND w.candidate_rank = 1
    LEFT JOIN brackets AS r ON r.district_number = d.district_number AND r.candidate_rank = 2
)
SELECT 'district_results' AS table_name, 'district_number=' || district_number AS record_key, 'votes' AS column_name,
       coalesce(CAST(round(w_low) AS BIGINT) || '–' || CAST(round(w_high) AS BIGINT) || ' (from the winner)', 'a winner') AS expected,
       coalesce(CAST(round(r_low) AS BIGINT) || '–' || CAST(round(r_high) AS BIGINT) || ' (from the runner-up)', 'a runner-up') AS actual,
       CASE WHEN w_low IS NULL OR r_low IS NULL THEN 'the district lacks its winner or runner-up'
            ELSE 'the winner and the runner-up imply different district totals' END AS message
FROM pairs
WHERE w_low IS NULL OR r_low IS NULL OR w_low > r_high OR r_low > w_high
ORDER BY district_number
