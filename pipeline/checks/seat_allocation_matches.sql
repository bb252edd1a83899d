-- id: seat_allocation_matches
-- severity: error
-- description: The party-list seats recomputed from the votes by the law equal the seats the article publishes, and all 69 are allocated.
-- table: seat_allocation
-- tolerance: 0
-- Coverage guard: every party has a row, and the allocated seats add up to electoral_rules.list_seats_total_count.
SELECT 'seat_allocation' AS table_name, 'party_id=' || p.party_id AS record_key, 'published_seats_count' AS column_name,
       CAST(s.allocated_seats_count AS VARCHAR) AS expected, CAST(s.published_seats_count AS VARCHAR) AS actual,
       CASE WHEN s.party_id IS NULL THEN 'no allocation for this party'
            ELSE 'the published seats differ from the recomputed allocation' END AS message
FROM parties AS p LEFT JOIN seat_allocation AS s USING (party_id)
WHERE s.party_id IS NULL OR abs(s.allocated_seats_count - s.published_seats_count) > getvariable('tolerance')
UNION ALL
SELECT 'seat_allocation', '*', 'allocated_seats_count', CAST(e.list_seats_total_count AS VARCHAR),
       CAST((SELECT sum(allocated_seats_count) FROM seat_allocation) AS VARCHAR), 'not all list seats are allocated'
FROM electoral_rules AS e
WHERE (SELECT sum(allocated_seats_count) FROM seat_allocation) IS DISTINCT FROM e.list_seats_total_count
ORDER BY 2
