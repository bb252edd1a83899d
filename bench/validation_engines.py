"""Validation engines compared (issue 21, item 5): the constraint SQL generated from schemas/ (DuckDB), against
pandera's polars backend and pandera's Ibis backend on DuckDB, with the same checks built from the same
metadata (pipeline.metadata: resources, fields, constraints), never written by hand.

The checks, for every table: the columns (exactly the schema's) and their types; required values (and the
primary key's); minimum, maximum, pattern (the whole value) and enum; no empty text; the primary key and
every unique key. Foreign keys are not part of the comparison (pandera checks one table at a time); the
station path's own validation, which adds them, is timed beside it for reference.

Measured in fresh processes, one at a time, the engines taking turns for --rounds rounds (so that anything
else the machine does falls on all of them alike); medians reported:
- the import of each engine (one fresh interpreter per engine and round);
- the read of the Parquet files into the engine (polars DataFrames; DuckDB in-memory tables, which pandera's
  Ibis backend reads through ibis), reported apart;
- the validation alone, on data already in memory: in each process one warm-up, then --runs timed runs
  (for the station set, the SQL also straight on views over the Parquet files, read included, as
  `python -m pipeline stations` runs it);
on (a) the release's tables (processed/*.parquet) and (b) a synthetic station set of --rows vote rows
(`python -m pipeline synth`, one station per 8 vote rows). Then the parity check: a tampered copy of each
(a negative vote count, a duplicate key, a value outside an enum, a broken pattern, a missing required
value, empty text, a value above a maximum, a repeated unique name, a column of the wrong type) is
validated by every engine, and the failures each one names are compared.

It needs packages that are not in requirements.lock; install them into a scratch virtual environment, not
the project's .venv, and run with the repository on PYTHONPATH:

    python3.11 -m venv /tmp/pandera-venv
    /tmp/pandera-venv/bin/pip install "pandera[polars]==0.35.0" "ibis-framework[duckdb]" \\
        duckdb==2.0.1 numpy==2.4.6 pandas==3.1.1 pyyaml==6.0.4
    PYTHONPATH=. /tmp/pandera-venv/bin/python bench/validation_engines.py [--rows 10000000] [--rounds 5]

`--write` puts the results into docs/validation.md between its `results` markers. Without ibis installed
(or with --no-ibis) the Ibis backend is left out. A measured process that overlapped other work of the
project (a test run, a build: a process of the project's .venv) is counted, and the medians of the others
are given apart. At 10 million rows it takes about 10 minutes on 2 cores and needs about 4 GB of memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = 8  # vote rows per synthetic station: the 7 parties and 'against all'
WORKERS = 2  # the build's threads for the release's constraint queries (pipeline/validate/)
ENGINES = {
    "sql": "generated SQL (DuckDB)",
    "polars": "pandera.polars",
    "ibis": "pandera.ibis on DuckDB",
}
IMPORTS = {
    "sql": "import duckdb",
    "polars": "import polars, pandera.polars",
    "ibis": "import ibis, ibis.backends.duckdb, pandera.ibis",
}
# The kind of failure, from the SQL's reason or pandera's check name.
SQL_REASONS = {
    "a required value is missing": "required",
    "below the minimum": "minimum",
    "above the maximum": "maximum",
    "does not match the pattern": "pattern",
    "not one of": "enum",
    "empty text": "empty",
    "these values appear in": "unique",
}
PANDERA_CHECKS = {
    "not_nullable": "required",
    "greater_than_or_equal_to": "minimum",
    "less_than_or_equal_to": "maximum",
    "str_matches": "pattern",
    "isin": "enum",
    "str_length": "empty",
    "field_uniqueness": "unique",
    "multiple_fields_uniqueness": "unique",
    "dtype": "type",
    "column_in_schema": "extra column",
    "column_in_dataframe": "missing column",
}
SCHEMA_LEVEL = ("type", "extra column", "missing column")  # named by table and column only


# --- the schemas, from the metadata ----------------------------------------------------------------------


def unique_groups(resource) -> list[list[str]]:
    """The keys that must be unique: the primary key, the resource's unique groups and unique columns (the
    same list the constraint SQL checks)."""
    from pipeline.metadata.constraints import _unique_groups

    return [list(group) for group in _unique_groups(resource)]


def value_checks(check, f) -> list:
    """pandera Checks (of the polars or the Ibis API: `check` is its Check class) for a field's value
    constraints, as pipeline/metadata/constraints.py writes them in SQL."""
    c, checks = f.constraints, []
    if "minimum" in c:
        checks.append(check.ge(c["minimum"]))
    if "maximum" in c:
        checks.append(check.le(c["maximum"]))
    if "pattern" in c:
        checks.append(check.str_matches(f"^(?:{c['pattern']})$"))  # the whole value, as regexp_full_match
    if "enum" in c:
        checks.append(check.isin(list(c["enum"])))
    if f.type == "string":
        checks.append(check.str_length(min_value=1))  # empty text: a missing value must be null
    return checks


def polars_schema(resource):
    """A pandera.polars DataFrameSchema of a resource: exact polars types, no coercion."""
    import pandera.polars as pa
    import polars as pl

    dtypes = {
        "string": pl.String,
        "integer": pl.Int64,
        "number": pl.Float64,
        "boolean": pl.Boolean,
        "date": pl.Date,
        "datetime": pl.Datetime("us"),
    }
    return _schema(pa, dtypes, resource)


def ibis_schema(resource):
    """A pandera.ibis DataFrameSchema of a resource. Every unique key is a schema-level group: the Ibis
    backend ignores Column(unique=True)."""
    import ibis.expr.datatypes as dt
    import pandera.ibis as pa

    dtypes = {
        "string": dt.String(),
        "integer": dt.Int64(),
        "number": dt.Float64(),
        "boolean": dt.Boolean(),
        "date": dt.Date(),
        "datetime": dt.Timestamp(scale=6),
    }
    return _schema(pa, dtypes, resource)


def _schema(pa, dtypes: dict, resource):
    """A DataFrameSchema of `resource` in the pandera backend `pa`, with the backend's types `dtypes`."""
    columns = {
        f.name: pa.Column(
            dtypes[f.type],
            checks=value_checks(pa.Check, f),
            nullable=not (f.required or f.name in resource.primary_key),
        )
        for f in resource.fields
    }
    return pa.DataFrameSchema(columns, unique=unique_groups(resource), strict=True, name=resource.name)


def package(kind: str):
    from pipeline import metadata

    return metadata.load() if kind == "release" else metadata.load_stations()


def present(kind: str, folder: Path) -> list:
    """The resources of the package that have a Parquet file in the folder."""
    return [r for r in package(kind).resources if (folder / f"{r.name}.parquet").is_file()]


def text(value) -> str:
    """A value as the SQL's CAST(... AS VARCHAR) shows it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:  # pandas' missing values (pd.NA, NaT) from the Ibis backend's failure cases
        import pandas

        if value is pandas.NA or value is pandas.NaT:
            return "null"
    except ImportError:
        pass
    return str(value)


def group_key(group: list[str], row: dict) -> str:
    return ", ".join(f"{k}={text(row[k])}" for k in group)


# --- the engines ------------------------------------------------------------------------------------------


class Sql:
    """The generated SQL, as the build and the station path run it: the columns and their types, then one
    query counting the broken constraints and repeated keys of every table; the broken rows are listed
    (violations_sql) only when the count is not zero."""

    def __init__(self, kind: str, resources: list, release: Path):
        import duckdb

        from pipeline.metadata import sql_string
        from pipeline.metadata.constraints import count_sql

        self.kind, self.resources, self.release = kind, resources, release
        # The release as the build checks it (pipeline/validate/): one DuckDB thread, the tables in two parts,
        # one count query per part, each on its own cursor in its own thread. A station set as the station
        # path reads it: DuckDB's own threads.
        self.con = duckdb.connect(config={"threads": 1}) if kind == "release" else duckdb.connect()
        started = time.perf_counter()
        parts = [resources[n::WORKERS] for n in range(WORKERS)] if kind == "release" else [resources]
        self.counts = ["SELECT " + ", ".join(f"{count_sql(r, r.name)} AS {r.name}" for r in part) for part in parts]
        self.build_seconds = time.perf_counter() - started
        if kind == "stations":  # the release's tables the station path's foreign keys refer to
            for name in ("regions", "vote_options"):
                path = sql_string(release / f"{name}.parquet")
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({path})")

    def read(self, folder: Path) -> None:
        """Each table into an in-memory DuckDB table; the table is seen through a view of its name (the
        station path validates views)."""
        from pipeline.metadata import sql_string

        for r in self.resources:
            path = sql_string(folder / f"{r.name}.parquet")
            self.con.execute(f"CREATE OR REPLACE TABLE data_{r.name} AS SELECT * FROM read_parquet({path})")
            self.con.execute(f"CREATE OR REPLACE VIEW {r.name} AS SELECT * FROM data_{r.name}")

    def type_problems(self) -> list[tuple]:
        """(table, column, kind, "-") for a missing or extra column or a type the schema does not accept
        (the station path's accepted DuckDB types; all tables in one query)."""
        from pipeline.stations.validate import ACCEPTED

        found: dict[str, dict[str, str]] = {}
        rows = self.con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main'"
        ).fetchall()
        for table, column, kind in rows:
            found.setdefault(table, {})[column] = kind
        problems = []
        for r in self.resources:
            columns = found.get(r.name, {})
            for f in r.fields:
                if f.name not in columns:
                    problems.append((r.name, f.name, "missing column", "-"))
                elif columns[f.name] not in ACCEPTED[f.type]:
                    problems.append((r.name, f.name, "type", "-"))
            problems += [(r.name, c, "extra column", "-") for c in columns if c not in r.field_names]
        return problems

    def validate(self) -> bool:
        from pipeline.common.parallel import in_threads

        problems = self.type_problems()
        if len(self.counts) == 1:
            counts = self.con.execute(self.counts[0]).fetchone()
            broken = [r for r, n in zip(self.resources, counts, strict=True) if n]
        else:
            answers = in_threads(self.con, [lambda cursor, q=q: cursor.execute(q).fetchone() for q in self.counts])
            parts = [self.resources[n::WORKERS] for n in range(WORKERS)]
            broken = [r for part, a in zip(parts, answers, strict=True) for r, n in zip(part, a, strict=True) if n]
        if broken:
            self.violations(broken)
        return not problems and not broken

    def violations(self, resources: list) -> list[tuple]:
        from pipeline.metadata.constraints import violations_sql

        out = []
        for r in resources:
            for row_key, column, value, reason in self.con.execute(violations_sql(r, r.name)).fetchall():
                kind = next(k for prefix, k in SQL_REASONS.items() if reason.startswith(prefix))
                out.append((r.name, column, kind, row_key if kind == "unique" else text(value)))
        return out

    def findings(self) -> set[tuple]:
        return set(self.type_problems()) | set(self.violations(self.resources))

    def production(self) -> float | None:
        """The station path's own validation (types, constraints with its faster key checks, foreign keys
        within the set and into the release), on the same in-memory tables."""
        if self.kind != "stations":
            return None
        from pipeline.stations.validate import validate

        started = time.perf_counter()
        validate(self.con, package("stations"))
        return time.perf_counter() - started

    def on_parquet(self, folder: Path, runs: int) -> dict[str, list[float]]:
        """Both, straight on views over the Parquet files, as `python -m pipeline stations` reads them (the
        read is then part of every run): one warm-up, then `runs` timed runs of each."""
        from pipeline.stations import open_returns

        saved, self.con = self.con, open_returns(folder, self.release)
        try:
            self.validate(), self.production()
            times: dict[str, list[float]] = {"sql": [], "production": []}
            for _ in range(runs):
                started = time.perf_counter()
                self.validate()
                times["sql"].append(time.perf_counter() - started)
                times["production"].append(self.production())
            return times
        finally:
            self.con.close()
            self.con = saved


class _Pandera:
    """What the two pandera backends share: every table validated lazily, its failures collected by
    kind; a backend says where its tables are and how its failure cases read."""

    resources: list
    schemas: dict

    def inputs(self) -> dict:
        """The tables to validate, by name."""
        raise NotImplementedError

    def failures(self):
        """(resource, its schema errors) for every table that fails (every table is validated)."""
        from pandera.errors import SchemaErrors

        inputs = self.inputs()
        for r in self.resources:
            if r.name not in inputs:
                continue
            try:
                self.schemas[r.name].validate(inputs[r.name], lazy=True)
            except SchemaErrors as errors:
                yield r, errors.schema_errors

    def validate(self) -> bool:
        return not list(self.failures())

    def findings(self) -> set[tuple]:
        out = set()
        for r, cases in self.failures():
            for error in cases:
                kind = pandera_kind(error.check)
                column = self.column(error) if kind != "unique" else None
                if kind == "unique":
                    group = unique_group(str(error), r)
                    out.update((r.name, ", ".join(group), kind, group_key(group, row)) for row in self.records(error))
                elif kind in SCHEMA_LEVEL:
                    out.add((r.name, column, kind, "-"))
                else:
                    out.update((r.name, column, kind, text(value)) for value in self.values(error, column))
        return out

    def production(self) -> None:
        return None


class PanderaPolars(_Pandera):
    def __init__(self, kind: str, resources: list, release: Path):
        import pandera.polars  # noqa: F401  (imported before the schemas are timed)

        self.resources = resources
        started = time.perf_counter()
        self.schemas = {r.name: polars_schema(r) for r in resources}
        self.build_seconds = time.perf_counter() - started
        self.frames: dict = {}

    def read(self, folder: Path) -> None:
        import polars as pl

        self.frames = {r.name: pl.read_parquet(folder / f"{r.name}.parquet") for r in self.resources}

    def inputs(self) -> dict:
        return self.frames

    def column(self, error) -> str:
        return error.column_name

    def records(self, error) -> list[dict]:
        return list(error.failure_cases.iter_rows(named=True))

    def values(self, error, column: str) -> list:
        return [value for (value,) in error.failure_cases.iter_rows()]


class PanderaIbis(_Pandera):
    def __init__(self, kind: str, resources: list, release: Path):
        import ibis
        import pandera.ibis  # noqa: F401  (imported before the schemas are timed)

        self.resources = resources
        started = time.perf_counter()
        self.schemas = {r.name: ibis_schema(r) for r in resources}
        self.build_seconds = time.perf_counter() - started
        self.backend = ibis.duckdb.connect()
        self.tables: dict = {}
        self.empty: set[str] = set()

    def read(self, folder: Path) -> None:
        from pipeline.metadata import sql_string

        for r in self.resources:
            path = sql_string(folder / f"{r.name}.parquet")
            self.backend.con.execute(f"CREATE OR REPLACE TABLE {r.name} AS SELECT * FROM read_parquet({path})")
        self.tables = {r.name: self.backend.table(r.name) for r in self.resources}
        # pandera.ibis fails every check of an empty table (an aggregate over no rows is null, not true):
        # the tables the read found empty are not given to it
        counts = self.backend.con.execute(
            " UNION ALL ".join(f"SELECT '{r.name}', count(*) FROM {r.name}" for r in self.resources)
        ).fetchall()
        self.empty = {name for name, n in counts if n == 0}

    def inputs(self) -> dict:
        return {name: table for name, table in self.tables.items() if name not in self.empty}

    def column(self, error) -> str | None:
        return getattr(error.schema, "name", None)

    def _cases(self, error):
        import ibis

        failures = error.failure_cases
        return failures.execute() if isinstance(failures, ibis.Table) else failures

    def records(self, error) -> list[dict]:
        return self._cases(error).to_dict("records")

    def values(self, error, column: str) -> list:
        failures = self._cases(error)  # a check's failures come as {column: value} in a column failure_case
        return list(failures[column]) if column in failures else [d[column] for d in failures["failure_case"]]


RUNNERS = {"sql": Sql, "polars": PanderaPolars, "ibis": PanderaIbis}


def pandera_kind(check) -> str:
    name = getattr(check, "name", None) or str(check)
    return PANDERA_CHECKS.get(name.split("(")[0], name)


def unique_group(message: str, resource) -> list[str]:
    """The key a pandera uniqueness error names ("columns '('a', 'b')' not unique")."""
    match = re.search(r"columns '\((.*?),?\)' not unique", message)
    if match:
        return [part.strip().strip("'\"") for part in match.group(1).split(",") if part.strip()]
    match = re.search(r"column '([^']+)' not unique", message)
    return [match.group(1)] if match else list(resource.primary_key)


# --- one measured process ---------------------------------------------------------------------------------


def run_child(args) -> dict:
    """Read, warm up and time one engine on one folder (or, with --parity, list what it finds there)."""
    import resource

    os.environ["PANDERA_VALIDATION_DEPTH"] = "SCHEMA_AND_DATA"  # pandera's default for DataFrames, stated
    resources = present(args.kind, args.folder)
    engine = RUNNERS[args.child](args.kind, resources, args.release)
    if args.parity:
        engine.read(args.folder)
        started = time.perf_counter()
        found = sorted(engine.findings(), key=lambda f: tuple(map(str, f)))
        return {"findings": found, "seconds": time.perf_counter() - started}
    started = time.perf_counter()
    engine.read(args.folder)
    read = time.perf_counter() - started
    if not engine.validate():  # the warm-up, which must pass: the data are the clean ones
        raise SystemExit(f"{args.child}: {args.folder} does not validate")
    runs = []
    for _ in range(args.runs):
        started = time.perf_counter()
        engine.validate()
        runs.append(time.perf_counter() - started)
    production, parquet = [], {}
    if args.kind == "stations" and args.child == "sql":
        engine.production()  # its warm-up
        production = [engine.production() for _ in range(args.runs)]
        parquet = engine.on_parquet(args.folder, args.runs)
    return {
        "parquet": parquet,
        "read": read,
        "runs": runs,
        "schema_build": engine.build_seconds,
        "production": production,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(*argv: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if run.returncode:
        raise SystemExit(f"validation-engines: a measured process failed ({' '.join(argv)}):\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def import_seconds(engine: str) -> float:
    code = f"import time; t = time.perf_counter(); {IMPORTS[engine]}; print(time.perf_counter() - t)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(run.stdout.strip())


def other_work() -> bool:
    """Whether other work of the project is under way on the machine (a test run, a build, a benchmark: a
    process of the project's .venv, or pytest), which would slow the measured process."""
    project = str(ROOT / ".venv").encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if b"pytest" in text or project in text or text.startswith(b".venv/bin/"):
            return True
    return False


# --- the tampered copies ----------------------------------------------------------------------------------


def tamper(source: Path, target: Path, changes: dict[str, list]) -> None:
    """A copy of the folder's Parquet files with the changes made: per table, a list of (row, column,
    value) (value `str` alone: the column stored as text) or ("repeat", row) (the row appended again: its
    key repeats)."""
    import polars as pl

    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.parquet"):
        if path.stem not in changes:
            shutil.copyfile(path, target / path.name)
            continue
        frame = pl.read_parquet(path)
        for change in changes[path.stem]:
            if change[0] == "repeat":
                frame = pl.concat([frame, frame.slice(change[1], 1)])
                continue
            row, column, value = change
            if value is str:
                frame = frame.with_columns(pl.col(column).cast(pl.String))
                continue
            at = pl.int_range(pl.len()) == row
            frame = frame.with_columns(
                pl.when(at).then(pl.lit(value, dtype=frame[column].dtype)).otherwise(pl.col(column)).alias(column)
            )
        frame.write_parquet(target / path.name)


RELEASE_CHANGES = {
    "party_list_results": [(0, "votes", -5), ("repeat", 1)],  # below the minimum; a repeated primary key
    "regions": [(0, "region_kind", "town"), (1, "region_id", "KZ-7")],  # outside the enum; a broken pattern
    "parties": [(1, "party_short_name", None)],  # filled in below: the name of the first party (unique)
    "national_ballots": [(0, "turnout_pct", 150.0)],  # above the maximum
    "region_ballots": [(2, "ballots_cast_count", None)],  # a required value missing
    "vote_options": [(0, "option_name", "")],  # empty text
    "seat_allocation": [(0, "has_passed_threshold", str)],  # a boolean column stored as text
}
STATION_CHANGES = {
    "station_votes": [(5, "votes", -1), (10, "protocol_version", "draft"), (20, "region_id", "KZ-7"), ("repeat", 0)],
    "station_ballots": [(3, "invalid_ballots_count", None)],
    "stations": [(7, "region_id", ""), (0, "is_abroad", str)],
}


def release_changes(release: Path) -> dict[str, list]:
    import polars as pl

    name = pl.read_parquet(release / "parties.parquet")["party_short_name"][0]
    return {**RELEASE_CHANGES, "parties": [(1, "party_short_name", name)]}


# --- the report -------------------------------------------------------------------------------------------


def machine() -> str:
    cpu, memory = "unknown CPU", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {memory:,} MB of memory, {platform.system()} {platform.release()}"


def versions(engines: list[str]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = ["duckdb", "polars", "pandera", "pyarrow", "numpy", "pandas"]
    if "ibis" in engines:
        names.insert(3, "ibis-framework")
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return f"Python {platform.python_version()}, " + ", ".join(found)


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="vote rows of the synthetic station set")
    parser.add_argument("--rounds", type=int, default=5, help="rounds in which the engines take turns")
    parser.add_argument("--runs", type=int, default=2, help="timed validations per process, after a warm-up")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--release", type=Path, default=ROOT / "processed")
    parser.add_argument("--stations", type=Path, help="an existing synthetic set of --rows rows (else drawn)")
    parser.add_argument("--no-ibis", action="store_true", help="leave pandera's Ibis backend out")
    parser.add_argument("--write", action="store_true", help="write the results into docs/validation.md")
    parser.add_argument("--child", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=("release", "stations"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parity", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)))
        return

    engines = ["sql", "polars"]
    if not args.no_ibis:
        try:
            import ibis  # noqa: F401

            engines.append("ibis")
        except ImportError:
            print("ibis is not installed: pandera's Ibis backend is left out")
    work = args.work or Path(tempfile.mkdtemp(prefix="validation-engines-"))
    release = args.release.resolve()
    stations = args.stations
    if stations is None:
        stations = work / f"stations-{args.rows}"
        if not (stations / "station_votes.parquet").is_file():
            subprocess.run(
                [sys.executable, "-m", "pipeline", "synth", "--stations", str(args.rows // OPTIONS), "--seed", "1",
                 "--out", str(stations), "--release", str(release)],
                cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    header = f"Machine: {machine()}; {versions(engines)}. Load average at the start: {load}."
    print(header, flush=True)

    imported: dict[str, list[float]] = {engine: [] for engine in engines}
    for _ in range(args.rounds):
        for engine in engines:
            imported[engine].append(import_seconds(engine))
    imports = {engine: statistics.median(times) for engine, times in imported.items()}
    print("imports: " + ", ".join(f"{e} {seconds(s)}" for e, s in imports.items()), flush=True)
    processes = disturbed = 0
    results: dict[str, dict] = {}
    for kind, folder in (("release", release), ("stations", stations)):
        outs: dict[str, list[dict]] = {engine: [] for engine in engines}
        for number in range(args.rounds):
            for engine in engines:
                common = ["--child", engine, "--kind", kind, "--folder", str(folder), "--release", str(release)]
                busy = other_work()
                out = child(*common, "--runs", str(args.runs))
                busy = busy or other_work()
                processes, disturbed = processes + 1, disturbed + busy
                outs[engine].append({**out, "busy": busy})
                print(
                    f"{kind} {engine} round {number + 1}: read {seconds(out['read'])}, validate "
                    f"{', '.join(seconds(s) for s in out['runs'])}, peak {out['peak_mb']:,.0f} MB"
                    + (" (other work was under way)" if busy else ""),
                    flush=True,
                )
        for engine, runs in outs.items():
            production = [s for out in runs for s in out["production"]]
            results[f"{kind}/{engine}"] = {
                "read": statistics.median(out["read"] for out in runs),
                "validate": statistics.median(s for out in runs for s in out["runs"]),
                "runs": [s for out in runs for s in out["runs"]],
                "schema_build": statistics.median(out["schema_build"] for out in runs),
                "production": statistics.median(production) if production else None,
                "production_runs": production,
                "peak_mb": max(out["peak_mb"] for out in runs),
                "parquet": {k: [s for out in runs for s in out["parquet"].get(k, [])] for k in ("sql", "production")},
                "quiet_runs": [s for out in runs if not out["busy"] for s in out["runs"]],
                "quiet_production_runs": [s for out in runs if not out["busy"] for s in out["production"]],
            }

    parity = {}
    for kind, folder, changes in (
        ("release", release, release_changes(release)),
        ("stations", stations, STATION_CHANGES),
    ):
        tampered = work / f"tampered-{kind}"
        tamper(folder, tampered, changes)
        found = {}
        for engine in engines:
            common = ["--child", engine, "--kind", kind, "--folder", str(tampered), "--release", str(release)]
            found[engine] = child(*common, "--parity")
        parity[kind] = found
        reference = {tuple(f) for f in found["sql"]["findings"]}
        for engine in engines:
            mine = {tuple(f) for f in found[engine]["findings"]}
            print(
                f"parity {kind} {engine}: {len(mine)} findings in {seconds(found[engine]['seconds'])}; "
                f"not found by the SQL: {sorted(mine - reference)}; found by the SQL only: {sorted(reference - mine)}",
                flush=True,
            )

    sizes = {kind: rows_in(kind, folder) for kind, folder in (("release", release), ("stations", stations))}
    lines = report(header, imports, results, parity, engines, args, sizes)
    lines.insert(
        2,
        f"{disturbed} of the {processes} measured processes overlapped other work of the project on the machine "
        "(a test run, a build or a benchmark).",
    )
    if disturbed:
        lines += ["", quiet(results, engines)]
    print("\n".join(lines))
    raw = {"imports": imported, "results": results, "parity": parity}
    (work / "results.json").write_text(json.dumps(raw, indent=1))
    if args.write:
        doc = ROOT / "docs" / "validation.md"
        content = doc.read_text(encoding="utf-8")
        head, _, rest = content.partition("<!-- results -->")
        _, _, tail = rest.partition("<!-- /results -->")
        doc.write_text(head + "<!-- results -->\n" + "\n".join(lines) + "\n<!-- /results -->" + tail, encoding="utf-8")
        print(f"written into {doc}")


def rows_in(kind: str, folder: Path) -> tuple[int, int]:
    """(tables, rows) of the package's Parquet files in the folder."""
    import polars as pl

    resources = present(kind, folder)
    rows = sum(pl.scan_parquet(folder / f"{r.name}.parquet").select(pl.len()).collect().item() for r in resources)
    return len(resources), rows


def quiet(results: dict, engines: list[str]) -> str:
    """The validation medians over the processes that ran while no other work of the project was under way."""
    parts = []
    for kind, label in (("release", "release"), ("stations", "station set")):
        found = []
        for engine in engines:
            runs = results[f"{kind}/{engine}"]["quiet_runs"]
            found.append(f"{ENGINES[engine]} {seconds(statistics.median(runs))} ({len(runs)} runs)" if runs else "")
        production = results[f"{kind}/sql"]["quiet_production_runs"]
        if production:
            found.append(f"the station path {seconds(statistics.median(production))} ({len(production)} runs)")
        parts.append(f"{label}: " + ", ".join(f for f in found if f))
    return "Validation medians of the processes that ran while no other work was under way: " + "; ".join(parts) + "."


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f} x"


def report(header: str, imports: dict, results: dict, parity: dict, engines: list[str], args, sizes: dict) -> list[str]:
    rows = args.rows
    (tables, release_rows), (station_tables, station_rows) = sizes["release"], sizes["stations"]
    lines = [
        header,
        f"Medians: the engines took turns in {args.rounds} rounds of fresh processes; in each, the data read, one "
        f"warm-up, then {args.runs} timed validations ({args.rounds * args.runs} in all per engine and data set); "
        f"imports: {args.rounds} fresh interpreters per engine. The release: {tables} tables, "
        f"{release_rows:,} rows; the station set: {station_tables} tables, {station_rows:,} rows "
        f"({rows:,} vote rows).",
        "",
        "| engine | import | release: read | release: validate | release vs SQL | "
        f"{rows:,} rows: read | {rows:,} rows: validate | {rows:,} rows vs SQL | peak memory at {rows:,} rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for engine in engines:
        rel, sta = results[f"release/{engine}"], results[f"stations/{engine}"]
        lines.append(
            f"| {ENGINES[engine]} | {seconds(imports[engine])} | {seconds(rel['read'])} | {seconds(rel['validate'])} | "
            f"{ratio(rel['validate'], results['release/sql']['validate'])} | {seconds(sta['read'])} | "
            f"{seconds(sta['validate'])} | {ratio(sta['validate'], results['stations/sql']['validate'])} | "
            f"{sta['peak_mb']:,.0f} MB |"
        )
    sql = results["stations/sql"]
    production, parquet = sql["production"], sql["parquet"]
    extra = [("the station path's own validation (SQL, plus foreign keys)", sql["read"], production)]
    if parquet["sql"]:
        extra += [
            ("generated SQL straight on the Parquet files (read included)", None, statistics.median(parquet["sql"])),
            (
                "the station path's own validation on the Parquet files, as `python -m pipeline stations` runs it "
                "(read included)",
                None,
                statistics.median(parquet["production"]),
            ),
        ]
    for label, read, value in extra:
        lines.append(
            f"| {label} | {seconds(imports['sql'])} | | | | {seconds(read) if read else ''} | {seconds(value)} | "
            f"{ratio(value, sql['validate'])} | |"
        )
    against = ", ".join(
        f"{ENGINES[e]} {ratio(results[f'stations/{e}']['validate'], production)}" for e in engines if e != "sql"
    )
    polars = results["stations/polars"]
    with_read = (
        f" pandera.polars, read included ({seconds(polars['read'] + polars['validate'])}), against the station "
        f"path on the Parquet files: {ratio(polars['read'] + polars['validate'], extra[2][2])}."
        if parquet["production"]
        else ""
    )
    built = [f"SQL text {seconds(results['release/sql']['schema_build'])}"] + [
        f"{ENGINES[e]} schemas {seconds(results[f'release/{e}']['schema_build'])}" for e in engines if e != "sql"
    ]
    lines += [
        "",
        f"The station path's own validation (`pipeline/stations/validate.py`) runs the same generated SQL with "
        f"its faster key checks, adds the foreign keys, and tests no pattern row by row on a column that a "
        f"foreign key proves; against it, at {rows:,} rows: {against}.{with_read} Building the checks for the "
        f"{tables} release tables: {', '.join(built)}.",
        "",
        "Parity on the tampered copies (failures named: table, column, kind, value or key):",
        "",
        "| data | engine | failures named | same as the SQL | time to list them |",
        "|---|---|---:|---|---:|",
    ]
    for kind, found in parity.items():
        reference = {tuple(f) for f in found["sql"]["findings"]}
        for engine in engines:
            mine = {tuple(f) for f in found[engine]["findings"]}
            same = "yes" if mine == reference else f"no: {len(mine - reference)} more, {len(reference - mine)} fewer"
            label = "release" if kind == "release" else f"{rows:,} rows"
            took = seconds(found[engine]["seconds"])
            lines.append(f"| {label} | {ENGINES[engine]} | {len(mine)} | {same} | {took} |")
    for kind, found in parity.items():
        label = "the release" if kind == "release" else f"the {rows:,} rows"
        lines += ["", f"Failures named in {label} (table, column, kind, value or key):", ""]
        lines += [f"- `{' | '.join(map(str, f))}`" for f in found["sql"]["findings"]]
    return lines


if __name__ == "__main__":
    main()
