"""Grids of cells as the front ends produce them: trimming, header labels, widths, column roles."""

from __future__ import annotations

from pipeline.common.errors import PipelineError
from pipeline.extract.cells import header_key
from pipeline.extract.context import Extraction
from pipeline.extract.document import SourceTable


def trim(row: list[str]) -> list[str]:
    """Drop the empty cells a collapsed span leaves at the end of a row."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def collapse_repeats(cells: list[str]) -> list[str]:
    """Header labels with the repeats a colspan leaves in an expanded grid (HTML front end) removed."""
    return [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]


def sub_header(header: list[list[str]]) -> list[str]:
    """The labels of the last header row that are not also in the rows above it (those are rowspan
    repeats in an expanded grid), empty cells dropped."""
    above = {header_key(c) for row in header[:-1] for c in row}
    return [header_key(c) for c in header[-1] if c and header_key(c) not in above]


def require_width(table: str, row: list[str], width: int, label: str, where: SourceTable) -> list[str]:
    """The row's cells, padded to `width`; a row narrower or wider than that is an error."""
    cells = trim(row)
    if len(cells) > width or len(cells) < width - 1:
        raise PipelineError(
            "extract",
            f"expected {width} cells, found {len(cells)} ({' | '.join(cells)}).",
            table=table,
            row=label,
            hint=f"Source table at {where.location}.",
        )
    return cells + [""] * (width - len(cells))


def map_columns(table: str, header: list[str], fixed: dict[str, str], ctx: Extraction, where: SourceTable) -> list[str]:
    """Map header cells to column roles: a key of `fixed`, or 'option:<option_id>'."""
    roles = []
    for label in collapse_repeats(trim(header)):
        key = header_key(label)
        if key in fixed:
            roles.append(fixed[key])
            continue
        option_id = ctx.reference.option_id(label)
        if option_id is None:
            raise PipelineError(
                "extract",
                f"unexpected column header {label!r}.",
                table=table,
                row="header",
                hint=f"Source table at {where.location}; known headers: "
                f"{', '.join(fixed.values())} and the option names.",
            )
        roles.append(f"option:{option_id}")
    duplicated = {r for r in roles if roles.count(r) > 1}
    if duplicated:
        raise PipelineError(
            "extract", f"column headers appear twice: {', '.join(sorted(duplicated))}.", table=table, row="header"
        )
    missing = [r for r in fixed.values() if r not in roles and not r.startswith("?")]
    if missing:
        raise PipelineError("extract", f"missing column headers: {', '.join(missing)}.", table=table, row="header")
    return roles
