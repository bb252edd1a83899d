"""Command line: `python -m pipeline <command>`. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline import ROOT
from pipeline.errors import PipelineError


def _extract(root: Path):
    from pipeline import extract
    from pipeline.raw import current_snapshot

    snapshot = current_snapshot(root / "raw" / "manifest.json")
    return snapshot, extract.run(snapshot)


def _print_counts(tables: dict) -> None:
    width = max(len(name) for name in tables)
    for name, rows in tables.items():
        print(f"  {name:<{width}}  {len(rows):>4} rows")


def cmd_verify_raw(args) -> int:
    from pipeline.raw import current_snapshot

    snapshot = current_snapshot(args.root / "raw" / "manifest.json")
    print(f"{snapshot.path.name}: sha256 {snapshot.entry['sha256']} matches the manifest.")
    return 0


def cmd_extract(args) -> int:
    snapshot, tables = _extract(args.root)
    print(f"Extracted from {snapshot.path.name}:")
    _print_counts(tables)
    for row in tables["extraction_inferences"]:
        print(f"  inferred {row['table_name']} [{row['record_key']}] {row['column_name']} = "
              f"{row['inferred_value']}: {row['reason']}")
    return 0


def cmd_validate(args) -> int:
    from pipeline.validate import to_frames

    _, tables = _extract(args.root)
    frames = to_frames(tables)
    print(f"All {len(frames)} tables match their schemas ({sum(len(f) for f in frames.values())} rows).")
    return 0


def cmd_publish(args) -> int:
    from pipeline.publish import stage_release, swap_in
    from pipeline.validate import to_frames

    started = time.perf_counter()
    snapshot, tables = _extract(args.root)
    frames = to_frames(tables)
    stage = args.root / "build" / "staging"
    quality = stage_release(frames, stage, snapshot.entry)
    swap_in(stage, args.root)
    print(f"Published {len(frames) + 1} tables (quality_checks included) to processed/ and datapackage.json "
          f"in {time.perf_counter() - started:.1f} s:")
    _print_counts(tables)
    for row in tables["errata"]:
        print(f"  erratum {row['erratum_id']}: {row['table_name']} [{row['record_key']}] {row['column_name']}: "
              f"{row['value_before']!r} -> {row['value_after']!r}")
    print(f"  {len(tables['extraction_inferences'])} inferred values, {len(tables['source_gaps'])} values the "
          f"source does not give; cross-checks: {_status_counts(quality)} (docs/quality_report.md).")
    return 0


def _status_counts(quality: list[dict]) -> str:
    counts = {status: sum(r["status"] == status for r in quality) for status in ("passed", "corrected", "acknowledged")}
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def cmd_check(args) -> int:
    import duckdb

    from pipeline import metadata
    from pipeline.crosscheck import load_checks, run_checks
    from pipeline.errata import errata_resolves
    from pipeline.quality import assess, load_acknowledgements

    database = args.root / "processed" / metadata.load().meta["database"]
    if not database.exists():
        raise PipelineError("check", f"no published database at {database}; run `make` first.")
    checks = load_checks()
    con = duckdb.connect(str(database), read_only=True)
    try:
        findings = run_checks(con, checks)
        applied = [dict(zip([d[0] for d in con.description], row))
                   for row in con.execute("SELECT * FROM errata").fetchall()]
    finally:
        con.close()
    quality = assess(checks, findings, applied, errata_resolves(), load_acknowledgements())
    for check in checks:
        statuses = sorted({r["status"] for r in quality if r["check_id"] == check.id})
        print(f"  {'/'.join(statuses):<22} {check.id} ({check.severity}, tolerance {check.tolerance:g})")
    print(f"{len(checks)} checks on the published database: {_status_counts(quality)}; 0 failed.")
    return 0


def cmd_fetch(args) -> int:
    from pipeline.fetch import fetch

    entry = fetch(args.root, api_url=args.api_url, revision=args.revision, timeout=args.timeout,
                  retries=args.retries, backoff=args.backoff, contact=args.contact)
    print(f"Fetched revision {entry['revision_id']} ({entry['bytes']:,} bytes, sha256 {entry['sha256']}) into "
          f"raw/{entry['path']}; it extracts and validates and is now the pipeline's input. Run `make` to publish.")
    return 0


def cmd_download(args) -> int:
    from pipeline.download import download

    status = download(args.base_url, args.dest, timeout=args.timeout, retries=args.retries, backoff=args.backoff,
                      contact=args.contact)
    fresh = sum(s == "downloaded" for s in status.values())
    print(f"{args.dest}: {fresh} files downloaded, {len(status) - fresh} already up to date; every file matches "
          "the sha256 in datapackage.json.")
    return 0


def _network_options(command) -> None:
    command.add_argument("--timeout", type=float, default=30, help="seconds to wait for a server (default 30)")
    command.add_argument("--retries", type=int, default=5, help="retries on 429, 5xx and broken connections (default 5)")
    command.add_argument("--backoff", type=float, default=1.0,
                         help="backoff factor in seconds between retries, doubled each time (default 1)")
    command.add_argument("--contact", help="contact (URL or e-mail) for the User-Agent, as Wikimedia asks")


COMMANDS = {
    "verify-raw": (cmd_verify_raw, "check the raw snapshot against its manifest (sha256)"),
    "extract": (cmd_extract, "extract the tables from raw/ and print their row counts and inferences"),
    "validate": (cmd_validate, "extract, then validate every table against its schema"),
    "publish": (cmd_publish, "extract, validate, cross-check and publish processed/ and datapackage.json"),
    "check": (cmd_check, "run the SQL cross-checks on the published database"),
    "fetch": (cmd_fetch, "download the article (latest or --revision) from the MediaWiki API into raw/"),
    "download": (cmd_download, "download the published files, verified against datapackage.json"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, metavar="DIR",
                        help="folder holding raw/ (input) and processed/ and datapackage.json (outputs); "
                             "default: the repository")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands = {}
    for name, (handler, help_text) in COMMANDS.items():
        commands[name] = sub.add_parser(name, help=help_text, description=help_text)
        commands[name].set_defaults(handler=handler)
    from pipeline.fetch import DEFAULT_API

    commands["fetch"].add_argument("--revision", type=int, help="a revision id to pin (default: the latest)")
    commands["fetch"].add_argument("--api-url", default=DEFAULT_API, help=f"MediaWiki API endpoint (default {DEFAULT_API})")
    commands["download"].add_argument("--base-url", required=True,
                                      help="URL of the folder holding datapackage.json (e.g. a raw-file URL of this repository)")
    commands["download"].add_argument("--dest", type=Path, default=Path("kz-election-2023-data"),
                                      help="folder to download into (default ./kz-election-2023-data)")
    for name in ("fetch", "download"):
        _network_options(commands[name])
    sub.add_parser("build", help="same as publish", description="same as publish").set_defaults(
        handler=cmd_publish)
    args = parser.parse_args(argv)
    try:
        from pipeline.publish import recover

        if recover(args.root):
            print("Recovered: a publish was interrupted; the previous release is back in place.", file=sys.stderr)
        return args.handler(args)
    except PipelineError as error:
        print(f"error: {error.describe()}", file=sys.stderr)
        return 1
