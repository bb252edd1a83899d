-- id: district_counts
-- severity: error
-- description: The number of districts per region in the results equals what the article states, in its 'Electoral districts' table and in the results table's 'Total seats'; all districts add up to the law's 29.
-- table: region_district_counts
-- tolerance: 0
-- Coverage guard: every region is compared (a region with no statement is reported), and the total
-- number of districts is compared with electoral_rules.
WITH counted AS (
    SELECT r.region_id, count(d.district_number) AS n
    FROM regions AS r LEFT JOIN districts AS d USING (region_id) GROUP BY r.region_id
),
statements AS (
    SELECT region_id, 'districts_listed_count' AS column_name, districts_listed_count AS value FROM region_district_counts
    UNION ALL
    SELECT region_id, 'district_seats_elected_count', district_seats_elected_count FROM region_district_counts
),
stated AS (
    SELECT c.region_id, c.n, s.column_name, s.value FROM counted AS c LEFT JOIN statements AS s USING (region_id)
)
SELECT 'region_district_counts' AS table_name, 'region_id=' || region_id AS record_key,
       coalesce(column_name, '*') AS column_name, CAST(n AS VARCHAR) AS expected, CAST(value AS VARCHAR) AS actual,
       CASE WHEN column_name IS NULL THEN 'the region has no row in region_district_counts'
            WHEN value IS NULL THEN 'the article does not state this region''s districts here'
            ELSE 'the article states ' || value || ' districts; the results list ' || n END AS message
FROM stated
WHERE value IS NULL OR abs(value - n) > getvariable('tolerance')
UNION ALL
SELECT 'districts', '*', 'district_number', CAST(e.district_seats_total_count AS VARCHAR),
       CAST((SELECT count(*) FROM districts) AS VARCHAR), 'the number of districts differs from the law''s'
FROM electoral_rules AS e
WHERE (SELECT count(*) FROM districts) <> e.district_seats_total_count
ORDER BY 1, 2, 3
