"""The station-level path: polling-station returns as Parquet, validated inside DuckDB from the same
schemas/ as the release (schemas/stations/), cross-checked in SQL against the published regional totals
(pipeline/checks/stations/), and tested with the station-level forensic tests (pipeline/stations/forensics.py).
No Python loop touches a row: it scales with DuckDB, not with the interpreter.

`python -m pipeline synth` draws a synthetic set (pipeline/stations/synth.py); `python -m pipeline
stations DIR` runs the path on a folder of returns."""

from __future__ import annotations

from pathlib import Path

from pipeline import ROOT

CHECKS = ROOT / "pipeline" / "checks" / "stations"
GLOB = ("*", "?", "[", "]", "{", "}")
# The release's tables the station path reads (keys and published totals), as Parquet in processed/.
RELEASE_TABLES = (
    "regions",
    "vote_options",
    "party_list_results",
    "region_ballots",
    "national_party_list_results",
    "national_ballots",
)


def open_returns(folder: Path, release: Path):
    """An in-memory DuckDB connection with a view per table of the station package over `folder`'s Parquet
    files and a view per release table over `release`'s; raises a PipelineError naming a missing or
    unreadable file."""
    import duckdb

    from pipeline import metadata
    from pipeline.common.errors import PipelineError

    package = metadata.load_stations()
    optional = set(package.meta.get("optional", []))
    for where in (folder, release):  # DuckDB reads a path with these as a pattern, matching other files
        if any(ch in str(where) for ch in GLOB):
            raise PipelineError(
                "stations", f"{where}: a folder whose path holds any of {' '.join(GLOB)} is refused", hint="Rename it."
            )
    con = duckdb.connect()
    for name in RELEASE_TABLES:
        release_view(con, release, name, "stations")
    for resource in package.resources:
        path = folder / f"{resource.name}.parquet"
        if (path.exists() or path.is_symlink()) and not path.is_file():
            raise PipelineError("validate", f"{path} is not a regular file", table=resource.name)
        if not path.is_file():
            if resource.name in optional:
                continue
            raise PipelineError("validate", f"{path} is missing", table=resource.name)
        try:
            con.execute(f"CREATE VIEW {resource.name} AS SELECT * FROM read_parquet({metadata.sql_string(path)})")
            con.execute(f"DESCRIBE {resource.name}").fetchall()
        except duckdb.Error as error:
            raise PipelineError(
                "validate", f"{path} cannot be read as Parquet: {str(error).splitlines()[0]}", table=resource.name
            ) from None
    return con


def release_view(con, release: Path, name: str, stage: str) -> None:
    """A view `name` over the release folder's Parquet file of that table, after checking that it is one:
    readable as Parquet, with the columns and types of the published table; else a PipelineError naming
    the release folder and file."""
    import duckdb

    from pipeline import metadata
    from pipeline.common.errors import PipelineError
    from pipeline.stations.validate import check_columns

    path = release / f"{name}.parquet"
    hint = "Run `make` first, or pass --release the processed/ folder of a release."
    if not path.is_file():
        raise PipelineError(stage, f"the release folder {release} has no {path.name} (a regular file).", hint=hint)
    try:
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({metadata.sql_string(path)})")
        con.execute(f"SELECT * FROM {name}").fetchall()  # every value (a release table has at most 160 rows)
    except duckdb.Error as error:
        reason = str(error).splitlines()[0]
        raise PipelineError(
            stage, f"the release folder {release}: {path.name} cannot be read as Parquet ({reason}).", hint=hint
        ) from None
    try:
        check_columns(con, metadata.load().resource(name))
    except PipelineError as error:
        what = f"column {error.column}: {error.message}" if error.column else error.message
        raise PipelineError(
            stage, f"the release folder {release}: {path.name} is not the published table {name} ({what})", hint=hint
        ) from None


def read_release(release: Path) -> dict[str, list[dict]]:
    """The rows of region_ballots and party_list_results (what the generator needs) from `release`."""
    import duckdb

    from pipeline.common.errors import PipelineError

    con = duckdb.connect()
    out = {}
    try:
        for name in ("region_ballots", "party_list_results"):
            release_view(con, release, name, "synth")
            cursor = con.execute(f"SELECT * FROM {name}")
            columns = [d[0] for d in cursor.description]
            out[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as error:  # a damaged row group that only a full read reaches
        reason = str(error).splitlines()[0].rstrip(".")
        raise PipelineError("synth", f"cannot read the release in {release}: {reason}.") from None
    finally:
        con.close()
    return out
