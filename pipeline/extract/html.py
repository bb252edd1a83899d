"""Front end for the article as Wikipedia serves it (HTML from the MediaWiki API or REST page/html).

beautifulsoup4 walks the page in document order (headings, paragraphs, the infobox, `wikitable`
tables) and cleans each table: footnote markers, edit links and hidden sort keys go, spans are read as
a browser reads them and bounded (a rowspan past the last row is clamped: pandas.read_html puts such
cells in the wrong column), and a table that would expand beyond 100,000 cells is refused.
pandas.read_html (lxml) then expands rowspan and colspan into a grid of strings. The result is the
same `Document` the text front end produces, so the same table parsers read both.
"""

from __future__ import annotations

import io
import re

import pandas as pd
from bs4 import BeautifulSoup

from pipeline.common.errors import PipelineError
from pipeline.extract.cells import clean, header_key
from pipeline.extract.document import Document, SourceTable

HEADINGS = ["h1", "h2", "h3", "h4", "h5"]
# Infobox rows that hold one value per party, and the template parameter each stands for.
INFOBOX_PARTY_ROWS = {
    "leader": "Leader",
    "party": "Party",
    "lastelection": "Last Election",
    "seatswon": "Seats",
    "seatchange": "Seat Change",
    "popularvote": "Popular Vote",
    "percentage": "Percentage",
    "swing": "Swing",
}
INFOBOX_SINGLE_ROWS = {"registered": "Registered", "turnout": "Turnout", "seatsforelection": "Seats For Election"}


def _strip_noise(node) -> None:
    for selector in ("sup.reference", "span.mw-editsection", "style", "script", ".sortkey", "span.noprint"):
        for element in node.select(selector):
            element.decompose()
    for element in node.select("[style]"):
        if re.search(r"display\s*:\s*none", element.get("style", "")):
            element.decompose()


MAX_COLSPAN, MAX_ROWSPAN = 1000, 65534  # what browsers accept (the HTML standard's limits)
MAX_CELLS = 100_000  # per table once spans are expanded; the article's largest table has about 600
MAX_TABLES = 500  # the article has about 25
_SPAN = re.compile(r"\s*([0-9]+)")


def _normalise_spans(table) -> None:
    """Spans as a browser reads them: leading ASCII digits, colspan 1-1000, rowspan clamped to the rows
    left (0 or past the last row: to the end; pandas.read_html puts such cells in the wrong column);
    anything else is 1. A table that would expand to more than MAX_CELLS cells is refused."""
    rows = table.find_all("tr")
    cells = 0
    for index, row in enumerate(rows):
        width = 0
        for cell in row.find_all(["td", "th"], recursive=False):
            for name, limit in (("colspan", MAX_COLSPAN), ("rowspan", min(MAX_ROWSPAN, len(rows) - index))):
                value = cell.get(name)
                if value is None:
                    continue
                match = _SPAN.match(str(value))
                number = int(match.group(1)[:6]) if match else 1
                if name == "rowspan" and number == 0:
                    number = limit
                cell[name] = str(max(1, min(number, limit)))
            width += int(cell.get("colspan", 1)) * int(cell.get("rowspan", 1))
        cells += width
        if cells > MAX_CELLS:
            raise PipelineError(
                "extract",
                f"an HTML table would expand to more than {MAX_CELLS:,} cells; the "
                "page is not the article's usual structure.",
            )


def _grid(table) -> list[list[str]]:

    _normalise_spans(table)
    try:
        (frame,) = pd.read_html(
            io.StringIO(str(table)),
            header=None,
            thousands=None,
            keep_default_na=False,
            displayed_only=True,
            flavor="lxml",
        )
    except ValueError as error:  # read_html's message when a table has no rows
        raise PipelineError("extract", f"cannot read an HTML table: {error}.") from None
    header: list[list[str]] = []
    columns = frame.columns
    if getattr(columns, "nlevels", 1) > 1:
        header = [[_header_cell(c[level]) for c in columns] for level in range(columns.nlevels)]
    elif not all(isinstance(c, int) for c in columns):
        header = [[_header_cell(c) for c in columns]]
    if header:  # pandas renames repeated labels of the last header row 'Name.1', 'Name.2': undo that
        last = header[-1]
        header[-1] = [
            m.group(1) if (m := re.fullmatch(r"(.+)\.\d+", label)) and m.group(1) in last else label for label in last
        ]
    body = [[clean(str(value)) for value in row] for row in frame.astype(str).itertuples(index=False)]
    return header + body


def _header_cell(value) -> str:
    text = clean(str(value))
    return "" if re.fullmatch(r"Unnamed: \d+(_level_\d+)?", text) else text


def _infobox(table) -> dict[str, str]:
    """The infobox's rows mapped to the template parameters the text rendering shows (Party1, Seats1, ...).

    The parties come in blocks (three to a row of the infobox); a per-party row label seen again starts
    the next block."""
    values: dict[str, str] = {}
    block_start, width, seen = 0, 0, set()
    for row in table.find_all("tr"):
        label_cell = row.find("th")
        cells = row.find_all("td", recursive=False)
        label = header_key(label_cell.get_text(" ")) if label_cell else ""
        if label in INFOBOX_PARTY_ROWS:
            if label in seen:
                block_start, seen = block_start + width, set()
            seen.add(label)
            width = len(cells)
            for offset, cell in enumerate(cells, start=1):
                text = clean(cell.get_text(" "))
                if text:
                    values[f"{INFOBOX_PARTY_ROWS[label]}{block_start + offset}"] = text
        elif label in INFOBOX_SINGLE_ROWS and cells:
            values[INFOBOX_SINGLE_ROWS[label]] = clean(cells[0].get_text(" "))
    return values


def parse_html(text: str, source_name: str = "article") -> Document:
    """The article's HTML (MediaWiki parser output) -> a Document."""
    soup = BeautifulSoup(text, "lxml")
    _strip_noise(soup)
    doc = Document(title=clean(soup.title.get_text()) if soup.title else "")
    path: list[tuple[int, str]] = []
    for element in soup.find_all([*HEADINGS, "p", "li", "table"]):
        if element.find_parent("table") is not None:
            continue  # content of a table (nested tables are reached through their own wikitable class)
        name = element.name
        if name in HEADINGS:
            level, title = int(name[1]), clean(element.get_text(" "))
            if level == 1:
                doc.title = title
                continue
            path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, title)]
            continue
        section = tuple(n for _, n in path)
        if name in ("p", "li"):
            paragraph = clean(element.get_text(" "))
            if paragraph:
                doc.paragraphs.append((section, paragraph))
            continue
        classes = element.get("class", [])
        if "infobox" in classes:
            doc.infobox.update(_infobox(element))
            continue
        for table in [element] if "wikitable" in classes else element.select("table.wikitable"):
            if len(doc.tables) >= MAX_TABLES:
                raise PipelineError(
                    "extract", f"the page has more than {MAX_TABLES} tables; it is not the article's usual structure."
                )
            caption = table.find("caption")
            caption_text = clean(caption.get_text(" ")) if caption else ""
            if caption:
                caption.decompose()
            doc.tables.append(
                SourceTable(
                    section=section,
                    rows=_grid(table),
                    caption=caption_text,
                    location=f"{source_name}: table {len(doc.tables) + 1}",
                )
            )
    return doc
