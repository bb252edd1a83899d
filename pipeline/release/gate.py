"""The release decision, in one place: may this snapshot be published, and with which changes?

`decide` answers from the committed history alone (releases/releases.yaml, the snapshots in raw/ it
names, the acceptances in releases/changes/), never from a published file:

1. The release list is valid (pipeline/release/history.py) and its newest release is built from the
   snapshot raw/ holds as current: another snapshot is another release, entered in the list first.
2. For every release after the first, its changes are recomputed from its snapshot and its
   predecessor's, with this code: every value of the article's tables that differs (pipeline/release/
   changes.py). Two releases of the same snapshot change nothing.
3. A release with changes needs an acceptance whose digest is the digest of exactly those changes,
   that release, its predecessor and both snapshots (pipeline/release/records.py): the last acceptance in
   releases/changes/VERSION.yaml. A record for a release the list does not have, or a record edited after
   it was written, stops the build; so does a last acceptance that differs from the recomputed changes,
   naming the rows, before anything is built (unless rule 4 accepts them anew).
4. `--accept-changes WHO` appends an acceptance of the recomputed changes to each release whose last
   acceptance does not equal them (none yet, or one that differs), once the new snapshot has passed every
   check; without it, a release with changes not accepted is not published (`Verdict.require`).

5. The tables the schemas publish equal the newest release's (pipeline/release/structure.py): recorded
   for it, or else its predecessor's and accepted with --accept-changes like values.

The tables releases and release_changes are the answer's: the recorded acceptances, which equal the
recomputed changes."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import PipelineError
from pipeline.common.files import write_atomically
from pipeline.release import changes as diffs
from pipeline.release import history, records
from pipeline.release import structure as structures
from pipeline.release.history import Release
from pipeline.release.records import Acceptance

UNACCEPTED = Path("build") / "changes" / "unaccepted.csv"


@dataclass
class Pending:
    """A release whose recomputed changes no recorded acceptance equals."""

    release: Release
    previous: Release
    changes: list[dict]
    recorded: Acceptance | None

    def binding(self) -> str:
        """What the last acceptance was made for that this release is not (its rows being the same)."""
        accepted, release, previous = self.recorded, self.release, self.previous
        for name, theirs, ours in (
            ("previous_version", accepted.previous_version, previous.version),
            ("snapshot_sha256", accepted.snapshot_sha256, release.snapshot_sha256),
            ("previous_snapshot_sha256", accepted.previous_snapshot_sha256, previous.snapshot_sha256),
        ):
            if theirs != ours:
                return f"it was accepted for {name} {theirs}, but the release's is {ours}"
        return "its digest is not bound to this release"

    def differing(self) -> tuple[list[dict], list[dict]]:
        """(computed but not in the last acceptance, in the last acceptance but not computed)."""
        key = _row_key
        computed = {key(c): c for c in self.changes}
        accepted = {key(c): c for c in (self.recorded.changes if self.recorded else ())}
        return (
            [c for k, c in computed.items() if k not in accepted],
            [c for k, c in accepted.items() if k not in computed],
        )


@dataclass
class Verdict:
    """The answer: the release tables to publish, and what is still to be accepted (or is accepted by
    this run, to be recorded once the release is staged)."""

    folder: Path
    releases: list[Release]
    tables: dict[str, list[dict]]
    pending: list[Pending] = field(default_factory=list)
    accepted_now: list[Acceptance] = field(default_factory=list)
    compared: dict[str, list[dict]] = field(default_factory=dict)
    structure_pending: list[dict] | None = None  # the newest release's tables, not recorded yet (None: recorded)
    structure_now: structures.Structure | None = None  # the newest release's structure, accepted by this run

    @property
    def published_tables(self) -> dict[str, list[dict]]:
        """Every table to publish: the snapshot's tables as compared, with the release tables."""
        return self.compared | self.tables

    @property
    def may_publish(self) -> bool:
        """The answer: every release's changes are accepted (recorded, or by this run)."""
        pending = bool(self.pending) or self.structure_pending is not None
        return not pending or bool(self.accepted_now) or self.structure_now is not None

    @property
    def conflicting(self) -> bool:
        """A recorded acceptance differs from the recomputed changes (and this run accepts nothing)."""
        return not self.may_publish and any(item.recorded is not None for item in self.pending)

    def require(self, root: Path) -> None:
        """Stop unless the release may be published: print every release's changes not accepted, list them
        all in build/changes/unaccepted.csv and raise, naming the rows that differ from a record."""
        if self.may_publish:
            return
        if self.structure_pending is not None:
            error = structures.not_recorded(self.folder, self.releases[0].version, self.structure_pending)
            if not self.pending:  # only the tables
                raise error
            print(error.message.split(", so nothing")[0] + ".", file=sys.stderr)  # also to be accepted
        rows = []
        for item in self.pending:
            new, gone = item.differing()
            rows += [{"version": item.release.version, "difference": "not accepted", **c} for c in new]
            rows += [{"version": item.release.version, "difference": "accepted, not computed", **c} for c in gone]
            against = f"release {item.previous.version}"
            print(
                f"Release {item.release.version} changes {diffs.values_phrase(len(item.changes))} of {against}:",
                file=sys.stderr,
            )
            print(diffs.summary(item.changes), file=sys.stderr)
        listing = diffs.write_csv(rows, root / UNACCEPTED, ("version", "difference", *diffs.FIELDS))
        first = self.pending[0]
        new, gone = first.differing()
        if first.recorded is None:
            what = f"{diffs.values_phrase(len(new), 'changed ')} of release {first.release.version} "
            what += f"{'is' if len(new) == 1 else 'are'} not accepted yet"
        else:
            what = (
                f"the acceptance of release {first.release.version} "
                f"({records.path_of(self.folder, first.release.version)}) differs from its changes recomputed "
                f"from the snapshots: "
            )
            what += (
                "; ".join(
                    filter(
                        None,
                        [
                            _rows_phrase(new, "computed but not accepted"),
                            _rows_phrase(gone, "accepted but not computed"),
                        ],
                    )
                )
                or first.binding()
            )
        others = len(self.pending) - 1
        if others:
            what += f" (and the changes of {others} other release{'s' if others > 1 else ''})"
        raise PipelineError(
            "publish",
            f"{what}, so nothing "
            f"was published. Every row is in {listing}: review them, then publish with --accept-changes "
            f"'Your Name' (appended to {records.path_of(self.folder, first.release.version)}).",
        )

    @contextlib.contextmanager
    def recorded(self):
        """Write the acceptances made by this run (each appended below its release's earlier ones) for the
        block (the swap); if it fails, put every record file back as it was."""
        earlier: dict[Path, bytes | None] = {}
        made = [d for d in (self.folder / "changes", self.folder / "structure") if not d.exists()]
        try:
            if self.structure_now is not None:
                path = structures.path_of(self.folder, self.structure_now.version)
                earlier.setdefault(path, path.read_bytes() if path.is_file() else None)
                structures.record(self.folder, self.structure_now, self.structure_pending)
            for acceptance in self.accepted_now:
                path = records.path_of(self.folder, acceptance.version)
                earlier.setdefault(path, path.read_bytes() if path.is_file() else None)
                records.append(self.folder, acceptance)
                print(
                    f"Accepted {diffs.values_phrase(len(acceptance.changes), 'changed ')} of release "
                    f"{acceptance.version} ({path}):",
                    file=sys.stderr,
                )
                print(diffs.summary(list(acceptance.changes)), file=sys.stderr)
            yield
        except BaseException:
            for path, body in earlier.items():
                with contextlib.suppress(OSError):
                    if body is None:
                        path.unlink(missing_ok=True)
                    else:
                        write_atomically(path, body)
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise


@dataclass
class History:
    """The committed history, read and checked: the release list, its folder, and each release's
    recorded acceptances."""

    releases: list[Release]
    folder: Path
    recorded: dict[str, list[Acceptance]]
    structures: dict[str, structures.Structure | None] = field(default_factory=dict)


def read_history(root: Path, snapshot) -> History:
    """Everything the verdict needs but the tables, checked before anything is built (a wrong snapshot, a
    damaged list or record fails in a fraction of a second): the release list, the package's version, the
    newest release's snapshot against the current one, and every record's form and own digest."""
    releases = history.load(root)
    newest = releases[0]
    history.check_version(root, newest)
    sha = snapshot.entry["sha256"]
    if sha != newest.snapshot_sha256:
        raise PipelineError("publish", history.not_newest(releases, sha))
    folder = history.folder(root)
    _no_stray_records(folder, releases)
    recorded = {release.version: records.read(folder, release.version) for release in releases}
    first = releases[-1].version
    if recorded[first]:
        raise PipelineError(
            "releases",
            f"{records.path_of(folder, first).name} records an acceptance for {first}, the first release: it has no "
            "predecessor, so nothing to accept.",
        )
    return History(releases, folder, recorded, {r.version: structures.read(folder, r.version) for r in releases})


def decide(
    root: Path,
    snapshot,
    tables,
    *,
    accept_by: str | None = None,
    package=None,
    read: History | None = None,
):
    """The one question: may `snapshot` (the current one) be published in `root`, and with which changes?
    The committed history is read and checked first (`read`: as read_history read it), then `tables` (the
    snapshot's tables, or a function that builds them) are compared. A recorded acceptance that differs
    from the recomputed changes stops here, before anything is staged; changes not accepted yet are in the
    answer (`Verdict.may_publish`, `Verdict.require`), for publish to stop on once the new snapshot has
    passed every check."""
    from pipeline import metadata

    read = read or read_history(root, snapshot)
    tables = tables() if callable(tables) else tables
    package = package or metadata.load()
    releases, folder = read.releases, read.folder
    values = _Values(root, package, {snapshot.entry["sha256"]: tables})
    accepted: dict[str, Acceptance | None] = {}
    verdict = Verdict(folder=folder, releases=releases, tables={}, compared=tables)
    current = structures.of_package(package)
    verdict.structure_pending = structures.compare(releases, read.structures, current, folder)
    for release, previous in zip(releases[:-1], releases[1:], strict=True):
        recorded = read.recorded[release.version]
        same = release.snapshot_sha256 == previous.snapshot_sha256
        changes = [] if same else diffs.diff(values.of(previous), values.of(release), package)
        last = recorded[-1] if recorded else None
        if last is not None and last.changes_sha256 == records.bound(
            release, previous, changes, last.accepted_by, last.accepted_at
        ):
            accepted[release.version] = last
        elif not changes and last is None:
            accepted[release.version] = None  # nothing changed: nothing to accept
        else:
            verdict.pending.append(Pending(release, previous, changes, last))
    pending = verdict.pending or verdict.structure_pending is not None
    if accept_by and pending and folder == history.RELEASES and root.resolve() != history.ROOT.resolve():
        raise PipelineError(
            "publish",
            f"{root} has no releases/releases.yaml of its own: it builds the repository's releases, whose "
            "acceptances are recorded in the repository. Accept them there (without --root), or give the folder "
            "its own releases/releases.yaml; nothing was recorded or published.",
        )
    if accept_by:
        for item in verdict.pending:
            acceptance = records.new(item.release, item.previous, item.changes, accept_by)
            verdict.accepted_now.append(acceptance)
            accepted[item.release.version] = acceptance
    if accept_by and verdict.structure_pending is not None:
        verdict.structure_now = structures.new(releases[0].version, current, accept_by)
    verdict.tables = _tables(releases, accepted, read.structures, verdict.structure_now)
    if verdict.conflicting:
        verdict.require(root)
    return verdict


def recorded_tables(root: Path) -> dict[str, list[dict]]:
    """The tables releases and release_changes as recorded (the list and the last acceptance of each
    release, each checked for its form and own digest, not recomputed): for the commands that look at a
    snapshot without publishing it (extract, validate, fetch)."""
    releases = history.load(root)
    folder = history.folder(root)
    return _tables(
        releases,
        {r.version: (records.read(folder, r.version) or [None])[-1] for r in releases},
        {r.version: structures.read(folder, r.version) for r in releases},
    )


def changes_of(root: Path, tables: dict[str, list[dict]], package=None) -> list[dict]:
    """What the tables of a snapshot would change against the newest release's snapshot (for `fetch`)."""
    from pipeline import metadata

    package = package or metadata.load()
    newest = history.load(root)[0]
    return diffs.diff(_Values(root, package, {}).of(newest), diffs.values(tables, package), package)


class _Values:
    """The compared values of each release's snapshot, extracted once per snapshot (`tables`: the tables
    already built, by snapshot)."""

    def __init__(self, root: Path, package, tables: dict[str, dict]):
        self.root, self.package, self.tables, self.known = root, package, tables, {}

    def of(self, release: Release):
        sha = release.snapshot_sha256
        if sha not in self.known and sha in self.tables:
            self.known[sha] = diffs.values(self.tables[sha], self.package)
        if sha not in self.known:
            from pipeline import derive
            from pipeline.raw.snapshot import snapshot_with

            snapshot = snapshot_with(sha, self.root / "raw" / "manifest.json")
            try:
                tables = derive.snapshot_tables(snapshot, earlier=True)
            except PipelineError as error:
                raise PipelineError(
                    "releases",
                    f"the snapshot of release {release.version} (raw/{snapshot.path.name}) no longer extracts with "
                    f"this code, so the changes of the releases cannot be recomputed: {error.describe()}",
                ) from None
            self.known[sha] = diffs.values(tables, self.package)
        return self.known[sha]


def _tables(
    releases: list[Release], accepted: dict[str, Acceptance | None], recorded: dict, now=None
) -> dict[str, list[dict]]:
    release_rows, change_rows = [], []
    for release in releases:
        acceptance = accepted.get(release.version)
        rows = [
            {
                "version": release.version,
                **change,
                "snapshot_sha256": acceptance.snapshot_sha256,
                "accepted_by": acceptance.accepted_by,
                "accepted_at": acceptance.accepted_at,
            }
            for change in (acceptance.changes if acceptance else ())
        ]
        change_rows += sorted(rows, key=lambda r: (r["table_name"], r["record_key"], r["column_name"]))
        release_rows.append(
            {
                "version": release.version,
                "release_date": release.release_date,
                "previous_version": release.previous_version,
                "snapshot_sha256": release.snapshot_sha256,
                "code_notes": release.code_notes,
                "data_notes": release.data_notes,
                "changed_values_count": len(rows),
            }
        )
    return {
        "releases": release_rows,
        "release_changes": change_rows,
        "release_structure_changes": structures.rows(releases, recorded, now),
    }


def _no_stray_records(folder: Path, releases: list[Release]) -> None:
    listed = {r.version for r in releases}
    stray = [f"changes/{v}.yaml" for v in records.recorded_versions(folder) if v not in listed]
    stray += [f"structure/{p.name}" for p in sorted((folder / "structure").glob("*.yaml")) if p.stem not in listed]
    if stray:
        raise PipelineError(
            "releases",
            f"releases/{stray[0]} is a record of release {stray[0].split('/')[1][:-5]}, which "
            "releases/releases.yaml does not list; nothing was published.",
        )


def _row_key(change: dict) -> tuple:
    return tuple(change[f] for f in diffs.FIELDS)


def _rows_phrase(rows: list[dict], label: str) -> str:
    if not rows:
        return ""
    shown = "; ".join(
        f"{c['table_name']} [{c['record_key']}] {c['column_name']}: {c['old_value']!r} -> {c['new_value']!r}"
        for c in rows[:3]
    )
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return f"{label}: {shown}{more}"
