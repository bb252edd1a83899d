"""The build cache (pipeline/common/cache.py) and the build before (pipeline/publish/staging.py, Earlier):
they only save time, never change a published byte, and reuse only what the change did not touch."""

import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline import ROOT, metadata
from pipeline.publish.descriptor import DICTIONARY
from tests import forkserver
from tests.conftest import make_root, tree_digest, without_staged_releases


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
    kinds = {
        "yaml",
        "document",
        "package",
        "reports",
        "tables",
        "database",
        "reads",
        "forensics",
        "calibration",
        "release",
    }
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
        """The stages' tables with the second party's ideology reworded, in a new record of a new list: the
        stages' own tables and records are left as they are (no deep copy of every table at each build)."""
        tables = source_tables(snapshot)
        parties = list(tables["parties"])
        parties[1] = parties[1] | {"ideology_text": parties[1]["ideology_text"] + " (reviewed again)"}
        return tables | {"parties": parties}

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
    checks = load_checks()
    unchanged = {check.id for check in checks if "parties" not in reads(check.sql, contents)}
    assert reported == unchanged and 0 < len(unchanged) < len(checks)  # the others ran again


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


def test_tables_that_passed_before_are_known_by_every_value(tables, tmp_path, monkeypatch):
    """A table is taken as validated from the build before only if its very rows passed: one value changed
    anywhere changes its fingerprint (and no other table's), a record's keys in another order do not."""
    from pipeline.common import cache
    from pipeline.common.errors import PipelineError
    from pipeline.release.gate import recorded_tables
    from pipeline.validate import validate

    monkeypatch.setenv("PIPELINE_CACHE", str(tmp_path / "cache"))
    every = tables | recorded_tables(ROOT)
    prints, passed = cache.fingerprints(every), cache.Memo()
    validate(every, prints=prints, passed=passed).close()  # passes: every table recorded
    assert len(passed.now) == len(every) == 52  # the 60 tables but those the forensics and checks make
    # The tables with one record replaced (the others shared, never changed: no deep copy of every table).
    regions, results = every["regions"], every["party_list_results"]
    reordered = every | {"regions": [dict(reversed(list(regions[0].items()))), *regions[1:]]}
    assert cache.fingerprints(reordered) == prints
    broken = every | {"party_list_results": [results[0] | {"votes": -1}, *results[1:]]}
    changed = cache.fingerprints(broken)
    assert [name for name in every if changed[name] != prints[name]] == ["party_list_results"]
    again = cache.Memo(passed.now)
    with pytest.raises(PipelineError, match="party_list_results"):
        validate(broken, prints=changed, passed=again)
    assert len(again.now) == 51  # every other table was taken as it passed before


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


def test_the_tables_key_covers_every_folder_the_extract_and_derive_stages_read():
    """A folder the stages read but the key of their cached tables leaves out would give stale tables
    after an edit (as elections/ once did: an edited report of 2021 built the tables of its first version)."""
    read = set()
    for path in [*(ROOT / "pipeline" / "extract").rglob("*.py"), *(ROOT / "pipeline" / "derive").rglob("*.py")]:
        read |= set(re.findall(r'ROOT / "([a-z_]+)"', path.read_text(encoding="utf-8")))
    source = (ROOT / "pipeline" / "derive" / "__init__.py").read_text(encoding="utf-8")
    (call,) = re.findall(r"reviewed = cache\.files\(([^)]*)\)", source)
    keyed = set(re.findall(r'"([a-z_]+)"', call))
    assert read >= {"sources", "elections", "errata"}
    assert read <= keyed, f"read but not in the key: {sorted(read - keyed)}"
