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


def refresh(root, **options) -> tuple[dict, list[dict] | str]:
    """`fetch` with the pipeline's own acceptance test: the new revision must extract, derive and
    validate before it enters raw/. Returns its manifest entry and what it would change in the release
    published in `root` (the changed values, or why they cannot be listed yet)."""
    from pipeline.fetch import fetch  # the network stack only for the command that needs it

    preview: list = []

    def accept(snapshot: Snapshot) -> None:
        checked = validate.validate(source_tables(snapshot) | releases.tables(root))
        preview.append(changes_against_release(root, checked, snapshot))

    entry = fetch(root, accept=accept, **options)
    return entry, preview[0]


def changes_against_release(root, checked, snapshot: Snapshot) -> list[dict] | str:
    """The values of the article's tables that a validated snapshot would change in the release
    published in `root` (loaded and written as CSV in build/preview, then removed; the cross-checks and
    the forensics, which follow from them, are left to publish); a text where there is no release."""
    import shutil

    from pipeline import metadata
    from pipeline.publish import build_database, export_csv

    if not (root / "datapackage.json").is_file():
        return "no release is published in this folder yet"
    package = metadata.load()
    stage = root / "build" / "preview"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "processed").mkdir(parents=True)
    try:
        con = build_database(checked, ":memory:", package)
        try:
            loaded = [r for r in package.resources if r.name in checked.tables]
            for resource in loaded:
                export_csv(con, resource, stage / "processed")
        finally:
            con.close()
        return releases.diff(root, stage, package, only={r.name for r in loaded})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
