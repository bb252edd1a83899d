-- The findings acknowledged as they are (quality_checks with status 'acknowledged'), with the reason.
SELECT check_id, table_name, record_key, column_name, expected, actual, explanation
FROM quality_checks WHERE status = 'acknowledged' ORDER BY check_id, table_name, record_key, column_name
