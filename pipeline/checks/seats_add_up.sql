-- id: seats_add_up
-- severity: error
-- description: In the chamber as elected, each party's list plus district seats equal the total the infobox publishes; party-list seats add up to 69, districts to 29, and all seats (independents included) to 98.
-- table: chamber_seats
-- tolerance: 0
-- Coverage guard: the sums run over every seat holder and are compared with electoral_rules, so a missing
-- party or a missing independent seat shows as a shortfall; a party without a row at all is reported too.
WITH per_holder AS (
    SELECT 'chamber_seats' AS table_name, 'seat_holder_id=' || seat_holder_id AS record_key, 'published_seats_count' AS column_name,
           CAST(seats_count AS VARCHAR) AS expected, CAST(published_seats_count AS VARCHAR) AS actual,
           'party-list plus district seats differ from the published total' AS message
    FROM chamber_seats
    WHERE published_seats_count IS NOT NULL AND abs(seats_count - published_seats_count) > getvariable('tolerance')
),
missing AS (
    SELECT 'chamber_seats', 'seat_holder_id=' || party_id, 'seats_count', 'a row', 'none', 'the party has no row in the chamber'
    FROM parties WHERE party_id NOT IN (SELECT seat_holder_id FROM chamber_seats)
),
sums AS (
    SELECT 'list_seats_count' AS column_name, (SELECT sum(list_seats_count) FROM chamber_seats) AS actual, list_seats_total_count AS expected FROM electoral_rules
    UNION ALL
    SELECT 'district_seats_count', (SELECT sum(district_seats_count) FROM chamber_seats), district_seats_total_count FROM electoral_rules
    UNION ALL
    SELECT 'seats_count', (SELECT sum(seats_count) FROM chamber_seats), seats_total_count FROM electoral_rules
)
SELECT * FROM per_holder
UNION ALL
SELECT * FROM missing
UNION ALL
SELECT 'chamber_seats', '*', column_name, CAST(expected AS VARCHAR), CAST(actual AS VARCHAR),
       'the seats add up to ' || coalesce(CAST(actual AS VARCHAR), 'nothing') || ', the law has ' || expected
FROM sums
WHERE actual IS NULL OR abs(actual - expected) > getvariable('tolerance')
ORDER BY 1, 2, 3
