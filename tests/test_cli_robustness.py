"""Every command on a set of bad inputs: each ends in exit code 1 and one `error:` line, never a traceback,
and leaves the folder it was given as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import COMMANDS
from tests.conftest import make_root, tree
from tests.hostile import assert_clear_failure, run_main
from tests.servers import closed_port

SNAPSHOT = "2023_Kazakh_legislative_election.txt"


def kept(root: Path) -> dict:
    """What a failed command must leave as it was: everything but the scratch folder build/."""
    return {k: v for k, v in tree(root).items() if k != "build" and not k.startswith("build/")}


def set_snapshot(root: Path, data: bytes) -> None:
    """Replace the snapshot and make the manifest agree with it (so that the bad bytes reach extract)."""
    (root / "raw" / SNAPSHOT).write_bytes(data)
    manifest = json.loads((root / "raw" / "manifest.json").read_text())
    manifest["snapshots"][0] |= {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (root / "raw" / "manifest.json").write_text(json.dumps(manifest))


def edit_manifest(change):
    def apply(root: Path) -> None:
        manifest = json.loads((root / "raw" / "manifest.json").read_text())
        change(manifest)
        (root / "raw" / "manifest.json").write_text(json.dumps(manifest))

    return apply


def write(relative: str, data: bytes):
    def apply(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)

    return apply


BAD_ROOTS = {
    "no raw folder": lambda root: shutil.rmtree(root / "raw"),
    "no manifest": lambda root: (root / "raw" / "manifest.json").unlink(),
    "manifest not JSON": write("raw/manifest.json", b"{snapshots: ["),
    "manifest not UTF-8": write("raw/manifest.json", b"\xff\xfe{}"),
    "manifest a JSON list": write("raw/manifest.json", b"[]"),
    "manifest a folder": lambda root: (
        (root / "raw" / "manifest.json").unlink(),
        (root / "raw" / "manifest.json").mkdir(),
    ),
    "current names no entry": edit_manifest(lambda m: m.update(current="other.txt")),
    "current not text": edit_manifest(lambda m: m.update(current=["a"])),
    "entry without sha256": edit_manifest(lambda m: m["snapshots"][0].pop("sha256")),
    "bytes as text": edit_manifest(lambda m: m["snapshots"][0].update(bytes="99069")),
    "snapshot path leaves raw/": edit_manifest(
        lambda m: (m["snapshots"][0].update(path="../../etc/passwd"), m.update(current="../../etc/passwd"))
    ),
    "snapshot missing": lambda root: (root / "raw" / SNAPSHOT).unlink(),
    "snapshot edited": lambda root: (root / "raw" / SNAPSHOT).write_bytes(
        (root / "raw" / SNAPSHOT).read_bytes().replace(b"3,431,510", b"3,431,511")
    ),
    "snapshot not UTF-8": lambda root: set_snapshot(root, b"\xff" * 100),
    "snapshot empty": lambda root: set_snapshot(root, b""),
    "snapshot truncated": lambda root: set_snapshot(root, (root / "raw" / SNAPSHOT).read_bytes()[:30_000]),
    "snapshot of another article": lambda root: set_snapshot(root, b"= Main Page =\nWelcome.\n"),
    "a damaged swap journal": lambda root: (
        write("build/swap-journal.json", b"{not json")(root),
        write("build/staging/datapackage.json", b"{}")(root),
    ),
}
RAW_COMMANDS = ["verify-raw", "extract", "validate", "publish", "build"]
# Bytes that match the manifest but cannot be extracted: verify-raw rightly accepts them.
CONTENT_CASES = {"snapshot not UTF-8", "snapshot empty", "snapshot truncated", "snapshot of another article"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_root(tmp_path_factory.mktemp("pristine") / "root")


@pytest.mark.parametrize("command", RAW_COMMANDS)
@pytest.mark.parametrize("case", BAD_ROOTS)
def test_every_command_on_a_bad_root_fails_clearly(case, command, pristine, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(pristine, root)
    BAD_ROOTS[case](root)
    before = kept(root)
    run = run_main("--root", str(root), command)
    if command == "verify-raw" and case in CONTENT_CASES:
        assert run.code == 0 and "matches the manifest" in run.out
    else:
        assert_clear_failure(run, within=30)
    assert kept(root) == before


def test_a_root_that_is_missing_or_a_file(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for command in [*RAW_COMMANDS, "check", "bundle", "site"]:
        for root in (tmp_path / "missing", tmp_path / "a-file"):
            assert_clear_failure(run_main("--root", str(root), command))
    assert not (tmp_path / "missing").exists() and (tmp_path / "a-file").read_text() == "x"


def test_network_commands_with_nothing_to_talk_to(tmp_path, pristine):
    url = closed_port()
    root = tmp_path / "root"
    shutil.copytree(pristine, root)
    before = kept(root)
    assert_clear_failure(run_main("--root", str(root), "fetch", "--api-url", url, "--retries", "0"), "refused")
    assert_clear_failure(
        run_main("download", "--base-url", url, "--dest", str(tmp_path / "d"), "--retries", "0"), "refused"
    )
    assert kept(root) == before and not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nonsense"],
        ["--root"],
        ["publish", "--wait", "x"],
        ["fetch", "--revision"],
        ["download"],
        ["check", "--unknown-option"],
        ["site", "--wait", "-1"],
        ["synth"],
        ["synth", "--stations", "5", "--out", "x"],
        ["synth", "--stations", "100", "--out", "x", "--anomaly", "whole_pct=0.9"],
        ["stations"],
    ],
)
def test_usage_errors_exit_with_code_1(argv):
    assert_clear_failure(run_main(*argv))


def test_every_command_is_covered():
    assert set(COMMANDS) == {
        "verify-raw",
        "extract",
        "validate",
        "publish",
        "check",
        "bundle",
        "site",
        "fetch",
        "download",
        "synth",
        "stations",
    }
