-- id: station_votes_add_up
-- severity: error
-- description: At every station and protocol version, the votes for all options plus the invalid ballots equal the ballots cast.
-- table: station_ballots
-- tolerance: 0
-- Coverage guard: a protocol without vote rows, or with other options than the ballot's (fewer, or one
-- that is not on the ballot, such as a poll's 'undecided'), is reported.
WITH ballot AS (SELECT option_id FROM vote_options WHERE option_kind IN ('party', 'against_all')),
options AS (
    SELECT station_id, protocol_version, sum(votes) AS votes,
           count(*) FILTER (WHERE option_id IN (SELECT option_id FROM ballot)) AS options_present,
           count(*) FILTER (WHERE option_id NOT IN (SELECT option_id FROM ballot)) AS options_off_ballot
    FROM station_votes GROUP BY station_id, protocol_version
),
ballot_options AS (SELECT count(*) AS n FROM ballot)
SELECT 'station_ballots' AS table_name,
       'station_id=' || b.station_id || ', protocol_version=' || b.protocol_version AS record_key,
       'ballots_cast_count' AS column_name, CAST(b.ballots_cast_count AS VARCHAR) AS expected,
       CAST(o.votes + b.invalid_ballots_count AS VARCHAR) AS actual,
       CASE WHEN o.votes IS NULL THEN 'no vote rows for this protocol'
            WHEN o.options_off_ballot > 0 THEN o.options_off_ballot || ' vote rows for options not on the ballot'
            WHEN o.options_present <> n.n THEN 'only ' || o.options_present || ' of ' || n.n || ' options present'
            ELSE 'votes plus invalid differ from ballots cast by ' || (o.votes + b.invalid_ballots_count - b.ballots_cast_count)
       END AS message
FROM station_ballots AS b CROSS JOIN ballot_options AS n LEFT JOIN options AS o USING (station_id, protocol_version)
WHERE o.votes IS NULL OR o.options_present <> n.n OR o.options_off_ballot > 0
   OR abs(o.votes + b.invalid_ballots_count - b.ballots_cast_count) > getvariable('tolerance')
ORDER BY record_key
