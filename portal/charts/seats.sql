-- The seats of the chamber by holder and kind (list or district), from chamber_seats; holders named
-- from parties (the independents have no party).
SELECT coalesce(p.party_short_name, 'Independents') AS seat_holder, s.kind, s.kind_order, s.seats
FROM (
    SELECT seat_holder_id, party_id, 'party list' AS kind, 0 AS kind_order, list_seats_count AS seats FROM chamber_seats
    UNION ALL
    SELECT seat_holder_id, party_id, 'district', 1, district_seats_count FROM chamber_seats
) AS s LEFT JOIN parties AS p USING (party_id)
WHERE s.seats > 0
ORDER BY sum(s.seats) OVER (PARTITION BY seat_holder) DESC, seat_holder, s.kind_order
