-- Each region's registered voters, ballots cast and final turnout beside the nation's (region_ballots,
-- national_ballots).
SELECT b.region_id, b.registered_voters_count AS registered_voters, b.ballots_cast_count AS ballots_cast,
       b.invalid_ballots_count AS invalid_ballots, b.turnout_pct, n.turnout_pct AS national_turnout_pct
FROM region_ballots AS b CROSS JOIN national_ballots AS n
ORDER BY b.region_id
