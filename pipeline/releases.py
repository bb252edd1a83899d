"""Data releases: the version, the history (releases/releases.yaml), and every value a release changes
against the previous one. A release built from another snapshot than the published release's is
published only once its changes are accepted (`publish --accept-changes WHO`, recorded in
releases/changes/VERSION.yaml); the accepted changes are published as the table release_changes, in
docs/changes.md and in CHANGELOG.md. Rebuilding the same snapshot needs no acceptance."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from collections import Counter
from pathlib import Path

from pipeline import ROOT

RELEASES = ROOT / "releases"
RELEASE_TABLES = ("releases", "release_changes")  # about the releases: not compared, not accepted
CHANGE_FIELDS = ("table_name", "record_key", "column_name", "change_kind", "old_value", "new_value")


def version() -> str:
    """The package's version, from pyproject.toml (fast: for --version)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def history(root: Path = ROOT) -> list[dict]:
    """The releases, newest first, as reviewed in releases/releases.yaml (the root's, else the
    repository's)."""
    from pipeline.yamlfile import read_yaml

    own = root / "releases" / "releases.yaml"
    return read_yaml(own if own.is_file() else RELEASES / "releases.yaml")


def acceptances(release: str, root: Path = ROOT) -> list[dict]:
    """The acceptances recorded for a release in a root (releases/changes/VERSION.yaml: the changes
    accepted for the release published there), oldest first; none: an empty list."""
    from pipeline.yamlfile import read_yaml

    path = root / "releases" / "changes" / f"{release}.yaml"
    return (read_yaml(path) or []) if path.is_file() else []


def net_changes(release: str, root: Path = ROOT) -> list[dict]:
    """The release's changes against the previous release: the accepted changes composed (a value
    changed twice before the release counts once, from its first value to its last)."""
    net: dict[tuple, dict] = {}
    for acceptance in acceptances(release, root):
        for change in acceptance["changes"]:
            key = (change["table_name"], change["record_key"], change["column_name"])
            first = net.get(key, {"old_value": change["old_value"]})
            net[key] = {
                "version": release,
                "table_name": key[0],
                "record_key": key[1],
                "column_name": key[2],
                "old_value": first["old_value"],
                "new_value": change["new_value"],
                "snapshot_sha256": acceptance["snapshot_sha256"],
                "accepted_by": acceptance["accepted_by"],
                "accepted_at": _utc(acceptance["accepted_at"]),
            }
    rows = []
    for row in net.values():
        if row["old_value"] != row["new_value"]:
            kind = "added" if row["old_value"] is None else "removed" if row["new_value"] is None else "changed"
            rows.append(row | {"change_kind": kind})
    return sorted(rows, key=lambda r: (r["table_name"], r["record_key"], r["column_name"]))


def tables(root: Path = ROOT) -> dict[str, list[dict]]:
    """The tables releases and release_changes, from the reviewed files."""
    releases, changes = [], []
    for release in history(root):
        rows = net_changes(release["version"], root)
        changes += rows
        releases.append(
            {
                "version": release["version"],
                "release_date": release["release_date"],
                "previous_version": release["previous_version"],
                "code_notes": " ".join(release["code_notes"].split()),
                "data_notes": " ".join(release["data_notes"].split()),
                "changed_values_count": len(rows),
            }
        )
    return {"releases": releases, "release_changes": changes}


def diff(old_root: Path, new_root: Path, package, only: set[str] | None = None) -> list[dict]:
    """Every value that differs between the release in old_root and the one in new_root, compared as
    their CSV files publish it: added, removed and changed values, one row per table, row and column
    (of the tables `only` names, if given)."""
    changes = []
    for resource in package.resources:
        if resource.name in RELEASE_TABLES or (only is not None and resource.name not in only):
            continue
        old = _rows(old_root / "processed" / f"{resource.name}.csv", resource.primary_key)
        new = _rows(new_root / "processed" / f"{resource.name}.csv", resource.primary_key)
        for key in sorted(old.keys() | new.keys()):
            before, after = old.get(key), new.get(key)
            record = ", ".join(f"{column}={value}" for column, value in zip(resource.primary_key, key, strict=True))
            for column in resource.field_names:
                if column in resource.primary_key and before and after:
                    continue
                a = None if before is None else before[column]
                b = None if after is None else after[column]
                if a != b:
                    kind = "added" if before is None else "removed" if after is None else "changed"
                    changes.append(dict(zip(CHANGE_FIELDS, (resource.name, record, column, kind, a, b), strict=True)))
    return changes


def _rows(path: Path, key: tuple[str, ...]) -> dict[tuple, dict]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as file:
        return {tuple(row[k] for k in key): row for row in csv.DictReader(file)}


def unaccepted(changes: list[dict], release: str, root: Path = ROOT) -> list[dict]:
    """The changes not yet accepted for the release (each compared whole: value before and after)."""
    done = {
        tuple(change[f] for f in CHANGE_FIELDS)
        for acceptance in acceptances(release, root)
        for change in acceptance["changes"]
    }
    return [change for change in changes if tuple(change[f] for f in CHANGE_FIELDS) not in done]


def accept(changes: list[dict], release: str, who: str, snapshot_sha256: str, root: Path = ROOT) -> Path:
    """Record the acceptance of `changes` for the release (who, when, which snapshot); returns the file."""
    import yaml

    from pipeline.files import write_atomically

    path = root / "releases" / "changes" / f"{release}.yaml"
    entries = acceptances(release, root)
    entries.append(
        {
            "accepted_by": who,
            "accepted_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "snapshot_sha256": snapshot_sha256,
            "changes": [dict(change) for change in changes],
        }
    )
    header = f"# Changes of release {release} against the previous one, accepted before publication (publish\n"
    header += "# --accept-changes). Written by the pipeline; reviewed with the commit that adds it.\n"
    text = yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (header + text).encode("utf-8"))
    return path


def summary(changes: list[dict], limit: int = 20) -> str:
    """The changes in a few lines: counts per table and kind, then the first `limit` values."""
    counts = Counter((c["table_name"], c["change_kind"]) for c in changes)
    lines = [f"  {table}: {n} {kind}" for (table, kind), n in sorted(counts.items())]
    lines += [
        f"  {c['table_name']} [{c['record_key']}] {c['column_name']}: {c['old_value']!r} -> {c['new_value']!r}"
        for c in changes[:limit]
    ]
    if len(changes) > limit:
        lines.append(f"  ... and {len(changes) - limit} more")
    return "\n".join(lines)


def write_csv(changes: list[dict], path: Path) -> Path:
    """The whole list of changes as CSV (for review)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CHANGE_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def changes_markdown(tables_: dict[str, list[dict]]) -> str:
    """docs/changes.md: every release and every value it changed."""
    lines = [
        "# Changes between releases",
        "",
        "Generated by `python -m pipeline publish` from releases/releases.yaml and the accepted changes in",
        "releases/changes/ (table `release_changes`); do not edit by hand.",
        "",
    ]
    for release in tables_["releases"]:
        rows = [r for r in tables_["release_changes"] if r["version"] == release["version"]]
        previous = release["previous_version"] or "none (first release)"
        lines += [f"## {release['version']} ({release['release_date']})", "", f"Previous release: {previous}.", ""]
        lines += [release["data_notes"], ""]
        if not rows:
            lines += ["No value changed against a previous release.", ""]
            continue
        lines += [
            f"{len(rows)} values changed:",
            "",
            "| table | row | column | change | before | after | accepted by |",
        ]
        lines.append("|---|---|---|---|---|---|---|")
        for r in rows:
            cells = [
                r["table_name"],
                r["record_key"],
                r["column_name"],
                r["change_kind"],
                r["old_value"],
                r["new_value"],
            ]
            cells.append(f"{r['accepted_by']}, {r['accepted_at']:%Y-%m-%d %H:%M} UTC")
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def changelog(tables_: dict[str, list[dict]]) -> str:
    """CHANGELOG.md: each release, what changed in the data (from its changes) and in the code."""
    lines = [
        "# Changelog",
        "",
        "Generated by `python -m pipeline publish` from releases/releases.yaml and the accepted changes of",
        "each release (releases/changes/); every changed value is in docs/changes.md and the table",
        "`release_changes`. Versions are release dates (CalVer YYYY.MM.DD).",
        "",
    ]
    for release in tables_["releases"]:
        rows = [r for r in tables_["release_changes"] if r["version"] == release["version"]]
        lines += [f"## {release['version']} ({release['release_date']})", "", "### Data", "", release["data_notes"], ""]
        counts = Counter((r["table_name"], r["change_kind"]) for r in rows)
        for (table, kind), n in sorted(counts.items()):
            lines.append(f"- `{table}`: {n} value{'s' if n != 1 else ''} {kind}")
        if counts:
            lines.append("")
        lines += ["### Code", "", release["code_notes"], ""]
    return "\n".join(lines)


def _cell(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _utc(value) -> dt.datetime:
    """A timestamp from YAML (a datetime, or ISO text) as a naive UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
