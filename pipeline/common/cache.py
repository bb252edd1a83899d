"""A content-addressed cache of what the build derives from unchanged inputs (the parsed YAML files, the
parsed snapshot, the schemas, the independent reports, a snapshot's tables, the empty release database the
schemas define, the tables each check reads, the forensics and their calibration, the staged release with
its build's record), like Python's own __pycache__: build/cache/ of the code's repository, or the folder
PIPELINE_CACHE names. An entry is named by the sha256 of everything it is made from, always including the
whole code of pipeline/ and the interpreter's version, so a changed input or a changed line of code is a
new entry and never a stale one. The cache only saves time: a missing, unreadable or unwritable cache is the
same build, from scratch.

Entries are read only from folders that belong to the user running the build and that no one else may
write to (as pip does for its cache): an entry can hold a pickle, and a pickle can run code."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import stat
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from pipeline import ROOT

MAX_BYTES = 64 * 2**20


def folder() -> Path:
    return Path(os.environ.get("PIPELINE_CACHE") or ROOT / "build" / "cache")


@functools.cache
def _code() -> str:
    """The digest of every module of pipeline/ (and of its checks' SQL and YAML), of the interpreter's
    version and of its Unicode tables: part of every key, so that no entry outlives the code that made it."""
    digest = hashlib.sha256(f"{sys.version}\0{unicodedata.unidata_version}".encode())
    for path in sorted((ROOT / "pipeline").rglob("*")):
        if path.suffix in (".py", ".sql", ".yaml") and "__pycache__" not in path.parts and path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(*parts: bytes | str) -> str:
    """The sha256 of the parts (each length-prefixed, so that no two lists of parts share a key) and of the
    code of pipeline/ with the interpreter's version."""
    digest = hashlib.sha256(_code().encode("ascii"))
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def fingerprint(value) -> str:
    """The sha256 of a value (tables, parameters) in a canonical form: the same for the same values, whatever
    the order of a record's keys (dates and other values JSON lacks as their repr)."""
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprints(tables: dict[str, list]) -> dict[str, str]:
    """Each table's fingerprint, by name: a step that reads a few tables keys its work on theirs alone, so
    that a change to one table redoes only the work that reads it (the whole set: fingerprint(fingerprints))."""
    return {name: fingerprint(rows) for name, rows in tables.items()}


def files(*folders: str | Path) -> list[bytes]:
    """Every file of these folders (of the repository: schemas/, sources/, errata/; or any folder), each
    with its path in the repository (or where it is): part of a key, for the reviewed files a step reads.
    Read once per process while each file's inode, size and times are those read (a build asks for the
    schemas several times; a rewrite changes the change time, which no one can set back)."""
    found = []
    for folder in folders:
        base = ROOT / folder
        paths = sorted(p for p in base.rglob("*") if p.is_file())
        stamps = tuple((str(p), *stamp(p)) for p in paths)
        if _FILES.get(base, (None,))[0] != stamps:
            _FILES[base] = (stamps, [_name(p).encode("utf-8") + b"\0" + p.read_bytes() for p in paths])
        found += _FILES[base][1]
    return found


_FILES: dict[Path, tuple] = {}


def _name(path: Path) -> str:
    """A file's name in a key: its path in the repository (the same in every clone), or where it is."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def stamp(path: Path) -> tuple[int, ...]:
    """What tells a file rewritten from the same file: its inode, size, and modification and change times."""
    facts = path.stat()
    return facts.st_ino, facts.st_size, facts.st_mtime_ns, facts.st_ctime_ns


def computed(kind: str, parts: list, make):
    """What make() returns, taken from the build cache when it was made before from the same parts (and
    code); stored there when not. Nothing is stored when make raises."""
    name = key(kind, *parts) + ".pickle"
    value = recall(kind, name)
    if value is MISSING:
        value = make()
        remember(kind, name, value)
    return value


def path(kind: str, name: str) -> Path:
    return folder() / kind / name


def _named(*names) -> bool:
    """Names a kind and an entry may have: file names in the cache's folder (never a path elsewhere, never
    hidden, no NUL)."""
    return all(
        isinstance(name, str) and name and not name.startswith(".") and not set(name) & {"/", "\\", "\0"}
        for name in names
    )


def _private(path: Path) -> bool:
    """A folder or file that this user owns and that no one else may write to (no link followed)."""
    try:
        facts = path.lstat()
    except OSError:
        return False
    owner = not hasattr(os, "getuid") or facts.st_uid == os.getuid()
    return owner and not facts.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not stat.S_ISLNK(facts.st_mode)


def get(kind: str, name: str) -> bytes | None:
    """The bytes stored under `name`, or None: absent, not a regular file that can be read, in a folder
    someone else may write to, or not whole (an entry starts with the sha256 of the bytes it holds)."""
    from pipeline.common.files import NotReadable, read_regular

    if not _named(kind, name):
        return None
    entry_path = path(kind, name)
    if not all(_private(p) for p in (folder(), entry_path.parent, entry_path)):
        return None
    try:
        entry = read_regular(entry_path, MAX_BYTES)
    except (OSError, NotReadable):
        return None
    digest, data = entry[:32], entry[32:]
    if len(digest) != 32 or hashlib.sha256(data).digest() != digest:
        return None
    with contextlib.suppress(OSError):
        os.utime(entry_path)  # used now: the last entry prune removes
    return data


def put(kind: str, name: str, data: bytes) -> bool:
    """Store `data` under `name` (written whole, then renamed in, readable by this user only); a failure to
    write, or an entry too large to be read back, stores nothing. Whether it was stored."""
    if len(data) + 32 > MAX_BYTES or not _named(kind, name):
        return False
    stored = False
    target = path(kind, name)
    with contextlib.suppress(OSError):
        folder().mkdir(parents=True, exist_ok=True, mode=0o700)
        target.parent.mkdir(exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(hashlib.sha256(data).digest() + data)
            os.replace(temporary, target)
            stored = True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    if kind not in _PRUNED:  # the cache stays bounded: the oldest entries go, once per build and kind
        _PRUNED.add(kind)
        prune(kind)
    return stored


MISSING = object()  # what recall returns when the cache has no such entry


class Memo:
    """What the build before found, by key (from its record, which the build cache keeps with its staged
    release), and what this build finds, by key (its record, for the next build): a step asks for each
    of its keys, and this build's record holds every key it used, found before or made now. One file for
    a build's record rather than one per table or check: small files cost more to write than to compute."""

    def __init__(self, earlier: dict | None = None):
        self.earlier, self.now = dict(earlier or {}), {}

    def get(self, key: str):
        """What the build before found under `key` (then in this build's record too), or MISSING."""
        value = self.earlier.get(key, MISSING)
        if value is not MISSING:
            self.now[key] = value
        return value

    def put(self, key: str, value) -> None:
        """What this build found under `key`."""
        self.now[key] = value


def recall(kind: str, name: str):
    """The object stored under `name` by remember, or MISSING (absent, damaged, unreadable)."""
    stored = get(kind, name)
    if stored is None:
        return MISSING
    try:
        return pickle.loads(stored)  # noqa: S301 (written by remember, in a folder only this user may write)
    except Exception:  # a damaged entry: made again
        return MISSING


def remember(kind: str, name: str, value) -> bool:
    """Store `value` (pickled) under `name`; whether it was stored."""
    return put(kind, name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


# The entries kept of each kind, the most recently written or read (a build reads about 90 YAML files and
# one entry of every other kind; a staged release is about 4 MB).
KEPT = {"yaml": 256, "release": 8}
KEPT_OTHERWISE = 32
_PRUNED: set[str] = set()  # the kinds pruned by this process (once each: at its first write of the kind)


def prune(kind: str, keep: int | None = None) -> None:
    """Remove all but the `keep` (by default KEPT) entries of a kind most recently written or read."""
    keep = keep if keep is not None else KEPT.get(kind, KEPT_OTHERWISE)
    with contextlib.suppress(OSError):
        entries, abandoned = [], time.time() - 3600
        for entry in (folder() / kind).iterdir():
            facts = entry.stat()
            if not entry.name.startswith("."):
                entries.append((facts.st_mtime_ns, entry))
            elif facts.st_mtime < abandoned:  # a write cut short an hour ago or more (a killed build)
                with contextlib.suppress(OSError):
                    entry.unlink()
        for _, entry in sorted(entries)[:-keep]:
            with contextlib.suppress(OSError):
                entry.unlink()
