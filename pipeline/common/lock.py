"""The build lock: one build of a folder at a time.

Standard library only, so that every command (the download client included) can take it without the
build stack. `build_lock` takes an exclusive flock on the root folder itself for the whole run (staging,
checks and swap), so a second publish waits for the first and says so. Readers of the release (`check`)
take a shared lock. The kernel drops a lock when its process dies, so a killed build never leaves a
stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

from pipeline.common.defaults import LOCK_WAIT
from pipeline.common.errors import PipelineError

HOLDER = Path("build") / "lock-holder"  # who holds the lock, for the message of the one that waits


def flock_now(fd: int, mode: int, stage: str = "publish", root: Path | None = None) -> bool:
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
            while not flock_now(fd, mode, stage, root):
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
        (root / HOLDER).unlink(missing_ok=True)  # whatever stood there (a FIFO would block the write)
        (root / HOLDER).write_text(
            json.dumps({"stage": stage, "pid": os.getpid(), "since": time.strftime("%H:%M:%S")}), encoding="utf-8"
        )


def _read_holder(root: Path) -> str:
    """Who holds the lock, if build/lock-holder names a live process."""
    try:
        if not (root / HOLDER).is_file() or (root / HOLDER).stat().st_size > 4096:
            return ""
        holder = json.loads((root / HOLDER).read_text(encoding="utf-8"))
        os.kill(int(holder["pid"]), 0)  # raises if that process is gone
        return f"{holder['stage']}, process {holder['pid']}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
