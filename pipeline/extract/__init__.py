"""Extract stage: the raw snapshot -> a Document (its front end: text or HTML) -> tidy records per
table. Knows the source format, nothing of the later stages (pipeline/stages.py chains them)."""

from __future__ import annotations

from pipeline.common.errors import PipelineError
from pipeline.extract.context import Extraction
from pipeline.extract.errata import load_errata
from pipeline.extract.sections import extract_tables
from pipeline.extract.text import parse_text
from pipeline.metadata.codes import Reference
from pipeline.raw.snapshot import Snapshot, decode


def parse_bytes(data: bytes, name: str, fmt: str = "text"):
    """A snapshot's bytes -> Document, with the front end for its format."""
    text = decode(data, name)
    if not text.strip():
        raise PipelineError("extract", f"{name} is empty.")
    if fmt == "html":
        from pipeline.extract.html import parse_html  # bs4 and lxml only for an HTML snapshot

        return parse_html(text, name)
    return parse_text(text, name)


def extract_document(document, *, earlier: bool = False) -> dict[str, list[dict]]:
    """Every extracted table's records from a Document (the derived tables come from pipeline.derive);
    `earlier`: the snapshot of an earlier release (errata naming rows it lacks are not an error)."""
    return extract_tables(document, Extraction(Reference.load(), load_errata(), earlier=earlier))


def run(snapshot: Snapshot, *, earlier: bool = False) -> dict[str, list[dict]]:
    """Every extracted table's records from a snapshot."""
    document = parse_bytes(snapshot.path.read_bytes(), snapshot.path.name, snapshot.format)
    return extract_document(document, earlier=earlier)
