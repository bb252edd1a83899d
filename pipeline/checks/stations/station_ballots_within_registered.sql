-- id: station_ballots_within_registered
-- severity: error
-- description: At every station, the ballots issued do not exceed the registered voters and the ballots cast do not exceed the ballots issued. No exception is made: a voter who votes away from home (with an absentee certificate) is added to the station's list before receiving a ballot, so the protocol's registered count includes such voters. No protocol (preliminary ones included, which the sums do not cover) counts more registered voters than the published total of the region that counts the station.
-- table: station_ballots
-- tolerance: 0
-- Coverage guard: every row of station_ballots is tested (both comparisons; a null is caught by the
-- schema before the checks run).
SELECT 'station_ballots' AS table_name,
       'station_id=' || station_id || ', protocol_version=' || protocol_version AS record_key,
       column_name, expected, actual, message
FROM (
    SELECT station_id, protocol_version, 'ballots_issued_count' AS column_name,
           '<= ' || registered_voters_count AS expected, CAST(ballots_issued_count AS VARCHAR) AS actual,
           'more ballots issued than voters registered, by ' || (ballots_issued_count - registered_voters_count) AS message
    FROM station_ballots WHERE ballots_issued_count - registered_voters_count > getvariable('tolerance')
    UNION ALL
    SELECT station_id, protocol_version, 'ballots_cast_count', '<= ' || ballots_issued_count,
           CAST(ballots_cast_count AS VARCHAR),
           'more ballots in the boxes than ballots issued, by ' || (ballots_cast_count - ballots_issued_count)
    FROM station_ballots WHERE ballots_cast_count - ballots_issued_count > getvariable('tolerance')
    UNION ALL
    SELECT b.station_id, b.protocol_version, 'registered_voters_count', '<= ' || r.registered_voters_count,
           CAST(b.registered_voters_count AS VARCHAR),
           'more voters registered at the station than in its whole region (' || r.region_id || ')'
    FROM station_ballots AS b JOIN stations AS s USING (station_id)
    JOIN region_ballots AS r ON r.region_id = s.counted_in_region_id
    WHERE b.registered_voters_count - r.registered_voters_count > getvariable('tolerance')
)
ORDER BY record_key, column_name
