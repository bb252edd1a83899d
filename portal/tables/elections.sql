-- The elections the package holds, with how much of each it covers (election_coverage).
SELECT e.election_id, e.election_date, e.election_title,
       sum(c.values_count) FILTER (WHERE c.level_name = 'national') AS national_values,
       sum(c.values_count) FILTER (WHERE c.level_name = 'regional') AS regional_values,
       count(*) FILTER (WHERE c.values_count = 0) AS quantities_missing,
       e.data_origin_text AS figures_from
FROM elections AS e JOIN election_coverage AS c USING (election_id)
GROUP BY ALL
ORDER BY e.election_date DESC, e.election_id  -- (two elections on 19 March 2023: a tie broken by the id)
