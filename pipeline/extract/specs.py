"""The extraction specs at work: locating a spec's sources in a Document, and the generic readers of the
tables a spec declares whole (`regular`: a table of the article; `prose`: figures stated in sentences).

A regular spec maps header labels to fields (`columns`); every other header label is a ballot or poll
option when the spec names an `options` field (one row per source row and option). The cell parser of a
column follows from its field's type and unit in schemas/ (FORMATS, DEFAULT_FORMAT), unless the column
names a `format` because the article writes it otherwise. `key` gives recipes for key fields that no
column holds: "{pollster_name:slug}_{fieldwork_end_date:%Y_%m_%d}" (a field, then `slug` or a strftime
pattern). `header_rows: first` takes the first row alone as the header. `inferences` names functions of
pipeline/extract/inferences.py to record.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    clean,
    header_key,
    parse_date_range,
    parse_day,
    parse_days_and_time,
    parse_int,
    parse_margin,
    parse_pct,
    parse_pp,
    slug,
)
from pipeline.extract.context import ELECTION_DAY, Extraction
from pipeline.extract.document import Document, SourceTable
from pipeline.extract.errata import format_key
from pipeline.extract.grid import collapse_repeats, require_width, trim
from pipeline.metadata.specs import ExtractSpec, Locator


def parse_text(text: str) -> str:
    """A text cell: non-empty."""
    text = clean(text)
    if not text:
        raise ValueError("the cell is empty")
    return text


# Cell formats a column may name, and the one chosen by a field's type and unit otherwise.
FORMATS = {
    "text": parse_text,
    "count": parse_int,
    "percent": parse_pct,
    "plus_minus": parse_margin,
    "pp": parse_pp,
    "day": parse_day,
    "date_range": parse_date_range,
    "days_and_time_in_election_year": lambda text: parse_days_and_time(text, ELECTION_DAY.year),
}
DEFAULT_FORMAT = {
    ("string", None): "text",
    ("integer", None): "count",
    ("number", "percent"): "percent",
    ("number", "percentage points"): "pp",
    ("date", None): "day",
}


def spec(name: str) -> ExtractSpec:
    """The spec schemas/extract/<name>.yaml."""
    return metadata.load().specs[name]


def find_table(doc: Document, spec_name: str, table: str, source: int = 0) -> SourceTable:
    """The one table a spec's source locates; `table` names the published table in messages."""
    locator = spec(spec_name).sources[source]
    return doc.find_table(table, section=locator.heading, header=list(locator.header))


def find_paragraph(doc: Document, spec_name: str, table: str, source: int = 0) -> str:
    """The one paragraph a spec's source locates."""
    locator = spec(spec_name).sources[source]
    return doc.find_paragraph(table, section=locator.heading, contains=locator.contains)


def under(locator: Locator, path: tuple[str, ...]) -> bool:
    """Whether a heading path lies under the locator's heading."""
    return header_key(locator.heading) in _path_keys(path)


@lru_cache(maxsize=1024)
def _path_keys(path: tuple[str, ...]) -> frozenset[str]:
    return frozenset(header_key(s) for s in path)


def tables_under(doc: Document, spec_name: str, source: int = 0) -> list[SourceTable]:
    """Every table under the heading a spec's source names."""
    locator = spec(spec_name).sources[source]
    return [t for t in doc.tables if under(locator, t.section)]


def paragraphs_under(doc: Document, spec_name: str, source: int = 0) -> list[str]:
    """Every paragraph under the heading a spec's source names."""
    locator = spec(spec_name).sources[source]
    return [text for path, text in doc.paragraphs if under(locator, path)]


def _format_of(spec_name: str, field: metadata.Field, column) -> str:
    """The column's named format, else the one its field's type and unit imply (two date fields: a range)."""
    name = column.get("format") if isinstance(column, dict) else None
    if name is None and len(_fields(column)) == 2 and field.type == "date":
        name = "date_range"
    name = name or DEFAULT_FORMAT.get((field.type, field.unit if field.type == "number" else None))
    if name not in FORMATS:
        raise PipelineError(
            "extract",
            f"spec {spec_name}: no cell format for field {field.name} "
            f"({field.type}, {field.unit}); name one with 'format'.",
        )
    return name


def _fields(column) -> list[str]:
    """The fields a column fills: one name, a list, or a mapping with `fields`."""
    fields = column.get("fields") if isinstance(column, dict) else column
    return [fields] if isinstance(fields, str) else list(fields or [])


_RECIPE = re.compile(r"\{(\w+)(?::([^}]+))?\}")


def _key_value(recipe: str, values: dict) -> str:
    def render(match: re.Match) -> str:
        value, rule = values[match.group(1)], match.group(2)
        if rule == "slug":
            return slug(value)
        return value.strftime(rule) if rule else str(value)

    return _RECIPE.sub(render, recipe)


def read_regular(doc: Document, ctx: Extraction, spec: ExtractSpec) -> dict[str, list[dict]]:
    """The records of a table the spec declares whole."""
    block = spec.regular
    name = block["table"]
    resource = metadata.load().resource(name)
    table = find_table(doc, spec.name, name)
    if block.get("header_rows") == "first":
        header, body = table.rows[0], table.rows[1:]
    else:
        header, body = table.header_rows()[-1], table.data_rows()
    columns = {header_key(label): (label, column) for label, column in block.get("columns", {}).items()}
    roles: list[tuple[str, object]] = []  # per header cell: ("column", label) or ("option", option_id)
    for label in collapse_repeats(trim(header)):
        if header_key(label) in columns:
            roles.append(("column", columns[header_key(label)][0]))
            continue
        option_id = ctx.reference.option_id(label) if block.get("options") else None
        if option_id is None:
            raise PipelineError(
                "extract",
                f"unexpected column header {label!r}.",
                table=name,
                row="header",
                hint=f"Source table at {table.location}; known headers: "
                f"{', '.join(block.get('columns', {}))}" + (" and the option names." if block.get("options") else "."),
            )
        roles.append(("option", option_id))
    seen = [role for role in roles]
    if len(seen) != len(set(seen)):
        raise PipelineError("extract", "a column header appears twice.", table=name, row="header")
    missing = [label for label, _ in columns.values() if ("column", label) not in roles]
    if missing:
        raise PipelineError("extract", f"missing column headers: {', '.join(missing)}.", table=name, row="header")
    direct_keys = [k for k in resource.primary_key if k not in block.get("key", {}) and k != "option_id"]
    rows = []
    for raw_row in body:
        cells = require_width(name, raw_row, len(roles), raw_row[0] if raw_row else "?", table)
        by_label = {role[1]: cell for role, cell in zip(roles, cells, strict=True) if role[0] == "column"}
        rows += _read_row(ctx, spec.name, resource, block, by_label, roles, cells, direct_keys)
    for inference in block.get("inferences", []):
        getattr(inferences, inference)(ctx, name)
    return {name: rows}


def _read_row(ctx, spec_name, resource, block, by_label, roles, cells, direct_keys) -> list[dict]:
    """One source row: the columns the key needs first (keyed by the row's label), then the key, then
    the other columns and the option cells (keyed by the record's key)."""
    name = resource.name
    recipes = block.get("key", {})
    needed = set(direct_keys) | {f for recipe in recipes.values() for f, _ in _RECIPE.findall(recipe)}
    first_label = next(iter(block["columns"]))
    label_field = direct_keys[0] if direct_keys else _fields(block["columns"][first_label])[0]
    label_key = {label_field: clean(by_label[_label_of(block, label_field)] if direct_keys else by_label[first_label])}
    values: dict = {}

    def read(label, key):
        column = block["columns"][label]
        fields = _fields(column)
        raw = by_label[label]
        if not clean(raw) and all(not resource.field(f).required for f in fields):
            for f in fields:
                ctx.missing(name, key, f, "the cell is empty in the article")
                values[f] = None
            return
        parse = FORMATS[_format_of(spec_name, resource.field(fields[0]), column)]
        parsed = ctx.value(name, key, fields[-1] if len(fields) == 2 else fields[0], raw, parse)
        values.update(zip(fields, parsed if len(fields) > 1 else (parsed,), strict=True))

    first = [label for label in block["columns"] if set(_fields(block["columns"][label])) & needed]
    for label in first:
        read(label, label_key)
    key = {k: values[k] for k in direct_keys} | {k: _key_value(r, values) for k, r in recipes.items()}
    for field, value in key.items():
        values[field] = value
    for label in block["columns"]:
        if label not in first:
            read(label, {k: _plain(v) for k, v in key.items()})
    if not block.get("options"):
        return [{f: values.get(f) for f in resource.field_names}]
    out = []
    option_field = block["options"]
    parse = FORMATS[_format_of(spec_name, resource.field(option_field), {})]
    for role, cell in zip(roles, cells, strict=True):
        if role[0] == "option":
            option_key = {k: _plain(v) for k, v in key.items()} | {"option_id": role[1]}
            record = {
                **values,
                "option_id": role[1],
                option_field: ctx.value(name, option_key, option_field, cell, parse),
            }
            out.append({f: record.get(f) for f in resource.field_names})
    return out


def _label_of(block: dict, field: str) -> str:
    return next(label for label, column in block["columns"].items() if field in _fields(column))


def _plain(value) -> str:
    return value if isinstance(value, str) else str(value)


def read_prose(doc: Document, ctx: Extraction, spec: ExtractSpec) -> dict[str, list[dict]]:
    """Figures the article states in sentences: each row declared by its section and the sentence's
    words around its slots ('In total, {value} polling stations were formed'; '{challenger_name} ...
    {challenger_claimed_votes} votes'); exactly one sentence under the section must match. A slot is
    `{value}` (the block's value_field) or a field of the table, read by the parser its type implies.
    One row per declared figure, with the sentence quoted."""
    block = spec.prose
    name = block["table"]
    resource = metadata.load().resource(name)
    key_field = block.get("key_field", "figure_id")
    rows = []
    for figure in block["figures"]:
        locator = Locator(section=tuple(figure["section"]), every_paragraph=True)
        slots = {slot: block["value_field"] if slot == "value" else slot for slot in _SLOT.findall(figure["text"])}
        pattern = re.compile(
            _SLOT.sub(
                lambda m, slots=slots: f"(?P<{m.group(1)}>{_SLOT_PATTERN[resource.field(slots[m.group(1)]).type]})",
                re.escape(figure["text"]).replace(r"\{", "{").replace(r"\}", "}"),
            )
        )
        sentences = [
            s for path, text in doc.paragraphs if under(locator, path) for s in _sentences(text) if pattern.search(s)
        ]
        key = {key_field: figure[key_field]}
        if len(sentences) != 1:
            raise PipelineError(
                "extract",
                f"expected one sentence under the heading {locator.heading!r} reading "
                f"{figure['text']!r}; found {len(sentences)}.",
                table=name,
                row=format_key(key),
                hint="The article's prose changed: review the figure in its spec, schemas/extract/.",
            )
        sentence = sentences[0]
        found = pattern.search(sentence)
        record = {key_field: figure[key_field], "source_text": sentence}
        for slot, field in slots.items():
            parse = FORMATS[_format_of(spec.name, resource.field(field), {})]
            record[field] = ctx.value(name, key, field, found[slot], parse)
        for field, from_figure in block.get("fields", {}).items():
            value = figure.get(from_figure)
            record[field] = " > ".join(value) if isinstance(value, list) else value
        rows.append({f: record.get(f) for f in resource.field_names})
    return {name: rows}


_SLOT = re.compile(r"\{([a-z_]+)\}")
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=\w)")


def _sentences(text: str) -> list[str]:
    """A paragraph's sentences: split after a full stop followed by a capital letter (Ä and Ū included)."""
    out, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        if text[end.end()].isupper():
            out.append(text[start : end.start()])
            start = end.end()
    return [*out, text[start:]]


# What a slot of each type matches in a sentence: a number with thousands commas, or the shortest text
# up to the words that follow the slot in the declared sentence.
_SLOT_PATTERN = {"integer": r"\d[\d,]*", "number": r"\d[\d,]*(?:\.\d+)?", "string": r"[^,;.]+?"}
