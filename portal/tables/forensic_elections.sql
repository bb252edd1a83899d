-- The grid tests on every election: post hoc (2023) or fixed in advance, blind or not, run or why not.
SELECT election_id AS election, test_id AS test,
       CASE WHEN NOT is_fixed_in_advance THEN 'post hoc' WHEN is_blind THEN 'in advance' ELSE 'in advance, not blind' END AS fixed,
       CASE WHEN is_run THEN CAST(observed_value AS INTEGER) END AS on_grid, CASE WHEN is_run THEN units_count END AS units,
       p_value, numbers_source AS numbers,
       CASE WHEN NOT is_run THEN replace(reading_text, 'Not run: ', '') END AS not_run_because
FROM forensic_elections
ORDER BY is_run DESC, election_id DESC, test_id
