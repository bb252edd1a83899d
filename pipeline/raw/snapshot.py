"""The pinned raw snapshot and its manifest: the pipeline's only input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.common.files import sha256_file

RAW = ROOT / "raw"
MANIFEST = RAW / "manifest.json"


@dataclass(frozen=True)
class Snapshot:
    """A raw snapshot: its file and its manifest entry."""

    path: Path
    entry: dict

    @property
    def format(self) -> str:
        """'html' or 'text', by the file's suffix."""
        return "html" if self.path.suffix in {".html", ".htm"} else "text"


def load_manifest(manifest: Path = MANIFEST) -> dict:
    """raw/manifest.json, parsed; an unreadable one (not a regular file, too large, not UTF-8 JSON, nested
    too deep) is a clear error."""
    from pipeline.common.files import read_json

    try:
        return read_json(manifest, "raw")
    except FileNotFoundError:
        raise PipelineError("raw", f"no manifest at {manifest}.") from None


def _entries(data, manifest: Path) -> dict[str, dict]:
    if not isinstance(data, dict) or not isinstance(data.get("snapshots"), list):
        raise PipelineError("raw", f"{manifest.name} should be an object with 'current' and a 'snapshots' list.")
    return {
        entry.get("path"): entry
        for entry in data["snapshots"]
        if isinstance(entry, dict) and isinstance(entry.get("path"), str)
    }


def current_snapshot(manifest: Path = MANIFEST) -> Snapshot:
    """The snapshot the manifest names as current, after checking its size (when recorded) and sha256."""
    data = load_manifest(manifest)
    entries = _entries(data, manifest)
    current = data.get("current")
    entry = entries.get(current) if isinstance(current, str) else None
    if entry is None:
        raise PipelineError("raw", f"the manifest's current snapshot {current!r} has no entry.")
    return _verified(manifest, entry)


def snapshot_with(sha256: str, manifest: Path = MANIFEST) -> Snapshot:
    """The snapshot whose sha256 the manifest records (an earlier release's), checked like the current."""
    entry = next((e for e in _entries(load_manifest(manifest), manifest).values() if e.get("sha256") == sha256), None)
    if entry is None:
        raise PipelineError("raw", f"{manifest.name} lists no snapshot with sha256 {sha256}.")
    return _verified(manifest, entry)


def _verified(manifest: Path, entry: dict) -> Snapshot:
    """A manifest entry's snapshot, after checking its name, size (when recorded) and sha256."""
    name = entry["path"]
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name or not name.isprintable():
        raise PipelineError(
            "raw", f"the manifest names the snapshot {name!r}: a snapshot must be a file name inside raw/."
        )
    if not isinstance(entry.get("sha256"), str) or len(entry["sha256"]) != 64:
        raise PipelineError("raw", f"the manifest entry of {name} has no sha256 (64 hex digits).")
    size = entry.get("bytes")
    if size is not None and (type(size) is not int or size < 0):
        raise PipelineError("raw", f"the manifest entry of {name} gives bytes {size!r}, not a whole number.")
    path = manifest.parent / name
    if not path.is_file():
        raise PipelineError("raw", f"the snapshot {name} named in the manifest is missing.")
    if size is not None and path.stat().st_size != size:
        raise PipelineError(
            "raw",
            f"{name} has changed: it has {path.stat().st_size:,} bytes, the manifest records {size:,}.",
            hint="raw/ is immutable.",
        )
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise PipelineError(
            "raw",
            f"{name} has changed: its sha256 is {actual}, the manifest records {entry['sha256']}.",
            hint="raw/ is immutable. To use a new snapshot, add it with its own manifest entry "
            "(python -m pipeline fetch) rather than editing the pinned one.",
        )
    return Snapshot(path=path, entry=entry)


def decode(data: bytes, name: str) -> str:
    """A snapshot's bytes as UTF-8 text; anything else is a clear error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(
            "raw", f"{name} is not valid UTF-8 (byte {error.start}: {data[error.start : error.start + 4]!r})."
        ) from None
