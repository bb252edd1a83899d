-- The corrections of the source (errata): the value before, after, and the evidence.
SELECT erratum_id, table_name, record_key, column_name, value_before, value_after, evidence FROM errata ORDER BY erratum_id
