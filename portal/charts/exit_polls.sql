-- The exit polls against the official result (poll_errors, exit polls only), options named.
SELECT x.pollster_name AS pollster, o.option_name AS option, e.poll_share_pct, e.official_share_pct, e.error_pp
FROM poll_errors AS e JOIN vote_options AS o USING (option_id)
JOIN (SELECT DISTINCT poll_id, pollster_name FROM exit_polls) AS x USING (poll_id)
WHERE e.poll_kind = 'exit'
ORDER BY e.official_share_pct DESC, pollster
