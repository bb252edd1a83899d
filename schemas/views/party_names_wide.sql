-- name: party_names_wide
-- description: One row per party with its registered full names in Kazakh, Russian and English and its short (ballot) name (table party_names has the sources).
CREATE VIEW party_names_wide AS
SELECT p.party_id, p.party_short_name,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'kk' AND n.name_form = 'official_full') AS name_kk,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'ru' AND n.name_form = 'official_full') AS name_ru,
       any_value(n.local_name) FILTER (WHERE n.language_code = 'en' AND n.name_form = 'official_full') AS name_en,
       string_agg(n.local_name, ' / ' ORDER BY n.language_code) FILTER (WHERE n.name_form = 'short') AS ballot_names
FROM parties AS p
LEFT JOIN party_names AS n USING (party_id)
GROUP BY p.party_id, p.party_short_name
ORDER BY p.party_id;
-- column name_kk: The registered full name in Kazakh.
-- column name_ru: The registered full name in Russian.
-- column name_en: The registered full name in English.
-- column ballot_names: The short names or abbreviations the commission and the press use, Kazakh before Russian where they differ.
