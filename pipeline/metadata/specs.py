"""Extraction specs (schemas/extract/*.yaml): where the article gives each table, and for regular tables
how its columns map to fields. The one place a table's locator lives: the extract stage reads it, and the
data dictionary's "Source" line is written from it.

A spec names the published tables it `produces` and its `sources`, each a locator under a heading path
(`section`, outermost first; the last heading is the one matched):
- `header: [labels]`: the one table whose header rows hold these labels;
- `every_table: true`: every table under the heading;
- `contains: text`: the one paragraph that contains this text;
- `every_paragraph: true`: every paragraph under the heading;
- `infobox: true`: the article's infobox (no section).
A spec may also declare `regular` (a table the generic reader makes: columns, option columns, key
recipes) or `prose` (figures stated in sentences); see pipeline/extract/specs.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.errors import MetadataError
from pipeline.common.yamlfile import read_yaml

LOCATOR_KINDS = ("header", "every_table", "contains", "every_paragraph", "infobox")
SPEC_KEYS = {"produces", "sources", "regular", "prose"}


@dataclass(frozen=True)
class Locator:
    """Where a source lies in the article: a heading path and what to find under it."""

    section: tuple[str, ...]
    header: tuple[str, ...] = ()
    every_table: bool = False
    contains: str | None = None
    every_paragraph: bool = False
    infobox: bool = False

    @property
    def heading(self) -> str:
        """The heading the extractor matches: the last of the path."""
        return self.section[-1] if self.section else ""

    def describe(self) -> str:
        """Where the data comes from, in words (the data dictionary's Source line)."""
        path = " > ".join(self.section)
        if self.infobox:
            return "the infobox"
        if self.header:
            return f"{path}: the table whose header holds {', '.join(repr(h) for h in self.header)}"
        if self.every_table:
            return f"{path}: every table under the heading"
        if self.contains:
            return f"{path}: the paragraph containing {self.contains!r}"
        return f"{path}: the prose"


@dataclass(frozen=True)
class ExtractSpec:
    """An extraction spec: the tables it produces, its sources, and a whole-table declaration."""

    name: str
    produces: tuple[str, ...]
    sources: tuple[Locator, ...]
    regular: dict | None = None
    prose: dict | None = None

    def describe(self) -> str:
        """Where the spec's tables come from, in words (the data dictionary's Source line)."""
        if self.prose:
            sections = sorted({" > ".join(f["section"]) for f in self.prose["figures"]})
            return "sentences of the prose (" + "; ".join(sections) + "), each quoted in source_text"
        return "; ".join(source.describe() for source in self.sources)


def _locator(name: str, number: int, raw) -> Locator:
    if not isinstance(raw, dict):
        raise MetadataError(f"spec {name}: source {number} must be a mapping")
    kinds = [kind for kind in LOCATOR_KINDS if raw.get(kind)]
    if len(kinds) != 1:
        raise MetadataError(f"spec {name}: source {number} needs exactly one of {', '.join(LOCATOR_KINDS)}")
    section = tuple(raw.get("section") or ())
    if not section and not raw.get("infobox"):
        raise MetadataError(f"spec {name}: source {number} needs a section (heading path)")
    unknown = set(raw) - {"section", *LOCATOR_KINDS}
    if unknown:
        raise MetadataError(f"spec {name}: source {number} has unknown keys {sorted(unknown)}")
    return Locator(
        section=section,
        header=tuple(raw.get("header") or ()),
        every_table=bool(raw.get("every_table")),
        contains=raw.get("contains"),
        every_paragraph=bool(raw.get("every_paragraph")),
        infobox=bool(raw.get("infobox")),
    )


def load_specs(folder: Path) -> dict[str, ExtractSpec]:
    """Every spec in `folder`, by name (the file's stem)."""
    specs = {}
    for path in sorted(folder.glob("*.yaml")):
        raw = read_yaml(path)
        name = path.stem
        if not isinstance(raw, dict):
            raise MetadataError(f"spec {name}: must be a mapping")
        unknown = set(raw) - SPEC_KEYS
        if unknown:
            raise MetadataError(f"spec {name}: unknown keys {sorted(unknown)}")
        if not raw.get("produces"):
            raise MetadataError(f"spec {name}: names no table it produces")
        sources = tuple(_locator(name, n, s) for n, s in enumerate(raw.get("sources") or [], start=1))
        if not sources and not raw.get("prose"):
            raise MetadataError(f"spec {name}: has no sources")
        specs[name] = ExtractSpec(
            name=name,
            produces=tuple(raw["produces"]),
            sources=sources,
            regular=raw.get("regular"),
            prose=raw.get("prose"),
        )
    return specs


def check_specs(specs: dict[str, ExtractSpec], resources: dict) -> None:
    """Every table a spec produces exists; a regular or prose spec names fields of its table."""
    for spec in specs.values():
        for table in spec.produces:
            if table not in resources:
                raise MetadataError(f"spec {spec.name}: produces {table!r}, which schemas/resources/ does not define")
        for kind in ("regular", "prose"):
            block = getattr(spec, kind)
            if block is None:
                continue
            table = block.get("table")
            if table not in spec.produces:
                raise MetadataError(f"spec {spec.name}: its {kind} table {table!r} is not among what it produces")
            fields = set(resources[table].field_names)
            named = set(_named_fields(block, kind))
            if named - fields:
                raise MetadataError(f"spec {spec.name}: fields {sorted(named - fields)} are not fields of {table}")


def _named_fields(block: dict, kind: str) -> list[str]:
    if kind == "prose":
        slots = {slot for figure in block["figures"] for slot in re.findall(r"\{([a-z_]+)\}", figure["text"])}
        value = [block["value_field"]] if "value_field" in block else []
        return [*value, *(slots - {"value"}), *block.get("fields", {}), block.get("key_field", "figure_id")]
    names = list(block.get("key", {}))
    for column in block.get("columns", {}).values():
        fields = column.get("fields") if isinstance(column, dict) else column
        names += [fields] if isinstance(fields, str) else list(fields)
    if block.get("options"):
        names += [block["options"], "option_id"]
    return names
