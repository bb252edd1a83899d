"""The release list (releases/releases.yaml), reviewed with the code: every data release, newest first,
with its version, date, predecessor and the snapshot of raw/ it is built from. Read and checked in full
at every build: the form of each entry, the order of the versions, and that each names a snapshot that
raw/manifest.json keeps."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import PipelineError

RELEASES = ROOT / "releases"
FIELDS = ("version", "release_date", "previous_version", "snapshot_sha256", "code_notes", "data_notes")
_VERSION = re.compile(r"([0-9]{4})\.([0-9]{2})\.([0-9]{2})(?:\.([1-9][0-9]{0,3}))?")
SHA256 = re.compile(r"[0-9a-f]{64}")
# "After the day of the build" is judged against the latest calendar date anywhere on Earth (UTC+14), so
# that a maintainer east of Greenwich is never told that today is in the future; and a snapshot is
# "retrieved by" a release date if it was retrieved by the end of that day in the westernmost zone (UTC-12).
_EASTMOST, _WESTMOST = dt.timedelta(hours=14), dt.timedelta(hours=12)


@dataclass(frozen=True)
class Release:
    """One entry of the release list."""

    version: str
    release_date: dt.date
    previous_version: str | None
    snapshot_sha256: str
    code_notes: str
    data_notes: str

    @property
    def order(self) -> tuple[int, int, int, int]:
        """The version as numbers (year, month, day, N), for comparing versions."""
        return version_order(self.version)


def version() -> str:
    """The package's version, from pyproject.toml (fast: for --version); a damaged pyproject.toml (a merge
    conflict) is a PipelineError."""
    try:
        with (ROOT / "pyproject.toml").open("rb") as file:
            found = tomllib.load(file)["project"]["version"]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise PipelineError("releases", f"cannot read the version in {ROOT / 'pyproject.toml'}: {error}.") from None
    if not isinstance(found, str):
        raise PipelineError("releases", f"{ROOT / 'pyproject.toml'} gives the version {found!r}, not text.")
    return found


def version_order(text: str) -> tuple[int, int, int, int]:
    """(year, month, day, N) of a CalVer version YYYY.MM.DD[.N] whose date is a real day; a ValueError
    otherwise."""
    match = _VERSION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a version YYYY.MM.DD or YYYY.MM.DD.N (quoted in YAML)")
    year, month, day, suffix = match.groups()
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError as error:  # 2026.13.45
        raise ValueError(f"{text!r} is not a version YYYY.MM.DD whose date is a real day ({error})") from None
    return int(year), int(month), int(day), int(suffix or 0)


def folder(root: Path) -> Path:
    """The releases/ folder that answers for a root: its own (tests, forks), else the repository's."""
    own = root / "releases" / "releases.yaml"
    return own.parent if own.exists() or own.is_symlink() else RELEASES


def load(root: Path = ROOT, *, today: dt.date | None = None) -> list[Release]:
    """The releases, newest first, each checked: its version a CalVer date that is a real day and equal
    to its release date, versions strictly decreasing down the list, each previous_version the entry
    below it, no release dated after today (anywhere on Earth), notes given, and each snapshot one that
    raw/manifest.json lists and that was retrieved by the release date."""
    from pipeline.common.yamlfile import read_reviewed
    from pipeline.raw.snapshot import load_manifest

    path = folder(root) / "releases.yaml"
    entries = read_reviewed(path, FIELDS, "release", "releases")
    if not entries:
        raise PipelineError("releases", f"{path} lists no release.")
    today = today or (dt.datetime.now(dt.UTC) + _EASTMOST).date()
    manifest = load_manifest(root / "raw" / "manifest.json")
    snapshots = _snapshot_entries(manifest)
    where = [f"{path.name}, release #{n + 1} ({entry['version']!r})" for n, entry in enumerate(entries)]
    out = [_release(entry, place) for entry, place in zip(entries, where, strict=True)]
    for number, release in enumerate(out):  # the list as a whole: order and predecessors
        below = out[number + 1] if number + 1 < len(out) else None
        if release.release_date > today:
            raise PipelineError(
                "releases", f"{where[number]}: it is dated {release.release_date}, after today ({today})."
            )
        if below is not None and not below.order < release.order:
            raise PipelineError(
                "releases",
                f"{where[number]}: versions must increase from each release to the next (newest first), but "
                f"{below.version} is listed below {release.version}.",
            )
        if release.previous_version != (below and below.version):
            raise PipelineError(
                "releases",
                f"{where[number]}: previous_version is {release.previous_version!r}, but the release below it "
                f"(newest first) is {below and below.version!r}.",
            )
    for number, release in enumerate(out):  # each release's snapshot
        snapshot = snapshots.get(release.snapshot_sha256)
        if snapshot is None:
            raise PipelineError(
                "releases",
                f"{where[number]}: snapshot_sha256 {release.snapshot_sha256} is no snapshot in raw/manifest.json; "
                "every released snapshot stays in raw/ (the changes of each release are recomputed from them).",
            )
        retrieved = _retrieved_on(snapshot)
        if retrieved is None:
            raise PipelineError(
                "releases",
                f"{where[number]}: the manifest entry of its snapshot {snapshot['path']} gives no retrieval date "
                "(retrieved_at: a time, a day or a month; or retrieved_between: [first day, last day]).",
            )
        if retrieved > release.release_date:
            shown = snapshot.get("retrieved_between") or snapshot.get("retrieved_at")
            raise PipelineError(
                "releases",
                f"{where[number]}: its snapshot {snapshot['path']} was retrieved {shown} (raw/manifest.json), after "
                f"the release date {release.release_date} in every time zone.",
            )
    return out


def _release(entry: dict, where: str) -> Release:
    try:
        order = version_order(entry["version"])
    except ValueError as error:
        raise PipelineError("releases", f"{where}: version {error}.") from None
    date = entry["release_date"]
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise PipelineError("releases", f"{where}: release_date {date!r} is not a date (YYYY-MM-DD, unquoted).")
    if order[:3] != (date.year, date.month, date.day):
        raise PipelineError(
            "releases", f"{where}: the version {entry['version']} is not its release date {date} (CalVer)."
        )
    previous = entry["previous_version"]
    if previous is not None and not isinstance(previous, str):
        raise PipelineError("releases", f"{where}: previous_version {previous!r} is not a version (quoted) or null.")
    sha = entry["snapshot_sha256"]
    if not (isinstance(sha, str) and SHA256.fullmatch(sha)):
        raise PipelineError("releases", f"{where}: snapshot_sha256 must be the snapshot's sha256 (64 hex digits).")
    if not all(isinstance(entry[key], str) and entry[key].strip() for key in ("code_notes", "data_notes")):
        raise PipelineError("releases", f"{where}: code_notes and data_notes must be text.")
    return Release(
        version=entry["version"],
        release_date=date,
        previous_version=previous,
        snapshot_sha256=sha,
        code_notes=" ".join(entry["code_notes"].split()),
        data_notes=" ".join(entry["data_notes"].split()),
    )


def _snapshot_entries(manifest) -> dict[str, dict]:
    """The manifest's snapshot entries by sha256."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("snapshots"), list):
        raise PipelineError("raw", "raw/manifest.json should be an object with a 'snapshots' list.")
    return {
        entry["sha256"]: entry
        for entry in manifest["snapshots"]
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and isinstance(entry.get("path"), str)
    }


def _retrieved_on(entry: dict) -> dt.date | None:
    """The earliest day, in any time zone, on which a snapshot may have been retrieved (None where the
    manifest does not say): the first day of `retrieved_between`, else of `retrieved_at` (a time, a
    day or a month)."""
    between = entry.get("retrieved_between")
    if between is not None and not (isinstance(between, list) and len(between) == 2):
        return None
    text = between[0] if between else entry.get("retrieved_at")
    if not isinstance(text, str):
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):  # a month
            return dt.date.fromisoformat(text + "-01")
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return dt.date.fromisoformat(text)
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?", text):
            return None
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        return (moment.astimezone(dt.UTC) - _WESTMOST).date()
    except OverflowError:  # 0001-01-01T05:00:00Z
        return None


def check_version(root: Path, newest: Release) -> None:
    """The newest release of the repository's list is the package's version (pyproject.toml); a folder
    with its own releases/releases.yaml (tests, forks) answers for itself."""
    if folder(root) == RELEASES and newest.version != version():
        raise PipelineError(
            "releases",
            f"the newest release in releases/releases.yaml is {newest.version}, but pyproject.toml says "
            f"{version()}: one version everywhere (pyproject.toml, releases/releases.yaml, CITATION.cff).",
        )


def not_newest(releases: list[Release], sha: str) -> str:
    """Why a current snapshot that is not the newest release's is refused."""
    newest = releases[0]
    named = next((r for r in releases if r.snapshot_sha256 == sha), None)
    if named is not None:
        return (
            f"raw/manifest.json names as current the snapshot of release {named.version} ({sha[:12]}), but the "
            f"newest release, {newest.version}, is built from {newest.snapshot_sha256[:12]}: a published release "
            "is never rebuilt from another snapshot. Set 'current' back to the newest release's snapshot; nothing "
            "was published."
        )
    return (
        f"raw/ holds as current the snapshot {sha[:12]}, which no release in releases/releases.yaml names: a new "
        f"snapshot is a new release. Add it to releases/releases.yaml (version: the release date, previous_version: "
        f"{newest.version!r}, snapshot_sha256: {sha!r}) and to pyproject.toml and CITATION.cff, then publish to "
        "review its changes; nothing was published."
    )
