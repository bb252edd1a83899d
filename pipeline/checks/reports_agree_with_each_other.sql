-- id: reports_agree_with_each_other
-- severity: warning
-- description: Independent reports of the same quantity agree with each other within the rounding of both; a report that disagrees with at least two others, and with more of them than it agrees with, is a finding, even where it agrees with the article within the article's rounding (a report's 3.25% beside six reports of 3.22%). Where only two reports disagree, the comparison with the article (reports_agree) decides.
-- table: independent_reports
-- tolerance: 1e-9
-- Two roundings of one value differ by at most half a unit of the last digit of each (times the figure's
-- multiplier); whole numbers written without a multiplier are counts and must be equal. Coverage: every
-- report of a quantity that at least two reports give is compared with each of the others.
WITH figures AS (
    SELECT report_id, quantity_id, reported_text, reported_value AS value,
           CASE WHEN reported_decimals = 0 AND reported_multiplier = 1 THEN 0
                ELSE 0.5 * pow(10, -reported_decimals) * reported_multiplier END AS half_unit
    FROM independent_reports
),
pairs AS (
    SELECT a.report_id, a.quantity_id, a.reported_text,
           count(*) FILTER (WHERE abs(a.value - b.value) > a.half_unit + b.half_unit + getvariable('tolerance')) AS disagree,
           count(*) FILTER (WHERE abs(a.value - b.value) <= a.half_unit + b.half_unit + getvariable('tolerance')) AS agree,
           string_agg(DISTINCT b.reported_text, ' / ' ORDER BY b.reported_text) AS others
    FROM figures AS a JOIN figures AS b ON a.quantity_id = b.quantity_id AND a.report_id <> b.report_id
    GROUP BY a.report_id, a.quantity_id, a.reported_text
)
SELECT 'independent_reports' AS table_name, 'report_id=' || report_id || ', quantity_id=' || quantity_id AS record_key,
       'reported_value' AS column_name, others AS expected, reported_text AS actual,
       'the report disagrees with ' || disagree || ' of the ' || (agree + disagree) || ' other reports of ' || quantity_id AS message
FROM pairs
WHERE disagree >= 2 AND disagree > agree
ORDER BY record_key
