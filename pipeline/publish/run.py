"""The publish command: extract, validate, cross-check and publish the release, under the build lock,
if the release gate says that this snapshot may be published (pipeline/release/gate.py, `decide`: the
one question, asked once, with the committed history it read first, before anything else)."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.common import cache, timing
from pipeline.common.defaults import LOCK_WAIT
from pipeline.common.errors import PipelineError


@dataclass
class Published:
    """What a publish did: every table published (the forensics and quality_checks included), the quality
    gate's rows, the acceptances this run recorded, and its duration."""

    tables: dict[str, list[dict]]
    quality: list[dict]
    accepted_now: list
    seconds: float


def publish(root: Path, *, accept_by: str | None = None, wait: float = LOCK_WAIT) -> Published:
    """Build the release of the current snapshot in a staging folder, then swap it in for processed/,
    the docs and datapackage.json, with the root's documents; nothing changes unless every check passes
    and the release gate allows it."""
    from pipeline.common.lock import build_lock
    from pipeline.release.swap import recover_locked, swap_in

    started = time.perf_counter()
    with build_lock(root, "publish", wait=wait):  # one build at a time, staging included
        if recover_locked(root):
            print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        from pipeline.forensics.process import Pending
        from pipeline.publish.root_docs import read_root_documents, root_documents, write_documents
        from pipeline.publish.staging import Earlier, keep_release, release_key, restore_release, stage_release
        from pipeline.raw.snapshot import current_snapshot
        from pipeline.release import changes, gate
        from pipeline.stages import source_tables
        from pipeline.validate import validate

        with timing.stage("snapshot, history, root documents"):
            snapshot = current_snapshot(root / "raw" / "manifest.json")
            history = gate.read_history(root, snapshot)  # the committed history, checked before anything else
            documents = read_root_documents(root)  # a damaged README or CHANGELOG: stop before building
        stage = root / "build" / "staging"
        pending = Pending()  # the forensics, in a second process while this one validates, loads and checks
        try:
            with timing.stage("extract, derive, release gate"):
                verdict = gate.decide(
                    root, snapshot, lambda: source_tables(snapshot), accept_by=accept_by, read=history
                )
            tables = verdict.published_tables
            with timing.stage("fingerprint, staged before?"):
                prints = cache.fingerprints(tables)  # what the build cache knows each table by
                key = release_key(prints, snapshot.entry)
                restored = restore_release(stage, key)  # the same inputs and code staged before: their files
            if restored:
                quality, forensic = restored
            else:
                pending.send(tables, prints)
                with timing.stage("the build before"):
                    earlier = Earlier.load()  # what did not change since the build before is taken from it
                with timing.stage("validate"):
                    validated = validate(tables, prints=prints, passed=earlier.passed)
                quality, forensic = stage_release(
                    validated, stage, snapshot.entry, pending=pending, prints=prints, earlier=earlier
                )
                with timing.stage("keep the staged release"):
                    keep_release(stage, key, quality, forensic, earlier)
        finally:
            pending.close()
        try:
            verdict.require(root)  # every release's changes accepted, or nothing is published
        except PipelineError:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if accept_by and not verdict.accepted_now and verdict.structure_now is None:
            print("--accept-changes: every release's changes were accepted already.", file=sys.stderr)
        with timing.stage("code changes, changelog, README"):
            changes.code_changes(root, stage, snapshot)
            documents = root_documents(root, documents, tables, quality)
        with verdict.recorded(), timing.stage("swap in"):  # the acceptances stay only if the release is swapped in
            swap_in(stage, root)
        write_documents(documents)
    timing.write()
    published = tables | forensic | {"quality_checks": quality}
    return Published(published, quality, verdict.accepted_now, time.perf_counter() - started)
