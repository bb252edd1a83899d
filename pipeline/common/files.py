"""Files on disk: checksums and atomic writes. Standard library only (the download client uses it)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path

from pipeline.common.errors import PipelineError


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class NotReadable(ValueError):
    """A path that is not a regular file of at most the size asked (a folder, a FIFO, a device, too large)."""


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file (whatever a link points to) of at most `max_bytes`; never opens a FIFO
    or a device, which would block or never end. NotReadable says why not; FileNotFoundError and other
    OSErrors propagate."""
    facts = os.stat(path)
    if not stat.S_ISREG(facts.st_mode):
        raise NotReadable(f"{path} is not a regular file")
    if facts.st_size > max_bytes:
        raise NotReadable(f"{path} has {facts.st_size:,} bytes, more than the {max_bytes:,} read")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # swapped for a FIFO: no hang
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotReadable(f"{path} is not a regular file")
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise NotReadable(f"{path} has more than the {max_bytes:,} bytes read")
    return data


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the whole new one: a temporary file
    beside it, flushed to disk, then renamed over it. On any failure the temporary file is removed and
    `path` is as it was."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


MAX_JSON_BYTES = 8 * 2**20  # a descriptor of this package is about 200 KB

CONFLICT = "<<<<<<< "


def read_json(path: Path, stage: str, *, hint: str | None = None, max_bytes: int = MAX_JSON_BYTES):
    """The JSON in `path`: a regular file (not a folder, device, FIFO or socket, whatever a link points
    to), at most `max_bytes`, nested no deeper than the parser reaches; anything else is a PipelineError
    naming the file (FileNotFoundError propagates, for callers to whom a missing file means something)."""
    try:
        data = read_regular(path, max_bytes)
    except FileNotFoundError:
        raise
    except NotReadable as error:
        raise PipelineError(stage, f"{error}.", hint=hint) from None
    except OSError as error:
        raise PipelineError(stage, f"cannot read {path}: {error.strerror}.", hint=hint) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(stage, f"{path} is not UTF-8 (byte {error.start}).", hint=hint) from None
    if any(line.startswith(CONFLICT) for line in text.splitlines()):
        raise PipelineError(stage, f"{path} holds a merge conflict (a line starting '<<<<<<<').", hint=hint)
    try:
        return json.loads(text)
    except ValueError as error:
        raise PipelineError(stage, f"{path} is not valid JSON: {error}.", hint=hint) from None
    except RecursionError:  # the parser recurses once per level: the interpreter's limit is the cap
        raise PipelineError(stage, f"{path} nests its arrays or objects too deep to read.", hint=hint) from None
