-- id: seats_add_up
-- severity: error
-- description: Per party, party-list seats plus district seats equal the published total; party-list seats add up to 69, districts to 29, and all seats (independents included) to 98.
-- table: national_results
-- tolerance: 0
-- Coverage guard: the sums run over every party and district, and each is compared with electoral_rules.
WITH independents AS (
    SELECT count(*) AS n FROM district_results WHERE candidate_rank = 1 AND candidate_party_id IS NULL
),
per_party AS (
    SELECT 'national_results' AS table_name, 'party_id=' || party_id AS record_key, 'seats_count' AS column_name,
           CAST(list_seats_count + district_seats_count AS VARCHAR) AS expected, CAST(seats_count AS VARCHAR) AS actual,
           'party-list plus district seats differ from the published total' AS message
    FROM national_results
    WHERE seats_count IS NOT NULL AND abs(list_seats_count + district_seats_count - seats_count) > getvariable('tolerance')
),
sums AS (
    SELECT 'list_seats_count' AS column_name, (SELECT sum(list_seats_count) FROM national_results) AS actual, list_seats_total_count AS expected FROM electoral_rules
    UNION ALL
    SELECT 'district_seats_count', (SELECT sum(district_seats_count) FROM national_results) + (SELECT n FROM independents), district_seats_total_count FROM electoral_rules
    UNION ALL
    SELECT 'seats_count', (SELECT sum(coalesce(seats_count, list_seats_count + district_seats_count)) FROM national_results) + (SELECT n FROM independents), seats_total_count FROM electoral_rules
)
SELECT * FROM per_party
UNION ALL
SELECT 'national_results', '*', column_name, CAST(expected AS VARCHAR), CAST(actual AS VARCHAR),
       'the seats add up to ' || coalesce(CAST(actual AS VARCHAR), 'nothing') || ', the law has ' || expected
FROM sums
WHERE actual IS NULL OR abs(actual - expected) > getvariable('tolerance')
ORDER BY 1, 2, 3
