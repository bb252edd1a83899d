"""A release users can cite and trust: the licences, the citation (valid under the CFF schema), one
version everywhere, and the gate that shows every changed value of a new snapshot and publishes it only
once accepted."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import tomllib
import zipfile

import duckdb
import jsonschema
import pytest
import yaml

from pipeline import ROOT, bundle, releases
from pipeline.errors import PipelineError
from tests.conftest import database, make_root, next_release, replace_once, run_cli, tree_digest
from tests.servers import serve_folder

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
# A value the article states once, with nothing to check it against: district 1's winner.
WINNER, EDITED_WINNER = "Däulet Turlyhanov", "Däulet Turlykhanov"


def test_the_code_and_the_data_have_their_licences_and_the_readme_states_both():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    data = (ROOT / "LICENSE-DATA.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in data and "Wikipedia contributors" in data and "quotation right" in data
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[`LICENSE`](LICENSE)" in readme and "[`LICENSE-DATA.md`](LICENSE-DATA.md)" in readme
    assert PYPROJECT["project"]["license"] == {"text": "Code: MIT; data: CC BY-SA 4.0"}


def test_the_citation_is_valid_cff_and_cites_this_version():
    schema = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text(encoding="utf-8"))
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    citation["date-released"] = citation["date-released"].isoformat()  # CFF dates are strings
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(citation)
    assert citation["version"] == VERSION and citation["license"] == "CC-BY-SA-4.0"
    assert citation["references"][0]["url"] == "https://en.wikipedia.org/wiki/2023_Kazakh_legislative_election"
    broken = citation | {"date-released": "25 November 2026"}
    with pytest.raises(jsonschema.ValidationError):  # the validation can fail
        jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(broken)


def test_one_version_everywhere(fresh_build):
    (newest, *_) = releases.history()
    assert newest["version"] == VERSION == releases.version()
    assert dt.date(*map(int, VERSION.split(".")[:3])) == newest["release_date"]  # CalVer: the release date
    descriptor = json.loads((fresh_build / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["version"] == VERSION and descriptor["created"] == f"{newest['release_date']}T00:00:00Z"
    # The project has no public address yet: no homepage, rather than the article (which is a source).
    assert "homepage" not in descriptor and descriptor["sources"][0]["path"].startswith("https://en.wikipedia.org/")
    cli = run_cli("--version")
    assert cli.returncode == 0 and cli.stdout.strip() == f"kz-election-2023 {VERSION}"
    con = duckdb.connect(str(database(fresh_build)), read_only=True)
    try:
        assert con.execute("SELECT version, release_date FROM releases ORDER BY version DESC LIMIT 1").fetchone() == (
            VERSION,
            newest["release_date"],
        )
    finally:
        con.close()
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog == releases.changelog(releases.tables()) and f"## {VERSION} (" in changelog


def test_the_snapshot_says_how_precisely_its_retrieval_date_is_known():
    (entry,) = json.loads((ROOT / "raw" / "manifest.json").read_text(encoding="utf-8"))["snapshots"]
    assert entry["retrieved_at"] == "2026-11" and entry["retrieved_at_precision"] == "month"
    assert entry["retrieved_between"] == ["2026-11-01", "2026-11-25"]


NEXT = "2026.11.26"


def new_revision(root, text: str, folder) -> str:
    """Put an edited revision of the article into root/raw/; returns its sha256."""
    shutil.copytree(make_root(folder, text) / "raw", root / "raw", dirs_exist_ok=True)
    return json.loads((root / "raw" / "manifest.json").read_text(encoding="utf-8"))["snapshots"][0]["sha256"]


@pytest.fixture()
def edited(published_copy, source_text, tmp_path):
    """A published release of the pinned snapshot whose raw/ now holds a revision with one edit of a
    value the article states once (district 1's winner), entered as the next release."""
    text = replace_once(source_text, f"| {WINNER} |", f"| {EDITED_WINNER} |")
    next_release(published_copy, new_revision(published_copy, text, tmp_path / "new"))
    return published_copy


def test_a_changed_snapshot_stops_with_its_diff_and_publishes_once_accepted(edited, source_text, tmp_path):
    before = tree_digest(edited)
    stopped = run_cli("publish", root=edited)
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    shown = f"district_results [district_number=1, candidate_rank=1] candidate_name: '{WINNER}' -> '{EDITED_WINNER}'"
    assert shown in stopped.stderr
    assert "--accept-changes" in stopped.stderr.splitlines()[-1]
    assert tree_digest(edited) == before  # nothing published
    with (edited / "build" / "changes" / "unaccepted.csv").open(encoding="utf-8") as file:
        listed = list(csv.DictReader(file))
    assert [(r["table_name"], r["column_name"], r["old_value"], r["new_value"]) for r in listed] == [
        ("district_results", "candidate_name", WINNER, EDITED_WINNER)
    ]

    accepted = run_cli("publish", "--accept-changes", "A. Reviewer", root=edited)
    assert accepted.returncode == 0, accepted.stderr
    (acceptance,) = yaml.safe_load((edited / "releases" / "changes" / f"{NEXT}.yaml").read_text(encoding="utf-8"))
    assert acceptance["accepted_by"] == "A. Reviewer" and len(acceptance["changes"]) == 1
    con = duckdb.connect(str(database(edited)), read_only=True)
    try:
        assert con.execute(
            "SELECT table_name, record_key, column_name, change_kind, old_value, new_value, accepted_by "
            "FROM release_changes"
        ).fetchall() == [
            (
                "district_results",
                "district_number=1, candidate_rank=1",
                "candidate_name",
                "changed",
                WINNER,
                EDITED_WINNER,
                "A. Reviewer",
            )
        ]
        assert con.execute("SELECT winner_name FROM district_races WHERE district_number = 1").fetchone() == (
            EDITED_WINNER,
        )
        assert con.execute("SELECT version, changed_values_count FROM releases ORDER BY version").fetchall() == [
            (VERSION, 0),
            (NEXT, 1),
        ]
    finally:
        con.close()
    changes = (edited / "docs" / "changes.md").read_text(encoding="utf-8")
    assert (
        f"| district_results | district_number=1, candidate_rank=1 | candidate_name | changed | {WINNER} |" in changes
    )

    release = tree_digest(edited)
    again = run_cli("publish", root=edited)  # the same snapshot again: nothing to accept, the same bytes
    assert again.returncode == 0 and tree_digest(edited) == release

    text = replace_once(source_text, f"| {WINNER} |", "| Däulet Turlyhanov-Edit |")  # another snapshot
    new_revision(edited, text, tmp_path / "second")
    stopped = run_cli("publish", "--accept-changes", "A. Reviewer", root=edited)  # is another release
    assert stopped.returncode == 1 and "a new snapshot is a new release" in stopped.stderr
    assert tree_digest(edited) == release


def test_the_gate_has_no_way_around(edited, tmp_path):
    """No published release to compare with (make clean); an acceptance edited by hand; a value changed
    and changed back; a damaged acceptance file: each stops, with nothing published."""
    clean = tmp_path / "clean"
    shutil.copytree(edited, clean, ignore=shutil.ignore_patterns("processed", "docs", "datapackage.json"))
    stopped = run_cli("publish", root=clean)
    assert stopped.returncode == 1 and "no release is published here" in stopped.stderr
    assert not (clean / "processed").exists()

    changes = edited / "releases" / "changes" / f"{NEXT}.yaml"
    forged = {
        "table_name": "parties",
        "record_key": "party_id=amanat",
        "column_name": "leader_name",
        "change_kind": "changed",
        "old_value": "Erlan Qoşanov",
        "new_value": "Somebody",
    }
    real = {
        "table_name": "district_results",
        "record_key": "district_number=1, candidate_rank=1",
        "column_name": "candidate_name",
        "change_kind": "changed",
        "old_value": WINNER,
        "new_value": EDITED_WINNER,
    }
    sha = releases.history(edited)[0]["snapshot_sha256"]
    before = tree_digest(edited)
    for recorded in ([real, forged], [real | {"new_value": "Däulet Turlyhanov-Edit"}]):
        entry = {"accepted_by": "x", "accepted_at": "2026-11-25T00:00:00Z", "snapshot_sha256": sha, "changes": recorded}
        changes.parent.mkdir(parents=True, exist_ok=True)
        changes.write_text(yaml.safe_dump([entry], allow_unicode=True), encoding="utf-8")
        stopped = run_cli("publish", root=edited)
        assert stopped.returncode == 1 and "differ from the changes recorded as accepted" in stopped.stderr
        assert tree_digest(edited) == before
    for damaged in (
        "- {accepted_by: x",
        "{accepted_by: x}",
        "- {accepted_by: x, accepted_at: 2026-11-25, snapshot_sha256: '0', changes: []}",
    ):
        changes.write_text(damaged, encoding="utf-8")
        stopped = run_cli("publish", root=edited)
        assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
        assert stopped.stderr.strip().splitlines()[-1].startswith("error: [releases]")
    assert tree_digest(edited) == before


def test_the_bundle_is_byte_identical_complete_and_downloadable(published_copy, tmp_path):
    first = bundle.build(published_copy)
    body = first.read_bytes()
    assert bundle.build(published_copy).read_bytes() == body  # run to run
    committed = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"HEAD:dist/{first.name}"], capture_output=True, check=False
    )
    if committed.returncode == 0:  # a git checkout: the committed bundle is this release's
        assert committed.stdout == body
    listing = json.loads((first.parent / "datapackage.json").read_text(encoding="utf-8"))
    (entry,) = listing["resources"]
    assert entry["bytes"] == len(body) and entry["hash"] == "sha256:" + hashlib.sha256(body).hexdigest()
    top = f"kz-election-2023-{VERSION}"
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names[0] == f"{top}/README.md" and names[1:] == sorted(names[1:])
        for member in ("README.md", "LICENSE", "LICENSE-DATA.md", "CITATION.cff", "CHANGELOG.md", "datapackage.json"):
            assert f"{top}/{member}" in names
        assert f"{top}/processed/kz_election_2023.duckdb" in names and f"{top}/docs/changes.md" in names
        inner = json.loads(archive.read(f"{top}/datapackage.json"))
        assert inner == json.loads((published_copy / "datapackage.json").read_text(encoding="utf-8"))
        assert f"Release {VERSION}" in archive.read(f"{top}/README.md").decode("utf-8")
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 25, 0, 0, 0)}
    with serve_folder(published_copy) as (url, _):
        got = run_cli("download", "--base-url", url.rstrip("/") + "/dist", "--dest", str(tmp_path / "take"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "take" / first.name).read_bytes() == body


def test_the_bundle_packs_only_the_verified_release(published_copy):
    (published_copy / "processed" / "my_notes.txt").write_text("not data", encoding="utf-8")
    with zipfile.ZipFile(bundle.build(published_copy)) as archive:
        assert not any(name.endswith("my_notes.txt") for name in archive.namelist())
    with (published_copy / "processed" / "parties.csv").open("a", encoding="utf-8") as file:
        file.write("tampered\n")
    with pytest.raises(PipelineError, match=r"processed/parties\.csv is missing or differs from datapackage\.json"):
        bundle.build(published_copy)
