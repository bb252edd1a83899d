-- id: stated_figures_add_up
-- severity: error
-- description: The counts the prose states add up: the district candidates nominated by independents, parties and public associations make the total nominated; those registered as independents and from parties make the total registered; the polling stations at home and abroad make the total.
-- table: stated_figures
-- tolerance: 0
-- Coverage guard: a relation whose total or any of its parts is missing is reported as failing.
WITH relations(total_id, part_ids) AS (
    VALUES
        ('district_candidates_nominated', ['district_candidates_nominated_independent',
            'district_candidates_nominated_by_parties', 'district_candidates_nominated_by_associations']),
        ('district_candidates_registered', ['district_candidates_registered_independent',
            'district_candidates_registered_by_parties']),
        ('polling_stations_total', ['polling_stations_domestic', 'polling_stations_abroad'])
),
parts AS (
    SELECT r.total_id, sum(f.stated_count) AS actual, count(f.figure_id) AS present, len(r.part_ids) AS wanted
    FROM relations AS r
    LEFT JOIN stated_figures AS f ON list_contains(r.part_ids, f.figure_id)
    GROUP BY r.total_id, r.part_ids
)
SELECT
    'stated_figures' AS table_name,
    'figure_id=' || p.total_id AS record_key,
    'stated_count' AS column_name,
    CAST(t.stated_count AS VARCHAR) AS expected,
    CAST(p.actual AS VARCHAR) AS actual,
    CASE
        WHEN t.stated_count IS NULL THEN 'the total is missing'
        WHEN p.present <> p.wanted THEN 'only ' || p.present || ' of its ' || p.wanted || ' parts are present'
        ELSE 'the parts sum to ' || p.actual || ', the stated total is ' || t.stated_count
    END AS message
FROM parts AS p
LEFT JOIN stated_figures AS t ON t.figure_id = p.total_id
WHERE t.stated_count IS NULL OR p.present <> p.wanted OR abs(p.actual - t.stated_count) > getvariable('tolerance')
ORDER BY record_key
