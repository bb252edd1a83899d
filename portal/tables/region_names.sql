-- The regions and cities with their official names in Kazakh and Russian (region_names_wide) and
-- their final turnout (region_ballots).
SELECT w.region_id, w.region_name, w.name_kk, w.name_ru, b.registered_voters_count AS registered_voters,
       b.turnout_pct
FROM region_names_wide AS w JOIN region_ballots AS b USING (region_id)
ORDER BY w.region_name
