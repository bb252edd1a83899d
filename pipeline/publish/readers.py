"""Reading a published release, or any JSON file a command is given, with a clear error for a damaged
one: only regular files, within a size and nesting cap, a merge conflict named as such; and the release's
DuckDB database opened read-only, a truncated or locked one named as such."""

from __future__ import annotations

from pathlib import Path

from pipeline.common.errors import PipelineError
from pipeline.common.files import read_json


def descriptor(root: Path, stage: str) -> dict:
    """The published release's datapackage.json, an object; missing or damaged: a PipelineError."""
    path = root / "datapackage.json"
    hint = "It is generated: run `make` (or `python -m pipeline publish`) to rebuild it."
    try:
        package = read_json(path, stage, hint=hint)
    except FileNotFoundError:
        raise PipelineError(stage, f"no published release in {root}; run `make` first.") from None
    if not isinstance(package, dict):
        raise PipelineError(stage, f"{path} is not a JSON object.", hint=hint)
    return package


def verified_descriptor(root: Path, stage: str):
    """The published release's datapackage.json and the newest release of the list, after checking that the
    descriptor is, byte for byte, the one publish writes for the files in the release (so that the files'
    sizes and sha256, the names, the version and the citation are the release's own): a PipelineError
    names the first difference."""
    from pipeline import metadata
    from pipeline.publish.descriptor import datapackage, descriptor_bytes
    from pipeline.raw.snapshot import snapshot_with
    from pipeline.release import history
    from pipeline.release.swap import DESCRIPTOR, release_paths

    schemas = metadata.load()
    newest = history.load(root)[0]
    published = descriptor(root, stage)
    for relative in release_paths(schemas):
        if (root / relative).is_symlink() or not (root / relative).is_file():
            raise PipelineError(stage, f"the release in {root} lacks {relative} (a regular file); run `make`.")
    entry = snapshot_with(newest.snapshot_sha256, root / "raw" / "manifest.json").entry
    expected = datapackage(schemas, root, entry, {"version": newest.version, "release_date": newest.release_date})
    if (root / DESCRIPTOR).read_bytes() != descriptor_bytes(expected):
        where = first_difference(published, expected) if published != expected else "its text: a key given twice?"
        raise PipelineError(
            stage,
            f"{root / DESCRIPTOR} is not the descriptor of release {newest.version} in {root} (first difference: "
            f"{where}); run `make` to rebuild it.",
        )
    return published, newest


_MISSING = object()


def first_difference(found, expected, where: str = "") -> str:
    """Where two JSON values first differ, as a path (`resources[3].hash`) and the value found."""
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in [*expected, *(k for k in found if k not in expected)]:
            if found.get(key, _MISSING) != expected.get(key, _MISSING):
                return first_difference(found.get(key, _MISSING), expected.get(key, _MISSING), f"{where}.{key}")
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        for number, (a, b) in enumerate(zip(found, expected, strict=True)):
            if a != b:
                named = f" ({b['path']})" if isinstance(b, dict) and isinstance(b.get("path"), str) else ""
                return first_difference(a, b, f"{where}[{number}]{named}")
    shown = "missing" if found is _MISSING else repr(found)[:60]
    return f"{where.lstrip('.') or 'the whole'}: {shown}"


def open_database(path: Path, stage: str):
    """A read-only connection to a published DuckDB database; a missing, damaged or locked one is a
    PipelineError naming the file."""
    import duckdb

    if not path.is_file():
        raise PipelineError(stage, f"no published database at {path}; run `make` first.")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        if "lock" in first.lower():
            raise PipelineError(
                stage,
                f"cannot open {path}: another process has it open for writing ({first}).",
                hint="Close that process (e.g. a duckdb shell opened without -readonly) and run the command again.",
            ) from None
        raise PipelineError(
            stage, f"cannot open {path} as a DuckDB database: {first}.", hint="Rebuild the release with `make`."
        ) from None
