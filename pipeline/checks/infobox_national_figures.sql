-- id: infobox_national_figures
-- severity: error
-- description: The infobox's registered voters and turnout equal the totals row of the party-list table, and its seat count equals the law's.
-- table: national_infobox_figures
-- tolerance: 0
-- Coverage guard: a missing infobox or totals row is reported.
WITH compared AS (
    SELECT 'registered_voters_count' AS column_name, CAST(i.registered_voters_count AS DOUBLE) AS infobox,
           CAST(b.registered_voters_count AS DOUBLE) AS other
    FROM national_infobox_figures AS i FULL JOIN national_ballots AS b USING (country_code)
    UNION ALL
    SELECT 'turnout_pct', i.turnout_pct, b.turnout_pct
    FROM national_infobox_figures AS i FULL JOIN national_ballots AS b USING (country_code)
    UNION ALL
    SELECT 'seats_total_count', i.seats_total_count, e.seats_total_count
    FROM national_infobox_figures AS i FULL JOIN electoral_rules AS e USING (country_code)
)
SELECT 'national_infobox_figures' AS table_name, 'country_code=KZ' AS record_key, column_name,
       CAST(other AS VARCHAR) AS expected, CAST(infobox AS VARCHAR) AS actual,
       CASE WHEN infobox IS NULL OR other IS NULL THEN 'a row to compare is missing'
            ELSE 'the infobox differs from the results table' END AS message
FROM compared
WHERE infobox IS NULL OR other IS NULL OR abs(infobox - other) > getvariable('tolerance') + 1e-9
ORDER BY column_name
