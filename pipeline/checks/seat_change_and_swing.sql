-- id: seat_change_and_swing
-- severity: error
-- description: The infobox's unsigned seat changes and swings equal the size of the changes recomputed from the 2021 result, and 'New' stands exactly for the parties new in 2023.
-- table: national_results
-- tolerance: 0.005
-- The signed values (seat_change_count, swing_pp) are computed; this check ties their size to what
-- the infobox prints. Tolerance: half a unit of the swing's last decimal (seat changes are whole).
-- Coverage guard: a party the infobox lists (it has votes there) without a 2021 status is reported.
WITH compared AS (
    SELECT party_id, 'seat_change_published_abs' AS column_name, status_2021,
           CAST(abs(seat_change_count) AS DOUBLE) AS recomputed, CAST(seat_change_published_abs AS DOUBLE) AS published
    FROM national_results WHERE status_2021 IS NOT NULL
    UNION ALL
    -- A party that boycotted 2021 has no 2021 share (and no computed swing): the infobox counts its
    -- swing from zero, so its published swing is compared with its 2023 share.
    SELECT party_id, 'swing_published_abs_pp', status_2021,
           CASE WHEN status_2021 = 'boycotted' THEN vote_share_pct ELSE abs(swing_pp) END, swing_published_abs_pp
    FROM national_results WHERE status_2021 IS NOT NULL
)
SELECT 'national_results' AS table_name, 'party_id=' || party_id AS record_key, column_name,
       coalesce(CAST(recomputed AS VARCHAR), 'New') AS expected, coalesce(CAST(published AS VARCHAR), 'New') AS actual,
       'the published change differs from the recomputed one' AS message
FROM compared
WHERE CASE WHEN status_2021 = 'new' THEN published IS NOT NULL
           ELSE published IS NULL OR abs(recomputed - published) > getvariable('tolerance') + 1e-9 END
UNION ALL
SELECT 'national_results', 'party_id=' || party_id, 'status_2021', 'contested, new or boycotted', 'NULL',
       'the infobox lists the party but its 2021 result is missing'
FROM national_results WHERE votes IS NOT NULL AND status_2021 IS NULL
ORDER BY 2, 3
