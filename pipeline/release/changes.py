"""The values a release changes: the article's tables of two snapshots, compared value by value as the
CSV files publish them (added, removed and changed values, one row per table, row and column).

The tables compared are the ones built from the snapshot (extracted, derived, and the second source's
tables beside them): what the checks, the forensics and the release tables compute from them follows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

from pipeline.common.files import read_regular

FIELDS = ("table_name", "record_key", "column_name", "change_kind", "old_value", "new_value")
# About the releases: never compared, never accepted.
RELEASE_TABLES = ("releases", "release_changes", "release_structure_changes")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"  # as the CSV files write it (pipeline/publish/)

Values = dict[str, dict[tuple[str, ...], dict[str, str]]]  # table -> key (as text) -> column -> text


def compared(package) -> list:
    """The resources whose values a release's changes list: the tables built from the snapshot."""
    return [r for r in package.from_source if r.name not in RELEASE_TABLES]


def text(value, kind: str) -> str:
    """A value as the release's CSV files write it ('' for null)."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return repr(float(value))
    if kind == "integer":
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def values(tables: dict[str, list[dict]], package) -> Values:
    """The compared tables' values as text, by table and primary key."""
    out: Values = {}
    for resource in compared(package):
        kinds = {f.name: f.type for f in resource.fields}
        rows = {}
        for record in tables.get(resource.name, []):
            row = {name: text(record.get(name), kind) for name, kind in kinds.items()}
            rows[tuple(row[k] for k in resource.primary_key)] = row
        out[resource.name] = rows
    return out


def diff(old: Values, new: Values, package) -> list[dict]:
    """Every value that differs between two sets of values, in table, key and column order."""
    changes = []
    for resource in package.resources:
        if resource.name not in old and resource.name not in new:
            continue
        before_rows, after_rows = old.get(resource.name, {}), new.get(resource.name, {})
        for key in sorted(before_rows.keys() | after_rows.keys()):
            before, after = before_rows.get(key), after_rows.get(key)
            record = ", ".join(f"{column}={value}" for column, value in zip(resource.primary_key, key, strict=True))
            for column in resource.field_names:
                if column in resource.primary_key and before and after:
                    continue
                a = None if before is None else before.get(column)  # a column new in this release: None
                b = None if after is None else after.get(column)
                if a != b:
                    kind = "added" if before is None else "removed" if after is None else "changed"
                    changes.append(dict(zip(FIELDS, (resource.name, record, column, kind, a, b), strict=True)))
    return changes


MAX_CSV_BYTES = 64 * 2**20


def published_values(root: Path, package) -> Values:
    """The values of a release's CSV files in root/processed/ (every table but the release tables); a file
    that is missing, damaged or not a regular file (a FIFO) counts as empty: every row of it is new."""
    out: Values = {}
    for resource in package.resources:
        if resource.name in RELEASE_TABLES:
            continue
        path = root / "processed" / f"{resource.name}.csv"
        out[resource.name] = {}
        try:
            text = read_regular(path, MAX_CSV_BYTES).decode("utf-8")
            rows = csv.DictReader(io.StringIO(text, newline=""))
            out[resource.name] = {tuple(row.get(k) or "" for k in resource.primary_key): row for row in rows}
        except (OSError, ValueError, csv.Error):  # missing, not a regular file, too large, not UTF-8
            out[resource.name] = {}
    return out


def code_changes(root: Path, stage: Path, snapshot, package=None) -> None:
    """Print the values this build changes in the release published in `root`, where that is the same
    release (no acceptance is needed for what the code changes; printed so that it is seen). Where the
    published files say they were built from another snapshot than this build, say that instead: the
    release list now names another snapshot for a published release. A published file that cannot be read
    (damaged, a FIFO) says nothing: the published files decide nothing."""
    import sys

    from pipeline import metadata
    from pipeline.common.errors import PipelineError
    from pipeline.common.files import read_json
    from pipeline.release.swap import DESCRIPTOR

    package = package or metadata.load()
    try:
        published = read_json(root / DESCRIPTOR, "publish")
        staged = read_json(stage / DESCRIPTOR, "publish")
        version = published.get("version")
        built_from = {s.get("sha256") for s in published.get("sources", []) if isinstance(s, dict)}
    except (FileNotFoundError, PipelineError, AttributeError, TypeError):
        return
    if version != staged.get("version"):
        return
    sha = snapshot.entry["sha256"]
    changes = diff(published_values(root, package), published_values(stage, package), package)
    if built_from != {sha}:
        print(
            f"Warning: the files published here as release {version} were built from snapshot "
            f"{', '.join(sorted(map(str, built_from)))[:12]}, but releases/releases.yaml now builds {version} from "
            f"{sha[:12]}: {values_phrase(len(changes))} change. A published release's entry is never edited "
            "(tests/test_release_history.py checks the git history).",
            file=sys.stderr,
        )
    elif changes:
        print(
            f"Same release as the one published here ({version}, the same snapshot); the code changes "
            f"{values_phrase(len(changes))}:",
            file=sys.stderr,
        )
    if changes:
        print(summary(changes, limit=10), file=sys.stderr)


def summary(changes: list[dict], limit: int = 20) -> str:
    """The changes in a few lines: counts per table and kind, then the first `limit` values."""
    from pipeline.common.errors import escape  # every part comes from a file: a line end in it is escaped too

    counts = Counter((c["table_name"], c["change_kind"]) for c in changes)
    lines = [escape(f"  {table}: {n} {kind}") for (table, kind), n in sorted(counts.items())]
    lines += [
        escape(f"  {c['table_name']} [{c['record_key']}] {c['column_name']}: {c['old_value']!r} -> {c['new_value']!r}")
        for c in changes[:limit]
    ]
    if len(changes) > limit:
        lines.append(f"  ... and {len(changes) - limit} more")
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path, fields: tuple[str, ...] = FIELDS) -> Path:
    """Changes as CSV (for review)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def values_phrase(count: int, kind: str = "") -> str:
    """'1 value', '2 values' (with an adjective: '1 changed value')."""
    return f"{count:,} {kind}value{'' if count == 1 else 's'}"
