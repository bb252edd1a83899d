"""A publish killed at any point leaves the previous release intact: before the swap processed/ is
untouched; during it, the journal lets the next command put the previous release back whole.

The kills before the swap and at random moments run whole publishes. The kills at each step of the
swap run the swap alone (`pipeline.release.swap_in`, the function publish calls once the release is
staged) on a staged copy of a fresh build: the same code at the same points, without rebuilding."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pipeline import ROOT
from pipeline.release.swap import RELEASE_ITEMS
from tests import forkserver
from tests.conftest import run_cli, tree_digest, without_staged_releases

SNAPSHOT = "2023_Kazakh_legislative_election.txt"


@pytest.fixture()
def root(stale_release, tmp_path):
    """A root whose published release (A) differs from what its raw/ now builds (B)."""
    copy = tmp_path / "root"
    shutil.copytree(stale_release, copy)
    return copy


def publish_killed_at(root, point):
    """`python -m pipeline --root ROOT publish`, killed right after the step `point` (tests/crash.py); the
    release staged anew (a test using this asks for the `staged_anew` fixture), as long as that takes."""
    return forkserver.run([point, "--root", str(root), "publish"], ROOT, 120, module="tests.crash")


def stage_copy(root, fresh_build):
    """The fresh build's release, staged in root/build/staging as publish stages one."""
    stage = root / "build" / "staging"
    for item in RELEASE_ITEMS:
        (stage / item).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (fresh_build / item).is_dir() else shutil.copy2
        copy(fresh_build / item, stage / item)
    return stage


def swap_killed_at(root, fresh_build, point):
    """Stage the fresh build's release in root/build/staging, then swap it in, killed at `point`."""
    stage_copy(root, fresh_build)
    return forkserver.run([point, "--swap-only", str(root)], ROOT, 60, module="tests.crash")


BEFORE_SWAP = ["exporting", "staged"]
# Every step of the swap before the last item is in place; once it is, the swap is rolled forward.
DURING_SWAP = ["journal-written"] + [
    f"{step}:{item}" for item in RELEASE_ITEMS for step in ("moved-aside", "moved-in")
][:-1]


@pytest.mark.parametrize("point", BEFORE_SWAP)
def test_killed_while_staging_leaves_processed_untouched(root, point, staged_anew):
    before = tree_digest(root)
    result = publish_killed_at(root, point)
    assert result.returncode == -signal.SIGKILL
    assert tree_digest(root) == before  # no recovery needed: nothing was touched


@pytest.mark.parametrize("point", DURING_SWAP)
def test_killed_while_swapping_is_rolled_back_by_the_next_command(root, fresh_build, point):
    before = tree_digest(root)
    assert swap_killed_at(root, fresh_build, point).returncode == -signal.SIGKILL
    assert (root / "build" / "swap-journal.json").exists()
    result = run_cli("verify-raw", root=root)
    assert result.returncode == 0 and "Recovered" in result.stderr
    assert tree_digest(root) == before
    assert not (root / "build" / "swap-journal.json").exists()


@pytest.fixture()
def staged_before(tmp_path, monkeypatch):
    """A build cache holding what the repository's holds, its staged releases included (linked, as `staged_anew`
    links the rest): a publish of root's snapshot restores its release from it (fresh_build left it there) and
    goes on to the same swap as after staging anew (pipeline/publish/run.py), without the second of staging
    that a kill at the commit point, long after, does not depend on."""
    monkeypatch.setenv("PIPELINE_CACHE", str(without_staged_releases(tmp_path / "cache", skip=())))


@pytest.mark.parametrize("point", [f"moved-in:{RELEASE_ITEMS[-1]}", "committed"])
def test_killed_once_everything_is_in_place_keeps_the_new_release(root, fresh_build, point, staged_before):
    killed = publish_killed_at(root, point) if point == "committed" else swap_killed_at(root, fresh_build, point)
    assert killed.returncode == -signal.SIGKILL
    run_cli("verify-raw", root=root)  # rolls a complete swap forward
    assert not (root / "build" / "swap-journal.json").exists()
    assert tree_digest(root) == tree_digest(fresh_build)


def test_a_command_does_not_recover_a_swap_another_process_is_doing(root):
    from pipeline.common.lock import build_lock
    from pipeline.release.swap import recover

    (root / "build").mkdir(exist_ok=True)
    (root / "build" / "swap-journal.json").write_text('{"state": "swapping", "existed": {}}')
    with build_lock(root, "publish"):
        assert recover(root) is False  # the lock is held: leave the swap alone
    assert (root / "build" / "swap-journal.json").exists()


@pytest.fixture(scope="module")
def publish_seconds(stale_release, tmp_path_factory) -> float:
    """How long a publish of `root` takes here, staging its release anew (measured once)."""
    folder = tmp_path_factory.mktemp("reference")
    shutil.copytree(stale_release, folder / "root")
    env = os.environ | {"PIPELINE_CACHE": str(without_staged_releases(folder / "cache"))}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pipeline", "--root", str(folder / "root"), "publish"], env=env, check=True)
    return time.monotonic() - started


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.55])
def test_killed_at_a_random_moment_leaves_one_whole_release(root, fresh_build, fraction, staged_anew, publish_seconds):
    """Killed at a fraction of the time a publish takes here: while it imports, stages, or swaps."""
    before, after = tree_digest(root), tree_digest(fresh_build)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--root", str(root), "publish"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(fraction * publish_seconds)
    assert process.poll() is None, f"the publish ended within {fraction * publish_seconds:.2f} s: the kill came late"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    run_cli("verify-raw", root=root)  # recovers if the kill fell inside the swap
    assert tree_digest(root) in (before, after)


@pytest.mark.parametrize("tamper", ["edit a file", "add a file", "drop a file"])
def test_a_staged_release_that_does_not_match_its_descriptor_is_never_swapped_in(root, fresh_build, tamper):
    from pipeline.common.errors import PipelineError
    from pipeline.common.lock import build_lock
    from pipeline.release.swap import swap_in

    stage = stage_copy(root, fresh_build)
    if tamper == "edit a file":
        (stage / "processed" / "regions.csv").write_text("region_id\nKZ-00\n")
    elif tamper == "add a file":
        (stage / "processed" / "tmp_party_list_results.parquet").write_bytes(b"PAR1")
    else:
        (stage / "processed" / "kz_election_2023.duckdb").unlink()
    before = tree_digest(root)
    with build_lock(root, "test"), pytest.raises(PipelineError, match="does not match its own descriptor"):
        swap_in(stage, root)
    assert tree_digest(root) == before
