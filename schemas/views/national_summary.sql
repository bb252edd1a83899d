-- name: national_summary
-- description: The national result per ballot option in one place, votes and published share (results table), party-list seats (published and recomputed), district seats and total seats.
CREATE VIEW national_summary AS
SELECT o.option_id, o.option_name, o.option_kind, n.votes, n.vote_share_pct,
       c.list_seats_count, s.allocated_seats_count, c.district_seats_count, c.seats_count,
       nr.seat_change_count, nr.swing_pp
FROM national_party_list_results AS n
JOIN vote_options AS o USING (option_id)
LEFT JOIN national_results AS nr ON nr.party_id = o.party_id
LEFT JOIN seat_allocation AS s ON s.party_id = o.party_id
LEFT JOIN chamber_seats AS c ON c.party_id = o.party_id
ORDER BY n.votes DESC;
-- column allocated_seats_count: Party-list seats recomputed from the votes by the law (seat_allocation).
-- column seats_count: Seats held in the chamber, list plus district (chamber_seats: 0 for Baytaq, which won none).
