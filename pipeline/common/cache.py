"""A content-addressed cache of what the build derives from unchanged inputs (the parsed YAML files, the
empty release database the schemas define), like Python's own __pycache__: build/cache/ of the code's
repository, or the folder PIPELINE_CACHE names. An entry is named by the sha256 of everything it is made
from, so a changed input is a new entry and never a stale one. The cache only saves time: a missing,
unreadable or unwritable cache is the same build, from scratch."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pipeline import ROOT

MAX_BYTES = 64 * 2**20


def folder() -> Path:
    return Path(os.environ.get("PIPELINE_CACHE") or ROOT / "build" / "cache")


def key(*parts: bytes | str) -> str:
    """The sha256 of the parts (each length-prefixed, so that no two lists of parts share a key)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def fingerprint(value) -> str:
    """The sha256 of a value (tables, parameters) in a canonical form: the same for the same values, whatever
    the order of a record's keys (dates and other values JSON lacks as their repr)."""
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code(*packages: str) -> list[bytes]:
    """The source of every module of these folders of pipeline/ (part of a key: changed code, new entry)."""
    return [file.read_bytes() for package in packages for file in sorted((ROOT / "pipeline" / package).glob("*.py"))]


def schemas() -> list[bytes]:
    """Every file of schemas/ with its path (part of a key: every definition a check reads)."""
    files = sorted(p for p in (ROOT / "schemas").rglob("*") if p.is_file())
    return [str(p.relative_to(ROOT)).encode("utf-8") + b"\0" + p.read_bytes() for p in files]


def path(kind: str, name: str) -> Path:
    return folder() / kind / name


def get(kind: str, name: str) -> bytes | None:
    """The bytes stored under `name`, or None: absent, not a regular file that can be read, or not whole
    (an entry starts with the sha256 of the bytes it holds, checked here)."""
    from pipeline.common.files import NotReadable, read_regular

    try:
        entry = read_regular(path(kind, name), MAX_BYTES)
    except (OSError, NotReadable):
        return None
    digest, data = entry[:32], entry[32:]
    return data if len(digest) == 32 and hashlib.sha256(data).digest() == digest else None


def put(kind: str, name: str, data: bytes) -> None:
    """Store `data` under `name` (written whole, then renamed in); a failure to write is ignored."""
    target = path(kind, name)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(hashlib.sha256(data).digest() + data)
            os.replace(temporary, target)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
