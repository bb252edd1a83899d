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


def _key_sql(resource) -> str:
    """SQL writing a row's record key as the pipeline writes it ('column=value, ...'; times ISO)."""
    kinds = {f.name: f.type for f in resource.fields}
    parts = []
    for column in resource.primary_key:
        if kinds[column] == "datetime":
            value = f"strftime({column}, '%Y-%m-%dT%H:%M:%S')"
        elif kinds[column] == "date":
            value = f"strftime({column}, '%Y-%m-%d')"
        else:
            value = f"CAST({column} AS VARCHAR)"
        parts.append(f"'{column}=' || {value}")
    return " || ', ' || ".join(parts)


def reported_figures_agree(spec: dict) -> str:
    """Every figure of `reports` that names a published cell (published_table_name, published_record_key,
    published_column_name) equals the value published there, within both roundings.

    Parameters: `reports` (the table of reported figures: quantity_id, reported_value, reported_decimals
    and the published_* columns) and `published`: for each table a report may name, its comparable
    columns, each `exact` (a count: no tolerance) or the number of decimals the source publishes it to.
    Two roundings of one value differ by at most half a unit of the last digit of each, so the tolerance
    is 0.5 x 10^-reported_decimals + 0.5 x 10^-published_decimals (plus the check's own `tolerance` for
    binary floating point). Coverage guard: a figure whose table, row or column is not published (or is
    null) is a failure, so a figure cannot pass by missing. Figures of quantities the package does not
    publish (no published table) are compared with nothing.
    """
    from pipeline import metadata

    package = metadata.load()
    selects, pairs = [], []
    for table, columns in spec["published"].items():
        resource = package.resource(table)
        for column, precision in columns.items():
            pairs.append(f"('{table}', '{column}')")
            decimals = "NULL" if precision == "exact" else int(precision)
            selects.append(
                f"SELECT '{table}' AS published_table_name, {_key_sql(resource)} AS published_record_key, "
                f"'{column}' AS published_column_name, CAST({column} AS DOUBLE) AS value, {decimals} AS decimals "
                f"FROM {table}"
            )
    published = "\n    UNION ALL ".join(selects)
    reports = spec["reports"]
    return f"""WITH published AS (
    {published}
),
comparable (published_table_name, published_column_name) AS (VALUES {", ".join(pairs)}),
compared AS (
    SELECT r.*, p.value AS published_value,
           (r.published_table_name, r.published_column_name) IN (SELECT (published_table_name, published_column_name)
                                                                  FROM comparable) AS is_comparable,
           CASE WHEN p.decimals IS NULL THEN 0
                ELSE 0.5 * pow(10, -r.reported_decimals) + 0.5 * pow(10, -p.decimals) END AS allowed
    FROM {reports} AS r
    LEFT JOIN published AS p USING (published_table_name, published_record_key, published_column_name)
    WHERE r.published_table_name IS NOT NULL
)
SELECT
    '{reports}' AS table_name,
    'report_id=' || report_id || ', quantity_id=' || quantity_id AS record_key,
    'reported_value' AS column_name,
    regexp_replace(CAST(published_value AS VARCHAR), '[.]0$', '') AS expected,
    reported_text AS actual,
    CASE
        WHEN NOT is_comparable THEN 'no published column ' || published_table_name || '.' || published_column_name
            || ' to compare with'
        WHEN published_value IS NULL THEN 'the package publishes no value for ' || quantity_id
        ELSE publisher_id || ' reports ' || reported_text || ' for ' || quantity_id || '; the package publishes '
            || regexp_replace(CAST(published_value AS VARCHAR), '[.]0$', '')
    END AS message
FROM compared
WHERE NOT is_comparable OR published_value IS NULL
   OR abs(reported_value - published_value) > allowed + getvariable('tolerance')
ORDER BY record_key
"""


SHAPES = {"parts_sum_to_total": parts_sum_to_total, "reported_figures_agree": reported_figures_agree}
