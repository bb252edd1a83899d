-- id: names_complete
-- severity: error
-- description: Every region has its official name in Kazakh (Cyrillic and Latin) and Russian; every party its registered full name in Kazakh, Russian and English and a short name.
-- table: region_names
-- tolerance: 0
-- Coverage guard: the expected forms are listed for every region and party of the reference tables, so a
-- missing row (or a missing region or party) is reported, never passed.
WITH region_forms(language_code, script_code, name_form) AS (
    VALUES ('kk', 'Cyrl', 'official'), ('kk', 'Latn', 'official'), ('ru', 'Cyrl', 'official')
),
party_forms(language_code, script_code, name_form) AS (
    VALUES ('kk', 'Cyrl', 'official_full'), ('ru', 'Cyrl', 'official_full'), ('en', 'Latn', 'official_full')
),
missing AS (
    SELECT 'region_names' AS table_name, 'region_id=' || r.region_id AS record_key,
           f.language_code || '/' || f.script_code || '/' || f.name_form AS wanted
    FROM regions AS r CROSS JOIN region_forms AS f
    WHERE NOT EXISTS (SELECT 1 FROM region_names AS n WHERE n.region_id = r.region_id
                      AND n.language_code = f.language_code AND n.script_code = f.script_code AND n.name_form = f.name_form)
    UNION ALL
    SELECT 'party_names', 'party_id=' || p.party_id, f.language_code || '/' || f.script_code || '/' || f.name_form
    FROM parties AS p CROSS JOIN party_forms AS f
    WHERE NOT EXISTS (SELECT 1 FROM party_names AS n WHERE n.party_id = p.party_id
                      AND n.language_code = f.language_code AND n.script_code = f.script_code AND n.name_form = f.name_form)
    UNION ALL
    SELECT 'party_names', 'party_id=' || p.party_id, 'short'
    FROM parties AS p
    WHERE NOT EXISTS (SELECT 1 FROM party_names AS n WHERE n.party_id = p.party_id AND n.name_form = 'short')
)
SELECT table_name, record_key, 'local_name' AS column_name, wanted AS expected, 'missing' AS actual,
       'no ' || wanted || ' name' AS message
FROM missing
ORDER BY 1, 2, 4
