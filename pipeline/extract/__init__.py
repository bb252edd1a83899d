"""Extract stage: the raw snapshot -> a Document -> tidy records per table. Knows the source format."""

from __future__ import annotations

from pipeline.errata import load_errata
from pipeline.errors import PipelineError
from pipeline.extract.context import Extraction
from pipeline.extract.tables import extract_tables
from pipeline.raw import Snapshot, current_snapshot, read_text
from pipeline.reference import Reference


def parse_snapshot(snapshot: Snapshot):
    text = read_text(snapshot)
    if not text.strip():
        raise PipelineError("extract", f"{snapshot.path.name} is empty.")
    if snapshot.format == "html":
        from pipeline.extract.html import parse_html
        return parse_html(text, snapshot.path.name)
    from pipeline.extract.text import parse_text
    return parse_text(text, snapshot.path.name)


def run(snapshot: Snapshot | None = None) -> dict[str, list[dict]]:
    snapshot = snapshot or current_snapshot()
    document = parse_snapshot(snapshot)
    return extract_tables(document, Extraction(Reference.load(), load_errata()))
