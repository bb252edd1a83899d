"""The value constraints of schemas/ as DuckDB SQL: what every row of a table must satisfy (required values,
minimum and maximum, pattern, enum, non-empty text) and which keys must be unique. Generated from the same
fields as the DDL and the Table Schemas; the validate stage runs them (after checking each value's type
as it loads the rows: pipeline/validate/)."""

from __future__ import annotations

from pipeline.metadata.ddl import sql_string
from pipeline.metadata.model import Resource


def _row_conditions(resource: Resource, keyed: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    """(column, SQL condition that is true for a bad value, reason) for every constraint of every column;
    for a column in `keyed` (a foreign key into a column of the same definition, checked apart) the
    required value only: the key check shows every value is one the referenced table holds."""
    out = []
    for f in resource.fields:
        c, name = f.constraints, f.name
        if f.required or name in resource.primary_key:
            out.append((name, f"{name} IS NULL", "a required value is missing"))
        if name in keyed:
            continue
        if "minimum" in c:
            out.append((name, f"{name} < {c['minimum']!r}", f"below the minimum {c['minimum']}"))
        if "maximum" in c:
            out.append((name, f"{name} > {c['maximum']!r}", f"above the maximum {c['maximum']}"))
        if "pattern" in c:
            out.append(
                (
                    name,
                    f"NOT regexp_full_match({name}, {sql_string(c['pattern'])})",
                    f"does not match the pattern {c['pattern']}",
                )
            )
        if "enum" in c:
            allowed = ", ".join(sql_string(v) for v in c["enum"])
            out.append((name, f"{name} NOT IN ({allowed})", f"not one of {', '.join(map(str, c['enum']))}"))
        if f.type == "string":
            out.append((name, f"length({name}) = 0", "empty text: a missing value must be null"))
    return out


def _unique_groups(resource: Resource) -> list[tuple[str, ...]]:
    groups = [tuple(resource.primary_key), *resource.unique]
    groups += [(f.name,) for f in resource.fields if f.constraints.get("unique") and (f.name,) not in groups]
    return groups


def _row_key(resource: Resource) -> str:
    return " || ', ' || ".join(f"'{k}=' || coalesce(CAST({k} AS VARCHAR), 'null')" for k in resource.primary_key)


def count_sql(
    resource: Resource,
    relation: str,
    keyed: frozenset[str] = frozenset(),
    hashed: bool = False,
    codes: dict[str, list[str]] | None = None,
) -> str:
    """A scalar query: how many rows of `relation` break a constraint, plus how many keys repeat. For
    millions of rows, two faster ways to find repeats, each of which may only over-count (a count above
    zero is then confirmed, or not, by violations_sql):
    - `hashed`: a key of several columns is grouped by its 64-bit hash (equal keys, equal hashes);
    - `codes`: a key whose last column takes one of at most 64 known codes (a foreign key into a code
      list, e.g. the ballot's options) is grouped by its other columns only, each group's codes marked in
      a 64-bit mask: the group repeats a code when it has more rows than marked codes (an unknown code,
      left unmarked, counts as a repeat here and is named by the foreign-key check)."""
    conditions = _row_conditions(resource, keyed)
    bad = " OR ".join(f"coalesce({condition}, false)" for _, condition, _ in conditions) or "false"
    repeats = []
    for group in _unique_groups(resource):
        *head, last = group
        known = (codes or {}).get(last)
        if head and known and len(known) <= 64:
            listed = "[" + ", ".join(sql_string(c) for c in known) + "]"
            repeats.append(
                "(SELECT count(*) FROM (SELECT count(*) AS n, "
                f"bit_or(1::UBIGINT << (list_position({listed}, {last}) - 1)) AS mask "
                f"FROM {relation} GROUP BY {', '.join(head)}) WHERE n <> coalesce(bit_count(mask), 0))"
            )
            continue
        columns = f"hash({', '.join(group)})" if hashed and len(group) > 1 else ", ".join(group)
        repeats.append(f"(SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY {columns} HAVING count(*) > 1))")
    return f"((SELECT count(*) FROM {relation} WHERE {bad}) + {' + '.join(repeats)})"


def violations_sql(resource: Resource, relation: str, keyed: frozenset[str] = frozenset()) -> str:
    """A query of every broken constraint: row_key, column_name, value, reason."""
    key = _row_key(resource)
    parts = [
        f"SELECT {key} AS row_key, '{column}' AS column_name, CAST({column} AS VARCHAR) AS value, "
        f"{sql_string(reason)} AS reason FROM {relation} WHERE coalesce({condition}, false)"
        for column, condition, reason in _row_conditions(resource, keyed)
    ]
    for group in _unique_groups(resource):
        group_key = " || ', ' || ".join(f"'{k}=' || coalesce(CAST({k} AS VARCHAR), 'null')" for k in group)
        parts.append(
            f"SELECT {group_key} AS row_key, '{', '.join(group)}' AS column_name, NULL AS value, "
            f"'these values appear in ' || count(*) || ' rows; they must be unique' AS reason FROM {relation} "
            f"GROUP BY {', '.join(group)} HAVING count(*) > 1"
        )
    return " UNION ALL ".join(parts)
