-- id: article_2021_columns
-- severity: error
-- description: The article's 2021 columns (national_results.vote_share_2021_pct and seats_2021_count) equal the package's own 2021 figures (election_results, kz-majilis-2021-01-10, final, national), built from independent reports.
-- table: national_results
-- tolerance: 0.005
-- Tolerance: half a unit of the shares' second decimal (both are published to two decimals; a report
-- giving fewer decimals is held to its own rounding when the 2021 figures are built); seats are whole.
-- Coverage guard: a party the article gives a 2021 share, or a 2021 seat count above 0, must have the
-- same in a final 2021 national row; a party the reports give seats must have them in the article. A
-- party the article gives 0 seats and no report gives any (Auyl and Adal fell below the 7 % threshold;
-- no report writes their 0) is not compared. A party the article says contested 2021 must have a share,
-- and at least one share must be compared (the check cannot pass on an empty column).
WITH article AS (
    SELECT party_id, vote_share_2021_pct AS share, seats_2021_count AS seats, status_2021 FROM national_results
),
own AS (
    SELECT option_id AS party_id, vote_share_pct AS share, seats_count AS seats
    FROM election_results
    WHERE election_id = 'kz-majilis-2021-01-10' AND area_id = 'KZ' AND protocol_version = 'final'
)
SELECT 'national_results' AS table_name, 'party_id=' || a.party_id AS record_key, 'vote_share_2021_pct' AS column_name,
       coalesce(CAST(o.share AS VARCHAR), CASE WHEN o.party_id IS NULL THEN 'a 2021 row' ELSE 'a 2021 share' END) AS expected,
       coalesce(CAST(a.share AS VARCHAR), 'NULL') AS actual,
       CASE WHEN a.share IS NULL THEN 'the article gives no 2021 share for a party that contested 2021'
            WHEN o.party_id IS NULL THEN 'no 2021 national result for the party in election_results'
            WHEN o.share IS NULL THEN 'the 2021 national result has no share for the party'
            ELSE 'the article''s 2021 share differs from the reports''' END AS message
FROM article AS a LEFT JOIN own AS o USING (party_id)
WHERE (a.share IS NULL AND a.status_2021 = 'contested')
   OR (a.share IS NOT NULL AND (o.share IS NULL OR abs(a.share - o.share) > getvariable('tolerance') + 1e-9))
UNION ALL
SELECT 'national_results', 'party_id=' || coalesce(a.party_id, o.party_id), 'seats_2021_count',
       coalesce(CAST(o.seats AS VARCHAR), 'a 2021 seat count'), coalesce(CAST(a.seats AS VARCHAR), 'NULL'),
       CASE WHEN o.seats IS NULL THEN 'the article gives 2021 seats the reports do not'
            ELSE 'the article''s 2021 seats differ from the reports''' END
FROM article AS a FULL JOIN own AS o USING (party_id)
WHERE CASE WHEN o.seats IS NULL THEN coalesce(a.seats, 0) > 0
           ELSE a.seats IS DISTINCT FROM o.seats AND NOT (a.party_id IS NULL AND o.seats = 0) END
UNION ALL
SELECT 'national_results', 'party_id=(any)', 'vote_share_2021_pct', 'at least one 2021 share to compare', '0',
       'nothing was compared: the article gives no 2021 share'
WHERE (SELECT count(share) FROM article) = 0
ORDER BY 2, 3
