-- The result as the article's results table gives it: each party's and 'against all' votes and share
-- (the party lists), its list, district and total seats (independents included, so that the seats add up to
-- the chamber), and the change of its share since 2021 from the package's own 2021 figures (independent
-- reports, not the article). Largest total seats first, then votes.
WITH options AS (
  SELECT v.option_id, v.option_name, r.votes, r.vote_share_pct, c.list_seats_count, c.district_seats_count,
         c.seats_count
  FROM vote_options AS v
  JOIN national_party_list_results AS r USING (option_id)
  LEFT JOIN chamber_seats AS c ON c.party_id = v.option_id
  UNION ALL
  SELECT 'independent', 'Independents', NULL, NULL, list_seats_count, district_seats_count, seats_count
  FROM chamber_seats WHERE seat_holder_id = 'independent'
)
SELECT o.option_id, o.option_name AS party, o.votes, o.vote_share_pct AS share_pct, o.list_seats_count AS list_seats,
       o.district_seats_count AS district_seats, o.seats_count AS seats,
       round(o.vote_share_pct - e.vote_share_pct, 2) AS change_since_2021_pp
FROM options AS o
LEFT JOIN election_results AS e ON e.election_id = 'kz-majilis-2021-01-10' AND e.area_id = 'KZ'
     AND e.option_id = o.option_id AND e.protocol_version = 'final'
ORDER BY o.seats_count DESC NULLS LAST, o.votes DESC NULLS LAST
