"""Check shapes: SQL that several checks share, generated once with its coverage guard built in.

A check in pipeline/checks/ is either a `.sql` file (a query of its own) or a `.yaml` file that names a
shape and its parameters; the shape renders the query. Every query returns the failing rows with
table_name, record_key, column_name, expected, actual and message.
"""

from __future__ import annotations


def parts_sum_to_total(spec: dict) -> str:
    """The parts (e.g. regions) of each measure sum to its total (e.g. national), within the tolerance.

    Parameters: `parts` and `total` (tables), `measures` (columns present in both), `unit` (the column that
    identifies a part, e.g. region_id), `units` (SQL listing every expected part), and either `group`
    (a key column shared by both tables, e.g. option_id) with `groups` (SQL listing every expected
    group), or `record_key` (the one total's key, e.g. country_code=KZ).
    Coverage guard: a total that is missing, parts that are missing, or fewer parts than `units` lists
    (a NULL part counts as missing) are failures, so a missing row cannot pass.
    """
    measures = ", ".join(spec["measures"])
    measure_list = ", ".join(f"'{m}'" for m in spec["measures"])
    group = spec.get("group")
    keys = f"{group}, column_name" if group else "column_name"
    columns = f"SELECT unnest([{measure_list}]) AS column_name"
    expected_keys = f"SELECT {group}, column_name FROM ({spec['groups']}) CROSS JOIN ({columns})" if group else columns
    record_key = f"'{group}=' || k.{group}" if group else f"'{spec['record_key']}'"
    what = group.removesuffix("_id") if group else "column"
    return f"""WITH parts AS (
    SELECT {keys}, sum(value) AS actual, count(DISTINCT {spec["unit"]}) AS units_present
    FROM (UNPIVOT {spec["parts"]} ON {measures} INTO NAME column_name VALUE value)
    GROUP BY {keys}
),
totals AS (
    SELECT {keys}, value AS expected
    FROM (UNPIVOT {spec["total"]} ON {measures} INTO NAME column_name VALUE value)
),
expected_keys AS ({expected_keys}),
expected_units AS (SELECT count(*) AS n FROM ({spec["units"]}))
SELECT
    '{spec["parts"]}' AS table_name,
    {record_key} AS record_key,
    k.column_name,
    CAST(t.expected AS VARCHAR) AS expected,
    CAST(p.actual AS VARCHAR) AS actual,
    CASE
        WHEN t.expected IS NULL THEN 'no national total for this {what}'
        WHEN p.actual IS NULL THEN 'no regional rows for this {what}'
        WHEN p.units_present <> e.n THEN 'only ' || p.units_present || ' of ' || e.n || ' regions present'
        ELSE 'the regions sum to ' || p.actual || ', the national total is ' || t.expected
    END AS message
FROM expected_keys AS k
CROSS JOIN expected_units AS e
LEFT JOIN parts AS p USING ({keys})
LEFT JOIN totals AS t USING ({keys})
WHERE t.expected IS NULL OR p.actual IS NULL OR p.units_present <> e.n
   OR abs(p.actual - t.expected) > getvariable('tolerance')
ORDER BY record_key, k.column_name
"""


SHAPES = {"parts_sum_to_total": parts_sum_to_total}
