"""Damaged files and arguments (issue 20, items 5 to 15): each gives one clear line naming the file, exit
code 1, nothing written, no traceback and no hang; or, where nothing is wrong with what the command was
asked to do, it does it without being thrown off."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline import ROOT
from pipeline.net.client import Limits
from pipeline.net.download import download
from tests import forkserver
from tests.conftest import CURRENT, NEXT, NEXT_DATE, run_cli, tree
from tests.hostile import assert_clear_failure, run_main
from tests.servers import Scripted, ok, serve


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A small synthetic set of station returns, against the repository's release."""
    out = tmp_path_factory.mktemp("synth") / "set"
    run = run_main("synth", "--stations", "60", "--seed", "3", "--out", str(out))
    assert run.code == 0, run.err
    return out


# Most tests here break a copy of a published root, and only outside its processed/: they take conftest's
# published_linked (processed/ linked, not copied); the tests that write into processed/ themselves take
# published_copy.


def station_set(synthetic, folder: Path) -> Path:
    shutil.copytree(synthetic, folder)
    return folder


def descriptor_of(root: Path) -> dict:
    return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))


def set_descriptor(root: Path, package: dict) -> None:
    (root / "datapackage.json").write_text(json.dumps(package, indent=2), encoding="utf-8")


# Item 5 and 11: the bundle takes its names from the package's metadata and packs only the release's files.
def _first_resource(package: dict, **edit) -> dict:
    return package | {"resources": [package["resources"][0] | edit, *package["resources"][1:]]}


@pytest.mark.parametrize(
    "edit, phrase",
    [
        (lambda p: p | {"name": "../../x"}, "(first difference: name: '../../x')"),
        (lambda p: p | {"name": "../*"}, "(first difference: name: '../*')"),
        (lambda p: {k: v for k, v in p.items() if k != "created"}, "(first difference: created: missing)"),
        (lambda p: {k: v for k, v in p.items() if k != "version"}, "(first difference: version: missing)"),
        (lambda p: p | {"resources": {"path": "processed/regions.csv"}}, "(first difference: resources: {'path'"),
        (lambda p: p | {"resources": ["processed/regions.csv"]}, "(first difference: resources: ['processed/"),
        (
            lambda p: p | {"resources": [*p["resources"], {"path": "/etc/hostname", "hash": _etc_hostname()}]},
            "(first difference: resources: [",
        ),
        (
            lambda p: _first_resource(p, path="../outside.txt"),
            "(first difference: resources[0] (processed/regions.csv).path: '../outside",
        ),
        (lambda p: p | {"resources": p["resources"][1:]}, "(first difference: resources: ["),
        (
            lambda p: p | {"licenses": [{"name": "proprietary"}]},
            "licenses[0] (https://creativecommons.org/licenses/by-sa/4.0/).name: 'propri",
        ),
        (lambda p: _first_resource(p, bytes=1), "(first difference: resources[0] (processed/regions.csv).bytes: 1)"),
        (
            lambda p: _first_resource(p, description="FORGED"),
            "(first difference: resources[0] (processed/regions.csv).description: 'FO",
        ),
    ],
    ids=[
        "name with ..",
        "name with a glob",
        "no created",
        "no version",
        "resources an object",
        "resources text",
        "a file outside",
        "a path with ..",
        "a file left out",
        "licence",
        "bytes",
        "description",
    ],
)
def test_the_bundle_trusts_no_name_or_path_of_the_descriptor(published_linked, edit, phrase):
    (published_linked / "dist").mkdir()
    decoy = published_linked.parent / "x-2026.11.25.zip"  # what `"name": "../../x"` wrote and then removed
    decoy.write_bytes(b"a user's file")
    set_descriptor(published_linked, edit(descriptor_of(published_linked)))
    before = tree(published_linked.parent)
    assert_clear_failure(run_main("--root", str(published_linked), "bundle"), "error: [bundle]", phrase)
    assert tree(published_linked.parent) == before and decoy.read_bytes() == b"a user's file"


def _etc_hostname() -> str:
    import hashlib

    path = Path("/etc/hostname")
    return "sha256:" + hashlib.sha256(path.read_bytes() if path.is_file() else b"").hexdigest()


def test_the_bundle_of_another_release_needs_its_own_citation(published_linked, source_text):
    from tests.conftest import add_snapshot, next_release, replace_once

    next_release(
        published_linked, add_snapshot(published_linked, replace_once(source_text, "| 2:30:13 |", "| 2:31:13 |"))
    )
    assert run_cli("publish", "--accept-changes", "A. Reviewer", root=published_linked).returncode == 0
    run = run_main("--root", str(published_linked), "bundle")
    assert_clear_failure(run, f"CITATION.cff cites version '{CURRENT}', not the release {NEXT}")
    citation = (
        (ROOT / "CITATION.cff").read_text(encoding="utf-8").replace(f'version: "{CURRENT}"', f'version: "{NEXT}"')
    )
    (published_linked / "CITATION.cff").write_text(citation, encoding="utf-8")
    run = run_main("--root", str(published_linked), "bundle")
    assert run.code == 0, run.err
    import zipfile

    with zipfile.ZipFile(published_linked / "dist" / f"kz-election-2023-{NEXT}.zip") as archive:
        changelog = archive.read(f"kz-election-2023-{NEXT}/CHANGELOG.md").decode("utf-8")
    assert f"## {NEXT} ({NEXT_DATE})" in changelog and "- `debates`: 1 value changed" in changelog


def test_the_bundle_removes_only_its_own_older_bundles(published_linked):
    dist = published_linked / "dist"
    (dist / "kz-election-2023-2026.11.01.zip").mkdir(parents=True)  # a folder named like one: kept
    (dist / "kz-election-2023-2026.11.02.zip").write_bytes(b"an older bundle")
    (dist / "kz-election-2023-2026.11.02-excel.zip").write_bytes(b"its CSVs for Excel")
    (dist / "kz-election-2023-notes.zip").write_bytes(b"a user's file")
    run = run_main("--root", str(published_linked), "bundle")
    assert run.code == 0, run.err
    assert sorted(p.name for p in dist.iterdir()) == [
        "datapackage.json",
        "kz-election-2023-2026.11.01.zip",
        f"kz-election-2023-{CURRENT}-excel.zip",
        f"kz-election-2023-{CURRENT}.zip",
        "kz-election-2023-notes.zip",
    ]


# Item 6: `stations --json` never writes into the release or the repository.
@pytest.mark.parametrize(
    "target",
    [
        "processed/x.json",
        "datapackage.json",
        "docs/quality_report.md",
        "raw/x.json",
        "pipeline/common/defaults.py",
        "x.json",
    ],
)
def test_stations_json_never_writes_into_the_release(synthetic, published_linked, target):
    before = tree(published_linked)
    run = run_main(
        "--root", str(published_linked), "stations", str(synthetic), "--json", str(published_linked / target)
    )
    assert_clear_failure(run, "error: [stations]", str(published_linked / target))
    assert tree(published_linked) == before


@pytest.mark.parametrize("target", ["pipeline/never-written.json", ".git/never-written.json", "never-written.json"])
def test_stations_json_never_writes_into_the_repository(synthetic, target):
    run = run_main("stations", str(synthetic), "--json", str(ROOT / target))
    assert_clear_failure(run, "error: [stations]", "the repository")
    assert not (ROOT / target).exists()


def test_stations_json_writes_where_it_may(synthetic, tmp_path):
    run = run_main("stations", str(synthetic), "--json", str(tmp_path / "results.json"))
    assert run.code == 0, run.err
    assert json.loads((tmp_path / "results.json").read_text())["counts"]["stations"] == 60


# Item 7: a merge conflict in the committed, generated descriptor.
CONFLICT = "<<<<<<< HEAD\n{}\n=======\n{}\n>>>>>>> theirs\n"


@pytest.mark.parametrize("command", ["site", "bundle"])
def test_a_merge_conflict_in_the_descriptor_is_named(published_linked, command):
    (published_linked / "datapackage.json").write_text(CONFLICT, encoding="utf-8")
    before = tree(published_linked)
    run = run_main("--root", str(published_linked), command)
    assert_clear_failure(run, f"error: [{command}]", "datapackage.json holds a merge conflict", "run `make`")
    assert tree(published_linked) == before


def test_publish_rebuilds_a_conflicted_descriptor(published_linked):
    """publish never reads the published descriptor: it rebuilds it."""
    good = (published_linked / "datapackage.json").read_bytes()
    (published_linked / "datapackage.json").write_text(CONFLICT, encoding="utf-8")
    assert run_cli("publish", root=published_linked).returncode == 0
    assert (published_linked / "datapackage.json").read_bytes() == good


def test_publish_never_waits_on_a_published_file(published_linked):
    """publish reads the published files only to say what the code changes: a FIFO there (or a damaged
    file) is passed over, never waited on."""
    for fifo in ("datapackage.json", "processed/regions.csv"):
        (published_linked / fifo).unlink()
        os.mkfifo(published_linked / fifo)
    result = run_cli("publish", root=published_linked)
    assert result.returncode == 0, result.stderr
    assert (published_linked / "datapackage.json").is_file() and (published_linked / "processed/regions.csv").is_file()


def test_a_failed_swap_takes_the_acceptance_back(published_linked, source_text, monkeypatch):
    from pipeline.common.errors import PipelineError
    from pipeline.release import swap
    from tests.conftest import add_snapshot, next_release, replace_once

    next_release(
        published_linked, add_snapshot(published_linked, replace_once(source_text, "| 2:30:13 |", "| 2:31:13 |"))
    )
    before = tree(published_linked)

    def full_disk(stage, root):
        raise PipelineError("publish", "could not swap the new release in: No space left on device")

    monkeypatch.setattr(swap, "swap_in", full_disk)
    run = run_main("--root", str(published_linked), "publish", "--accept-changes", "A. Reviewer")
    assert_clear_failure(run, "No space left on device", within=30)
    after = {k: v for k, v in tree(published_linked).items() if not k.startswith("build")}
    assert after == {k: v for k, v in before.items() if not k.startswith("build")}  # no record left behind


@pytest.mark.parametrize("document", ["CHANGELOG.md", "README.md"])
def test_a_damaged_root_document_stops_before_the_swap(published_linked, document):
    (published_linked / document).write_bytes(b"x\xff\n")
    shutil.rmtree(published_linked / "processed")
    before = tree(published_linked)
    result = run_cli("publish", root=published_linked)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{document} is not UTF-8 (byte 1); nothing was published" in result.stderr.splitlines()[-1]
    assert {k: v for k, v in tree(published_linked).items() if not k.startswith("build")} == {
        k: v for k, v in before.items() if not k.startswith("build")
    }


@pytest.mark.parametrize("fifo", ["raw/manifest.json", f"releases/changes/{NEXT}.yaml", "releases/releases.yaml"])
def test_a_fifo_among_the_inputs_is_named_not_waited_on(published_linked, source_text, fifo):
    from tests.conftest import add_snapshot, next_release, replace_once

    next_release(
        published_linked, add_snapshot(published_linked, replace_once(source_text, "| 2:30:13 |", "| 2:31:13 |"))
    )
    (published_linked / fifo).parent.mkdir(parents=True, exist_ok=True)
    (published_linked / fifo).unlink(missing_ok=True)
    os.mkfifo(published_linked / fifo)
    result = run_cli("publish", root=published_linked)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{fifo.split('/')[-1]}" in result.stderr and "is not a regular file" in result.stderr


def test_make_rebuilds_a_conflicted_descriptor_whatever_its_time_stamp(tmp_path):
    """The Makefile makes the descriptor out of date when a generated file holds a conflict marker."""
    for folder in (
        "raw",
        "schemas",
        "errata",
        "sources",
        "elections",
        "forensics",
        "releases",
        "pipeline",
        "processed",
        "docs",
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x").write_text("x")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    now = time.time()
    for name, age in (("requirements.lock", 100), ("requirements-tools.lock", 100), ("installed", 50)):
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (now - age, now - age))
    stamp = tmp_path / "installed"
    (tmp_path / "datapackage.json").write_text("{}\n")
    os.utime(tmp_path / "datapackage.json", (now + 60, now + 60))  # newer than every input

    def up_to_date() -> bool:
        command = ["make", "-q", "-C", str(tmp_path), "datapackage.json", f"STAMP={stamp}"]
        return subprocess.run(command, capture_output=True).returncode == 0

    assert up_to_date()
    (tmp_path / "processed" / "regions.csv").write_text("<<<<<<< HEAD\nregion_id\n=======\n>>>>>>> x\n")
    assert not up_to_date()


# Item 8: `site` on a truncated database.
def test_site_on_a_truncated_database_names_it(published_copy):
    database = published_copy / "processed" / "kz_election_2023.duckdb"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 3])
    before = tree(published_copy)
    run = run_main("--root", str(published_copy), "site")
    assert_clear_failure(run, "error: [site]", "(processed/kz_election_2023.duckdb).bytes", within=10)
    assert tree(published_copy) == before


# Item 9: a station folder's datapackage.json is read only as a small regular file.
def _deep(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000)


def _zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _sparse(path: Path) -> None:
    with path.open("wb") as file:
        file.truncate(2**30)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


PLANTED = {"deep nesting": _deep, "link to /dev/zero": _zero, "1 GB sparse file": _sparse, "FIFO": _fifo}
PLANTED_PHRASE = {
    "deep nesting": "nests its arrays or objects too deep",
    "link to /dev/zero": "is not a regular file",
    "1 GB sparse file": "has 1,073,741,824 bytes, more than the 1,048,576 read",
    "FIFO": "is not a regular file",
}


@pytest.mark.parametrize("kind", PLANTED)
def test_a_damaged_station_descriptor_is_refused_at_once(synthetic, tmp_path, kind):
    folder = station_set(synthetic, tmp_path / "set")
    (folder / "datapackage.json").unlink()
    PLANTED[kind](folder / "datapackage.json")
    run = run_main("stations", str(folder))
    assert_clear_failure(run, "error: [stations]", str(folder / "datapackage.json"), PLANTED_PHRASE[kind], within=3)


@pytest.mark.parametrize("kind", PLANTED)
def test_a_file_planted_above_the_output_neither_breaks_nor_hangs_synth(tmp_path, kind):
    PLANTED[kind](tmp_path / "datapackage.json")
    run = run_main("synth", "--stations", "40", "--out", str(tmp_path / "set"))
    assert run.code == 0 and run.seconds < 10, run.err
    assert (tmp_path / "set" / "stations.parquet").is_file()


# Item 10: a damaged --release folder.
def _garbage(release: Path) -> None:
    (release / "region_ballots.parquet").write_bytes(b"PAR1 this is not parquet PAR1")


def _wrong_table(release: Path) -> None:
    shutil.copy(release / "regions.parquet", release / "region_ballots.parquet")


def _missing_column(release: Path) -> None:
    con = duckdb.connect()
    path = release / "region_ballots.parquet"
    con.execute(f"CREATE TABLE t AS SELECT * EXCLUDE (registered_voters_count) FROM read_parquet('{path}')")
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()


@pytest.mark.parametrize(
    "damage, phrase",
    [
        (_garbage, "region_ballots.parquet cannot be read as Parquet"),
        (_wrong_table, "region_ballots.parquet is not the published table region_ballots"),
        (_missing_column, "is not the published table region_ballots (column registered_voters_count: the column is"),
    ],
    ids=["garbage", "another table", "a column missing"],
)
@pytest.mark.parametrize("command", ["stations", "synth"])
def test_a_damaged_release_folder_is_named(synthetic, tmp_path, damage, phrase, command):
    release = tmp_path / "release"
    shutil.copytree(ROOT / "processed", release, ignore=shutil.ignore_patterns("*.csv", "*.duckdb"))
    damage(release)
    out = tmp_path / "out"
    argv = [str(synthetic)] if command == "stations" else ["--stations", "40", "--out", str(out)]
    run = run_main(command, *argv, "--release", str(release))
    assert_clear_failure(run, f"the release folder {release}", phrase)
    assert not out.exists()


# Item 12: what comes from a file reaches the terminal escaped.
def test_control_characters_from_a_file_are_escaped_in_every_message(synthetic, tmp_path):
    folder = station_set(synthetic, tmp_path / "set")
    con = duckdb.connect()
    path = folder / "stations.parquet"
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    first = "(SELECT min(station_id) FROM t)"
    con.execute(f"UPDATE t SET station_id = 'x' || chr(10) || chr(27) || '[2J' WHERE station_id = {first}")
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()
    run = run_main("stations", str(folder))
    error = assert_clear_failure(run, "x\\x0a\\x1b[2J")
    assert "\x1b" not in run.err and "\x1b" not in run.out and error.count("\n") == 0
    # and in a real process, on its real stderr (a child of the fork server: its file descriptor 2 is a file)
    result = run_cli("stations", str(folder))
    assert result.returncode == 1 and "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


# Item 13: synth replaces only the regular files it wrote.
def test_synth_never_deletes_a_users_folder(synthetic, tmp_path):
    folder = station_set(synthetic, tmp_path / "set")
    (folder / "stations.parquet").unlink()
    (folder / "stations.parquet").mkdir()
    (folder / "stations.parquet" / "mine.txt").write_text("a user's file")
    run = run_main("synth", "--stations", "40", "--out", str(folder))
    assert_clear_failure(run, "holds other files than an earlier synthetic set")
    assert (folder / "stations.parquet" / "mine.txt").read_text() == "a user's file"
    again = station_set(synthetic, tmp_path / "again")  # an earlier set is replaced as before
    assert run_main("synth", "--stations", "40", "--out", str(again)).code == 0
    assert not list(tmp_path.glob(".again.*"))


# Item 14: a slow server: said up front, and progress on a terminal.
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_slow_server_is_announced_with_progress_on_a_terminal(fresh_build, tmp_path):
    served = tmp_path / "served"
    (served / "processed").mkdir(parents=True)
    package = descriptor_of(fresh_build)
    package["resources"] = [r for r in package["resources"] if r["path"] == "processed/regions.csv"]
    for resource in package["resources"]:
        shutil.copy(fresh_build / resource["path"], served / resource["path"])
    body = json.dumps(package).encode()
    files = {"/datapackage.json": body} | {
        f"/{r['path']}": (served / r["path"]).read_bytes() for r in package["resources"]
    }

    def slow(path, number):  # every answer after a second
        return ok(files[path], "application/octet-stream")[:3] + (1.0, 0)

    terminal = _Terminal()
    with serve(Scripted, script=slow) as (url, _):
        download(url, tmp_path / "dest", limits=Limits(timeout=5, deadline=60, retries=0), progress=terminal)
    shown = terminal.getvalue()
    assert "download: reading " in shown.splitlines()[0]
    assert "download: 1 file (" in shown  # (a second at least, more on a loaded machine)
    assert re.search(r"0 up to date; the descriptor took [1-9]\d* s, so this may take about [1-9][\d.]* s", shown)
    assert "(the command stops after 60 s: --deadline)" in shown
    assert "0 of 1 files, 0 of " in shown and "1 of 1 files, " in shown


# Item 15: stdout or stderr closed.
@pytest.mark.parametrize("command", [["--version"], ["verify-raw"], ["extract"], ["download"]])
def test_a_closed_stdout_or_stderr_is_no_crash(command):
    python = f"{sys.executable} -m pipeline {' '.join(command)}"
    for closed in (">&-", "2>&-", ">&- 2>&-") if command != ["extract"] else (">&-",):
        result = subprocess.run(["sh", "-c", f"{python} {closed}"], cwd=ROOT, capture_output=True, timeout=60)
        expected = 1 if command == ["download"] else 0  # (download: --base-url is missing: a usage error)
        assert result.returncode == expected, (closed, result.stderr)
        assert b"Traceback" not in result.stderr


# From a second hostile review: variants of the items above.
@pytest.mark.parametrize("target", [".", "elsewhere"])
def test_the_bundle_never_follows_a_dist_link(published_linked, tmp_path, target):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "kz-election-2023-2026.11.01.zip").write_bytes(b"a user's file")
    (published_linked / "dist").symlink_to(elsewhere if target == "elsewhere" else Path("."))
    before, outside = tree(published_linked), tree(elsewhere)
    assert_clear_failure(run_main("--root", str(published_linked), "bundle"), "is not a folder of its own")
    assert tree(published_linked) == before and tree(elsewhere) == outside


def test_a_tampered_descriptor_or_database_never_reaches_the_portal(published_copy):
    descriptor = published_copy / "datapackage.json"
    good = descriptor.read_text(encoding="utf-8")
    before = tree(published_copy)
    for text in (
        good.replace(f'"version": "{CURRENT}"', '"version": "1999.01.01"'),
        good.replace('"name": "kz-election-2023",', '"name": "../../evil",\n  "name": "kz-election-2023",', 1),
    ):
        descriptor.write_text(text, encoding="utf-8")
        run = run_main("--root", str(published_copy), "site")
        assert_clear_failure(run, "error: [site]", f"is not the descriptor of release {CURRENT}", within=10)
    descriptor.write_text(good, encoding="utf-8")
    database = published_copy / "processed" / "kz_election_2023.duckdb"
    data = bytearray(database.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)  # a corrupt block in the middle
    database.write_bytes(bytes(data))
    run = run_main("--root", str(published_copy), "site")
    assert_clear_failure(run, "error: [site]", "first difference: resources[", within=10)
    assert {k: v for k, v in tree(published_copy).items() if "duckdb" not in k} == {
        k: v for k, v in before.items() if "duckdb" not in k
    }


@pytest.mark.parametrize(
    "appended, phrase",
    [
        ("- {? [a, b] : 1}\n", "a key that is not a plain value"),
        (
            f"- {{version: '{NEXT}', previous_version: '{CURRENT}', snapshot_sha256: '" + "a" * 64 + "', "
            "previous_snapshot_sha256: '" + "a" * 64 + "', accepted_by: x, accepted_at: '2026-11-26T00:00:00Z', "
            "changes_sha256: '" + "a" * 64 + "', changes: [{table_name: null, record_key: k, column_name: c, "
            "change_kind: changed, old_value: a, new_value: b}]}\n",
            "changes must be a list of",
        ),
        (
            f"- {{version: '{NEXT}', previous_version: '{CURRENT}', snapshot_sha256: '" + "a" * 64 + "', "
            "previous_snapshot_sha256: '" + "a" * 64 + "', accepted_by: x, accepted_at: '9999-12-31T23:00:00-05:00', "
            "changes_sha256: '" + "a" * 64 + "', changes: []}\n",
            "is not a time",
        ),
    ],
    ids=["a list as a key", "a null table name", "a time out of range"],
)
def test_an_acceptance_that_only_grew_never_crashes_the_build(published_linked, source_text, appended, phrase):
    from tests.conftest import add_snapshot, next_release, replace_once

    next_release(
        published_linked, add_snapshot(published_linked, replace_once(source_text, "| 2:30:13 |", "| 2:31:13 |"))
    )
    record = published_linked / "releases" / "changes" / f"{NEXT}.yaml"
    record.parent.mkdir(parents=True)
    record.write_text(appended, encoding="utf-8")
    for command in ("publish", "extract"):
        result = run_cli(command, root=published_linked)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert phrase in result.stderr.strip().splitlines()[-1]


def test_a_retrieval_time_out_of_range_is_no_crash(published_linked):
    manifest_path = published_linked / "raw" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["snapshots"][0] |= {"retrieved_at": "0001-01-01T05:00:00Z", "retrieved_between": None}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    result = run_cli("publish", root=published_linked)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "gives no retrieval date" in result.stderr


def test_a_merge_conflict_in_the_citation_or_pyproject_is_named(published_linked, tmp_path, monkeypatch):
    (published_linked / "CITATION.cff").write_text("<<<<<<< HEAD\nversion: '1'\n=======\nversion: '2'\n>>>>>>> x\n")
    assert_clear_failure(run_main("--root", str(published_linked), "bundle"), "CITATION.cff is not valid YAML")
    from pipeline.release import history

    (tmp_path / "pyproject.toml").write_text('<<<<<<< HEAD\n[project]\nversion = "1"\n=======\n>>>>>>> x\n')
    monkeypatch.setattr(history, "ROOT", tmp_path)
    assert_clear_failure(run_main("--version"), "cannot read the version in")
    assert run_main("--root", str(published_linked), "verify-raw").code == 0  # the other commands still work


def test_a_fifo_in_a_station_folder_is_never_opened(synthetic, tmp_path):
    folder = station_set(synthetic, tmp_path / "set")
    os.mkfifo(folder / "aa.parquet")  # not a table of the package
    assert run_main("stations", str(folder)).code == 0
    (folder / "station_votes.parquet").unlink()
    os.mkfifo(folder / "station_votes.parquet")
    assert_clear_failure(run_main("stations", str(folder)), "station_votes.parquet is not a regular file")


def test_a_line_end_in_a_published_value_forges_no_line(published_copy):
    with (published_copy / "processed" / "election_timetable.csv").open("a", encoding="utf-8") as file:
        file.write('"Fake\r\nerror: [publish] forged line, nothing was published.",2023-01-01,2023-01-01,\n')
    result = run_cli("publish", root=published_copy)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Fake\\r\\nerror" in result.stderr


def test_a_release_folder_damaged_inside_is_named(synthetic, tmp_path):
    release = tmp_path / "release"
    shutil.copytree(ROOT / "processed", release, ignore=shutil.ignore_patterns("*.csv", "*.duckdb"))
    path = release / "region_ballots.parquet"
    data = bytearray(path.read_bytes())
    data[8:600] = bytes(range(256)) * 2 + bytes(range(80))
    path.write_bytes(bytes(data))
    run = run_main("stations", str(synthetic), "--release", str(release))
    assert_clear_failure(run, f"the release folder {release}: region_ballots.parquet cannot be read as Parquet")


@pytest.mark.parametrize("fifo", ["build/lock-holder", "build/swap-journal.json"])
def test_a_fifo_in_the_scratch_folder_hangs_nothing(published_linked, fifo):
    (published_linked / "build" / "staging" / "processed").mkdir(parents=True)
    os.mkfifo(published_linked / fifo)
    # (a child of the fork server, as run_cli runs one, but stopped after 30 s: a hang fails the test at once)
    result = forkserver.run(["--root", str(published_linked), "verify-raw"], cwd=ROOT, timeout=30)
    assert "Traceback" not in result.stderr
    if fifo.endswith("journal.json"):
        assert result.returncode == 1 and "is damaged (not a small regular file)" in result.stderr
    else:
        assert result.returncode == 0 and run_cli("publish", root=published_linked).returncode == 0


def test_accepting_for_a_root_without_its_own_release_list_is_refused(published_linked, source_text):
    from tests.conftest import add_snapshot, replace_once

    add_snapshot(published_linked, replace_once(source_text, "| 2:30:13 |", "| 2:31:13 |"))
    result = run_cli("publish", "--accept-changes", "X", root=published_linked)
    assert result.returncode == 1 and "a new snapshot is a new release" in result.stderr
    assert not list((ROOT / "releases").glob("changes/*"))
