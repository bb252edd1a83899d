"""A publish killed at any point leaves the previous release intact: before the swap processed/ is
untouched; during it, the journal lets the next command put the previous release back whole."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pipeline import ROOT
from pipeline.publish import CRASH_VARIABLE, RELEASE_ITEMS
from tests.conftest import make_root, replace_once, run_cli, tree_digest

SNAPSHOT = "2023_Kazakh_legislative_election.txt"


@pytest.fixture(scope="module")
def release_a(tmp_path_factory, source_text):
    """A root whose published release (A) differs from what its raw/ now builds (B)."""
    root = make_root(tmp_path_factory.mktemp("a"), replace_once(source_text, "Däulet Turlyhanov", "Däulet Turlykhanov"))
    assert run_cli("publish", root=root).returncode == 0
    good = make_root(tmp_path_factory.mktemp("b"))
    shutil.copytree(good / "raw", root / "raw", dirs_exist_ok=True)  # raw/ now holds the pinned snapshot
    return root


@pytest.fixture()
def root(release_a, tmp_path):
    copy = tmp_path / "root"
    shutil.copytree(release_a, copy)
    return copy


def publish_killed_at(root, point):
    env = dict(os.environ, **{CRASH_VARIABLE: point})
    return subprocess.run([sys.executable, "-m", "pipeline", "--root", str(root), "publish"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


BEFORE_SWAP = ["exporting", "staged"]
# Every step of the swap before the last item is in place; once it is, the swap is rolled forward.
DURING_SWAP = ["journal-written"] + [f"{step}:{item}" for item in RELEASE_ITEMS for step in ("moved-aside", "moved-in")
                                     ][:-1]


@pytest.mark.parametrize("point", BEFORE_SWAP)
def test_killed_while_staging_leaves_processed_untouched(root, point):
    before = tree_digest(root)
    result = publish_killed_at(root, point)
    assert result.returncode == -signal.SIGKILL
    assert tree_digest(root) == before  # no recovery needed: nothing was touched


@pytest.mark.parametrize("point", DURING_SWAP)
def test_killed_while_swapping_is_rolled_back_by_the_next_command(root, point):
    before = tree_digest(root)
    assert publish_killed_at(root, point).returncode == -signal.SIGKILL
    assert (root / "build" / "swap-journal.json").exists()
    result = run_cli("verify-raw", root=root)
    assert result.returncode == 0 and "Recovered" in result.stderr
    assert tree_digest(root) == before
    assert not (root / "build" / "swap-journal.json").exists()


@pytest.mark.parametrize("point", [f"moved-in:{RELEASE_ITEMS[-1]}", "committed"])
def test_killed_once_everything_is_in_place_keeps_the_new_release(root, fresh_build, point):
    assert publish_killed_at(root, point).returncode == -signal.SIGKILL
    run_cli("verify-raw", root=root)  # rolls a complete swap forward
    assert not (root / "build" / "swap-journal.json").exists()
    assert tree_digest(root) == tree_digest(fresh_build)


def test_a_command_does_not_recover_a_swap_another_process_is_doing(root):
    from pipeline.publish import recover, release_lock

    (root / "build").mkdir(exist_ok=True)
    (root / "build" / "swap-journal.json").write_text('{"state": "swapping", "existed": {}}')
    with release_lock(root):
        assert recover(root) is False  # the lock is held: leave the swap alone
    assert (root / "build" / "swap-journal.json").exists()


@pytest.mark.parametrize("delay", [0.4, 0.8, 1.1, 1.4])
def test_killed_at_a_random_moment_leaves_one_whole_release(root, fresh_build, delay):
    before, after = tree_digest(root), tree_digest(fresh_build)
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "--root", str(root), "publish"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    run_cli("verify-raw", root=root)  # recovers if the kill fell inside the swap
    assert tree_digest(root) in (before, after)
