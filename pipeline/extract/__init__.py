"""Extract stage: the raw snapshot -> a Document -> tidy records per table. Knows the source format.

Imports are inside the functions so that `pipeline.extract.cells` can be used on its own.
"""

from __future__ import annotations


def parse_snapshot(snapshot):
    from pipeline.errors import PipelineError
    from pipeline.raw import read_text

    text = read_text(snapshot)
    if not text.strip():
        raise PipelineError("extract", f"{snapshot.path.name} is empty.")
    if snapshot.format == "html":
        from pipeline.extract.html import parse_html
        return parse_html(text, snapshot.path.name)
    from pipeline.extract.text import parse_text
    return parse_text(text, snapshot.path.name)


def run(snapshot=None) -> dict[str, list[dict]]:
    """Every table's records: extracted from the snapshot, then the derived tables added."""
    from pipeline.derive import derive
    from pipeline.errata import load_errata
    from pipeline.extract.context import Extraction
    from pipeline.extract.tables import extract_tables
    from pipeline.raw import current_snapshot
    from pipeline.reference import Reference

    snapshot = snapshot or current_snapshot()
    document = parse_snapshot(snapshot)
    return derive(extract_tables(document, Extraction(Reference.load(), load_errata())))
