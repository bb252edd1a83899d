"""The published release: reproducible, self-consistent, valid, and queryable."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import ROOT, metadata
from pipeline.publish.descriptor import DOC_RESOURCES
from tests.conftest import committed_digest, database, make_root, tree_digest

VENV_BIN = Path(sys.executable).parent


def test_committed_release_equals_a_fresh_build(fresh_build):
    """What is committed (git HEAD, whatever the working tree holds) is what the pipeline builds."""
    committed, fresh = committed_digest(), tree_digest(fresh_build)
    assert committed.keys() == fresh.keys()
    differing = [name for name in committed if committed[name] != fresh[name]]
    assert differing == [], "run `make` and commit: these published files are stale"


def test_rebuilding_is_byte_identical(fresh_build, tmp_path, staged_anew):
    """A release staged anew, in a new interpreter (a hash seed of its own), equals the fresh build."""
    from tests.conftest import run_cli

    root = make_root(tmp_path)
    assert run_cli("publish", root=root, fresh=True).returncode == 0
    assert tree_digest(root) == tree_digest(fresh_build)


def test_frictionless_validates_the_package(fresh_build):
    result = subprocess.run(
        [str(VENV_BIN / "frictionless"), "validate", "--json", "datapackage.json"],
        cwd=fresh_build,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["valid"], [t["errors"] for t in report["tasks"] if t["errors"]]
    assert result.returncode == 0
    assert len(report["tasks"]) == 2 * len(metadata.load().resources) + 1 + len(DOC_RESOURCES)


def test_frictionless_catches_a_file_that_does_not_match_the_descriptor(fresh_build, tmp_path):
    """The descriptor as published, with the tampered table's resource alone (the whole package's
    validation is the test above; one resource is enough to show a changed file is caught)."""
    import shutil

    (tmp_path / "processed").mkdir()
    shutil.copy(fresh_build / "processed" / "regions.csv", tmp_path / "processed")
    descriptor = json.loads((fresh_build / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] == "regions"]
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    path = tmp_path / "processed" / "regions.csv"
    path.write_text(path.read_text().replace("Abai Region", "Abay Region"))
    result = subprocess.run(
        [str(VENV_BIN / "frictionless"), "validate", "--json", "datapackage.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "hash-count" in result.stdout


def test_descriptor_lists_every_file_with_relative_path_bytes_and_hash(fresh_build):
    descriptor = json.loads((fresh_build / "datapackage.json").read_text())
    paths = {r["path"] for r in descriptor["resources"]}
    # Every published file, the documentation included (so that `download` brings it), and nothing else.
    assert paths == {f"processed/{p.name}" for p in (fresh_build / "processed").iterdir()} | {
        p.as_posix() for p in DOC_RESOURCES
    }
    for resource in descriptor["resources"]:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", resource["hash"])
        assert resource["bytes"] == (fresh_build / resource["path"]).stat().st_size
    assert descriptor["licenses"][0]["name"] == "CC-BY-SA-4.0"


@pytest.fixture(scope="module")
def published_database(fresh_build, tmp_path_factory):
    """A copy of the fresh build's database, opened once for the module (the build's own file stays free
    for the tests that open it, as a user would, for writing)."""
    copy = tmp_path_factory.mktemp("database") / database(fresh_build).name
    shutil.copy(database(fresh_build), copy)
    con = duckdb.connect(str(copy), read_only=True)
    con.execute("SET threads = 1")  # tables of at most a few thousand rows: a second thread costs more than it saves
    yield con
    con.close()


@pytest.mark.parametrize("resource", [r.name for r in metadata.load().resources])
def test_database_csv_and_parquet_hold_the_same_rows(resource, fresh_build, published_database):
    con = published_database.cursor()
    try:
        processed = fresh_build / "processed"
        csv_path, parquet_path = processed / f"{resource}.csv", processed / f"{resource}.parquet"
        con.execute(f"CREATE OR REPLACE TEMP TABLE from_csv AS SELECT * FROM {resource} LIMIT 0")
        con.execute(f"INSERT INTO from_csv SELECT * FROM read_csv('{csv_path}', header=true, all_varchar=true)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE from_parquet AS SELECT * FROM read_parquet('{parquet_path}')")
        # Each distinct row with how many times the database, the CSV and the Parquet file hold it, in one
        # aggregate; the rows of one the other lacks (as EXCEPT ALL counts them: duplicates and nulls
        # included) are the sums of the positive differences (a quarter of the work of four EXCEPT ALL).
        counted = con.execute(
            f"""
            WITH tagged AS (
                SELECT *, 0 AS _source_ FROM {resource}
                UNION ALL SELECT *, 1 FROM from_csv
                UNION ALL SELECT *, 2 FROM from_parquet
            ), distinct_rows AS (
                SELECT * EXCLUDE (_source_), count(*) FILTER (_source_ = 0) AS _db_,
                    count(*) FILTER (_source_ = 1) AS _csv_, count(*) FILTER (_source_ = 2) AS _parquet_
                FROM tagged GROUP BY ALL
            )
            SELECT sum(greatest(_db_ - _csv_, 0)), sum(greatest(_csv_ - _db_, 0)),
                sum(greatest(_db_ - _parquet_, 0)), sum(greatest(_parquet_ - _db_, 0)), sum(_db_), sum(_parquet_)
            FROM distinct_rows
            """
        ).fetchone()
        counted = tuple(0 if n is None else int(n) for n in counted)  # (an empty table: no rows to sum)
        assert counted[:4] == (0, 0, 0, 0), f"{resource}: rows missing (database/CSV, CSV/database, ...): {counted}"
        assert counted[4] == counted[5]
    finally:
        con.close()


def test_database_comments_every_table_and_column(fresh_build):
    con = duckdb.connect(str(database(fresh_build)), read_only=True)
    try:
        uncommented = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = 'kz_election_2023' AND comment IS NULL"
        ).fetchall()
        tables = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'kz_election_2023' AND comment IS NOT NULL"
        ).fetchone()[0]
    finally:
        con.close()
    assert uncommented == [] and tables == len(metadata.load().resources)


def test_parquet_carries_column_descriptions(fresh_build):
    con = duckdb.connect()
    rows = dict(
        con.execute(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
            [str(fresh_build / "processed" / "region_ballots.parquet")],
        ).fetchall()
    )
    assert rows["table"] == "region_ballots"
    assert rows["column:registered_voters_count"].startswith("Number of voters on the electoral rolls")


def test_duckdb_cli_queries_the_published_database(fresh_build, tmp_path):
    # (a copy of its own: the CLI opens the file for writing, which no test may do to fresh_build's, read by
    # every worker; a hard link would share its lock)
    copy = shutil.copy(database(fresh_build), tmp_path / "copy.duckdb")
    result = subprocess.run(
        [
            str(VENV_BIN / "duckdb"),
            "-csv",
            "-noheader",
            str(copy),
            "-c",
            "SELECT candidate_name, votes FROM district_results WHERE district_number = 14 AND candidate_rank = 1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Abzal Quspan,126784"


def test_the_tables_page_lists_every_table_with_its_row_count(tables, fresh_build):
    """docs/tables.md, the README's page of tables, lists every table with its row count."""
    text = (ROOT / "docs" / "tables.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z0-9_]+)` \| (\d+) \|", text, re.MULTILINE))
    built = {  # the tables the build writes after the extraction: the quality gate's and the forensics'
        r.name: str(len((fresh_build / "processed" / f"{r.name}.csv").read_text(encoding="utf-8").splitlines()) - 1)
        for r in metadata.load().resources
        if r.produced_by != "source"
    }
    assert listed == {name: str(len(rows)) for name, rows in tables.items()} | built


def test_the_readme_summary_of_findings_is_generated_from_the_release(tables, fresh_build):
    """The README's findings block equals what a fresh build generates: every erratum, acknowledgement,
    inference and gap, none missing (the hand-written summary once lacked E003 and 5 of 9 gaps)."""
    import csv

    from pipeline.publish.root_docs import README_START, readme_findings, with_readme_findings

    with (fresh_build / "processed" / "quality_checks.csv").open(encoding="utf-8") as handle:
        quality = list(csv.DictReader(handle))
    summary = readme_findings(tables, quality)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_START in readme and with_readme_findings(readme, summary) == readme
    for erratum in tables["errata"]:
        assert f"  - {erratum['erratum_id']}: " in summary
    assert summary.count("\n  - ") == len(tables["errata"]) + len(
        {r["explanation"].split(":")[0] for r in quality if r["status"] == "acknowledged"}
    ) + len(tables["extraction_inferences"]) + len(tables["source_gaps"])


def test_the_quality_report_counts_agreement_per_family_of_reported_figures(fresh_build):
    """137 exit-poll figures: 136 agree, QazMonitor's 3.25% is acknowledged (reports_agree_with_each_other),
    and three of the article's shares were corrected by the pollsters' figures (E004-E006)."""
    report = (fresh_build / "docs" / "quality_report.md").read_text(encoding="utf-8")
    assert "## Independent reports (1130 figures from 64 publishers)" in report
    assert "| exit_polls | 137 | 10 | 136 | 1 | 3 |" in report
    assert (
        "| acknowledged | reports_agree_with_each_other | report_id=qazmonitor_2023_03_24_exit_poll_eurasian" in report
    )


def test_a_damaged_or_unwritable_cache_is_no_cache(tmp_path, monkeypatch):
    from pipeline.common import cache

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    cache.put("yaml", "a", b"parsed")
    assert cache.get("yaml", "a") == b"parsed" and cache.get("yaml", "b") is None
    stored = cache.path("yaml", "a")
    stored.write_bytes(stored.read_bytes()[:-1] + b"!")  # one byte changed: not the bytes it was stored with
    assert cache.get("yaml", "a") is None
    stored.unlink()
    os.mkfifo(stored)  # a FIFO where an entry should be: read as absent, never waited on
    assert cache.get("yaml", "a") is None
    (tmp_path / "a file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "a file" / "cache"))
    cache.put("yaml", "a", b"parsed")  # nowhere to write: nothing stored, no error
    assert cache.get("yaml", "a") is None


@pytest.mark.parametrize(
    "value",
    [
        1e-05,
        1e16,
        1e22,
        -0.0,
        5e-324,
        53.9,
        0.1 + 0.2,
        2**63 - 1,
        -(2**63),
        True,
        False,
        "Түркістан",
        dt.date(2023, 3, 19),
        dt.datetime(2023, 3, 19, 10, 0),
        dt.datetime(2023, 3, 19, 10, 0, 0, 500000),
        dt.datetime(2023, 3, 19, 10, 0, 0, 9970),
    ],
)
def test_the_data_dictionarys_examples_read_as_duckdb_writes_them(value):
    from pipeline.publish.database import _as_duckdb_text

    con = duckdb.connect()
    try:
        assert _as_duckdb_text(value) == con.execute("SELECT CAST(? AS VARCHAR)", [value]).fetchone()[0]
    finally:
        con.close()
