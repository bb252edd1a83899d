"""The commands of `python -m pipeline`: each imports the stages it runs when it runs, so that `--help`
and the download client start without the build stack (pipeline/cli.py parses the arguments)."""

from __future__ import annotations

import time


def _print_counts(tables: dict) -> None:
    width = max(len(name) for name in tables)
    for name, rows in tables.items():
        print(f"  {name:<{width}}  {len(rows):>4} rows")


def cmd_verify_raw(args) -> int:
    """Check the current snapshot against its manifest (size and sha256)."""
    from pipeline.raw.snapshot import current_snapshot

    snapshot = current_snapshot(args.root / "raw" / "manifest.json")
    print(f"{snapshot.path.name}: sha256 {snapshot.entry['sha256']} matches the manifest.")
    return 0


def cmd_extract(args) -> int:
    """Extract the tables and print their row counts and the inferences made."""
    from pipeline.stages import current_tables

    snapshot, tables = current_tables(args.root)
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
    from pipeline.stages import validate_current

    tables = validate_current(args.root)
    print(f"All {len(tables)} tables match their schemas ({sum(len(rows) for rows in tables.values())} rows).")
    return 0


def cmd_publish(args) -> int:
    """Extract, validate, cross-check and publish the release (pipeline/publish/run.py)."""
    import gc

    from pipeline.checks.quality import outcome_summary
    from pipeline.publish.run import publish

    gc.disable()  # a short run of many small objects: the cyclic collector only costs time (about 40 ms)
    done = publish(args.root, accept_by=args.accept_changes, wait=args.wait)
    tables, quality = done.tables, done.quality
    print(f"Published {len(tables)} tables to processed/ and datapackage.json in {done.seconds:.1f} s:")
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
    from pipeline.checks.quality import outcome_summary
    from pipeline.publish.recheck import recheck

    checks, quality = recheck(args.root, wait=args.wait)
    for check in checks:
        statuses = sorted({r["status"] for r in quality if r["check_id"] == check.id})
        print(f"  {'/'.join(statuses):<22} {check.id} ({check.severity}, tolerance {check.tolerance:g})")
    print(f"Cross-checks on the published database: {outcome_summary(quality)}.")
    return 0


def cmd_site(args) -> int:
    """Build the static data portal (site/) from the published release, swapped in only when whole."""
    from pipeline.site.build import build_locked

    started = time.perf_counter()
    written = build_locked(args.root, wait=args.wait)
    size = sum(path.stat().st_size for path in written)
    print(f"site: {len(written)} files, {size:,} bytes in {args.root / 'site'} ({time.perf_counter() - started:.1f} s)")
    return 0


def cmd_bundle(args) -> int:
    """Write the release bundle (dist/) from the published release."""
    from pipeline.publish.bundle import build_locked

    path = build_locked(args.root, wait=args.wait)
    print(f"bundle: {path} ({path.stat().st_size:,} bytes), listed in {path.parent / 'datapackage.json'}")
    return 0


def cmd_fetch(args) -> int:
    """Fetch a revision of the article into raw/ if it extracts and validates."""
    from pipeline.stages import refresh

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
    from pipeline.net.download import download

    status = download(args.base_url, args.dest, limits=_limits(args), contact=args.contact, wait=args.wait)
    fresh = sum(s == "downloaded" for s in status.values())
    print(
        f"{args.dest}: {fresh} files downloaded, {len(status) - fresh} already up to date; every file matches "
        "the sha256 in datapackage.json."
    )
    return 0


def _limits(args):
    from pipeline.common.defaults import Limits

    return Limits(
        timeout=args.timeout,
        request_deadline=args.request_deadline,
        deadline=args.deadline,
        retries=args.retries,
        backoff=args.backoff,
        max_wait=args.max_wait,
        min_speed=args.min_speed,
    )
