-- name: region_names_wide
-- description: One row per region with its English name and its official names in Kazakh (Cyrillic and Latin) and Russian, and the common Russian form where it differs (table region_names has the sources).
CREATE VIEW region_names_wide AS
SELECT r.region_id, r.region_name,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'kk' AND n.script_code = 'Cyrl' AND n.name_form = 'official') AS name_kk,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'kk' AND n.script_code = 'Latn' AND n.name_form = 'official') AS name_kk_latn,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'ru' AND n.name_form = 'official') AS name_ru,
       coalesce(any_value(n.local_name) FILTER (WHERE n.language_code = 'ru' AND n.name_form = 'common'),
                any_value(n.local_name) FILTER (WHERE n.language_code = 'ru' AND n.name_form = 'official')) AS name_ru_common
FROM regions AS r
LEFT JOIN region_names AS n USING (region_id)
GROUP BY r.region_id, r.region_name
ORDER BY r.region_id;
-- column name_kk: The official name in Kazakh, Cyrillic script.
-- column name_kk_latn: The official name in Kazakh, Latin script (2021 alphabet; transliterated by the package).
-- column name_ru: The official name in Russian, as the law or the electoral commission writes it.
-- column name_ru_common: The common Russian form (e.g. 'Абайская область' for 'область Абай'); the official one where no other is common.
