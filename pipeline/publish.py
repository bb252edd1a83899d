"""Publish stage: typed tables -> DuckDB database, CSV and Parquet, datapackage.json, data dictionary.

Everything is written into a staging folder first; the cross-checks run on the staged database; only
when they pass is the staged release swapped in for processed/ and datapackage.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from pipeline import forensics, metadata
from pipeline.errors import PipelineError
from pipeline.files import sha256_file, write_atomically
from pipeline.parallel import in_threads
from pipeline.quality import check_gaps, gate
from pipeline.release import docs as release_docs
from pipeline.release.swap import DESCRIPTOR, DOCS, PROCESSED
from pipeline.report import forensics_report, quality_report, readme_findings, with_readme_findings
from pipeline.validate import Validated, validate_table, validate_tables

DICTIONARY, REPORT, PARQUET_VIEWS, FORENSICS, CHANGES = (Path(item) for item in DOCS)
# The documentation files travel with the data: listed in datapackage.json (so `download` brings them).
DOC_RESOURCES = {
    DICTIONARY: (
        "data_dictionary",
        "Data dictionary",
        "md",
        "text/markdown",
        "Every table and column: type, unit, nulls, description and an example value; the views.",
    ),
    REPORT: (
        "quality_report",
        "Quality report",
        "md",
        "text/markdown",
        "Every cross-check with its outcome, the corrections applied to the source (errata) with their "
        "evidence, the acknowledged findings and the values the source does not give.",
    ),
    FORENSICS: (
        "forensics_report",
        "Forensics report",
        "md",
        "text/markdown",
        "Each election-forensics test with its null model, parameters, result, p-value and calibration, and in "
        "plain words what the results show and what they cannot show.",
    ),
    PARQUET_VIEWS: (
        "parquet_views",
        "Views over the Parquet files",
        "sql",
        "application/sql",
        "DuckDB SQL that makes every Parquet file a view named like its table and adds the database's "
        "convenience views: `duckdb -init docs/parquet_views.sql` from the folder holding processed/.",
    ),
    CHANGES: (
        "changes",
        "Changes between releases",
        "md",
        "text/markdown",
        "Every release with every value it added, removed or changed against the previous one, who accepted "
        "each change and when (the table release_changes, readable).",
    ),
}
STORAGE_VERSION = "v1.2.0"  # readable by DuckDB clients from 1.2 on (checked with 1.2.2)
BLOCK_SIZE = 16384  # small blocks: the file is ~1 MB instead of ~13 MB; needs storage v1.2.0 or later
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
DISABLED_COMPRESSION = "fsst,dictionary"  # string compressions that make the file irreproducible
WORKERS = 2  # threads (each with its own cursor) for the checks and the exports: DuckDB releases the GIL


def build_database(validated: Validated, path: Path | str, package: metadata.Package):
    """Create the DuckDB file at `path` (or ':memory:') from the DDL, attached to the connection holding
    the validated tables, and load every table into it in one transaction (half the time of a commit per
    statement on a file); returns the connection, the release its default database."""
    con = create_database(path, package, transaction=True, con=validated.con)
    try:
        load_tables(con, validated, package)
    except BaseException:
        con.execute("ROLLBACK")
        con.close()
        raise
    con.execute("COMMIT")
    return con


def create_database(path: Path | str, package: metadata.Package, *, transaction: bool = False, con=None):
    """An empty database with every table (keys and comments) and view, attached as `release` to `con`
    (else to a new in-memory connection) and made its default; returns the connection, inside an open
    transaction if `transaction`."""
    con = con or duckdb.connect()
    con.execute("SET threads = 1")  # one thread: row order and files are reproducible
    # FSST and dictionary string segments carry uninitialised bytes into the file (duckdb/duckdb#23382):
    # the same table gives a different file on every run, with stray heap contents in it.
    con.execute(f"SET disabled_compression_methods = '{DISABLED_COMPRESSION}'")
    con.execute(
        f"ATTACH {metadata.sql_string(path)} AS release (STORAGE_VERSION '{STORAGE_VERSION}', BLOCK_SIZE {BLOCK_SIZE})"
    )
    con.execute("USE release")
    if transaction:
        con.execute("BEGIN TRANSACTION")
    con.execute(metadata.duckdb_ddl(package))
    create_views(con, package)
    return con


def load_tables(con, validated: Validated, package: metadata.Package) -> None:
    """Insert every validated table into its table of the release (dependencies first), the keys enforced."""

    for resource in package.resources:
        if resource.name not in validated.tables:
            continue  # produced by the cross-checks, loaded after them
        columns = ", ".join(resource.field_names)
        try:
            con.execute(
                f"INSERT INTO {resource.name} ({columns}) SELECT {columns} FROM {validated.relation(resource.name)}"
            )
        except duckdb.ConstraintException as error:
            raise PipelineError(
                "publish",
                f"a key constraint failed while loading: {error}",
                table=resource.name,
                hint="Primary and foreign keys are declared in schemas/resources/.",
            ) from None


def create_views(con, package: metadata.Package) -> None:
    """The convenience views of schemas/views/, each view and view column commented."""
    con.execute(
        ";\n".join(
            f"{view.sql.strip().rstrip(';')};\nCOMMENT ON VIEW {view.name} IS {metadata.sql_string(view.description)}"
            for view in package.views
        )
    )
    names = {view.name: view for view in package.views}
    columns = con.execute(  # every view's columns in one query (a query per view costs more than the views)
        "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN (SELECT unnest(?)) "
        "ORDER BY table_name, column_index",
        [list(names)],
    ).fetchall()
    con.execute(
        ";\n".join(
            f"COMMENT ON COLUMN {view}.{column} IS "
            f"{metadata.sql_string(metadata.view_column_comment(package, names[view], column))}"
            for view, column in columns
        )
    )


def export_csv(con, resource: metadata.Resource, folder: Path) -> str:
    """Write one table as CSV, rows in key order (byte-identical on every run); returns the query."""
    query = f"SELECT * FROM {resource.name} ORDER BY {', '.join(resource.primary_key)}"
    con.execute(
        f"COPY ({query}) TO {metadata.sql_string(folder / f'{resource.name}.csv')} "
        f"(FORMAT csv, HEADER true, DELIMITER ',', TIMESTAMPFORMAT '{DATETIME_FORMAT}', DATEFORMAT '%Y-%m-%d')"
    )
    return query


def export_table(con, resource: metadata.Resource, folder: Path) -> None:
    """Write one table as CSV and Parquet, rows in key order (byte-identical on every run)."""
    query = export_csv(con, resource, folder)
    parquet_path = folder / f"{resource.name}.parquet"
    kv = {"table": resource.name, "description": resource.description}
    kv |= {f"column:{f.name}": metadata.column_comment(f) for f in resource.fields}
    kv_sql = ", ".join(f"{metadata.sql_string(k)}: {metadata.sql_string(v)}" for k, v in kv.items())
    con.execute(
        f"COPY ({query}) TO {metadata.sql_string(parquet_path)} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, KV_METADATA {{{kv_sql}}})"
    )


def _export(con, resources: list[metadata.Resource], folder: Path) -> dict[str, dict[str, str]]:
    """Export these tables and return their example values."""
    for resource in resources:
        export_table(con, resource, folder)
    return _examples(con, resources)


def parquet_views(package: metadata.Package) -> str:
    """SQL that makes every Parquet file a view named like its table, then adds the convenience views,
    so that any query written for the database runs on the Parquet files alone."""
    lines = [
        "-- Generated by `python -m pipeline publish`. Run from the repository root (or the folder holding",
        "-- processed/), e.g. `duckdb -init docs/parquet_views.sql`, then query the tables by name.",
        "",
    ]
    lines += [
        f"CREATE OR REPLACE VIEW {r.name} AS SELECT * FROM read_parquet('{PROCESSED}/{r.name}.parquet');"
        for r in package.resources
    ]
    lines += ["", *(v.sql.strip().replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1) for v in package.views), ""]
    return "\n".join(lines)


def _examples(con, resources: list[metadata.Resource]) -> dict[str, dict[str, str]]:
    """An example value per column: the first non-null value in key order."""
    queries = []
    for resource in resources:  # one query for all the tables: a list of the columns' examples each
        order = ", ".join(resource.primary_key)
        picks = ", ".join(
            f"CAST(first({f.name} ORDER BY {order}) FILTER (WHERE {f.name} IS NOT NULL) AS VARCHAR)"
            for f in resource.fields
        )
        queries.append(f"(SELECT [{picks}] FROM {resource.name})")
    (rows,) = con.execute("SELECT " + ", ".join(queries)).fetchall()
    return {
        resource.name: {
            f.name: "" if v is None else (v if len(v) <= 60 else v[:57] + "...")
            for f, v in zip(resource.fields, row, strict=True)
        }
        for resource, row in zip(resources, rows, strict=True)
    }


def datapackage(package: metadata.Package, stage: Path, raw_entry: dict, newest: dict) -> dict:
    """The Frictionless descriptor, with relative paths and the bytes and sha256 of every file; its
    version and date are the newest release's (a row of the table releases)."""
    meta = package.meta

    def file_facts(relative: str) -> dict:
        path = stage / relative
        return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}"}

    resources, copies = [], []
    for resource in package.resources:
        relative = f"{PROCESSED}/{resource.name}.csv"
        resources.append(
            {
                "name": resource.name,
                "title": resource.title,
                "description": resource.description,
                "path": relative,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                **file_facts(relative),
                "dialect": {"delimiter": ",", "header": True},
                "schema": metadata.table_schema(resource),
            }
        )
        parquet = f"{PROCESSED}/{resource.name}.parquet"
        copies.append(
            {
                "name": f"{resource.name}_parquet",
                "type": "file",
                "title": f"{resource.title} (Parquet)",
                "description": f"The table {resource.name} as Parquet: the same rows, columns and types as the CSV, "
                "with the table and column descriptions in the file's key-value metadata.",
                "path": parquet,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                **file_facts(parquet),
            }
        )
    database = f"{PROCESSED}/{meta['database']}"
    copies.append(
        {
            "name": "database",
            "type": "file",
            "title": "DuckDB database with every table",
            "description": "Every table in one DuckDB file (storage version "
            f"{STORAGE_VERSION}: DuckDB 1.2 or later), with primary and foreign keys "
            "and a comment on every table and column.",
            "path": database,
            "format": "duckdb",
            "mediatype": "application/octet-stream",
            **file_facts(database),
        }
    )
    for path, (name, title, fmt, mediatype, description) in DOC_RESOURCES.items():
        copies.append(
            {
                "name": name,
                "type": "file",
                "title": title,
                "description": description,
                "path": path.as_posix(),
                "format": fmt,
                "mediatype": mediatype,
                **file_facts(path.as_posix()),
            }
        )
    resources += copies
    homepage = {"homepage": meta["homepage"]} if meta.get("homepage") else {}
    return {
        "profile": "data-package",
        "name": meta["name"],
        "title": meta["title"],
        "description": " ".join(meta["description"].split()),
        "version": newest["version"],
        "created": f"{newest['release_date']:%Y-%m-%d}T00:00:00Z",
        "citation": " ".join(meta["citation"].split()).replace("VERSION", newest["version"]),
        **homepage,
        "keywords": meta["keywords"],
        "licenses": meta["licenses"],
        "contributors": meta["contributors"],
        "sources": [
            {
                **s,
                "sha256": raw_entry.get("sha256"),
                "revision_id": raw_entry.get("revision_id"),
                "retrieved_at": raw_entry.get("retrieved_at"),
                **{k: raw_entry[k] for k in ("retrieved_at_precision", "retrieved_at_note") if k in raw_entry},
            }
            for s in meta["sources"]
        ],
        "resources": resources,
    }


def verify_release(con, validated: Validated, package: metadata.Package, *, workers: int = 1) -> list[dict]:
    """The release's quality gate on a loaded database: reviewed gaps, then every cross-check, each finding
    corrected or acknowledged; the quality_checks rows are validated and loaded. Raises on any failure.
    `workers` > 1 runs the checks in threads (the data must be committed)."""

    check_gaps(validated.tables["source_gaps"])
    quality = gate(con, validated.tables["errata"], workers=workers)
    resource = package.produced_by_checks
    con.execute(f"INSERT INTO {resource.name} SELECT * FROM {validate_table(con, resource, quality)}")
    return quality


def stage_release(
    validated: Validated, stage: Path, raw_entry: dict, package: metadata.Package | None = None, pending=None
) -> list[dict]:
    """Write a whole release into `stage` after the cross-checks pass; returns the quality_checks rows.
    A failure to write (a full disk, a read-only folder) removes the stage and says so."""

    package = package or metadata.load()
    try:
        return _stage_release(validated, stage, raw_entry, package, pending)
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
    validated: Validated, stage: Path, raw_entry: dict, package: metadata.Package, pending=None
) -> list[dict]:
    if stage.exists():
        shutil.rmtree(stage)
    (stage / PROCESSED).mkdir(parents=True)
    (stage / DICTIONARY).parent.mkdir(parents=True)
    database = stage / PROCESSED / package.meta["database"]
    con = build_database(validated, database, package)
    try:
        quality = verify_release(con, validated, package, workers=WORKERS)
        if pending is None:
            pending = forensics.Pending()
            pending.send(validated.tables)
        forensic_tables = pending.result()
        relations = validate_tables(con, package.produced_by_forensics, forensic_tables)
        con.execute(";\n".join(f"INSERT INTO {name} SELECT * FROM {relation}" for name, relation in relations.items()))
        tables = list(package.resources)
        examples = {}
        folder = stage / PROCESSED
        tasks = [lambda cursor, part=tables[n::WORKERS]: _export(cursor, part, folder) for n in range(WORKERS)]
        for part in in_threads(con, tasks):  # each thread exports its share of the tables and their examples
            examples |= part
        examples = {resource.name: examples[resource.name] for resource in package.resources}
        view_columns = {
            view.name: con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() "
                "WHERE table_name = ? ORDER BY column_index",
                [view.name],
            ).fetchall()
            for view in package.views
        }
        con.execute("CHECKPOINT")
    finally:
        con.close()
    (stage / DICTIONARY).write_text(metadata.data_dictionary(package, examples, view_columns), encoding="utf-8")
    (stage / REPORT).write_text(quality_report(package, validated.tables, quality), encoding="utf-8")
    (stage / PARQUET_VIEWS).write_text(parquet_views(package), encoding="utf-8")
    (stage / FORENSICS).write_text(forensics_report(forensic_tables, forensics.parameters()), encoding="utf-8")
    (stage / CHANGES).write_text(release_docs.changes_markdown(validated.tables), encoding="utf-8")
    descriptor = datapackage(package, stage, raw_entry, validated.tables["releases"][0])
    (stage / DESCRIPTOR).write_bytes(descriptor_bytes(descriptor))
    return quality


def descriptor_bytes(descriptor: dict) -> bytes:
    """datapackage.json as publish writes it (bundle and site compare the published one with it)."""
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


ROOT_DOCUMENTS = ("CHANGELOG.md", "README.md")


def read_root_documents(root: Path) -> dict[str, str]:
    """The documents at the root that a release rewrites (CHANGELOG.md, the README's findings block), read
    before anything is built: a damaged one is a PipelineError, with nothing published. A root without one
    is left alone."""
    return {name: _read_text(root / name) for name in ROOT_DOCUMENTS if (root / name).exists()}


def root_documents(
    root: Path, current: dict[str, str], tables: dict[str, list[dict]], quality: list[dict]
) -> dict[Path, bytes]:
    """The new texts of the root's documents (`current`: as read_root_documents read them) that change:
    CHANGELOG.md from the releases, the README's findings block (a README without the block is left alone)."""
    new = {}
    if "CHANGELOG.md" in current:
        new["CHANGELOG.md"] = release_docs.changelog(tables)
    if "README.md" in current:
        new["README.md"] = with_readme_findings(current["README.md"], readme_findings(tables, quality))
    return {
        root / name: text.encode("utf-8") for name, text in new.items() if text is not None and text != current[name]
    }


def write_documents(documents: dict[Path, bytes]) -> None:
    for path, body in documents.items():
        write_atomically(path, body)


def _read_text(path: Path) -> str:
    from pipeline.files import NotReadable, read_regular

    try:
        return read_regular(path, 64 * 2**20).decode("utf-8")
    except NotReadable as error:
        raise PipelineError("publish", f"{error}; nothing was published.") from None
    except UnicodeDecodeError as error:
        raise PipelineError(
            "publish", f"{path} is not UTF-8 (byte {error.start}); nothing was published.", hint="Restore it from git."
        ) from None
    except OSError as error:
        raise PipelineError("publish", f"cannot read {path}: {error.strerror}; nothing was published.") from None
