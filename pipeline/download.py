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
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.net import MAX_DESCRIPTOR_BYTES, Client, Limits
from pipeline.raw import sha256_file
from pipeline.release import LOCK_WAIT, build_lock

STAGING_PREFIX = ".download-staging"
DESCRIPTOR = "datapackage.json"
MAX_RESOURCES = 10_000
MAX_PATH_CHARACTERS = 1024
MAX_NAME_BYTES = 255  # the longest file name most file systems accept
MAX_FILE_BYTES = 64 * 2**30
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Listed:
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
            raise _fail(f"{which} ({path}) needs 'bytes', a whole number from 0 to {MAX_FILE_BYTES:,}, found "
                        f"{_show(size)}.")
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
            same = "twice" if seen[key] == item.path else f"twice, once as {seen[key]!r} (names that differ only " \
                                                         "in case are one file on many systems)"
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
    return path.is_file() and not path.is_symlink() and path.stat().st_size == item.bytes \
        and sha256_file(path) == item.sha256


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _short(error: BaseException) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:197] + "..."


def _prepare(dest: Path) -> Path:
    """The target folder, created if needed."""
    if dest.exists() and not dest.is_dir():
        raise _fail(f"--dest {dest} exists and is not a folder.")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(f"cannot create the folder {dest}: {error.strerror}.") from None
    return dest


def _remove_leftovers(dest: Path) -> None:
    """Staging folders of a download that was killed (called under the target's lock)."""
    for leftover in dest.glob(STAGING_PREFIX + "*"):
        if leftover.is_symlink() or not leftover.is_dir():
            leftover.unlink()  # the link only, never what it points to
        else:
            shutil.rmtree(leftover, ignore_errors=True)


STDERR = "stderr"  # the default progress stream, looked up at call time


def download(base_url: str, dest: Path, *, limits: Limits = Limits(), contact: str | None = None,
             progress=STDERR, log=None, wait: float = LOCK_WAIT) -> dict[str, str]:
    """Returns {relative path: 'downloaded' | 'up to date'}. Progress of large files goes to `progress`
    (None for none), retry notices to `log` (default: stderr)."""
    progress = sys.stderr if progress == STDERR else progress
    base = base_url.rstrip("/") + "/"
    if dest.exists() and not dest.is_dir():
        raise _fail(f"--dest {dest} exists and is not a folder.")
    created = not dest.exists()
    client = Client("download", limits, contact=contact, log=log)
    try:
        body = client.get(base + DESCRIPTOR, max_bytes=MAX_DESCRIPTOR_BYTES)
        listed = parse_descriptor(body, base + DESCRIPTOR)
        dest = _prepare(dest)
        with build_lock(dest, "download", what="download into", holder=False, log=log, wait=wait):  # one at a time
            return _download_into(client, base, dest, body, listed, progress)
    except OSError as error:
        _remove_if_created(dest, created)
        raise _fail(f"cannot write in {dest}: {error.strerror or error}"
                    f"{f' ({error.filename})' if error.filename else ''}; the folder is as it was.") from None
    except BaseException:
        _remove_if_created(dest, created)
        raise
    finally:
        client.close()


def _download_into(client: Client, base: str, dest: Path, body: bytes, listed: list[Listed], progress) -> dict:
    """The download proper, under the target's lock."""
    _remove_leftovers(dest)
    for item in listed:
        problem = _target_problem(dest, item)
        if problem:
            raise _fail(f"{item.path} cannot be saved: {problem}; nothing was changed.")
    status = {item.path: "up to date" if _up_to_date(dest / item.path, item) else "downloaded"
              for item in listed}
    wanted = [item for item in listed if status[item.path] == "downloaded"]
    _check_space(dest, sum(item.bytes for item in wanted) + len(body))
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + "-", dir=dest))
    try:
        (staging / "new").mkdir()
        for item in wanted:
            part = staging / "new" / item.path
            part.parent.mkdir(parents=True, exist_ok=True)
            size, sha256 = client.get(base + item.path, max_bytes=item.bytes, exact_bytes=item.bytes, into=part,
                                      progress=progress, label=item.path)
            if sha256 != item.sha256:
                raise _fail(f"{item.path} does not match datapackage.json: {size:,} bytes with sha256 {sha256}, "
                            f"expected {item.bytes:,} bytes with sha256 {item.sha256}. Nothing was saved.")
        (staging / "new" / DESCRIPTOR).write_bytes(body)
        _move_in(staging, dest, [item.path for item in wanted] + [DESCRIPTOR])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return status


def _remove_if_created(dest: Path, created: bool) -> None:
    """A target folder this download created is removed again if the download fails (when empty)."""
    if created:
        with contextlib.suppress(OSError):
            dest.rmdir()


def _check_space(dest: Path, needed: int) -> None:
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise _fail(f"the files need {needed:,} bytes but {dest} has {free:,} bytes free; nothing was changed.")


def _move_in(staging: Path, dest: Path, paths: list[str]) -> None:
    """Move the staged files into `dest`, the files they replace first moved aside; if anything fails,
    everything moved so far is put back."""
    done: list[tuple[Path, Path | None]] = []
    made: list[Path] = []  # folders created in dest, removed again on failure
    try:
        for relative in paths:
            final = dest / relative
            aside = None
            if final.exists() or final.is_symlink():
                aside = staging / "old" / relative
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(final, aside)
            done.append((final, aside))
            missing = [p for p in reversed(final.relative_to(dest).parents) if str(p) != "." and
                       not (dest / p).exists()]
            for folder in missing:
                (dest / folder).mkdir()
                made.append(dest / folder)
            os.replace(staging / "new" / relative, final)
    except OSError:
        for final, aside in reversed(done):
            with contextlib.suppress(OSError):
                if final.exists() or final.is_symlink():
                    final.unlink()
                if aside is not None:
                    os.replace(aside, final)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
