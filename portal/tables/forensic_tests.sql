-- The forensic tests (forensic_tests) other than the poll errors: statistic, observed, expected, p-value.
SELECT test_id, units_count AS units, statistic_name AS statistic, round(observed_value, 4) AS observed,
       round(expected_value, 4) AS expected, p_value, p_value_method AS method, reading_text AS reading
FROM forensic_tests WHERE test_id <> 'poll_error' ORDER BY test_id
