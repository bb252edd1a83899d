"""The stages in order, for the commands that run several: raw snapshot -> extract -> derive ->
validate (-> publish, in the publish command). Each stage knows only its own job; this module is the one
place that chains them, so that the stages depend one way."""

from __future__ import annotations

from pathlib import Path

from pipeline import ROOT, derive, extract, validate
from pipeline.raw.snapshot import Snapshot


def source_tables(snapshot: Snapshot) -> dict[str, list[dict]]:
    """The tables built from a snapshot: extracted, then the derived tables added (not the release
    tables: those are the release gate's, pipeline/release/gate.py)."""
    return derive.snapshot_tables(snapshot)


def current_tables(root: Path):
    """The current snapshot of `root` and its tables, extracted and derived, with the release tables as
    recorded (`python -m pipeline extract`)."""
    from pipeline.raw.snapshot import current_snapshot
    from pipeline.release.gate import recorded_tables

    snapshot = current_snapshot(root / "raw" / "manifest.json")
    return snapshot, source_tables(snapshot) | recorded_tables(root)


def validate_current(root: Path) -> dict[str, list[dict]]:
    """The current snapshot's tables, each validated against its schema (`python -m pipeline validate`)."""
    _, tables = current_tables(root)
    validate.validate(tables).close()
    return tables


def document_tables(document, root=ROOT) -> dict[str, list[dict]]:
    """Every table from a parsed Document (tests and tools that build one in memory), with the release
    tables as recorded in `root`."""
    from pipeline.release.gate import recorded_tables

    return derive.derive(extract.extract_document(document)) | recorded_tables(root)


def refresh(root, **options) -> tuple[dict, list[dict] | str]:
    """`fetch` with the pipeline's own acceptance test: the new revision must extract, derive and
    validate before it enters raw/. Returns its manifest entry and what it would change against the
    newest release (the changed values of the article's tables, or why they cannot be listed)."""
    from pipeline.common.errors import PipelineError
    from pipeline.raw.fetch import fetch  # the network stack only for the command that needs it
    from pipeline.release.gate import changes_of, recorded_tables

    preview: list = []

    def accept(snapshot: Snapshot) -> None:
        tables = source_tables(snapshot)
        validate.validate(tables | recorded_tables(root)).close()
        try:
            preview.append(changes_of(root, tables))
        except PipelineError as error:
            preview.append(error.describe())

    entry = fetch(root, accept=accept, **options)
    return entry, preview[0]
