"""The published release on disk: the atomic swap of a staged release, and recovery from a swap that a
killed process left half done. Standard library only, so that every command (the download client
included) can run the recovery without the build stack."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path

from pipeline.common.errors import PipelineError
from pipeline.common.files import sha256_file, write_atomically
from pipeline.common.lock import flock_now

PROCESSED = "processed"
DESCRIPTOR = "datapackage.json"
DOCS = (
    "docs/data_dictionary.md",
    "docs/quality_report.md",
    "docs/parquet_views.sql",
    "docs/forensics.md",
    "docs/changes.md",
)
RELEASE_ITEMS = (PROCESSED, *DOCS, DESCRIPTOR)


def release_paths(package) -> list[str]:
    """Every file a release's descriptor lists (its resources' paths), from the package's metadata: each
    table as CSV and Parquet, the database, the documents."""
    tables = [f"{PROCESSED}/{r.name}.{suffix}" for r in package.resources for suffix in ("csv", "parquet")]
    return [*tables, f"{PROCESSED}/{package.meta['database']}", *DOCS]


def verify_staged(stage: Path) -> None:
    """The staged release must be exactly what its descriptor lists: every resource present with its
    bytes and sha256, every documentation item present, and nothing else in processed/."""
    try:
        descriptor = json.loads((stage / DESCRIPTOR).read_text(encoding="utf-8"))
        listed = {r["path"]: (r["bytes"], r["hash"].removeprefix("sha256:")) for r in descriptor["resources"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise PipelineError(
            "publish", f"the staged descriptor cannot be read ({error}); nothing was published."
        ) from None
    problems = []
    for relative, (size, sha256) in sorted(listed.items()):
        path = stage / relative
        if not path.is_file():
            problems.append(f"{relative} is missing")
        elif path.stat().st_size != size or sha256_file(path) != sha256:
            problems.append(
                f"{relative} has {path.stat().st_size:,} bytes and another sha256 than the {size:,} bytes listed"
            )
    extra = sorted(
        str(p.relative_to(stage)) for p in (stage / PROCESSED).rglob("*") if str(p.relative_to(stage)) not in listed
    )
    problems += [f"{relative} is not listed" for relative in extra]
    problems += [f"{item} is missing" for item in RELEASE_ITEMS if not (stage / item).exists()]
    if problems:
        raise PipelineError(
            "publish",
            "the staged release does not match its own descriptor ("
            + "; ".join(problems[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            + "); nothing was published.",
        )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def swap_in(stage: Path, root: Path) -> None:
    """Replace the release (processed/, docs/*, datapackage.json) with the staged one. The caller holds
    the build lock. The staged release is verified against its own descriptor first.

    A journal in build/ is written first; each current item is moved aside to build/previous/ and the
    staged one moved in; the journal is removed last (the commit point). A process killed in between
    leaves the journal, and the next command puts the previous release back whole. An error while
    swapping (a full disk, a read-only folder) rolls back at once and is reported.
    """
    verify_staged(stage)
    build = root / "build"
    journal = build / "swap-journal.json"
    previous = build / "previous"
    try:
        if previous.exists():
            shutil.rmtree(previous)
        previous.mkdir(parents=True)
        existed = {item: (root / item).exists() for item in RELEASE_ITEMS}
        write_atomically(journal, json.dumps({"state": "swapping", "existed": existed}).encode())
    except OSError as error:
        with contextlib.suppress(OSError):
            journal.unlink()
        raise PipelineError(
            "publish",
            f"could not prepare the swap in {build}: {_os_reason(error)}; the published release is unchanged.",
        ) from None
    try:
        for item in RELEASE_ITEMS:
            target, aside = root / item, previous / item
            aside.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                os.replace(target, aside)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / item, target)
    except OSError as error:
        reason = _os_reason(error)
        try:
            _roll_back(root, build, journal, existed)
        except OSError as again:
            raise PipelineError(
                "publish",
                f"the swap failed ({reason}) and so did the roll-back "
                f"({_os_reason(again)}); the journal {journal} stays, and the next command "
                "will try again to put the previous release back.",
            ) from None
        raise PipelineError(
            "publish", f"could not swap the new release in: {reason}; the previous release is back in place, unchanged."
        ) from None
    journal.unlink()  # the commit point: from here on the new release stands
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def _os_reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def recover(root: Path) -> bool:
    """Finish a swap that a killed process left half done; returns True if there was one. Run at the
    start of every command; a swap that a live process holds the lock for is left alone."""

    journal = root / "build" / "swap-journal.json"
    if not journal.exists():
        return False
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not flock_now(fd, fcntl.LOCK_EX):
            return False
        return recover_locked(root)
    finally:
        os.close(fd)


def recover_locked(root: Path) -> bool:
    """`recover` for a caller that already holds the build lock. If every staged item is already in
    place the swap is completed (rolled forward), otherwise it is rolled back."""
    build = root / "build"
    journal = build / "swap-journal.json"
    if not journal.exists() and not journal.is_symlink():
        return False
    if not journal.is_file() or journal.stat().st_size > 65536:
        raise PipelineError(
            "publish",
            f"{journal} is damaged (not a small regular file); restore the release with `git checkout -- processed "
            "docs datapackage.json` and delete the journal.",
        )
    if not any((build / "staging" / item).exists() for item in RELEASE_ITEMS):
        journal.unlink()  # everything was moved in: the new release stands whole
        shutil.rmtree(build / "previous", ignore_errors=True)
        shutil.rmtree(build / "staging", ignore_errors=True)
        return True
    try:
        existed = json.loads(journal.read_text(encoding="utf-8"))["existed"]
        if not isinstance(existed, dict):
            raise TypeError("existed is not an object")
    except (ValueError, KeyError, TypeError) as error:
        raise PipelineError(
            "publish",
            f"{journal} is damaged ({error}); restore the release with `git checkout "
            "-- processed docs datapackage.json` and delete the journal.",
        ) from None
    _roll_back(root, build, journal, existed)
    return True


def _roll_back(root: Path, build: Path, journal: Path, existed: dict) -> None:
    previous = build / "previous"
    for item in RELEASE_ITEMS:
        target, aside = root / item, previous / item
        if aside.exists():  # moved aside: whatever stands in its place is the new one
            _remove(target)
            os.replace(aside, target)
        elif not existed.get(item, True) and target.exists():  # it did not exist before this swap
            _remove(target)
    journal.unlink()
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(build / "staging", ignore_errors=True)
