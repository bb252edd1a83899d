"""The build's own profile, stage by stage, for `make bench`: with PIPELINE_PROFILE set to a file, each
stage that a publish passes through records its wall time there (JSON, in order); unset, nothing is
measured or written."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

_TIMES: list[list] = []


@contextlib.contextmanager
def stage(name: str):
    """Time the block as the stage `name` (when profiling)."""
    if "PIPELINE_PROFILE" not in os.environ:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        _TIMES.append([name, round(time.perf_counter() - started, 4)])


def write() -> None:
    """Write the recorded stages to the file PIPELINE_PROFILE names (when profiling)."""
    target = os.environ.get("PIPELINE_PROFILE")
    if target:
        Path(target).write_text(json.dumps(_TIMES) + "\n", encoding="utf-8")
