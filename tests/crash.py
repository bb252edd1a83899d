"""Crash injection for the kill tests, kept out of the production code.

`python -m tests.crash POINT ARGS...` runs `python -m pipeline ARGS...` with the step named POINT armed:
the process kills itself (SIGKILL) right after that step, as a power cut or `kill -9` would. The steps are
found by wrapping the functions that perform them, not by hooks in the pipeline:

- `exporting`: halfway through writing the staged tables;
- `staged`: once the whole release is staged;
- `journal-written`: once the swap journal is on disk;
- `moved-aside:ITEM` / `moved-in:ITEM`: once a release item (processed, docs/..., datapackage.json) has
  been moved aside to build/previous/, or the staged one moved in;
- `committed`: once the journal is removed (the swap's commit point);
- `download-moved:N`: once a download has moved its Nth file into the target.

`python -m tests.crash POINT --swap-only ROOT` runs only the swap of an already staged release
(ROOT/build/staging), under the build lock, as publish does.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _ends_with(path, parts: tuple[str, ...]) -> bool:
    return Path(path).parts[-len(parts) :] == parts


def arm(point: str) -> None:
    """Patch the step named `point` so that the process dies right after it. Only the module a step
    lives in is imported here (the swap alone starts without the build stack)."""
    if point == "exporting":
        import pipeline.publish.database

        original, calls = pipeline.publish.database.export_table, []

        def export_table(con, resource, folder):
            original(con, resource, folder)
            calls.append(resource.name)
            if len(calls) == len(pipeline.publish.database.metadata.load().resources) // 2 + 1:
                _die()

        pipeline.publish.database.export_table = export_table
    elif point == "staged":
        import pipeline.publish.staging

        for name in ("_stage_release", "restore_release"):  # staged by the build, or from the build cache
            original_stage = getattr(pipeline.publish.staging, name)

            def staged(*args, original_stage=original_stage, **kwargs):
                result = original_stage(*args, **kwargs)
                if result is not None:  # (restore_release: None when the cache does not hold the release)
                    _die()
                return result

            setattr(pipeline.publish.staging, name, staged)
    elif point == "journal-written":
        import pipeline.release.swap

        original_write = pipeline.release.swap.write_atomically

        def write_atomically(path, data):
            original_write(path, data)
            if Path(path).name == "swap-journal.json":
                _die()

        pipeline.release.swap.write_atomically = write_atomically
    elif point == "committed":
        original_unlink = Path.unlink

        def unlink(self, missing_ok=False):
            original_unlink(self, missing_ok=missing_ok)
            if self.name == "swap-journal.json":
                _die()

        Path.unlink = unlink
    elif point.split(":")[0] in ("moved-aside", "moved-in", "download-moved"):
        step, target = point.split(":", 1)
        original_replace, moved = os.replace, []

        def replace(source, destination, *args, **kwargs):
            original_replace(source, destination, *args, **kwargs)
            parts = tuple(target.split("/"))
            if step == "moved-aside" and _ends_with(destination, ("build", "previous", *parts)):
                _die()
            if (
                step == "moved-in"
                and "staging" in Path(source).parts
                and _ends_with(destination, parts)
                and "previous" not in Path(destination).parts
            ):
                _die()
            if (
                step == "download-moved"
                and "new" in Path(source).parts
                and any(p.startswith(".download-staging") for p in Path(source).parts)
            ):
                moved.append(destination)
                if len(moved) == int(target):
                    _die()

        os.replace = replace
    else:
        raise SystemExit(f"unknown crash point {point!r}")


def main(argv: list[str]) -> int:
    point, rest = argv[0], argv[1:]
    arm(point)
    if rest[:1] == ["--swap-only"]:
        from pipeline.common.lock import build_lock
        from pipeline.release.swap import swap_in

        root = Path(rest[1])
        with build_lock(root, "publish"):
            swap_in(root / "build" / "staging", root)
        return 0
    from pipeline.cli import main as cli

    return cli(rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
