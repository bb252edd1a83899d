-- The parties' official names in Kazakh, Russian and English (party_names_wide) and their seats.
SELECT w.party_short_name AS party, w.name_kk, w.name_ru, w.name_en, s.list_seats_count AS list_seats,
       s.district_seats_count AS district_seats, s.seats_count AS seats
FROM party_names_wide AS w JOIN chamber_seats AS s USING (party_id)
ORDER BY s.seats_count DESC, party
