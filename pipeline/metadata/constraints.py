"""The value constraints of schemas/ as DuckDB SQL: what every row of a table must satisfy (required values,
minimum and maximum, pattern, enum, non-empty text) and which keys must be unique. Generated from the same
fields as the DDL and the Table Schemas; the validate stage runs them (after checking each value's type
as it loads the rows: pipeline/validate.py)."""

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


def count_sql(resource: Resource, relation: str, keyed: frozenset[str] = frozenset(), hashed: bool = False) -> str:
    """A scalar query: how many rows of `relation` break a constraint, plus how many keys repeat. With
    `hashed`, a key group is compared by its 64-bit hash (one column to group by instead of several: much
    faster on millions of rows); equal keys have equal hashes, so a repeat is never missed, and a count
    above zero (a repeat, or a collision) is confirmed by violations_sql."""
    conditions = _row_conditions(resource, keyed)
    bad = " OR ".join(f"coalesce({condition}, false)" for _, condition, _ in conditions) or "false"
    groups = [
        f"hash({', '.join(group)})" if hashed and len(group) > 1 else ", ".join(group)
        for group in _unique_groups(resource)
    ]
    repeats = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {relation} GROUP BY {group} HAVING count(*) > 1))" for group in groups
    )
    return f"((SELECT count(*) FROM {relation} WHERE {bad}) + {repeats})"


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
