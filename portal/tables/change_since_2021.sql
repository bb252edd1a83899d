-- The national result beside 2021, from the package's own 2021 figures (independent reports, not the article).
SELECT o.ballot_name AS party, a.votes AS votes_2023, a.vote_share_pct AS share_2023_pct,
       b.vote_share_pct AS share_2021_pct, round(a.vote_share_pct - b.vote_share_pct, 2) AS change_pp,
       a.seats_count AS list_seats_2023, b.seats_count AS list_seats_2021
FROM election_results AS a
JOIN election_options AS o ON o.election_id = a.election_id AND o.option_id = a.option_id
LEFT JOIN election_results AS b ON b.election_id = 'kz-majilis-2021-01-10' AND b.area_id = a.area_id
     AND b.option_id = a.option_id AND b.protocol_version = a.protocol_version
WHERE a.election_id = 'kz-majilis-2023-03-19' AND a.area_id = 'KZ' AND a.protocol_version = 'final'
ORDER BY a.votes DESC
