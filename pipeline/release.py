"""The published release on disk: the build lock, the atomic swap of a staged release, and recovery.

Standard library only, so that every command (the download client included) can run the crash recovery
without the build stack.

One build at a time: `build_lock` takes an exclusive flock on the root folder itself for the whole run
(staging, checks and swap), so a second publish waits for the first and says so. Readers of the release
(`check`) take a shared lock. The kernel drops a lock when its process dies, so a killed build never
leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from pathlib import Path

from pipeline.defaults import LOCK_WAIT
from pipeline.errors import PipelineError
from pipeline.files import sha256_file, write_atomically

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
HOLDER = Path("build") / "lock-holder"  # who holds the lock, for the message of the one that waits


def _flock(fd: int, mode: int, stage: str = "publish", root: Path | None = None) -> bool:
    """Take the lock without waiting: False if another process holds it."""

    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as error:  # e.g. a network file system that cannot lock a folder
        raise PipelineError(
            stage,
            f"cannot lock the folder {root}: {error.strerror}.",
            hint="Build and download on a local file system.",
        ) from None


@contextlib.contextmanager
def build_lock(
    root: Path,
    stage: str,
    *,
    shared: bool = False,
    wait: float = LOCK_WAIT,
    log=None,
    what: str = "build of",
    holder: bool = True,
    create: bool = False,
):
    """Hold the lock on the folder `root` (exclusive, or shared for readers). If another process holds
    it, say so once on `log` (stderr) and wait up to `wait` seconds, then fail with a PipelineError.
    `what` names the other process in the messages; with `holder`, build/lock-holder says who holds it.
    With `create`, a missing `root` (and its parents) is created, also when another process removed it
    while this one waited; the context yields the folders this call created (outermost first)."""

    log = log if log is not None else sys.stderr
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    ends = time.monotonic() + wait
    announced = False
    created: list[Path] = []
    while True:
        if create:
            created += _create_folder(root, stage)
        fd = _open_folder(root, stage)
        try:
            while not _flock(fd, mode, stage, root):
                if not announced:
                    who = _read_holder(root) if holder else ""
                    print(
                        f"{stage}: another {what} {root} is running{f' ({who})' if who else ''}; waiting for "
                        f"it to finish (at most {wait:g} s)...",
                        file=log,
                        flush=True,
                    )
                    announced = True
                if time.monotonic() >= ends:
                    raise PipelineError(
                        stage,
                        f"another {what} {root} still holds its lock after {wait:g} s; nothing was changed.",
                        hint="Wait for it to finish, or stop it, and run the command again.",
                    )
                time.sleep(0.05)
            if not _same_folder(fd, root):  # removed or replaced while we waited: lock the new one
                continue
            if announced:
                print(f"{stage}: the lock is free again; going on.", file=log, flush=True)
            writes_holder = holder and not shared
            if writes_holder:
                _write_holder(root, stage)
            try:
                yield [folder for folder in created if folder.exists()]
            finally:
                if writes_holder:
                    with contextlib.suppress(OSError):
                        (root / HOLDER).unlink()
            return
        finally:
            os.close(fd)  # releases the lock


def _create_folder(root: Path, stage: str) -> list[Path]:
    if root.exists() and not root.is_dir():
        raise PipelineError(stage, f"{root} exists and is not a folder.")
    missing = [folder for folder in [*reversed(root.parents), root] if not folder.exists()]
    for folder in missing:
        try:
            folder.mkdir()
        except FileExistsError:
            pass
        except OSError as error:
            raise PipelineError(stage, f"cannot create the folder {folder}: {error.strerror}.") from None
    return missing


def _open_folder(root: Path, stage: str) -> int:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        raise PipelineError(stage, f"the folder {root} does not exist.") from None
    except NotADirectoryError:
        raise PipelineError(stage, f"{root} is not a folder.") from None


def _same_folder(fd: int, root: Path) -> bool:
    try:
        now, locked = os.stat(root), os.fstat(fd)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (locked.st_dev, locked.st_ino)


def _write_holder(root: Path, stage: str) -> None:
    with contextlib.suppress(OSError):
        (root / HOLDER).parent.mkdir(exist_ok=True)
        (root / HOLDER).write_text(
            json.dumps({"stage": stage, "pid": os.getpid(), "since": time.strftime("%H:%M:%S")}), encoding="utf-8"
        )


def _read_holder(root: Path) -> str:
    """Who holds the lock, if build/lock-holder names a live process."""
    try:
        holder = json.loads((root / HOLDER).read_text(encoding="utf-8"))
        os.kill(int(holder["pid"]), 0)  # raises if that process is gone
        return f"{holder['stage']}, process {holder['pid']}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


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
        if not _flock(fd, fcntl.LOCK_EX):
            return False
        return recover_locked(root)
    finally:
        os.close(fd)


def recover_locked(root: Path) -> bool:
    """`recover` for a caller that already holds the build lock. If every staged item is already in
    place the swap is completed (rolled forward), otherwise it is rolled back."""
    build = root / "build"
    journal = build / "swap-journal.json"
    if not journal.exists():
        return False
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
