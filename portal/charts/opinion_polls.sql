-- The opinion polls (opinion_polls): each option's share at the end of fieldwork, with the options named.
SELECT p.fieldwork_end_date AS fieldwork_end, p.pollster_name AS pollster,
       p.respondents_count AS respondents, o.option_name AS option, p.share_pct
FROM opinion_polls AS p JOIN vote_options AS o USING (option_id)
LEFT JOIN national_party_list_results AS n USING (option_id)
ORDER BY fieldwork_end, pollster, n.vote_share_pct DESC NULLS LAST, option
