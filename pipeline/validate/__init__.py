"""Validate stage: tidy records -> typed DuckDB tables, checked against schemas/: the table's rows and
columns, the Python type of every value and its text (printable and visible), then every value constraint
and unique key, as DuckDB SQL generated from schemas/ (pipeline/metadata/constraints.py), all tables in one
query. The typed tables are temporary tables of one DuckDB connection (`Validated`), which the publish
stage loads into the release. The pandera schemas generated from the same fields are for users who
validate the published tables in pandas (metadata.pandera_schema; the tests check that every published
table passes its own)."""

from __future__ import annotations

import datetime
import math
import pickle
import re
import unicodedata
from dataclasses import dataclass

import duckdb

from pipeline import metadata
from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.common.parallel import in_threads
from pipeline.metadata.constraints import count_sql, violations_sql

MAX_LISTED = 10
SCHEMA = "memory.validated"  # the validated tables: in the connection's in-memory catalog, never the release
WORKERS = 2  # threads (each with its own cursor) that load and check the tables: DuckDB releases the GIL


@dataclass
class Validated:
    """The validated tables: their records, and the same rows typed in DuckDB tables of `con` (in the
    schema `validated` of its in-memory catalog, apart from the release and visible to its cursors)."""

    tables: dict[str, list[dict]]
    con: duckdb.DuckDBPyConnection

    @staticmethod
    def relation(name: str) -> str:
        """The SQL name of a validated table."""
        return f"{SCHEMA}.{name}"

    def close(self) -> None:
        """Close the connection (and drop the validated tables)."""
        self.con.close()


def validate(
    tables: dict[str, list[dict]],
    package: metadata.Package | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    memo: dict | None = None,
    prints: dict[str, str] | None = None,
    passed: cache.Memo | None = None,
) -> Validated:
    """Every table of the package from the source, validated and typed in DuckDB (in `con`, an in-memory
    connection, else a new one); a PipelineError names the first table, row and column that is wrong.
    The Python checks run first, in table order; the loading and the constraint queries then run in
    threads on cursors, and the first broken table in order is reported. With `memo` (a dict the caller
    keeps with `con`), a table whose records passed in `con` before is neither loaded nor checked again:
    for callers that validate many variants of the same tables (the mutation suite). With `prints` (the
    tables' cache.fingerprints) and `passed` (the tables that passed in the build before, by key), a table
    whose very rows passed every check before with the same schemas, code and DuckDB is typed and loaded
    without checking it again; `passed` then records every table that passed."""
    package = package or metadata.load()
    expected = [r.name for r in package.from_source]
    unknown = sorted(set(tables) - set(expected))
    missing = [name for name in expected if name not in tables]
    if unknown or missing:
        raise PipelineError(
            "validate",
            f"the extracted tables do not match schemas/: missing "
            f"{', '.join(missing) or 'none'}; not defined {', '.join(unknown) or 'none'}.",
        )
    con = con or duckdb.connect(config={"threads": 1})  # one thread: the release built from it is reproducible
    fresh = [package.resource(name) for name in expected]
    if memo is not None:
        contents = {name: pickle.dumps(tables[name], protocol=5) for name in expected}  # every type and value
        fresh = [resource for resource in fresh if memo.get(resource.name) != contents[resource.name]]
        for resource in fresh:
            memo.pop(resource.name, None)  # its table is about to change
    keys = _passed_keys(package, fresh, prints) if prints is not None and passed is not None else {}
    known = {name for name, key in keys.items() if passed.get(key) is True}
    columns = {r.name: typed_columns(r, tables[r.name], check=r.name not in known) for r in fresh}
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    parts = [fresh[n::WORKERS] for n in range(WORKERS)]
    counted = in_threads(
        con, [lambda cursor, part=part: _load_and_count(cursor, part, columns, skip=known) for part in parts]
    )
    bad = {name: count for counts in counted for name, count in counts.items()}
    for resource in fresh:
        if bad[resource.name]:
            raise _schema_error(resource, _violations(con, resource, Validated.relation(resource.name)))
    if memo is not None:
        memo.update((resource.name, contents[resource.name]) for resource in fresh)
    for key in keys.values():
        passed.put(key, True)
    return Validated({name: tables[name] for name in expected}, con)


def _passed_keys(package: metadata.Package, resources: list, prints: dict[str, str]) -> dict[str, str]:
    """Each table's key in a build's record of the tables that passed: its rows (fingerprint), its
    constraint query, the schema files the package was read from, DuckDB's version (and, as in every key,
    the code); none for a package made in memory."""
    if not package.source:
        return {}
    schemas = cache.key(duckdb.__version__, package.source)
    return {
        r.name: cache.key("validate", prints[r.name], count_sql(r, Validated.relation(r.name)), schemas)
        for r in resources
    }


def validate_table(con: duckdb.DuckDBPyConnection, resource: metadata.Resource, records: list[dict]) -> str:
    """One more table validated into `con` (the quality_checks rows, made after the cross-checks); returns
    its SQL name."""
    return validate_tables(con, [resource], {resource.name: records})[resource.name]


def validate_tables(con, resources: list[metadata.Resource], tables: dict[str, list[dict]]) -> dict[str, str]:
    """More tables validated into `con` after the cross-checks (the forensics' tables), in one query;
    returns their SQL names (temporary tables: allowed in a transaction on the release)."""
    relations = {r.name: f"temp.validated_{r.name}" for r in resources}
    columns = {r.name: typed_columns(r, tables[r.name]) for r in resources}
    counts = _load_and_count(con, resources, columns, relations.__getitem__)
    for resource in resources:
        if counts[resource.name]:
            raise _schema_error(resource, _violations(con, resource, relations[resource.name]))
    return relations


def _violations(con, resource: metadata.Resource, relation: str) -> list[tuple]:
    return con.execute(violations_sql(resource, relation)).fetchall()


def typed_columns(resource: metadata.Resource, records: list[dict], *, check: bool = True) -> dict[str, list]:
    """The shape, text and type checks of a table's records (in Python: the first wrong value is named by
    row and column), then its columns as typed lists, as DuckDB takes them (`check`: False for records
    that passed before: the shape and text checks are skipped)."""
    if check:
        _check_shape(resource, records)
    columns = {}
    for f in resource.fields:
        accept = _ACCEPTS[f.type]
        column = []
        for row, record in enumerate(records, start=1):
            value = record[f.name]
            if value is not None:
                value = accept(value)
                if value is None:
                    raise _type_error(resource, record, row, f.name, record[f.name], f.type)
            column.append(value)
        columns[f.name] = column
    return columns


def _load_and_count(
    con, resources: list, columns: dict[str, dict], relation=Validated.relation, *, skip: set[str] = frozenset()
) -> dict[str, int]:
    """Each table into DuckDB, a typed list per column (ten times faster than SQL literals or row
    binding), then how many rows of each break a constraint or repeat a key, in one query (but those of
    the tables in `skip`, which passed before: 0)."""
    for resource in resources:
        query, values = _typed_select(resource, columns[resource.name])
        kind = "TEMP TABLE" if relation(resource.name).startswith("temp.") else "TABLE"
        con.execute(f"CREATE OR REPLACE {kind} {relation(resource.name)} AS {query}", values)
    counted = [r for r in resources if r.name not in skip]
    found = dict.fromkeys((r.name for r in resources), 0)
    if not counted:
        return found
    con.execute("PRAGMA disable_optimizer")  # small tables: the optimizer costs more than it saves
    try:
        (counts,) = con.execute(
            "SELECT " + ", ".join(f"{count_sql(r, relation(r.name))} AS {r.name}" for r in counted)
        ).fetchall()
    finally:
        con.execute("PRAGMA enable_optimizer")
    return found | dict(zip((r.name for r in counted), counts, strict=True))


def _typed_select(resource: metadata.Resource, columns: dict[str, list]) -> tuple[str, dict]:
    """A query giving a table's rows from its typed columns (a list per column, passed as parameters: ten
    times faster than SQL literals or row binding), and its parameters."""
    selects = [
        f"unnest($c{number}::{metadata.DUCKDB_TYPES[f.type]}[]) AS {f.name}" for number, f in enumerate(resource.fields)
    ]
    values = {f"c{number}": columns[f.name] for number, f in enumerate(resource.fields)}
    return f"SELECT {', '.join(selects)}", values


def _string(value):
    return value if isinstance(value, str) else None


def _integer(value):
    ok = isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    return value if ok else None


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _boolean(value):
    return value if isinstance(value, bool) else None


def _date(value):
    ok = isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    return value if ok else None


def _datetime(value):
    ok = isinstance(value, datetime.datetime) and value.tzinfo is None
    return value if ok else None


# Each type's check of a Python value: the value as DuckDB gets it, or None when it is not of that type.
_ACCEPTS = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
}
_EXPECTED = {
    "string": "text",
    "integer": "a whole number",
    "number": "a finite number",
    "boolean": "true or false",
    "date": "a date (without a time of day)",
    "datetime": "a date and time without a time zone",
}


def _type_error(resource, record: dict, number: int, column: str, value, kind: str) -> PipelineError:
    return PipelineError(
        "validate",
        f"record {number}: the value {value!r} ({type(value).__name__}) is not {_EXPECTED[kind]}, "
        f"as the schema's type {kind} requires.",
        table=resource.name,
        row=_key(resource, record),
        column=column,
        hint=f"Schema: schemas/resources/{resource.name}.yaml and schemas/fields.yaml.",
    )


def _check_shape(resource: metadata.Resource, records: list[dict]) -> None:
    """The row count the source gives, exactly the schema's columns, printable and visible text."""
    columns = resource.field_names
    if resource.row_count is not None and len(records) != resource.row_count:
        raise PipelineError(
            "validate",
            f"{len(records)} rows, but the source gives {resource.row_count}: a row was lost or added.",
            table=resource.name,
            hint=f"If the article really changed, review it and update row_count in "
            f"schemas/resources/{resource.name}.yaml.",
        )
    for number, record in enumerate(records, start=1):
        if set(record) != set(columns):
            extra = sorted(set(record) - set(columns))
            lacking = [c for c in columns if c not in record]
            raise PipelineError(
                "validate",
                f"record {number} has columns not in the schema "
                f"({', '.join(extra) or 'none'}) or lacks ({', '.join(lacking) or 'none'}).",
                table=resource.name,
                row=_key(resource, record),
            )
    _check_text(resource, records)


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15.1): characters a renderer
# shows as nothing, so a name holding one looks like a different name. Most are also non-printable; these
# ranges catch the ones Python calls printable (the Hangul fillers, the combining grapheme joiner, the
# variation selectors, ...). U+2800 (BRAILLE PATTERN BLANK) is not in the list but also shows as nothing.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _check_text(resource: metadata.Resource, records: list[dict]) -> None:
    """Text must be printable and visible: no control character, no invisible character that changes how
    it reads or what it names (a right-to-left override, a zero-width joiner, a Hangul filler, a
    variation selector...), no unassigned or private-use code point. The harmless invisible ones (a soft
    hyphen, a zero-width space) were already removed by the extractor."""

    text_fields = [f.name for f in resource.fields if f.type == "string"]
    for record in records:
        for column in text_fields:
            value = record.get(column)
            if isinstance(value, str) and (not value.isprintable() or _INVISIBLE.search(value)):
                bad = next(ch for ch in value if not ch.isprintable() or _INVISIBLE.match(ch))
                name = unicodedata.name(bad, unicodedata.category(bad))
                raise PipelineError(
                    "validate",
                    f"the text {value!r} contains U+{ord(bad):04X} ({name}), an invisible "
                    "or control character that can change how the text reads or what it names.",
                    table=resource.name,
                    row=_key(resource, record),
                    column=column,
                    hint="Remove it from the source, or correct the cell through errata/errata.yaml.",
                )


def _key(resource: metadata.Resource, record) -> str:
    return ", ".join(f"{c}={record[c]}" for c in resource.primary_key if c in record)


def _schema_error(resource: metadata.Resource, cases: list[tuple]) -> PipelineError:
    """The broken constraints of a table, the first MAX_LISTED named by row, column, value and reason."""
    lines = [
        f"row {row}, column {column}: {reason} (value {value!r})" for row, column, value, reason in cases[:MAX_LISTED]
    ]
    more = f" (and {len(cases) - MAX_LISTED} more)" if len(cases) > MAX_LISTED else ""
    return PipelineError(
        "validate",
        f"{len(cases)} value(s) break the schema{more}: " + "; ".join(lines) + ".",
        table=resource.name,
        hint=f"Schema: schemas/resources/{resource.name}.yaml and schemas/fields.yaml.",
    )
