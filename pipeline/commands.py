"""The commands of `python -m pipeline`: each imports the stages it runs when it runs, so that `--help`
and the download client start without the build stack (pipeline/cli.py parses the arguments)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from pipeline.errors import PipelineError


def source_tables_of(root: Path):
    """The current snapshot and its tables, extracted and derived, with the release tables as recorded."""
    from pipeline.build import source_tables
    from pipeline.raw import current_snapshot
    from pipeline.release.gate import recorded_tables

    snapshot = current_snapshot(root / "raw" / "manifest.json")
    return snapshot, source_tables(snapshot) | recorded_tables(root)


def _print_counts(tables: dict) -> None:
    width = max(len(name) for name in tables)
    for name, rows in tables.items():
        print(f"  {name:<{width}}  {len(rows):>4} rows")


def cmd_verify_raw(args) -> int:
    """Check the current snapshot against its manifest (size and sha256)."""
    from pipeline.raw import current_snapshot

    snapshot = current_snapshot(args.root / "raw" / "manifest.json")
    print(f"{snapshot.path.name}: sha256 {snapshot.entry['sha256']} matches the manifest.")
    return 0


def cmd_extract(args) -> int:
    """Extract the tables and print their row counts and the inferences made."""
    snapshot, tables = source_tables_of(args.root)
    print(f"Extracted from {snapshot.path.name}:")
    _print_counts(tables)
    for row in tables["extraction_inferences"]:
        print(
            f"  inferred {row['table_name']} [{row['record_key']}] {row['column_name']} = "
            f"{row['inferred_value']}: {row['reason']}"
        )
    return 0


def cmd_validate(args) -> int:
    """Extract, then validate every table against its schema."""
    from pipeline.validate import validate

    _, tables = source_tables_of(args.root)
    validate(tables).close()
    print(f"All {len(tables)} tables match their schemas ({sum(len(rows) for rows in tables.values())} rows).")
    return 0


def cmd_publish(args) -> int:
    """Extract, validate, cross-check and publish the release, under the build lock, if the release gate
    (pipeline/release/gate.py) says that this snapshot may be published, and with which changes."""
    import gc

    from pipeline.release.lock import build_lock
    from pipeline.release.swap import recover_locked, swap_in

    gc.disable()  # a short run of many small objects: the cyclic collector only costs time (about 40 ms)
    started = time.perf_counter()
    with build_lock(args.root, "publish", wait=args.wait):  # one build at a time, staging included
        if recover_locked(args.root):
            print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        from pipeline.build import source_tables
        from pipeline.forensics import Pending
        from pipeline.publish import read_root_documents, root_documents, stage_release, write_documents
        from pipeline.quality import outcome_summary
        from pipeline.raw import current_snapshot
        from pipeline.release import changes, gate
        from pipeline.validate import validate

        snapshot = current_snapshot(args.root / "raw" / "manifest.json")
        history = gate.read_history(args.root, snapshot)  # the committed history, checked before building
        documents = read_root_documents(args.root)  # a damaged README or CHANGELOG: stop before building
        stage = args.root / "build" / "staging"
        pending = Pending()  # the forensics, in a second process while this one extracts, validates, checks
        try:
            tables = source_tables(snapshot)
            verdict = gate.decide(args.root, snapshot, tables, accept_by=args.accept_changes, read=history)
            verdict.require(args.root, recorded_only=True)  # a record that differs: at once
            tables |= verdict.tables
            pending.send(tables)
            quality = stage_release(validate(tables), stage, snapshot.entry, pending=pending)
        finally:
            pending.close()
        try:
            verdict.require(args.root)  # every release's changes accepted, or nothing is published
        except PipelineError:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if args.accept_changes and not verdict.accepted_now:
            print("--accept-changes: every release's changes were accepted already.", file=sys.stderr)
        changes.code_changes(args.root, stage, snapshot)
        documents = root_documents(args.root, documents, tables, quality)
        with verdict.recorded():  # the acceptances stay only if the release is swapped in
            swap_in(stage, args.root)
        write_documents(documents)
    print(
        f"Published {len(tables) + 1} tables (quality_checks included) to processed/ and datapackage.json "
        f"in {time.perf_counter() - started:.1f} s:"
    )
    _print_counts(tables)
    for row in tables["errata"]:
        print(
            f"  erratum {row['erratum_id']}: {row['table_name']} [{row['record_key']}] {row['column_name']}: "
            f"{row['value_before']!r} -> {row['value_after']!r}"
        )
    print(
        f"  {len(tables['extraction_inferences'])} inferred values, {len(tables['source_gaps'])} values the "
        f"source does not give; cross-checks: {outcome_summary(quality)} (docs/quality_report.md)."
    )
    return 0


def cmd_check(args) -> int:
    """Run the cross-checks on the published database and print their outcome."""
    import duckdb

    from pipeline import metadata
    from pipeline.crosscheck import load_checks
    from pipeline.quality import gate, outcome_summary
    from pipeline.release.lock import build_lock
    from pipeline.release.readers import open_database
    from pipeline.release.swap import recover_locked

    database = args.root / "processed" / metadata.load().meta["database"]
    checks = load_checks()
    # The build lock: never while a build swaps the release in, and a swap that a killed build left half
    # done is rolled back first (a waiting check would otherwise read the half-swapped release).
    with build_lock(args.root, "check", wait=args.wait):
        if recover_locked(args.root):
            print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        con = open_database(database, "check")
        try:
            applied = [
                dict(zip([d[0] for d in con.description], row, strict=True))
                for row in con.execute("SELECT * FROM errata").fetchall()
            ]
            quality = gate(con, applied, checks)
        except duckdb.Error as error:
            raise PipelineError(
                "check",
                f"the database {database} does not have what the checks read ({str(error).splitlines()[0]}).",
                hint="Rebuild the release with `make`.",
            ) from None
        finally:
            con.close()
    for check in checks:
        statuses = sorted({r["status"] for r in quality if r["check_id"] == check.id})
        print(f"  {'/'.join(statuses):<22} {check.id} ({check.severity}, tolerance {check.tolerance:g})")
    print(f"Cross-checks on the published database: {outcome_summary(quality)}.")
    return 0


def cmd_site(args) -> int:
    """Build the static data portal (site/) from the published release, swapped in only when whole."""
    from pipeline import site
    from pipeline.release.lock import build_lock

    started = time.perf_counter()
    if not (args.root / "datapackage.json").is_file():
        raise PipelineError("site", f"no published release in {args.root}; run `make` first.")
    with build_lock(args.root, "site", wait=args.wait):  # one writer, and the release does not change meanwhile
        written = site.build(args.root)
    size = sum(path.stat().st_size for path in written)
    print(f"site: {len(written)} files, {size:,} bytes in {args.root / 'site'} ({time.perf_counter() - started:.1f} s)")
    return 0


def cmd_bundle(args) -> int:
    """Write the release bundle (dist/) from the published release."""
    from pipeline import bundle
    from pipeline.release.lock import build_lock

    with build_lock(args.root, "bundle", wait=args.wait):
        path = bundle.build(args.root)
    print(f"bundle: {path} ({path.stat().st_size:,} bytes), listed in {path.parent / 'datapackage.json'}")
    return 0


def cmd_fetch(args) -> int:
    """Fetch a revision of the article into raw/ if it extracts and validates."""
    from pipeline.build import refresh

    entry, changes = refresh(
        args.root,
        dry_run=args.dry_run,
        api_url=args.api_url,
        revision=args.revision,
        title=args.title,
        limits=_limits(args),
        contact=args.contact,
        wait=args.wait,
    )
    where = (
        "; it extracts and validates. --dry-run: raw/ is unchanged"
        if args.dry_run
        else f" into raw/{entry['path']}; it extracts and validates and is now the pipeline's input"
    )
    print(f"Fetched revision {entry['revision_id']} ({entry['bytes']:,} bytes, sha256 {entry['sha256']}){where}.")
    if isinstance(changes, str):
        print(f"What it changes against the newest release cannot be listed: {changes}")
    elif not changes:
        print("It changes no value of the newest release.")
    else:
        from pipeline.release.changes import summary, values_phrase

        print(f"Against the newest release it changes {values_phrase(len(changes))}:\n{summary(changes)}")
        print("Publishing it is a new release: `make` will stop and show them until they are accepted.")
    return 0


def cmd_download(args) -> int:
    """Download the published files into a folder, each verified against datapackage.json."""
    from pipeline.download import download

    status = download(args.base_url, args.dest, limits=_limits(args), contact=args.contact, wait=args.wait)
    fresh = sum(s == "downloaded" for s in status.values())
    print(
        f"{args.dest}: {fresh} files downloaded, {len(status) - fresh} already up to date; every file matches "
        "the sha256 in datapackage.json."
    )
    return 0


def _limits(args):
    from pipeline.defaults import Limits

    return Limits(
        timeout=args.timeout,
        request_deadline=args.request_deadline,
        deadline=args.deadline,
        retries=args.retries,
        backoff=args.backoff,
        max_wait=args.max_wait,
        min_speed=args.min_speed,
    )
