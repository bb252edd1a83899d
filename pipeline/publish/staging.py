"""Publish stage: typed tables -> DuckDB database, CSV and Parquet, datapackage.json, data dictionary.

Everything is written into a staging folder first; the cross-checks run on the staged database; only
when they pass is the staged release swapped in for processed/ and datapackage.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline import forensics, metadata
from pipeline.checks.quality import check_gaps, gate
from pipeline.checks.run import Contents
from pipeline.common import cache, timing
from pipeline.common.errors import PipelineError
from pipeline.common.parallel import in_threads
from pipeline.forensics.process import Pending
from pipeline.forensics.process import cache_key as forensics_key
from pipeline.forensics.report import forensics_report
from pipeline.publish.database import (
    build_database,
    export_key,
    export_tables,
    parquet_views,
    restore_exports,
    schema_key,
)
from pipeline.publish.database import examples as database_examples
from pipeline.publish.descriptor import (
    CHANGES,
    DICTIONARY,
    FORENSICS,
    PARQUET_VIEWS,
    REPORT,
    datapackage,
    descriptor_bytes,
)
from pipeline.publish.quality_report import quality_report
from pipeline.release import docs as release_docs
from pipeline.release.swap import DESCRIPTOR, PROCESSED
from pipeline.validate import Validated, validate_table, validate_tables

WORKERS = 2  # threads (each with its own cursor) for the checks and the exports: DuckDB releases the GIL


def verify_release(
    con,
    validated: Validated,
    package: metadata.Package,
    *,
    workers: int = 1,
    prints: dict[str, str] | None = None,
    findings: cache.Memo | None = None,
) -> list[dict]:
    """The release's quality gate on a loaded database: reviewed gaps, then every cross-check, each finding
    corrected or acknowledged; the quality_checks rows are validated and loaded. Raises on any failure.
    `workers` > 1 runs the checks in threads (the data must be committed). `prints` (the tables'
    cache.fingerprints) and `findings` (the checks' findings in the build before, by key): a check whose
    tables did not change is not run again."""

    check_gaps(validated.tables["source_gaps"])
    contents = _contents(con, package, prints, findings) if prints and findings is not None else None
    quality = gate(con, validated.tables["errata"], workers=workers, contents=contents)
    resource = package.produced_by_checks
    con.execute(f"INSERT INTO {resource.name} SELECT * FROM {validate_table(con, resource, quality)}")
    return quality


def _contents(con, package: metadata.Package, prints: dict[str, str], findings: cache.Memo) -> Contents | None:
    """What the release database holds while the checks run: the validated tables, and the tables made
    afterwards (by the forensics and the checks) empty; None if one of those is not (nothing to know the
    database by)."""
    later = [r.name for r in package.resources if r.name not in prints]
    counts = " + ".join(f"(SELECT count(*) FROM {name})" for name in later) or "0"
    if con.execute(f"SELECT {counts}").fetchone()[0]:
        return None
    empty = cache.fingerprint([])
    return Contents(
        schema_key(package),
        {r.name: prints.get(r.name, empty) for r in package.resources},
        {view.name: view.sql for view in package.views},
        findings,
    )


def stage_release(
    validated: Validated,
    stage: Path,
    raw_entry: dict,
    package: metadata.Package | None = None,
    pending=None,
    prints: dict[str, str] | None = None,
    earlier: Earlier | None = None,
) -> tuple[list[dict], dict[str, list[dict]]]:
    """Write a whole release into `stage` after the cross-checks pass; returns the quality_checks rows and
    the forensics tables. With `prints` (the tables' cache.fingerprints) and `earlier` (the build before,
    whose record this build completes), what did not change is taken from the build before.
    A failure to write (a full disk, a read-only folder) removes the stage and says so."""

    package = package or metadata.load()
    with _writing(stage):
        return _stage_release(validated, stage, raw_entry, package, pending, prints, earlier)


def release_key(prints: dict[str, str], raw_entry: dict) -> str:
    """What a staged release is made from, as a build cache key: the tables (their fingerprints), the
    snapshot's manifest entry (in the descriptor), the reviewed files the stage reads (schemas, errata and
    acknowledgements, the independent reports), the forensics' key (their parameters and numpy's version)
    and DuckDB's version (its files' bytes); the code is in every key."""
    folders = cache.files("schemas", "errata", "sources", "elections")
    forensic = forensics_key(prints, forensics.parameters())
    return cache.key(
        "release",
        cache.fingerprint(prints),
        json.dumps(raw_entry, sort_keys=True),
        *folders,
        forensic,
        duckdb.__version__,
    )


def restore_release(stage: Path, key: str) -> tuple[list[dict], dict[str, list[dict]]] | None:
    """The release staged before from the same inputs by the same code (`keep_release`), written into
    `stage` as stage_release writes it, with its quality_checks rows and forensics tables; None when the
    build cache does not hold it. It passed every check when it was made: the same checks on the same rows."""
    stored = cache.recall("release", key)
    if stored is cache.MISSING:
        return None
    files, quality, forensic_tables, _ = stored
    cache.remember("release", LATEST, key)  # the build the next one starts from
    with _writing(stage):
        if stage.exists():
            shutil.rmtree(stage)
        for name, data in files.items():
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                out.write(data)
                if target.suffix == ".duckdb":  # on disk, as DuckDB's checkpoint leaves a staged database
                    out.flush()
                    os.fsync(out.fileno())
    return quality, forensic_tables


def keep_release(
    stage: Path, key: str, quality: list[dict], forensic_tables: dict[str, list[dict]], earlier: Earlier
) -> None:
    """Remember a staged release that passed every check, for restore_release (the cache keeps the few used
    last: cache.KEPT), with the record of its build (`earlier`, completed by this build), from which the
    next build starts."""
    files = {p.relative_to(stage).as_posix(): p.read_bytes() for p in sorted(stage.rglob("*")) if p.is_file()}
    if cache.remember("release", key, (files, quality, forensic_tables, earlier.record())):
        cache.remember("release", LATEST, key)  # only once the release it names is stored


RECORDED = ("passed", "findings", "exports", "examples")  # what a build's record holds, by key
LATEST = "latest.pickle"  # the build cache's name for the key of the release staged or restored last


@dataclass
class Earlier:
    """The build before this one, as the build cache kept it (the release staged or restored last): its
    staged files, and its record of the tables that passed validation, the checks' findings, each table's
    files and its columns' examples, by key (cache.Memo); the memos record this build's for the next. Empty
    when the cache holds no build."""

    files: dict[str, bytes] = field(default_factory=dict)
    passed: cache.Memo = field(default_factory=cache.Memo)
    findings: cache.Memo = field(default_factory=cache.Memo)
    exports: cache.Memo = field(default_factory=cache.Memo)
    examples: cache.Memo = field(default_factory=cache.Memo)

    @classmethod
    def load(cls) -> Earlier:
        key = cache.recall("release", LATEST)
        stored = cache.recall("release", key) if isinstance(key, str) else cache.MISSING
        try:
            files, _, _, record = stored
            return cls(files, *(cache.Memo(record[kind]) for kind in RECORDED))
        except (TypeError, ValueError, KeyError):  # none, or kept by other code
            return cls()

    def record(self) -> dict[str, dict]:
        return {kind: getattr(self, kind).now for kind in RECORDED}


@contextlib.contextmanager
def _writing(stage: Path):
    """A failure to write the stage (a full disk, a read-only folder) removes it and says so."""
    try:
        yield
    except (OSError, duckdb.Error) as error:
        if isinstance(error, duckdb.Error) and not _io_failure(error):
            raise  # a bug (an SQL error): keep the traceback
        shutil.rmtree(stage, ignore_errors=True)
        reason = (
            f"{error.strerror} ({error.filename})"
            if isinstance(error, OSError) and error.strerror
            else str(error).splitlines()[0]
        )
        raise PipelineError(
            "publish", f"could not write the new release in {stage}: {reason}; the published release is unchanged."
        ) from None


# How DuckDB reports a failed write (a full disk, a file size limit, a read-only folder), whatever the
# exception class it uses (IOException, TransactionException on commit, FatalException afterwards).
_IO_FAILURE = (
    "could not write",
    "could not read",
    "no space left",
    "file too large",
    "read-only file system",
    "permission denied",
    "disk quota",
    "failed to commit",
    "fatal error",
    "could not open",
    "could not truncate",
    "could not fsync",
    "could not sync",
    "could not set lock",
)


def _io_failure(error: Exception) -> bool:

    text = str(error).lower()
    return isinstance(error, (duckdb.IOException, duckdb.FatalException)) or any(p in text for p in _IO_FAILURE)


def _stage_release(
    validated: Validated,
    stage: Path,
    raw_entry: dict,
    package: metadata.Package,
    pending=None,
    prints=None,
    earlier: Earlier | None = None,
) -> tuple[list[dict], dict[str, list[dict]]]:
    earlier = earlier or Earlier()
    if stage.exists():
        shutil.rmtree(stage)
    (stage / PROCESSED).mkdir(parents=True)
    (stage / DICTIONARY).parent.mkdir(parents=True)
    database = stage / PROCESSED / package.meta["database"]
    with timing.stage("database: create and load"):
        con = build_database(validated, database, package)
    try:
        with timing.stage("cross-checks and quality gate"):
            quality = verify_release(con, validated, package, workers=WORKERS, prints=prints, findings=earlier.findings)
        if pending is None:
            pending = Pending()
            pending.send(validated.tables, prints)
        with timing.stage("forensics: wait, validate, load"):
            forensic_tables = pending.result()
            relations = validate_tables(con, package.produced_by_forensics, forensic_tables)
            con.execute(
                ";\n".join(f"INSERT INTO {name} SELECT * FROM {relation}" for name, relation in relations.items())
            )
        folder = stage / PROCESSED
        every = validated.tables | forensic_tables | {package.produced_by_checks.name: quality}
        view_columns = _view_columns(con, package)
        with timing.stage("export CSV and Parquet"):
            # The files the build before exported from the same rows are copied from it; DuckDB writes the
            # others, on two threads.
            anew, keys = list(package.resources), None
            if prints:
                keys = _export_keys(package, every, prints)
                anew = restore_exports(anew, folder, keys, earlier.exports, earlier.files)
                for resource in anew:
                    earlier.exports.put(keys[resource.name], True)
            parts = [anew[n::WORKERS] for n in range(WORKERS)]
            in_threads(con, [lambda cursor, part=part: export_tables(cursor, part, folder) for part in parts if part])
        with timing.stage("data dictionary examples"):
            examples = database_examples(package, every, keys, earlier.examples)
        with timing.stage("database: checkpoint"):
            con.execute("CHECKPOINT")
    finally:
        con.close()
    with timing.stage("documents and datapackage.json"):
        _write_documents(stage, package, validated, quality, forensic_tables, examples, view_columns)
        descriptor = datapackage(package, stage, raw_entry, validated.tables["releases"][0])
        (stage / DESCRIPTOR).write_bytes(descriptor_bytes(descriptor))
    return quality, forensic_tables


def _view_columns(con, package: metadata.Package) -> dict[str, list[tuple]]:
    """Every view's columns (name, type, comment), in one query."""
    view_columns = {view.name: [] for view in package.views}
    for view, *column in con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE table_name IN (SELECT unnest(?)) ORDER BY table_name, column_index",
        [list(view_columns)],
    ).fetchall():
        view_columns[view].append(tuple(column))
    return view_columns


def _export_keys(package: metadata.Package, every: dict[str, list[dict]], prints: dict[str, str]) -> dict[str, str]:
    """Each table's export_key: the database's schemas and the table's rows (the fingerprints the build
    knows, and those of the tables the forensics and the checks made)."""
    schema = schema_key(package)
    rows = {r.name: prints[r.name] if r.name in prints else cache.fingerprint(every[r.name]) for r in package.resources}
    return {r.name: export_key(r, cache.key(schema, rows[r.name])) for r in package.resources}


def _write_documents(stage, package, validated, quality, forensic_tables, examples, view_columns) -> None:
    (stage / DICTIONARY).write_text(metadata.data_dictionary(package, examples, view_columns), encoding="utf-8")
    (stage / REPORT).write_text(quality_report(package, validated.tables, quality), encoding="utf-8")
    (stage / PARQUET_VIEWS).write_text(parquet_views(package), encoding="utf-8")
    (stage / FORENSICS).write_text(forensics_report(forensic_tables, forensics.parameters()), encoding="utf-8")
    (stage / CHANGES).write_text(release_docs.changes_markdown(validated.tables), encoding="utf-8")
