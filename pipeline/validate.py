"""Validate stage: tidy records -> typed DataFrames checked against the pandera schemas from schemas/."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pandera.errors

from pipeline import metadata
from pipeline.errors import PipelineError

MAX_LISTED = 10


def to_frames(tables: dict[str, list[dict]], package: metadata.Package | None = None, memo: dict | None = None) -> dict:
    """One typed, validated DataFrame per resource, in the package's order. With `memo` (a dict kept by
    the caller), a table whose records were validated before is not validated again: for callers that
    validate many variants of the same tables (the mutation suite)."""
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
    if memo is None:
        return {name: validate_table(package.resource(name), tables[name]) for name in expected}
    frames = {}
    for name in expected:
        key = (name, repr(tables[name]))
        if key not in memo:
            memo[key] = validate_table(package.resource(name), tables[name])
        frames[name] = memo[key].copy()
    return frames


def validate_table(resource: metadata.Resource, records: list[dict]):
    """A typed DataFrame of one table's records, checked against its pandera schema."""

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
        return metadata.pandera_schema(resource).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as error:
        raise _schema_error(resource, frame, error) from None


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


def _schema_error(resource: metadata.Resource, frame, error) -> PipelineError:
    cases = error.failure_cases
    lines = []
    for case in cases.head(MAX_LISTED).itertuples(index=False):
        index = case.index
        where = (
            _key(resource, frame.loc[index])
            if index is not None and index == index and index in frame.index
            else "(table)"
        )
        column = case.column if isinstance(case.column, str) else "(table)"
        lines.append(f"row {where}, column {column}: {case.check} failed for value {case.failure_case!r}")
    more = f" (and {len(cases) - MAX_LISTED} more)" if len(cases) > MAX_LISTED else ""
    return PipelineError(
        "validate",
        f"{len(cases)} value(s) break the schema{more}: " + "; ".join(lines) + ".",
        table=resource.name,
        hint=f"Schema: schemas/resources/{resource.name}.yaml and schemas/fields.yaml.",
    )
