"""A release users can cite and trust: the licences, the citation (valid under the CFF schema), one
version everywhere, and a bundle to take away. (The gate that publishes a new snapshot only once its
changes are accepted: tests/test_release_gate.py.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.publish import bundle
from pipeline.release import docs as release_docs
from pipeline.release import gate, history
from tests.conftest import database, run_cli
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
    (newest, *_) = history.load()
    assert newest.version == VERSION == history.version()
    assert dt.date(*map(int, VERSION.split(".")[:3])) == newest.release_date  # CalVer: the release date
    descriptor = json.loads((fresh_build / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["version"] == VERSION and descriptor["created"] == f"{newest.release_date}T00:00:00Z"
    # The project has no public address yet: no homepage, rather than the article (which is a source).
    assert "homepage" not in descriptor and descriptor["sources"][0]["path"].startswith("https://en.wikipedia.org/")
    cli = run_cli("--version")
    assert cli.returncode == 0 and cli.stdout.strip() == f"kz-election-2023 {VERSION}"
    con = duckdb.connect(str(database(fresh_build)), read_only=True)
    try:
        assert con.execute("SELECT version, release_date FROM releases ORDER BY version DESC LIMIT 1").fetchone() == (
            VERSION,
            newest.release_date,
        )
    finally:
        con.close()
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog == release_docs.changelog(gate.recorded_tables(ROOT)) and f"## {VERSION} (" in changelog


def test_the_snapshot_says_how_precisely_its_retrieval_date_is_known():
    (entry,) = json.loads((ROOT / "raw" / "manifest.json").read_text(encoding="utf-8"))["snapshots"]
    assert entry["retrieved_at"] == "2026-11" and entry["retrieved_at_precision"] == "month"
    assert entry["retrieved_between"] == ["2026-11-01", "2026-11-25"]


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
    entry, excel = listing["resources"]
    assert (entry["name"], excel["name"]) == ("bundle", "excel_csv")
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
        assert {info.date_time for info in archive.infolist()} == {(*map(int, VERSION.split(".")[:3]), 0, 0, 0)}
    with serve_folder(published_copy) as (url, _):
        got = run_cli("download", "--base-url", url.rstrip("/") + "/dist", "--dest", str(tmp_path / "take"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "take" / first.name).read_bytes() == body
    assert (tmp_path / "take" / excel["path"]).stat().st_size == excel["bytes"]


def test_the_excel_csvs_are_the_published_csvs_with_a_byte_order_mark(published_copy):
    """Excel reads a CSV without a byte-order mark in the system's code page (the Kazakh and Russian
    names garbled): dist/ offers every table's CSV with the mark, otherwise byte for byte the published one."""
    bundle.build(published_copy)
    listing = json.loads((published_copy / "dist" / "datapackage.json").read_text(encoding="utf-8"))
    (excel,) = [r for r in listing["resources"] if r["name"] == "excel_csv"]
    path = published_copy / "dist" / excel["path"]
    assert excel["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    top = f"kz-election-2023-{VERSION}-excel"
    with zipfile.ZipFile(path) as archive:
        tables = sorted(n for n in archive.namelist() if n.endswith(".csv"))
        assert len(tables) == len(list((published_copy / "processed").glob("*.csv"))) == 60
        for name in tables:
            published = (published_copy / "processed" / Path(name).name).read_bytes()
            assert archive.read(name) == b"\xef\xbb\xbf" + published, name
        names = archive.read(f"{top}/region_names.csv").decode("utf-8-sig")
        assert "Алматы" in names and "Түркістан облысы" in names


def test_the_bundle_packs_only_the_verified_release(published_copy):
    (published_copy / "processed" / "my_notes.txt").write_text("not data", encoding="utf-8")
    with zipfile.ZipFile(bundle.build(published_copy)) as archive:
        assert not any(name.endswith("my_notes.txt") for name in archive.namelist())
    with (published_copy / "processed" / "parties.csv").open("a", encoding="utf-8") as file:
        file.write("tampered\n")
    with pytest.raises(PipelineError, match=r"first difference: resources\[\d+\] \(processed/parties\.csv\)\.bytes"):
        bundle.build(published_copy)
