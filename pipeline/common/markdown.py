"""Markdown tables for the generated reports (docs/quality_report.md, docs/forensics.md)."""

from __future__ import annotations


def cell(value) -> str:
    """A value as one Markdown table cell: empty for a null or NaN, never breaking the row."""
    return "" if value is None or value != value else str(value).replace("|", "/").replace("\n", " ")


def table(rows: list[dict], columns: list[str]) -> list[str]:
    """The lines of a Markdown table of `rows`, one column per name in `columns`."""
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return out
