"""The intermediate form every front end produces: sections, an infobox and tables of cell text.

A front end (plain text here; HTML later) turns its input into a `Document`; the table parsers in
`pipeline.extract.tables` work only on this form. Tables are found by section heading and header
text, never by their position in the article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.common.errors import PipelineError
from pipeline.extract.cells import header_key, parse_count_pct, parse_int, parse_pct


@dataclass
class SourceTable:
    """A table of the source: its heading path and its rows of cleaned cell text."""

    section: tuple[str, ...]  # heading path, outermost first
    rows: list[list[str]]  # cleaned cell text, as the front end saw the rows
    caption: str = ""
    location: str = ""  # where the table starts in the input, for messages only

    def header_rows(self) -> list[list[str]]:
        """The leading rows that hold no figure (header rows, however many)."""
        header = []
        for row in self.rows:
            if any(_is_figure(cell) for cell in row):
                break
            header.append(row)
        return header

    def data_rows(self) -> list[list[str]]:
        """The rows after the header rows."""
        return self.rows[len(self.header_rows()) :]


@lru_cache(maxsize=65536)
def _is_figure(cell: str) -> bool:
    """Whether a cell holds a count or a percentage (cached: a pure function of the text, asked for every
    leading cell of every table each time its header is looked for)."""
    for parse in (parse_int, parse_pct, parse_count_pct):
        try:
            parse(cell)
            return True
        except ValueError:
            pass
    return False


@dataclass
class Document:
    """What a front end makes of the source: title, infobox, tables and paragraphs."""

    title: str
    infobox: dict[str, str] = field(default_factory=dict)
    tables: list[SourceTable] = field(default_factory=list)
    paragraphs: list[tuple[tuple[str, ...], str]] = field(default_factory=list)

    def find_paragraph(self, name: str, *, section: str, contains: str) -> str:
        """The one paragraph under a heading named `section` that contains the text `contains`."""
        wanted_section = header_key(section)
        matches = [
            text
            for path, text in self.paragraphs
            if wanted_section in {header_key(s) for s in path} and contains in text
        ]
        if len(matches) != 1:
            raise PipelineError(
                "extract",
                f"expected one paragraph under the heading {section!r} containing {contains!r}; found {len(matches)}.",
                table=name,
            )
        return matches[0]

    def find_table(self, name: str, *, section: str, header: list[str]) -> SourceTable:
        """The one table under a heading named `section` whose header rows hold every `header` label."""
        wanted_section = header_key(section)
        wanted = {header_key(label) for label in header}
        matches = []
        for table in self.tables:
            if wanted_section not in {header_key(s) for s in table.section}:
                continue
            labels = {header_key(cell) for row in table.header_rows() for cell in row}
            if wanted <= labels:
                matches.append(table)
        if len(matches) != 1:
            found = "no table" if not matches else f"{len(matches)} tables ({', '.join(t.location for t in matches)})"
            raise PipelineError(
                "extract",
                f"expected one table under the heading {section!r} whose header has "
                f"{', '.join(repr(h) for h in header)}; found {found}.",
                table=name,
                hint="The article's structure changed: update the table's locator in schemas/extract/.",
            )
        return matches[0]
