-- id: candidates_match_prose
-- severity: warning
-- description: The candidates table agrees with the counts the prose states: its party-list candidates with the registered list candidates, its district candidates of the parties and of the independents with the registered district candidates of each, and the nominated district candidates less the registered ones with those the prose says were rejected.
-- table: stated_figures
-- tolerance: 0
-- Counts are whole: no tolerance. Coverage guard: a relation whose table sum or stated figure is missing
-- (no row, or a null count) is reported, so a lost row cannot pass.
WITH figures AS (SELECT figure_id, stated_count FROM stated_figures),
parties AS (
    SELECT sum(list_candidates_count) AS list_count, sum(district_candidates_count) AS district_count,
           count(*) FILTER (WHERE list_candidates_count IS NULL OR district_candidates_count IS NULL) AS incomplete
    FROM party_candidates WHERE party_id IS NOT NULL
),
independents AS (SELECT any_value(district_candidates_count) AS district_count FROM party_candidates WHERE nominator_id = 'independent'),
relations(record_key, table_column, expected, actual, message) AS (
    SELECT 'figure_id=list_candidates_registered', 'list_candidates_count',
           (SELECT stated_count FROM figures WHERE figure_id = 'list_candidates_registered'),
           CASE WHEN p.incomplete = 0 THEN p.list_count END,
           'the parties'' list candidates in the table against the registered list candidates the prose states'
    FROM parties AS p
    UNION ALL
    SELECT 'figure_id=district_candidates_registered_by_parties', 'district_candidates_count',
           (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_registered_by_parties'),
           CASE WHEN p.incomplete = 0 THEN p.district_count END,
           'the parties'' district candidates in the table against the registered party district candidates the prose states'
    FROM parties AS p
    UNION ALL
    SELECT 'figure_id=district_candidates_registered_independent', 'district_candidates_count',
           (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_registered_independent'),
           i.district_count,
           'the independents'' district candidates in the table against the registered independents the prose states'
    FROM independents AS i
    UNION ALL
    SELECT 'figure_id=district_candidates_registered', 'district_candidates_count',
           (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_registered'),
           CASE WHEN p.incomplete = 0 THEN p.district_count + i.district_count END,
           'all district candidates in the table (parties and independents) against the registered total the prose states'
    FROM parties AS p, independents AS i
    UNION ALL
    SELECT 'figure_id=district_candidates_rejected', 'stated_count',
           (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_rejected'),
           (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_nominated')
             - (SELECT stated_count FROM figures WHERE figure_id = 'district_candidates_registered'),
           'the nominated district candidates less the registered ones against those the prose says were rejected'
)
SELECT 'stated_figures' AS table_name, record_key, 'stated_count' AS column_name,
       coalesce(CAST(expected AS VARCHAR), 'a stated figure') AS expected, coalesce(CAST(actual AS VARCHAR), 'missing') AS actual,
       message || ': ' || coalesce(CAST(actual AS VARCHAR), 'missing') || ' against ' || coalesce(CAST(expected AS VARCHAR), 'missing') AS message
FROM relations
WHERE expected IS NULL OR actual IS NULL OR abs(actual - expected) > getvariable('tolerance')
ORDER BY record_key
