"""Data releases: the version, the history (releases/releases.yaml), and every value a release changes
against the previous one.

The rules of `publish` (pipeline/commands.py applies them, before the staged release is swapped in):
- Rebuilding the snapshot the published release is built from needs no acceptance (values the code
  changes are printed).
- Another snapshot is another release: a new entry in releases/releases.yaml whose previous_version is
  the published release. Its changes against the published release are shown, and published only once
  accepted (`publish --accept-changes WHO` records them, with who, when and the snapshot, in
  releases/changes/VERSION.yaml); an acceptance holds only for exactly those changes of exactly that
  snapshot.
- With no published release to compare with (a fresh folder, `make clean`), only the snapshot the
  release was accepted for (or, for the first release, the one releases.yaml names) is published.
The accepted changes are published as the table release_changes, in docs/changes.md and CHANGELOG.md."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections import Counter
from pathlib import Path

from pipeline import ROOT
from pipeline.errors import PipelineError

RELEASES = ROOT / "releases"
RELEASE_TABLES = ("releases", "release_changes")  # about the releases: not compared, not accepted
CHANGE_FIELDS = ("table_name", "record_key", "column_name", "change_kind", "old_value", "new_value")
RELEASE_FIELDS = ("version", "release_date", "previous_version", "snapshot_sha256", "code_notes", "data_notes")
_VERSION = re.compile(r"[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def version() -> str:
    """The package's version, from pyproject.toml (fast: for --version)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def history(root: Path = ROOT) -> list[dict]:
    """The releases, newest first, as reviewed in releases/releases.yaml (the root's, else the
    repository's)."""

    from pipeline.yamlfile import read_reviewed

    own = root / "releases" / "releases.yaml"
    path = own if own.is_file() else RELEASES / "releases.yaml"
    entries = read_reviewed(path, RELEASE_FIELDS, "release", "releases")
    if not entries:
        raise PipelineError("releases", f"{path} lists no release.")
    for number, entry in enumerate(entries):
        where = f"release #{number + 1} in {path.name}"
        expected = entries[number + 1]["version"] if number + 1 < len(entries) else None
        if not isinstance(entry["version"], str) or not _VERSION.fullmatch(entry["version"]):
            raise PipelineError("releases", f"{where}: version {entry['version']!r} is not YYYY.MM.DD[.N] (quoted).")
        if not isinstance(entry["release_date"], dt.date):
            raise PipelineError("releases", f"{where}: release_date {entry['release_date']!r} is not a date.")
        if entry["previous_version"] != expected:
            raise PipelineError(
                "releases", f"{where}: previous_version must be {expected!r}, the next entry's version (newest first)."
            )
        if not (isinstance(entry["snapshot_sha256"], str) and _SHA256.fullmatch(entry["snapshot_sha256"])):
            raise PipelineError("releases", f"{where}: snapshot_sha256 must be the snapshot's sha256 (64 hex digits).")
        if not all(isinstance(entry[key], str) and entry[key].strip() for key in ("code_notes", "data_notes")):
            raise PipelineError("releases", f"{where}: code_notes and data_notes must be text.")
    return entries


def check_version(root: Path, release: str) -> None:
    """The newest release of the repository's history is the package's version (pyproject.toml); a
    folder with its own releases/releases.yaml (tests, forks) answers for itself."""
    if not (root / "releases" / "releases.yaml").is_file() and release != version():
        raise PipelineError(
            "releases",
            f"the newest release in releases/releases.yaml is {release}, but pyproject.toml says {version()}: "
            "one version everywhere (pyproject.toml, releases/releases.yaml, CITATION.cff).",
        )


def acceptances(release: str, root: Path = ROOT) -> list[dict]:
    """The acceptances recorded for a release in a root (releases/changes/VERSION.yaml: the changes
    accepted for the release published there), oldest first; none: an empty list."""
    from pipeline.yamlfile import read_reviewed

    path = root / "releases" / "changes" / f"{release}.yaml"
    entries = read_reviewed(
        path, ("accepted_by", "accepted_at", "snapshot_sha256", "changes"), "acceptance", "releases"
    )
    for number, entry in enumerate(entries, start=1):
        where = f"acceptance #{number} in {path}"
        if not (isinstance(entry["snapshot_sha256"], str) and _SHA256.fullmatch(entry["snapshot_sha256"])):
            raise PipelineError("releases", f"{where}: snapshot_sha256 must be 64 hex digits (quoted).")
        if not isinstance(entry["changes"], list) or not all(
            isinstance(c, dict) and set(c) == set(CHANGE_FIELDS) for c in entry["changes"]
        ):
            raise PipelineError("releases", f"{where}: changes must be a list of {', '.join(CHANGE_FIELDS)}.")
        try:
            _utc(entry["accepted_at"])
        except (TypeError, ValueError):
            raise PipelineError("releases", f"{where}: accepted_at {entry['accepted_at']!r} is not a time.") from None
    return entries


def same_changes(changes: list[dict], recorded: list[dict]) -> bool:
    """Whether two lists hold the same changes (table, row, column, kind, before, after)."""

    def key(change: dict) -> tuple:
        return tuple(change[f] for f in CHANGE_FIELDS)

    return sorted(map(key, changes), key=repr) == sorted(map(key, recorded), key=repr)


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
                "snapshot_sha256": release["snapshot_sha256"],
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
                a = None if before is None else before.get(column)  # a column new in this release: None
                b = None if after is None else after.get(column)
                if a != b:
                    kind = "added" if before is None else "removed" if after is None else "changed"
                    changes.append(dict(zip(CHANGE_FIELDS, (resource.name, record, column, kind, a, b), strict=True)))
    return changes


def _rows(path: Path, key: tuple[str, ...]) -> dict[tuple, dict]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as file:
        return {tuple(row[k] for k in key): row for row in csv.DictReader(file)}


def accept(changes: list[dict], release: str, who: str, snapshot_sha256: str, root: Path = ROOT) -> Path:
    """Record the acceptance of `changes` for the release (who, when, which snapshot); returns the file."""
    import yaml

    from pipeline.files import write_atomically

    path = root / "releases" / "changes" / f"{release}.yaml"
    entries = [  # one acceptance per release: the changes from the previous release, for one snapshot
        {
            "accepted_by": who,
            "accepted_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "snapshot_sha256": snapshot_sha256,
            "changes": [dict(change) for change in changes],
        }
    ]
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
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not a time: {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
