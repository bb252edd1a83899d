"""Download the published files (datapackage.json and every file it lists) from a base URL.

Needs only requests (and this package's standard-library modules): a user who downloads the data does
not need the build stack.

The descriptor is treated as hostile until checked: every resource must have a plain relative path
(no URL, no `..` or `.`, no hidden or over-long names, no NUL), a sha256 and a whole number of bytes; no
path may appear twice, differ from another only in case, or be both a file and a folder; none may
replace a folder in the target or pass through a file there. Each file is read no further than its
declared bytes and checked against its sha256. Everything is downloaded into a fresh staging folder
inside the target, and moved into place only when every file is verified (a failure while moving puts
the previous files back), so a failure leaves the target as it was. Files already present with the
right hash are not downloaded again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pipeline.common.defaults import DOWNLOAD_DEADLINE, LOCK_WAIT, MAX_DESCRIPTOR_BYTES, Limits
from pipeline.common.errors import PipelineError
from pipeline.common.files import sha256_file
from pipeline.common.lock import build_lock
from pipeline.net.client import Client

STAGING_PREFIX = ".download-staging"
DESCRIPTOR = "datapackage.json"
MAX_RESOURCES = 10_000
MAX_PATH_CHARACTERS = 1024
MAX_NAME_BYTES = 255  # the longest file name most file systems accept
MAX_FILE_BYTES = 64 * 2**30
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Listed:
    """A file a descriptor lists: its relative path, sha256 and size."""

    path: str
    sha256: str
    bytes: int


def _fail(message: str) -> PipelineError:
    return PipelineError("download", message)


def parse_descriptor(body: bytes, url: str) -> list[Listed]:
    """The files a descriptor lists, after every check; a PipelineError names the first problem."""

    def no_constants(name: str):
        raise ValueError(f"{name} is not a JSON number")

    try:
        data = json.loads(body.decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _fail(f"{url} is not a JSON descriptor ({_short(error)}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise _fail(f"{url} is not a data package descriptor: it has no 'resources' list.")
    resources = data["resources"]
    if not resources:
        raise _fail(f"{url} lists no files ('resources' is empty); nothing to download.")
    if len(resources) > MAX_RESOURCES:
        raise _fail(f"{url} lists {len(resources):,} resources, more than the {MAX_RESOURCES:,} accepted.")
    listed: list[Listed] = []
    for number, resource in enumerate(resources, start=1):
        if not isinstance(resource, dict):
            raise _fail(f"resource {number} of {url} is not an object.")
        name = resource.get("name")
        which = f"resource {number}" + (f" ({name!r})" if isinstance(name, str) and name.isprintable() else "")
        path = resource.get("path")
        if isinstance(path, list):
            raise _fail(f"{which} has a multipart path (a list); this client downloads one file per resource.")
        if not isinstance(path, str):
            raise _fail(f"{which} has no path, or a path that is not text ({type(path).__name__}).")
        problem = path_problem(path)
        if problem:
            raise _fail(f"{which} has an unsafe path {_show(path)}: {problem}.")
        digest = resource.get("hash")
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            raise _fail(f"{which} ({path}) needs a hash 'sha256:<64 hex digits>', found {_show(digest)}.")
        size = resource.get("bytes")
        if type(size) is not int or not 0 <= size <= MAX_FILE_BYTES:
            raise _fail(
                f"{which} ({path}) needs 'bytes', a whole number from 0 to {MAX_FILE_BYTES:,}, found {_show(size)}."
            )
        listed.append(Listed(path, digest.removeprefix("sha256:"), size))
    _check_together(listed)
    return listed


def path_problem(path: str) -> str | None:
    """Why a descriptor path cannot be saved under the target folder, or None if it can."""
    if not path:
        return "it is empty"
    if len(path) > MAX_PATH_CHARACTERS:
        return f"it is longer than {MAX_PATH_CHARACTERS} characters"
    if not path.isprintable() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in path):
        return "it contains a control, invisible or invalid character"
    if "\\" in path:
        return "it contains a backslash"
    if ":" in path:
        return "it is a URL or names a drive; only paths relative to the descriptor are downloaded"
    if path.startswith("/"):
        return "it is absolute"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return "it has an empty, '.' or '..' part (it must be a plain relative path like processed/x.csv)"
        if part.startswith("."):
            return f"{part!r} is a hidden name"
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            return f"a part is longer than {MAX_NAME_BYTES} bytes"
    if path == DESCRIPTOR:
        return "it is the descriptor's own name"
    return None


def _check_together(listed: list[Listed]) -> None:
    seen: dict[str, str] = {}
    folders: set[str] = set()
    for item in listed:
        key = item.path.casefold()
        if key in seen:
            same = (
                "twice"
                if seen[key] == item.path
                else f"twice, once as {seen[key]!r} (names that differ only in case are one file on many systems)"
            )
            raise _fail(f"the descriptor lists {item.path!r} {same}.")
        seen[key] = item.path
        parts = key.split("/")
        folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
    for key, path in seen.items():
        if key in folders:
            raise _fail(f"the descriptor lists {path!r} both as a file and as a folder of other files.")


def _target_problem(dest: Path, item: Listed) -> str | None:
    """Why a listed file cannot go into the target folder as it is now, or None."""
    current = dest
    for part in item.path.split("/")[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            kind = "a symbolic link" if current.is_symlink() else "a file"
            return f"{current} is {kind}, not a folder"
    final = dest / item.path
    if final.is_dir() and not final.is_symlink():
        return f"{final} is a folder"
    return None


def _up_to_date(path: Path, item: Listed) -> bool:
    return (
        path.is_file()
        and not path.is_symlink()
        and path.stat().st_size == item.bytes
        and sha256_file(path) == item.sha256
    )


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _short(error: BaseException) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:197] + "..."


def _remove_created(created: list[Path]) -> None:
    """Folders this download created are removed again when it fails (only if they are empty)."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


STDERR = "stderr"  # the default progress stream, looked up at call time
JOURNAL = "moving.json"  # in a staging folder: the files being moved into the target, for recovery


def download(
    base_url: str,
    dest: Path,
    *,
    limits: Limits | None = None,
    contact: str | None = None,
    progress=STDERR,
    log=None,
    wait: float = LOCK_WAIT,
) -> dict[str, str]:
    """Returns {relative path: 'downloaded' | 'up to date'}. Progress of large files goes to `progress`
    (None for none), retry notices to `log` (default: stderr). Holds a lock on the target folder for
    the whole run: two downloads into one folder take turns."""
    progress = sys.stderr if progress == STDERR else progress
    base = base_url.rstrip("/") + "/"
    client = Client("download", limits or Limits(deadline=DOWNLOAD_DEADLINE), contact=contact, log=log)
    try:
        with build_lock(
            dest, "download", what="download into", holder=False, log=log, wait=wait, create=True
        ) as created:
            try:
                _recover(dest)
                return _download_into(client, base, dest, progress)
            except BaseException:
                _remove_created(created)  # still under the lock: no other download is using it
                raise
    except OSError as error:
        raise _fail(
            f"cannot write in {dest}: {error.strerror or error}"
            f"{f' ({error.filename})' if error.filename else ''}; the folder is as it was."
        ) from None
    finally:
        client.close()


def _tty(stream) -> bool:
    return bool(stream is not None and getattr(stream, "isatty", lambda: False)())


def _announce(progress, client: Client, base: str, wanted: list[Listed], total: int, fresh: int, seconds: float):
    """One line before the files: how many, how large, and how long it may take (from the time the
    descriptor took, where that was slow) within the command's deadline."""
    if progress is None:
        return
    pace = ""
    if seconds >= 1 and wanted:  # a slow server: every request may take as long
        pace = f"; the descriptor took {seconds:.0f} s, so this may take about {_duration(seconds * len(wanted))}"
    print(
        f"{chr(13) if _tty(progress) else ''}download: {len(wanted)} file{'s' if len(wanted) != 1 else ''} "
        f"({total:,} bytes) to fetch from {base}, {fresh} up to date{pace} (the command stops after "
        f"{_duration(client.limits.deadline)}: --deadline)",
        file=progress,
        flush=True,
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _download_into(client: Client, base: str, dest: Path, progress) -> dict[str, str]:
    """The download proper, under the target's lock."""
    if _tty(progress):
        print(f"download: reading {base}{DESCRIPTOR} ...", end="", file=progress, flush=True)
    started = time.monotonic()
    body = client.get(base + DESCRIPTOR, max_bytes=MAX_DESCRIPTOR_BYTES)
    listed = parse_descriptor(body, base + DESCRIPTOR)
    own = _target_problem(dest, Listed(DESCRIPTOR, "", 0))
    if own:
        raise _fail(f"{DESCRIPTOR} cannot be saved: {own}; nothing was changed.")
    for item in listed:
        problem = _target_problem(dest, item)
        if problem:
            raise _fail(f"{item.path} cannot be saved: {problem}; nothing was changed.")
    status = {item.path: "up to date" if _up_to_date(dest / item.path, item) else "downloaded" for item in listed}
    wanted = [item for item in listed if status[item.path] == "downloaded"]
    total, done = sum(item.bytes for item in wanted), 0
    _check_space(dest, total + len(body))
    _announce(progress, client, base, wanted, total, len(listed) - len(wanted), time.monotonic() - started)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + "-", dir=dest))
    try:
        (staging / "new").mkdir()
        for number, item in enumerate(wanted, start=1):
            part = staging / "new" / item.path
            part.parent.mkdir(parents=True, exist_ok=True)
            if _tty(progress):  # files and bytes done of the total, rewritten in place
                line = f"  {number - 1} of {len(wanted)} files, {done:,} of {total:,} bytes; next {item.path}"
                print(f"\r{line:<100.100}", end="", file=progress, flush=True)
            size, sha256 = client.get(
                base + quote(item.path),
                max_bytes=item.bytes,
                exact_bytes=item.bytes,
                into=part,
                progress=progress,
                label=f"{number}/{len(wanted)} {item.path}" if _tty(progress) else item.path,
            )
            done += size
            if sha256 != item.sha256:
                raise _fail(
                    f"{item.path} does not match datapackage.json: {size:,} bytes with sha256 {sha256}, "
                    f"expected {item.bytes:,} bytes with sha256 {item.sha256}. Nothing was saved."
                )
        if _tty(progress):
            print(f"\r{f'  {len(wanted)} of {len(wanted)} files, {done:,} bytes':<100}", file=progress, flush=True)
        (staging / "new" / DESCRIPTOR).write_bytes(body)
        _move_in(staging, dest, [item.path for item in wanted] + [DESCRIPTOR])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return status


def _check_space(dest: Path, needed: int) -> None:
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise _fail(f"the files need {needed:,} bytes but {dest} has {free:,} bytes free; nothing was changed.")


def _move_in(staging: Path, dest: Path, paths: list[str]) -> None:
    """Move the staged files into `dest`, the files they replace first moved aside to staging/old/. A
    journal (staging/moving.json) lists them first: if anything fails, or the process is interrupted or
    killed, everything moved so far is put back (at once, or by the next download's `_recover`)."""
    existed = {relative: (dest / relative).exists() or (dest / relative).is_symlink() for relative in paths}
    made = sorted(
        {
            str(parent)
            for relative in paths
            for parent in Path(relative).parents
            if str(parent) != "." and not (dest / parent).exists()
        },
        key=len,
    )
    journal = staging / JOURNAL
    journal.write_text(json.dumps({"paths": paths, "existed": existed, "made": made}), encoding="utf-8")
    try:
        for relative in paths:
            final = dest / relative
            if existed[relative]:
                aside = staging / "old" / relative
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(final, aside)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / "new" / relative, final)
    except BaseException:
        _roll_back(staging, dest)
        raise
    journal.unlink()  # the commit point


def _roll_back(staging: Path, dest: Path) -> None:
    """Put back what a move into `dest` changed, from the journal in `staging`."""
    plan = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
    for relative in reversed(plan["paths"]):
        final, aside, new = dest / relative, staging / "old" / relative, staging / "new" / relative
        if plan["existed"][relative]:
            if aside.exists() or aside.is_symlink():  # moved aside: whatever stands there now is new
                with contextlib.suppress(FileNotFoundError):
                    final.unlink()
                os.replace(aside, final)
        elif not new.exists() and final.exists():  # moved in, and did not exist before
            final.unlink()
    for folder in reversed(plan["made"]):
        with contextlib.suppress(OSError):
            (dest / folder).rmdir()
    (staging / JOURNAL).unlink()


def _recover(dest: Path) -> None:
    """Staging folders left by a download that was killed: a move in progress is rolled back, then the
    folder is removed (a symbolic link is only unlinked, never followed)."""
    for leftover in dest.glob(STAGING_PREFIX + "*"):
        if leftover.is_symlink() or not leftover.is_dir():
            leftover.unlink()
            continue
        if (leftover / JOURNAL).is_file():
            try:
                _roll_back(leftover, dest)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise _fail(
                    f"{leftover} holds an interrupted download that cannot be rolled back ({error}); "
                    "check the folder by hand, then delete it."
                ) from None
            print(f"download: an interrupted download into {dest} was rolled back.", file=sys.stderr)
        shutil.rmtree(leftover, ignore_errors=True)
