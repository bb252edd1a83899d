"""Front end for the plain-text rendering of the article (the pinned snapshot in raw/).

In this rendering headings are `== Title ==`, the infobox is a block of `- Key: value` lines,
tables are runs of `| a | b |` lines (rowspans and colspans collapsed), and a caption is a line
like `  - Caption**` just above a table.
"""

from __future__ import annotations

import re

from pipeline.extract.cells import clean
from pipeline.extract.document import Document, SourceTable

_HEADING = re.compile(r"^(=+)\s*(.*?)\s*\1\s*$")
_CAPTION = re.compile(r"^\s*-\s+(.*?)\*\*\s*$")
_INFOBOX_ITEM = re.compile(r"^-\s+([^:]+):\s*(.*)$")
_MARKUP_ONLY = re.compile(r'^(?:\}|(?:style|class|align|colspan|rowspan)\s*=\s*"[^"]*"\s*)*$')


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [clean(cell) for cell in body.split("|")]


def parse_text(text: str, source_name: str = "article") -> Document:
    """The plain-text rendering of the article -> a Document."""
    lines = text.splitlines()
    title = ""
    path: list[tuple[int, str]] = []
    doc = Document(title="")
    in_infobox = False
    current: SourceTable | None = None
    pending_caption = ""
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.match(line)
        if heading:
            level, name = len(heading.group(1)), clean(heading.group(2))
            if level == 1:
                title = name
                continue
            path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, name)]
            current, in_infobox, pending_caption = None, False, ""
            continue
        section = tuple(n for _, n in path)
        if line.strip() == "Infobox" and not path:
            in_infobox = True
            continue
        if in_infobox:
            item = _INFOBOX_ITEM.match(line)
            if item:
                doc.infobox[clean(item.group(1))] = clean(item.group(2))
                continue
            in_infobox = False
        if line.lstrip().startswith("|"):
            cells = _split_row(line)
            if current is None:
                current = SourceTable(
                    section=section, rows=[], caption=pending_caption, location=f"{source_name}:{number}"
                )
                doc.tables.append(current)
                pending_caption = ""
            if all(_MARKUP_ONLY.match(cell) for cell in cells):
                if line.strip() == "|}":
                    current = None
                continue  # a layout row: nothing but table markup
            current.rows.append(cells)
            continue
        current = None
        caption = _CAPTION.match(line)
        if caption:
            pending_caption = clean(caption.group(1))
        elif line.strip():
            pending_caption = ""
            doc.paragraphs.append((section, clean(line)))
    doc.title = title
    return doc
