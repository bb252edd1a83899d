"""One build at a time: overlapping publishes (real processes, started at staggered moments) leave one
whole release whose every file matches datapackage.json; the ones that wait say so; `check` never reads
a half-swapped release, even one a killed build left behind.

`make test` runs a few trials; `KZ_CONCURRENCY_TRIALS=50 .venv/bin/python -m pytest tests/test_concurrency.py`
runs as many as you like (the closing note of issue 9 reports such a run).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline import ROOT
from pipeline.common.lock import build_lock
from tests import forkserver
from tests.conftest import run_cli, tree_digest

TRIALS = int(os.environ.get("KZ_CONCURRENCY_TRIALS", "2"))

# A publish here finds in its build cache everything but the staged release (until one stages it): the
# first stages it anew, as long as that takes, and the others race it.
pytestmark = pytest.mark.usefixtures("staged_anew")


@pytest.fixture()
def root(stale_release, tmp_path) -> Path:
    copy = tmp_path / "root"
    shutil.copytree(stale_release, copy)
    return copy


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--root", str(root), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_in_server(pool: ThreadPoolExecutor, args: list[str], module: str = "pipeline") -> Future:
    """`python -m MODULE ARGS` in a child of the fork server (tests/forkserver.py), waited for on a thread of
    `pool`: a real process, as one `start` starts (its own lock, its exit code, its kill), without the third of
    a second of a new interpreter's imports. The server runs one child at a time: the processes racing it are
    new interpreters (`start`)."""
    return pool.submit(forkserver.run, args, ROOT, 120, module=module)


def finished(process: subprocess.Popen | Future) -> tuple[int, str, str]:
    """The exit code, output and errors of a process `start` or `start_in_server` started, once it ends."""
    if isinstance(process, subprocess.Popen):
        out, err = process.communicate(timeout=120)
        return process.returncode, out, err
    result = process.result(timeout=120)
    return result.returncode, result.stdout, result.stderr


def assert_release_matches_its_descriptor(root: Path) -> None:
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    listed = {r["path"]: r for r in descriptor["resources"]}
    for path, entry in listed.items():
        data = (root / path).read_bytes()
        assert len(data) == entry["bytes"], f"{path}: {len(data):,} bytes, descriptor {entry['bytes']:,}"
        assert f"sha256:{hashlib.sha256(data).hexdigest()}" == entry["hash"], path
    published = {str(p.relative_to(root)) for p in (root / "processed").iterdir()}
    assert published == {p for p in listed if p.startswith("processed/")}, "unlisted files were published"
    assert not (root / "build" / "swap-journal.json").exists() and not (root / "build" / "staging").exists()


@pytest.mark.parametrize("trial", range(TRIALS))
def test_overlapping_publishes_leave_one_whole_release(root, fresh_build, trial):
    rng = random.Random(trial)
    delays = sorted(rng.uniform(0, 0.9) for _ in range(3))  # overlapping at varied moments
    in_server = rng.randrange(len(delays))  # one of them (which one varies) a child of the fork server
    processes, started = [], time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        for n, delay in enumerate(delays):
            time.sleep(max(0.0, started + delay - time.monotonic()))
            if n == in_server:
                processes.append(start_in_server(pool, ["--root", str(root), "publish"]))
            else:
                processes.append(start(root, "publish"))
        results = [finished(p) for p in processes]
    for code, _, stderr in results:
        assert code == 0 and "Traceback" not in stderr, stderr
    assert any("another build of" in stderr and "waiting for it to finish" in stderr for _, _, stderr in results)
    assert_release_matches_its_descriptor(root)
    assert tree_digest(root) == tree_digest(fresh_build)


def test_a_build_that_cannot_get_the_lock_in_time_fails_clearly_and_changes_nothing(root):
    before = tree_digest(root)
    with build_lock(root, "test"):
        result = run_cli("publish", "--wait", "0.3", root=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"another build of {root} is running (test, process {os.getpid()}, since " in result.stderr
    assert "waiting for it to finish (at most 0.3 s)" in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: [publish] another build of {root} still holds its lock after 0.3 s; nothing was changed.")
    )
    assert tree_digest(root) == before


def test_a_check_waiting_on_a_publish_killed_mid_swap_reads_the_restored_release(root):
    """The publish dies (SIGKILL) halfway through its swap while `check` waits for the lock: `check` must
    roll the swap back before it reads anything, not read the half-swapped release."""
    from pipeline.common.lock import HOLDER

    before = tree_digest(root)
    with ThreadPoolExecutor(1) as pool:
        publisher = start_in_server(pool, ["moved-in:processed", "--root", str(root), "publish"], module="tests.crash")
        deadline = time.monotonic() + 30
        while not (root / HOLDER).exists():  # the publish holds the lock
            assert time.monotonic() < deadline and not publisher.done()
            time.sleep(0.01)
        checker = start(root, "check")
        assert publisher.result(timeout=120).returncode < 0  # killed at the crash point, mid-swap
    out, err = checker.communicate(timeout=120)
    assert checker.returncode == 0, err
    assert "waiting for it to finish" in err and "Recovered: a publish was interrupted" in err
    assert "none unexplained" in out
    assert tree_digest(root) == before
    assert not (root / "build" / "swap-journal.json").exists()
