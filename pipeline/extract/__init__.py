"""Extract stage: the raw snapshot -> a Document -> tidy records per table. Knows the source format.

Imports are inside the functions so that `pipeline.extract.cells` can be used on its own.
"""

from __future__ import annotations


def parse_bytes(data: bytes, name: str, fmt: str = "text"):
    """A snapshot's bytes -> Document, with the front end for its format."""
    from pipeline.errors import PipelineError
    from pipeline.raw import decode

    text = decode(data, name)
    if not text.strip():
        raise PipelineError("extract", f"{name} is empty.")
    if fmt == "html":
        from pipeline.extract.html import parse_html

        return parse_html(text, name)
    from pipeline.extract.text import parse_text

    return parse_text(text, name)


def extract_document(document) -> dict[str, list[dict]]:
    """Every table's records from a Document: extracted, then the derived tables added."""
    from pipeline.derive import derive
    from pipeline.errata import load_errata
    from pipeline.extract.context import Extraction
    from pipeline.extract.tables import extract_tables
    from pipeline.reference import Reference

    return derive(extract_tables(document, Extraction(Reference.load(), load_errata())))


def run(snapshot=None) -> dict[str, list[dict]]:
    """Every table's records from the snapshot (default: the manifest's current one)."""
    from pipeline.raw import current_snapshot

    snapshot = snapshot or current_snapshot()
    return extract_document(parse_bytes(snapshot.path.read_bytes(), snapshot.path.name, snapshot.format))
