-- The seats of the chamber by holder and kind (list or district), from chamber_seats; holders named
-- from parties (the independents have no party), in the order drawn: most seats first (holder_order),
-- list seats before district seats (kind_order).
WITH s AS (
    SELECT seat_holder_id, party_id, 'party list' AS kind, 0 AS kind_order, list_seats_count AS seats FROM chamber_seats
    UNION ALL
    SELECT seat_holder_id, party_id, 'district', 1, district_seats_count FROM chamber_seats
), named AS (
    SELECT coalesce(p.party_short_name, 'Independents') AS seat_holder, s.kind, s.kind_order, s.seats,
           sum(s.seats) OVER (PARTITION BY s.seat_holder_id) AS holder_seats
    FROM s LEFT JOIN parties AS p USING (party_id)
)
SELECT seat_holder, dense_rank() OVER (ORDER BY holder_seats DESC, seat_holder) AS holder_order, kind, kind_order, seats
FROM named
WHERE seats > 0
ORDER BY holder_order, kind_order
