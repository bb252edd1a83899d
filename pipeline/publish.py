"""Publish stage: typed tables -> DuckDB database, CSV and Parquet, datapackage.json, data dictionary.

Everything is written into a staging folder first; the cross-checks run on the staged database; only
when they pass is the staged release swapped in for processed/ and datapackage.json.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipeline import ROOT, metadata
from pipeline.crosscheck import run_checks
from pipeline.report import quality_report
from pipeline.errors import PipelineError
from pipeline.raw import sha256_file

PROCESSED = "processed"
DESCRIPTOR = "datapackage.json"
DICTIONARY = Path("docs") / "data_dictionary.md"
REPORT = Path("docs") / "quality_report.md"
QUALITY = "quality_checks"  # produced here, from the cross-checks
STORAGE_VERSION = "v1.2.0"  # readable by DuckDB clients from 1.2 on (checked with 1.2.2)
BLOCK_SIZE = 16384  # small blocks: the file is ~1 MB instead of ~13 MB; needs storage v1.2.0 or later
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _sql_string(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def build_database(frames: dict, path: Path, package: metadata.Package):
    """Create the DuckDB file at `path` from the DDL and load every frame; returns the open connection."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")  # one thread: row order and files are reproducible
    con.execute(f"ATTACH {_sql_string(path)} AS release (STORAGE_VERSION '{STORAGE_VERSION}', BLOCK_SIZE {BLOCK_SIZE})")
    con.execute("USE release")
    con.execute(metadata.duckdb_ddl(package))
    for resource in package.resources:
        if resource.name not in frames:
            continue  # quality_checks: filled after the cross-checks
        frame = frames[resource.name]  # noqa: F841 (read by DuckDB's replacement scan)
        columns = ", ".join(resource.field_names)
        try:
            con.execute(f"INSERT INTO {resource.name} ({columns}) SELECT {columns} FROM frame")
        except duckdb.ConstraintException as error:
            raise PipelineError("publish", f"a key constraint failed while loading: {error}", table=resource.name,
                                hint="Primary and foreign keys are declared in schemas/resources/.") from None
    return con


def export_table(con, resource: metadata.Resource, folder: Path) -> None:
    order = ", ".join(resource.primary_key)
    query = f"SELECT * FROM {resource.name} ORDER BY {order}"
    csv_path, parquet_path = folder / f"{resource.name}.csv", folder / f"{resource.name}.parquet"
    con.execute(f"COPY ({query}) TO {_sql_string(csv_path)} "
                f"(FORMAT csv, HEADER true, DELIMITER ',', TIMESTAMPFORMAT '{DATETIME_FORMAT}', DATEFORMAT '%Y-%m-%d')")
    kv = {"table": resource.name, "description": resource.description}
    kv |= {f"column:{f.name}": metadata.column_comment(f) for f in resource.fields}
    kv_sql = ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in kv.items())
    con.execute(f"COPY ({query}) TO {_sql_string(parquet_path)} "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, KV_METADATA {{{kv_sql}}})")


def datapackage(package: metadata.Package, stage: Path, raw_entry: dict) -> dict:
    """The Frictionless descriptor, with relative paths and the bytes and sha256 of every file."""
    meta = package.meta

    def file_facts(relative: str) -> dict:
        path = stage / relative
        return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}"}

    resources, copies = [], []
    for resource in package.resources:
        relative = f"{PROCESSED}/{resource.name}.csv"
        resources.append({
            "name": resource.name, "title": resource.title, "description": resource.description,
            "path": relative, "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", **file_facts(relative),
            "dialect": {"delimiter": ",", "header": True},
            "schema": metadata.table_schema(resource),
        })
        parquet = f"{PROCESSED}/{resource.name}.parquet"
        copies.append({
            "name": f"{resource.name}_parquet", "type": "file", "title": f"{resource.title} (Parquet)",
            "description": f"The table {resource.name} as Parquet: the same rows, columns and types as the CSV, "
                           "with the table and column descriptions in the file's key-value metadata.",
            "path": parquet, "format": "parquet", "mediatype": "application/vnd.apache.parquet",
            **file_facts(parquet)})
    database = f"{PROCESSED}/{meta['database']}"
    copies.append({"name": "database", "type": "file", "title": "DuckDB database with every table",
                   "description": "Every table in one DuckDB file (storage version "
                                  f"{STORAGE_VERSION}: DuckDB 1.2 or later), with primary and foreign keys "
                                  "and a comment on every table and column.",
                   "path": database, "format": "duckdb", "mediatype": "application/octet-stream",
                   **file_facts(database)})
    resources += copies
    return {
        "profile": "data-package", "name": meta["name"], "title": meta["title"],
        "description": " ".join(meta["description"].split()), "homepage": meta["homepage"],
        "keywords": meta["keywords"], "licenses": meta["licenses"], "contributors": meta["contributors"],
        "sources": [{**s, "sha256": raw_entry.get("sha256"), "revision_id": raw_entry.get("revision_id"),
                     "retrieved_at": raw_entry.get("retrieved_at")} for s in meta["sources"]],
        "resources": resources,
    }


def stage_release(frames: dict, stage: Path, raw_entry: dict, package: metadata.Package | None = None) -> list[dict]:
    """Write a whole release into `stage` after the cross-checks pass; returns the quality_checks rows."""
    from pipeline.crosscheck import load_checks
    from pipeline.errata import errata_resolves
    from pipeline.quality import assess, load_acknowledgements
    from pipeline.validate import validate_table

    package = package or metadata.load()
    if stage.exists():
        shutil.rmtree(stage)
    (stage / PROCESSED).mkdir(parents=True)
    (stage / DICTIONARY).parent.mkdir(parents=True)
    database = stage / PROCESSED / package.meta["database"]
    con = build_database(frames, database, package)
    try:
        checks = load_checks()
        findings = run_checks(con, checks)
        applied = frames["errata"].to_dict("records")
        quality = assess(checks, findings, applied, errata_resolves(), load_acknowledgements())
        quality_frame = validate_table(package.resource(QUALITY), quality)  # noqa: F841 (read by DuckDB)
        con.execute(f"INSERT INTO {QUALITY} SELECT * FROM quality_frame")
        for resource in package.resources:
            export_table(con, resource, stage / PROCESSED)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    (stage / DICTIONARY).write_text(metadata.data_dictionary(package), encoding="utf-8")
    (stage / REPORT).write_text(quality_report(package, frames, quality), encoding="utf-8")
    descriptor = datapackage(package, stage, raw_entry)
    (stage / DESCRIPTOR).write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return quality


def swap_in(stage: Path, root: Path = ROOT) -> None:
    """Replace processed/, docs/data_dictionary.md and datapackage.json with the staged release."""
    old = stage.parent / "previous"
    if old.exists():
        shutil.rmtree(old)
    old.mkdir(parents=True)
    target = root / PROCESSED
    if target.exists():
        os.replace(target, old / PROCESSED)
    os.replace(stage / PROCESSED, target)
    (root / DICTIONARY).parent.mkdir(exist_ok=True)
    os.replace(stage / DICTIONARY, root / DICTIONARY)
    os.replace(stage / REPORT, root / REPORT)
    os.replace(stage / DESCRIPTOR, root / DESCRIPTOR)
    shutil.rmtree(old)
    shutil.rmtree(stage)
