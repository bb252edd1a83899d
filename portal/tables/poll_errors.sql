-- Each poll's mean absolute error against the official result (forensic_tests, test poll_error).
SELECT subject_id AS poll_id, round(observed_value, 2) AS mean_absolute_error_pp, reading_text AS reading
FROM forensic_tests WHERE test_id = 'poll_error' ORDER BY observed_value
