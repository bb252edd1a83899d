"""Validate stage: tidy records -> typed DataFrames, checked against schemas/: the table's rows and columns,
its text (printable and visible), then every value constraint and unique key, as DuckDB SQL generated from
schemas/ (pipeline/metadata/constraints.py) run over the frames, all tables in one query. The pandera
schemas generated from the same fields are for users who validate the published tables in pandas
(metadata.pandera_schema; the tests check that every published table passes its own)."""

from __future__ import annotations

import re
import unicodedata

import duckdb
import pandas as pd

from pipeline import metadata
from pipeline.errors import PipelineError
from pipeline.metadata.constraints import count_sql, violations_sql

MAX_LISTED = 10


def to_frames(tables: dict[str, list[dict]], package: metadata.Package | None = None, memo: dict | None = None) -> dict:
    """One typed, validated DataFrame per resource, in the package's order. With `memo` (a dict kept by
    the caller), a table whose records passed before is not checked again: for callers that validate many
    variants of the same tables (the mutation suite)."""
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
    memo = {} if memo is None else memo
    frames, fresh = {}, {}
    for name in expected:
        key = (name, repr(tables[name]))
        if key in memo:
            frames[name] = memo[key].copy()
        else:
            frames[name] = fresh[key] = typed_frame(package.resource(name), tables[name])
    check_values({key[0]: frame for key, frame in fresh.items()}, package)
    memo.update(fresh)
    return frames


def validate_table(resource: metadata.Resource, records: list[dict]):
    """A typed, validated DataFrame of one table's records."""
    frame = typed_frame(resource, records)
    check_values({resource.name: frame}, resource_package(resource))
    return frame


def resource_package(resource: metadata.Resource):
    """A package holding one resource (for check_values on a table alone)."""
    return metadata.Package(meta={}, resources=(resource,), defined_fields=())


_CONNECTION: list = []  # one in-memory DuckDB per process: connecting costs more than the checks


def check_values(frames: dict, package: metadata.Package) -> None:
    """Every value constraint and unique key of `frames`, in one query; the first table that breaks one
    is reported with its rows, columns, values and reasons."""
    if not frames:
        return
    if not _CONNECTION:
        _CONNECTION.append(duckdb.connect())
    con = _CONNECTION[0]
    names = {name: f"validate_{name}" for name in frames}
    for name, frame in frames.items():
        con.register(names[name], frame)
    try:
        resources = {name: package.resource(name) for name in frames}
        (counts,) = con.execute(
            "SELECT " + ", ".join(f"{count_sql(resources[n], names[n])} AS {n}" for n in frames)
        ).fetchall()
        for name, bad in zip(frames, counts, strict=True):
            if bad:
                cases = con.execute(violations_sql(resources[name], names[name])).fetchall()
                raise _schema_error(resources[name], cases)
    finally:
        for view in names.values():
            con.unregister(view)


def typed_frame(resource: metadata.Resource, records: list[dict]):
    """One table's records as a DataFrame typed by schemas/, after the checks of its shape: the row count
    the source gives, exactly the schema's columns, printable and visible text."""

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
    frame = pd.DataFrame.from_records(records, columns=columns)
    try:
        return frame.astype({f.name: metadata.PANDAS_DTYPES[f.type] for f in resource.fields})
    except (TypeError, ValueError) as error:
        raise PipelineError(
            "validate",
            f"a value has the wrong type: {str(error).splitlines()[0]}.",
            table=resource.name,
            hint=f"Schema: schemas/resources/{resource.name}.yaml.",
        ) from None


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
