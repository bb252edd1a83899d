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
from pipeline.publish.descriptor import DICTIONARY, DOC_RESOURCES
from tests import forkserver
from tests.conftest import committed_digest, database, make_root, tree_digest, without_staged_releases

VENV_BIN = Path(sys.executable).parent


def test_committed_release_equals_a_fresh_build(fresh_build):
    """What is committed (git HEAD, whatever the working tree holds) is what the pipeline builds."""
    committed, fresh = committed_digest(), tree_digest(fresh_build)
    assert committed.keys() == fresh.keys()
    differing = [name for name in committed if committed[name] != fresh[name]]
    assert differing == [], "run `make` and commit: these published files are stale"


def test_rebuilding_is_byte_identical(fresh_build, tmp_path, staged_anew):
    """A release staged anew, in a new interpreter (a hash seed of its own), equals the fresh build."""
    from tests.conftest import make_root, run_cli

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
    import shutil

    shutil.copytree(fresh_build / "processed", tmp_path / "processed")
    shutil.copy(fresh_build / "datapackage.json", tmp_path)
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
        differences = [  # (rows of the left the right lacks, for each pair), in one query
            f"(SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right}))"
            for source in ("from_csv", "from_parquet")
            for left, right in ((resource, source), (source, resource))
        ]
        counted = con.execute(
            f"SELECT {', '.join(differences)}, (SELECT count(*) FROM {resource}), (SELECT count(*) FROM from_parquet)"
        ).fetchone()
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


def test_duckdb_cli_queries_the_published_database(fresh_build):
    result = subprocess.run(
        [
            str(VENV_BIN / "duckdb"),
            "-csv",
            "-noheader",
            str(database(fresh_build)),
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
    listed = dict(re.findall(r"^\| `([a-z_]+)` \| (\d+) \|", text, re.MULTILINE))
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
    assert "## Independent reports (859 figures from 51 publishers)" in report
    assert "| exit_polls | 137 | 10 | 136 | 1 | 3 |" in report
    assert (
        "| acknowledged | reports_agree_with_each_other | report_id=qazmonitor_2023_03_24_exit_poll_eurasian" in report
    )


def test_the_build_cache_changes_nothing_published(tmp_path):
    """The build cache (pipeline/common/cache.py: parsed YAML, the parsed snapshot, the schemas, the
    independent reports, a snapshot's tables, the empty database, the tables each check reads, the
    forensics, the staged release with its build's record) only saves time: a cold cache, a warm one (the
    release taken from it whole) and a damaged one give the same release, byte for byte, and the committed
    database."""
    cache = tmp_path / "cache"
    committed = (ROOT / "processed" / "kz_election_2023.duckdb").read_bytes()

    def build(name: str) -> dict:
        root = tmp_path / name
        shutil.copytree(ROOT / "raw", root / "raw")
        env = os.environ | {"PIPELINE_CACHE": str(cache)}
        result = forkserver.run(["--root", str(root), "publish"], ROOT, 120, env=env)
        assert result.returncode == 0, result.stderr
        return tree_digest(root)

    cold = build("cold")
    assert (tmp_path / "cold" / "processed" / "kz_election_2023.duckdb").read_bytes() == committed
    entries = sorted(p for p in cache.rglob("*") if p.is_file())
    kinds = {"yaml", "document", "package", "reports", "tables", "database", "reads", "forensics", "release"}
    assert {p.parent.name for p in entries} == kinds
    assert build("warm") == cold
    for entry in entries:  # every entry damaged: each is made again
        entry.write_bytes(entry.read_bytes()[:40] + b"damaged")
    assert build("damaged") == cold
    assert all(entry.read_bytes()[40:47] != b"damaged" for entry in entries)


def test_a_build_takes_what_did_not_change_from_the_build_before(tmp_path, monkeypatch):
    """One party's ideology reworded (one table of 43 changes): the build that starts from the build
    before (its record, kept in the build cache with its staged release: the tables that passed, the
    checks' findings, each table's files) publishes byte for byte what a build without that record
    publishes. And it took from the record exactly what did not change: a file planted there for an
    unchanged table is published, and of findings planted for every check, those of the checks that do not
    read the parties are reported while the checks that read them ran again."""
    import copy

    import pipeline.stages
    from pipeline.checks.run import Contents, load_checks, reads
    from pipeline.common import cache
    from pipeline.common.errors import PipelineError
    from pipeline.publish.run import publish
    from pipeline.publish.staging import LATEST

    package = metadata.load()

    def build(name: str, folder: Path) -> Path:
        monkeypatch.setenv("PIPELINE_CACHE", str(folder))
        root = make_root(tmp_path / name)
        publish(root)
        return root

    def copied(name: str, *, record: bool = True) -> Path:
        folder = without_staged_releases(tmp_path / name, tmp_path / "before", skip=())
        if not record:
            (folder / "release" / LATEST).unlink()
        return folder

    build("first", without_staged_releases(tmp_path / "before", skip=()))  # the repository's, if it holds it
    source_tables = pipeline.stages.source_tables

    def reworded(snapshot):
        tables = copy.deepcopy(source_tables(snapshot))
        tables["parties"][1]["ideology_text"] += " (reviewed again)"
        return tables

    monkeypatch.setattr(pipeline.stages, "source_tables", reworded)
    anew = tree_digest(build("anew", copied("no-record", record=False)))
    assert anew != tree_digest(tmp_path / "first")
    assert tree_digest(build("after", copied("record"))) == anew

    def plant(name: str, change) -> Path:
        """A copy of the cache the first build left, its record changed."""
        folder = copied(name)
        monkeypatch.setenv("PIPELINE_CACHE", str(folder))
        key = cache.recall("release", LATEST)
        files, quality, forensic, record = cache.recall("release", key)
        change(files, record)
        cache.remember("release", key, (files, quality, forensic, record))
        return folder

    def planted_findings(files, record):
        finding = dict.fromkeys(("table_name", "record_key", "column_name", "expected", "actual"), "x")
        record["findings"] = {key: [finding | {"message": "planted"}] for key in record["findings"]}

    def planted_file_and_examples(files, record):
        files["processed/regions.csv"] += b"planted\n"
        record["examples"] = {key: dict.fromkeys(names, "planted-example") for key, names in record["examples"].items()}

    root = build("planted", plant("with-a-file", planted_file_and_examples))
    assert (root / "processed" / "regions.csv").read_bytes().endswith(b"planted\n")
    dictionary = (root / DICTIONARY).read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", dictionary, re.MULTILINE | re.DOTALL))
    assert "planted-example" in sections["regions"] and "planted-example" not in sections["parties"]
    with pytest.raises(PipelineError, match="planted") as failure:
        build("planted-findings", plant("with-findings", planted_findings))
    reported = set(re.findall(r"(\w+): table x, row x", failure.value.message))
    contents = Contents("", {r.name: "" for r in package.resources}, {v.name: v.sql for v in package.views}, None)
    unchanged = {check.id for check in load_checks() if "parties" not in reads(check.sql, contents)}
    assert reported == unchanged and 0 < len(unchanged) < len(load_checks())  # the others ran again


def test_the_cache_keeps_the_entries_used_last(tmp_path, monkeypatch):
    """The cache stays bounded: of each kind it keeps the entries written or read most recently (cache.KEPT:
    eight staged releases of about 4 MB each), pruned at a build's first write of the kind."""
    import time

    from pipeline.common import cache

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "_PRUNED", set())
    kept = cache.KEPT["release"]
    past = time.time_ns() - 10**12
    for number in range(kept + 2):  # written a second apart, long ago
        cache.remember("release", f"r{number}", number)
        os.utime(cache.path("release", f"r{number}"), ns=(past + number * 10**9,) * 2)
    assert cache.recall("release", "r0") == 0  # read now: the most recent
    for name, age in ((".tmp-killed", 7200), (".tmp-writing", 0)):  # a write cut short two hours ago, one going on
        (tmp_path / "cache" / "release" / name).write_bytes(b"part")
        os.utime(tmp_path / "cache" / "release" / name, ns=((time.time_ns() - age * 10**9),) * 2)
    cache.prune("release")
    assert sorted(p.name for p in (tmp_path / "cache" / "release").glob(".*")) == [".tmp-writing"]
    (tmp_path / "cache" / "release" / ".tmp-writing").unlink()
    names = sorted(p.name for p in (tmp_path / "cache" / "release").iterdir())
    assert names == sorted(["r0", *(f"r{n}" for n in range(3, kept + 2))])
    for number in range(cache.KEPT_OTHERWISE + 5):  # another kind: pruned at the first write only
        cache.put("checks", f"c{number}", b"x")
        os.utime(cache.path("checks", f"c{number}"), ns=(past + number * 10**9,) * 2)
    assert len(list((tmp_path / "cache" / "checks").iterdir())) == cache.KEPT_OTHERWISE + 5
    monkeypatch.setattr(cache, "_PRUNED", set())  # the next build
    cache.put("checks", "new", b"x")
    assert len(list((tmp_path / "cache" / "checks").iterdir())) == cache.KEPT_OTHERWISE
    assert (tmp_path / "cache" / "checks" / "new").exists() and not (tmp_path / "cache" / "checks" / "c0").exists()


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


def test_tables_that_passed_before_are_known_by_every_value(tables, tmp_path, monkeypatch):
    """A table is taken as validated from the build before only if its very rows passed: one value changed
    anywhere changes its fingerprint (and no other table's), a record's keys in another order do not."""
    import copy

    from pipeline.common import cache
    from pipeline.common.errors import PipelineError
    from pipeline.release.gate import recorded_tables
    from pipeline.validate import validate

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    every = tables | recorded_tables(ROOT)
    prints, passed = cache.fingerprints(every), cache.Memo()
    validate(every, prints=prints, passed=passed).close()  # passes: every table recorded
    assert len(passed.now) == len(every) == 39  # the 46 tables but those the forensics and checks make
    reordered = copy.deepcopy(every)
    reordered["regions"][0] = dict(reversed(list(reordered["regions"][0].items())))
    assert cache.fingerprints(reordered) == prints
    broken = copy.deepcopy(every)
    broken["party_list_results"][0]["votes"] = -1
    changed = cache.fingerprints(broken)
    assert [name for name in every if changed[name] != prints[name]] == ["party_list_results"]
    again = cache.Memo(passed.now)
    with pytest.raises(PipelineError, match="party_list_results"):
        validate(broken, prints=changed, passed=again)
    assert len(again.now) == 38  # every other table was taken as it passed before


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


def test_every_cache_key_changes_with_the_code_and_a_shared_folder_is_not_read(tmp_path, monkeypatch):
    """A line of pipeline/ changed (here the function that types integers) names every entry anew, so no
    finding, validation or forensics made by other code is reused; a cache folder others may write to is
    never read (an entry may hold a pickle)."""
    from pipeline.common import cache

    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "pipeline", copy / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "ROOT", copy)
    cache._code.cache_clear()
    before = cache.key("findings", "the same database")
    typing = copy / "pipeline" / "validate" / "__init__.py"
    typing.write_text(typing.read_text(encoding="utf-8").replace("return value if ok else None", "return value"))
    cache._code.cache_clear()
    assert cache.key("findings", "the same database") != before
    cache._code.cache_clear()

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    cache.put("checks", "a", b"findings")
    assert cache.get("checks", "a") == b"findings"
    (tmp_path / "cache").chmod(0o777)  # anyone may now replace an entry: nothing is read from it
    assert cache.get("checks", "a") is None
    (tmp_path / "cache").chmod(0o700)
    (tmp_path / "cache" / "checks").chmod(0o770)
    assert cache.get("checks", "a") is None


def test_the_build_before_is_named_only_once_its_release_is_stored_and_names_are_never_paths(tmp_path, monkeypatch):
    """The pointer to the build before is written only once the release it names is stored (an entry too
    large to keep leaves the last good one named); a name or kind that is a path, hidden or holds a NUL is
    neither read nor written; the checks are known by their tables only while the tables made after them
    are still empty."""
    from pipeline.common import cache
    from pipeline.publish.database import create_database
    from pipeline.publish.staging import LATEST, Earlier, _contents, keep_release

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "a.csv").write_bytes(b"x" * 1000)
    keep_release(stage, "first", [], {}, Earlier())
    assert cache.recall("release", LATEST) == "first"
    monkeypatch.setattr(cache, "MAX_BYTES", 500)
    keep_release(stage, "second", [], {}, Earlier())
    monkeypatch.setattr(cache, "MAX_BYTES", 64 * 2**20)
    assert cache.recall("release", LATEST) == "first" and cache.recall("release", "second") is cache.MISSING
    assert Earlier.load().files == {"a.csv": b"x" * 1000}

    (tmp_path / "outside").write_bytes(b"not an entry")
    for kind, name in [("release", "../../outside"), ("release", "a/b"), ("release", ".hidden"), ("release", "a\0b"),
                       ("../escape", "entry"), ("", "entry")]:  # fmt: skip
        assert cache.put(kind, name, b"data") is False
        assert cache.get(kind, name) is None
    assert not (tmp_path / "escape").exists()

    package = metadata.load()
    con = create_database(":memory:", package)
    prints = {r.name: "rows" for r in package.from_source if r.name != "regions"}
    assert _contents(con, package, prints, cache.Memo()) is not None  # regions is empty: known as such
    con.execute("INSERT INTO regions VALUES ('KZ-10', 'Abai Region', 'region')")
    assert _contents(con, package, prints, cache.Memo()) is None
    con.close()
