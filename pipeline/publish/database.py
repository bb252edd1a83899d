"""The release's DuckDB database and its CSV and Parquet files: the empty database from the DDL that
schemas/ generates (keys and a comment on every table and column, the views), the validated tables loaded
into it, and every table exported in key order (byte-identical on every run)."""

from __future__ import annotations

import datetime
from pathlib import Path

import duckdb

from pipeline import metadata
from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.release.swap import PROCESSED
from pipeline.validate import Validated, typed_columns

STORAGE_VERSION = "v1.2.0"  # readable by DuckDB clients from 1.2 on (checked with 1.2.2)


BLOCK_SIZE = 16384  # small blocks: the file is ~1 MB instead of ~13 MB; needs storage v1.2.0 or later


DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


DISABLED_COMPRESSION = "fsst,dictionary"  # string compressions that make the file irreproducible


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
    transaction if `transaction`. A file starts as a copy of the empty database these schemas define
    (made once, then taken from the build cache: its 400 comments cost more than the rest of the build's
    SQL); ':memory:' runs the DDL."""
    con = con or duckdb.connect()
    _settings(con)
    if str(path) != ":memory:":
        _start_from_empty(Path(path), package)
    con.execute(
        f"ATTACH {metadata.sql_string(path)} AS release (STORAGE_VERSION '{STORAGE_VERSION}', BLOCK_SIZE {BLOCK_SIZE})"
    )
    con.execute("USE release")
    if str(path) == ":memory:":
        _define(con, package)
    if transaction:
        con.execute("BEGIN TRANSACTION")
    return con


def _settings(con) -> None:
    con.execute("SET threads = 1")  # one thread: row order and files are reproducible
    # FSST and dictionary string segments carry uninitialised bytes into the file (duckdb/duckdb#23382):
    # the same table gives a different file on every run, with stray heap contents in it.
    con.execute(f"SET disabled_compression_methods = '{DISABLED_COMPRESSION}'")


def _define(con, package: metadata.Package) -> None:
    """Every table, with its keys and comments, and every view, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    con.execute(metadata.duckdb_ddl(package))
    create_views(con, package)
    con.execute("COMMIT")


def schema_key(package: metadata.Package) -> str:
    """A key naming the empty release database of these schemas: the DuckDB version, the storage
    settings, the DDL and the views (and, as in every key, the code)."""
    return cache.key(
        duckdb.__version__,
        STORAGE_VERSION,
        str(BLOCK_SIZE),
        DISABLED_COMPRESSION,
        metadata.duckdb_ddl(package),
        *(view.sql + view.description for view in package.views),
    )


def _start_from_empty(path: Path, package: metadata.Package) -> None:
    """Write the empty release database of these schemas at `path`: a copy of the one in the build cache,
    else made here (and stored in the cache). Its name in the cache is the sha256 of everything it is
    made from: the DuckDB version, the storage settings, the DDL, the views and the code that writes
    their comments."""
    name = schema_key(package) + ".duckdb"
    stored = cache.get("database", name)
    if stored is not None:
        path.write_bytes(stored)
        return
    con = duckdb.connect()
    try:
        _settings(con)
        con.execute(
            f"ATTACH {metadata.sql_string(path)} AS release "
            f"(STORAGE_VERSION '{STORAGE_VERSION}', BLOCK_SIZE {BLOCK_SIZE})"
        )
        con.execute("USE release")
        _define(con, package)
        con.execute("USE memory")
        con.execute("DETACH release")
    finally:
        con.close()
    cache.put("database", name, path.read_bytes())


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


def export_query(resource: metadata.Resource) -> str:
    """A table's rows in key order, as its files hold them."""
    return f"SELECT * FROM {resource.name} ORDER BY {', '.join(resource.primary_key)}"


def _copies(resource: metadata.Resource, folder: Path) -> list[str]:
    """The statements that write a table's CSV and Parquet files into `folder`."""
    query = export_query(resource)
    kv = {"table": resource.name, "description": resource.description}
    kv |= {f"column:{f.name}": metadata.column_comment(f) for f in resource.fields}
    kv_sql = ", ".join(f"{metadata.sql_string(k)}: {metadata.sql_string(v)}" for k, v in kv.items())
    return [
        f"COPY ({query}) TO {metadata.sql_string(folder / f'{resource.name}.csv')} "
        f"(FORMAT csv, HEADER true, DELIMITER ',', TIMESTAMPFORMAT '{DATETIME_FORMAT}', DATEFORMAT '%Y-%m-%d')",
        f"COPY ({query}) TO {metadata.sql_string(folder / f'{resource.name}.parquet')} "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, KV_METADATA {{{kv_sql}}})",
    ]


def export_key(resource: metadata.Resource, known: str) -> str:
    """A table's files' key in a build's record: `known` (a key naming the database's schemas and the
    table's rows) and the statements that write them."""
    return cache.key("export", known, *_copies(resource, Path("/")))


def restore_exports(
    resources: list[metadata.Resource], folder: Path, keys: dict[str, str], exports: cache.Memo, files: dict
) -> list[metadata.Resource]:
    """Write into `folder` the files of the tables the build before exported from the same rows by the same
    statements (`keys`: each table's export_key; `exports`: the keys the build before exported; `files`:
    its staged release, by name); returns the tables still to export, whose keys the caller records."""
    anew = []
    for resource in resources:
        names = [f"{folder.name}/{resource.name}.{suffix}" for suffix in ("csv", "parquet")]
        if exports.get(keys[resource.name]) is not True or not all(name in files for name in names):
            anew.append(resource)
            continue
        for name in names:
            (folder / Path(name).name).write_bytes(files[name])
    return anew


def export_table(con, resource: metadata.Resource, folder: Path) -> None:
    """Write one table as CSV and Parquet, rows in key order (byte-identical on every run)."""
    for statement in _copies(resource, folder):
        con.execute(statement)


def export_tables(con, resources: list[metadata.Resource], folder: Path) -> None:
    """Export these tables."""
    for resource in resources:
        export_table(con, resource, folder)


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


def examples(
    package: metadata.Package, tables: dict[str, list[dict]], keys: dict[str, str] | None = None, memo=None
) -> dict[str, dict[str, str]]:
    """An example value per column for the data dictionary: the first non-null value in key order, as
    DuckDB writes it (the text of CAST(value AS VARCHAR)), cut to 60 characters. From the validated
    records, in Python: one query over every column of every table cost more than all the exports. With
    `keys` (each table's export_key) and `memo` (a cache.Memo of the build before's examples), a table's
    examples are taken from the build before when its key did not change."""
    out = {}
    for resource in package.resources:
        key = keys.get(resource.name) if keys and memo is not None else None
        known = memo.get(key) if key else cache.MISSING
        if known is not cache.MISSING:
            out[resource.name] = known
            continue
        out[resource.name] = _examples(resource, tables[resource.name])
        if key:
            memo.put(key, out[resource.name])
    return out


def _examples(resource: metadata.Resource, records: list[dict]) -> dict[str, str]:
    """A table's example value per column (see examples)."""
    columns = typed_columns(resource, records)
    keys = [columns[k] for k in resource.primary_key]
    order = sorted(range(len(records)), key=lambda i: tuple(k[i] for k in keys))
    out = {}
    for f in resource.fields:
        value = next((columns[f.name][i] for i in order if columns[f.name][i] is not None), None)
        text = "" if value is None else _as_duckdb_text(value)
        out[f.name] = text if len(text) <= 60 else text[:57] + "..."
    return out


def _as_duckdb_text(value) -> str:
    """A typed value as DuckDB casts it to VARCHAR (a double as its shortest round trip, as Python's repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime) and value.microsecond:  # DuckDB drops the fraction's trailing zeros
        return f"{value:%Y-%m-%d %H:%M:%S}." + f"{value.microsecond:06d}".rstrip("0")
    return repr(value) if isinstance(value, float) else str(value)
