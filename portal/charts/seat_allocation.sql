-- The party-list allocation (seat_allocation): whole quotas, then the largest remainders, beside the
-- seats the commission published.
SELECT p.party_short_name AS party, s.votes, s.vote_share_pct AS share_pct, s.has_passed_threshold AS passed_threshold,
       s.quota_votes, s.integer_seats_count AS quota_seats, s.remainder, s.remainder_seats_count AS remainder_seats,
       s.allocated_seats_count AS allocated_seats, s.published_seats_count AS published_seats
FROM seat_allocation AS s JOIN parties AS p USING (party_id)
ORDER BY s.votes DESC
