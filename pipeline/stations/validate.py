"""Validation of station-level returns inside DuckDB, generated from schemas/stations/ and
schemas/fields.yaml: the columns and their types, then every value constraint and key of the metadata
(pipeline/metadata/constraints.py, the same SQL that checks the release), then the foreign keys, within the
package and into the release. The first broken rule raises a PipelineError naming table, row and column."""

from __future__ import annotations

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.metadata.constraints import count_sql, violations_sql

# The DuckDB types a Parquet column may have for each type of the metadata.
ACCEPTED = {
    "string": {"VARCHAR"},
    "integer": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"},  # signed: the checks subtract counts
    "number": {"FLOAT", "DOUBLE"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "datetime": {"TIMESTAMP"},
}


def validate(con, package: metadata.Package | None = None) -> dict[str, int]:
    """Validate every station table present in `con` (views named after the tables); returns the row
    count of each. Raises on the first broken rule."""
    package = package or metadata.load_stations()
    present = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    counts = {}
    for resource in package.resources:
        if resource.name not in present:
            continue
        check_columns(con, resource)
        keys = [
            fk
            for fk in resource.foreign_keys
            if fk["reference"]["resource"] in present or fk["reference"].get("package") == "release"
        ]
        keyed = _keyed(resource, keys, package)
        codes = _code_lists(con, keys)
        if con.execute(f"SELECT {count_sql(resource, resource.name, keyed, True, codes)}").fetchone()[0]:
            found = con.execute(f"SELECT * FROM ({violations_sql(resource, resource.name, keyed)}) LIMIT 1").fetchone()
            if found:  # (else only two keys' hashes collided)
                row_key, column, value, reason = found
                shown = "" if value is None else f"{value!r} "
                raise PipelineError("validate", f"{shown}{reason}.", table=resource.name, row=row_key, column=column)
        for fk in keys:
            _check_foreign_key(con, resource, fk)
        counts[resource.name] = con.execute(f"SELECT count(*) FROM {resource.name}").fetchone()[0]
    return counts


def _keyed(resource: metadata.Resource, keys: list[dict], package: metadata.Package) -> frozenset[str]:
    """The columns whose values a foreign key checks against a column of the same definition (pattern,
    enum, range): their value constraints are implied by the key check and are not run row by row."""
    release = metadata.load()
    keyed = set()
    for fk in keys:
        ref = fk["reference"]
        target = (release if ref.get("package") == "release" else package).resource(ref["resource"])
        for column, referenced in zip(fk["fields"], ref["fields"], strict=True):
            mine, theirs = resource.field(column), target.field(referenced)
            if mine.type == theirs.type and _value_rules(mine) == _value_rules(theirs):
                keyed.add(column)
    return frozenset(keyed)


def _code_lists(con, keys: list[dict]) -> dict[str, list[str]]:
    """For a single-column foreign key into a table of at most 64 rows (a code list such as the ballot's
    options), the codes it may take."""
    lists = {}
    for fk in keys:
        if len(fk["fields"]) == 1:
            ref = fk["reference"]
            values = con.execute(f"SELECT DISTINCT {ref['fields'][0]} FROM {ref['resource']} LIMIT 65").fetchall()
            if len(values) <= 64:
                lists[fk["fields"][0]] = sorted(str(v) for (v,) in values)
    return lists


def _value_rules(f: metadata.Field) -> dict:
    return {k: v for k, v in f.constraints.items() if k != "required"}


def check_columns(con, resource: metadata.Resource) -> None:
    """The view `resource.name` has exactly the resource's columns, each of an accepted type."""
    found = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {resource.name}").fetchall()}
    for f in resource.fields:
        if f.name not in found:
            raise PipelineError("validate", "the column is missing.", table=resource.name, column=f.name)
        if found[f.name] not in ACCEPTED[f.type]:
            raise PipelineError(
                "validate",
                f"the column has type {found[f.name]}; the schema says {f.type} "
                f"({' or '.join(sorted(ACCEPTED[f.type]))}).",
                table=resource.name,
                column=f.name,
            )
    extra = [name for name in found if name not in resource.field_names]
    if extra:
        raise PipelineError("validate", f"columns the schema does not define: {', '.join(extra)}.", table=resource.name)


def _check_foreign_key(con, resource: metadata.Resource, fk: dict) -> None:
    columns, ref = fk["fields"], fk["reference"]
    join = " AND ".join(f"c.{a} = p.{b}" for a, b in zip(columns, ref["fields"], strict=True))
    present = " AND ".join(f"c.{a} IS NOT NULL" for a in columns)
    listed = ", ".join(f"c.{a}" for a in columns)
    # the distinct values first: a key repeats on many rows (a station's 8 vote rows, a region's thousands)
    missing = con.execute(
        f"SELECT {listed} FROM (SELECT DISTINCT {', '.join(columns)} FROM {resource.name}) AS c "
        f"ANTI JOIN {ref['resource']} AS p ON {join} WHERE {present} LIMIT 1"
    ).fetchone()
    if missing:
        key = ", ".join(f"{a}={v}" for a, v in zip(columns, missing, strict=True))
        named = " || ', ' || ".join(f"'{k}=' || {k}" for k in resource.primary_key)
        where = " AND ".join(f"{a} = ?" for a in columns)
        row = con.execute(  # the first row holding it, named by its primary key
            f"SELECT {named} FROM {resource.name} WHERE {where} LIMIT 1", list(missing)
        ).fetchone()[0]
        raise PipelineError(
            "validate",
            f"{key} is not in {ref['resource']}" + (" (of the release)." if ref.get("package") == "release" else "."),
            table=resource.name,
            row=row,
            column=", ".join(columns),
        )
