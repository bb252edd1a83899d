"""The stages in order, for the commands that run several: raw snapshot -> extract -> derive ->
validate (-> publish, in the publish command). Each stage knows only its own job; this module is the one
place that chains them, so that the stages depend one way."""

from __future__ import annotations

from pipeline import derive, extract, releases, validate
from pipeline.raw import Snapshot


def source_tables(snapshot: Snapshot) -> dict[str, list[dict]]:
    """Every table's records from a snapshot: extracted, then the derived tables added, and the tables
    of the releases (from releases/)."""
    return derive.derive(extract.run(snapshot)) | releases.tables()


def document_tables(document) -> dict[str, list[dict]]:
    """The same from a parsed Document (tests and tools that build one in memory)."""
    return derive.derive(extract.extract_document(document)) | releases.tables()


def validated(snapshot: Snapshot) -> dict[str, list[dict]]:
    """The validated tables of a snapshot (a PipelineError if anything is wrong)."""
    checked = validate.validate(source_tables(snapshot))
    checked.close()
    return checked.tables


def refresh(root, **options) -> dict:
    """`fetch` with the pipeline's own acceptance test: the new revision must extract, derive and
    validate before it enters raw/. Returns its manifest entry."""
    from pipeline.fetch import fetch  # the network stack only for the command that needs it

    return fetch(root, accept=validated, **options)
