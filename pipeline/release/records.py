"""Acceptance records (releases/changes/VERSION.yaml): who accepted which changes of a release, when, for
which pair of snapshots. A record is bound to its change set by a digest of the sorted change rows, the
release, its predecessor and both snapshots; the file is append-only (a later acceptance of the same
release is added below the earlier ones, which stay as they were)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.errors import PipelineError
from pipeline.release.changes import FIELDS as CHANGE_FIELDS
from pipeline.release.history import SHA256

FIELDS = (
    "version",
    "previous_version",
    "snapshot_sha256",
    "previous_snapshot_sha256",
    "accepted_by",
    "accepted_at",
    "changes_sha256",
    "changes",
)
HEADER = (
    "# Acceptances of the changes of release {version} against {previous} (publish --accept-changes), oldest\n"
    "# first. Written by the pipeline, never edited: every build recomputes the changes from the two\n"
    "# snapshots in raw/ and requires the last acceptance to equal them (changes_sha256 binds them to the\n"
    "# release and both snapshots). Reviewed with the commit that adds it.\n"
)


@dataclass(frozen=True)
class Acceptance:
    """One acceptance of a release's changes."""

    version: str
    previous_version: str
    snapshot_sha256: str
    previous_snapshot_sha256: str
    accepted_by: str
    accepted_at: dt.datetime  # naive UTC
    changes_sha256: str
    changes: tuple[dict, ...]

    def entry(self) -> dict:
        """The acceptance as written in its file."""
        return {
            "version": self.version,
            "previous_version": self.previous_version,
            "snapshot_sha256": self.snapshot_sha256,
            "previous_snapshot_sha256": self.previous_snapshot_sha256,
            "accepted_by": self.accepted_by,
            "accepted_at": stamp(self.accepted_at),
            "changes_sha256": self.changes_sha256,
            "changes": [dict(change) for change in self.changes],
        }


def digest(
    version: str, previous: str, snapshot: str, previous_snapshot: str, changes, accepted_by: str, accepted_at: str
) -> str:
    """sha256 of an acceptance: the release, its predecessor, both snapshots, the sorted change rows, who
    accepted them and when (`accepted_at` as written: YYYY-MM-DDTHH:MM:SSZ), as canonical JSON."""
    rows = sorted([[change[f] for f in CHANGE_FIELDS] for change in changes], key=repr)
    body = json.dumps(
        {
            "version": version,
            "previous_version": previous,
            "snapshot_sha256": snapshot,
            "previous_snapshot_sha256": previous_snapshot,
            "fields": list(CHANGE_FIELDS),
            "changes": rows,
            "accepted_by": accepted_by,
            "accepted_at": accepted_at,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def path_of(folder: Path, version: str) -> Path:
    return folder / "changes" / f"{version}.yaml"


def recorded_versions(folder: Path) -> list[str]:
    """The versions that have a record file in releases/changes/."""
    return sorted(p.stem for p in (folder / "changes").glob("*.yaml"))


def read(folder: Path, version: str) -> list[Acceptance]:
    """The acceptances recorded for a release, oldest first ([] without a file); each checked for its
    form and its own digest (a record edited after it was written no longer matches it)."""
    from pipeline.common.yamlfile import read_reviewed

    path = path_of(folder, version)
    out = []
    for number, entry in enumerate(read_reviewed(path, FIELDS, "acceptance", "releases"), start=1):
        where = f"{path.name}, acceptance #{number}"
        if set(entry) != set(FIELDS):
            raise PipelineError("releases", f"{where}: unexpected fields {sorted(set(entry) - set(FIELDS))}.")
        for key in ("snapshot_sha256", "previous_snapshot_sha256", "changes_sha256"):
            if not (isinstance(entry[key], str) and SHA256.fullmatch(entry[key])):
                raise PipelineError("releases", f"{where}: {key} must be 64 hex digits (quoted).")
        for key in ("version", "previous_version", "accepted_by"):
            if not (isinstance(entry[key], str) and entry[key].strip()):
                raise PipelineError("releases", f"{where}: {key} must be text (quoted).")
        if entry["version"] != version:
            raise PipelineError("releases", f"{where}: it names release {entry['version']!r}, not {version}.")
        changes = entry["changes"]
        if not isinstance(changes, list) or not all(
            isinstance(c, dict)
            and set(c) == set(CHANGE_FIELDS)
            and all(isinstance(c[f], str) and c[f] for f in CHANGE_FIELDS[:3])
            and c["change_kind"] in ("added", "removed", "changed")
            and all(c[f] is None or isinstance(c[f], str) for f in CHANGE_FIELDS[4:])
            for c in changes
        ):
            raise PipelineError(
                "releases",
                f"{where}: changes must be a list of {', '.join(CHANGE_FIELDS)} (the first three text, change_kind "
                "added, removed or changed, the values text or null).",
            )
        try:
            accepted_at = _utc(entry["accepted_at"])
        except (TypeError, ValueError):
            raise PipelineError("releases", f"{where}: accepted_at {entry['accepted_at']!r} is not a time.") from None
        if accepted_at > dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=5):
            raise PipelineError("releases", f"{where}: accepted_at {stamp(accepted_at)} is in the future.")
        keys = [tuple(c[f] for f in CHANGE_FIELDS[:3]) for c in changes]
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            table, key, column = twice
            raise PipelineError("releases", f"{where}: it records the value {table} [{key}] {column} twice.")
        acceptance = Acceptance(
            version=version,
            previous_version=entry["previous_version"],
            snapshot_sha256=entry["snapshot_sha256"],
            previous_snapshot_sha256=entry["previous_snapshot_sha256"],
            accepted_by=entry["accepted_by"],
            accepted_at=accepted_at,
            changes_sha256=entry["changes_sha256"],
            changes=tuple(changes),
        )
        a = acceptance
        bound_to = (version, a.previous_version, a.snapshot_sha256, a.previous_snapshot_sha256)
        own = digest(*bound_to, changes, a.accepted_by, stamp(accepted_at))
        if own != acceptance.changes_sha256:
            raise PipelineError(
                "releases",
                f"{where}: its changes_sha256 is not the digest of what it records ({own[:12]}...): the record "
                "was edited after the pipeline wrote it. Restore it (git checkout) and publish again.",
            )
        out.append(acceptance)
    return out


def new(release, previous, changes: list[dict], who: str) -> Acceptance:
    """An acceptance of `changes` of `release` (against `previous`) by `who`, now."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    return Acceptance(
        version=release.version,
        previous_version=previous.version,
        snapshot_sha256=release.snapshot_sha256,
        previous_snapshot_sha256=previous.snapshot_sha256,
        accepted_by=who,
        accepted_at=now,
        changes_sha256=bound(release, previous, changes, who, now),
        changes=tuple(dict(change) for change in changes),
    )


def bound(release, previous, changes, who: str, when: dt.datetime) -> str:
    """The digest an acceptance by `who` at `when` of exactly `changes` of `release` (against `previous`)
    carries."""
    return digest(
        release.version, previous.version, release.snapshot_sha256, previous.snapshot_sha256, changes, who, stamp(when)
    )


def stamp(when: dt.datetime) -> str:
    """A naive UTC time as the records write it."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def append(folder: Path, acceptance: Acceptance) -> Path:
    """Add an acceptance below the release's earlier ones (whose text stays byte for byte); returns the
    file."""
    import yaml

    from pipeline.common.files import write_atomically

    path = path_of(folder, acceptance.version)
    text = yaml.safe_dump([acceptance.entry()], allow_unicode=True, sort_keys=False, width=120)
    if path.is_file():
        body = path.read_text(encoding="utf-8")
        body = body if body.endswith("\n") else body + "\n"
    else:
        body = HEADER.format(version=acceptance.version, previous=acceptance.previous_version)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, (body + text).encode("utf-8"))
    return path


def _utc(value) -> dt.datetime:
    """A timestamp from YAML (a datetime, or ISO text) as a naive UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        raise TypeError(f"not a time: {value!r}")
    if value.tzinfo is not None:
        try:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:00:00-05:00
            raise ValueError(f"out of range: {value!r}") from None
    return value
