"""Cross-checks: queries in pipeline/checks/ that return the failing rows, run in DuckDB.

A `.sql` file starts with a header of `-- key: value` lines (id, severity, description, tolerance); a
`.yaml` file gives the same keys and names a shared shape (pipeline/checks/shapes.py) with its parameters.
The runner sets the DuckDB variable `tolerance` from the header, runs the query and collects the
rows; every query returns table_name, record_key, column_name, expected, actual, message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.checks.shapes import SHAPES
from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.common.parallel import in_threads
from pipeline.common.yamlfile import read_yaml

CHECKS = Path(__file__).resolve().parent  # the .sql and .yaml files beside this module
HEADER = re.compile(r"^--\s*(id|severity|description|table|tolerance):\s*(.+?)\s*$")
RESULT_COLUMNS = ["table_name", "record_key", "column_name", "expected", "actual", "message"]


@dataclass(frozen=True)
class Check:
    """A cross-check: its header (id, severity, description, table, tolerance) and its query."""

    id: str
    severity: str
    description: str
    table: str
    tolerance: float
    sql: str
    path: Path


def load_checks(folder: Path = CHECKS) -> list[Check]:
    """Every check in `folder`: a `.sql` file with a header of `-- key: value` lines, or a `.yaml` file
    naming a shape of pipeline/checks/shapes.py and its parameters; in file-name order."""
    checks = []
    for path in sorted([*folder.glob("*.sql"), *folder.glob("*.yaml")], key=lambda p: p.stem):
        if path.suffix == ".sql":
            sql = path.read_text(encoding="utf-8")
            header = dict(m.groups() for m in map(HEADER.match, sql.splitlines()) if m)
        else:
            header, sql = _render(path)
        missing = [k for k in ("id", "severity", "description", "table", "tolerance") if k not in header]
        if missing:
            raise PipelineError("check", f"{path.name} lacks header lines: {', '.join(missing)}.")
        if header["id"] != path.stem:
            raise PipelineError("check", f"{path.name} declares id {header['id']!r}; it must match the file name.")
        if header["severity"] not in {"error", "warning"}:
            raise PipelineError("check", f"{path.name}: severity must be error or warning.")
        checks.append(
            Check(
                id=header["id"],
                severity=header["severity"],
                description=header["description"],
                table=header["table"],
                tolerance=float(header["tolerance"]),
                sql=sql,
                path=path,
            )
        )
    return checks


def _render(path: Path) -> tuple[dict, str]:
    """The header and the SQL of a check declared by its shape."""

    spec = read_yaml(path)
    shape = SHAPES.get(spec.get("shape")) if isinstance(spec, dict) else None
    if shape is None:
        raise PipelineError("check", f"{path.name} must name a shape: one of {', '.join(sorted(SHAPES))}.")
    try:
        sql = shape(spec)
    except KeyError as error:
        raise PipelineError("check", f"{path.name} lacks the parameter {error.args[0]!r} of its shape.") from None
    return {k: str(v) for k, v in spec.items() if k in ("id", "severity", "description", "table", "tolerance")}, sql


@dataclass
class Finding:
    """A failing row a check returned."""

    check: Check
    row: dict


@dataclass(frozen=True)
class Contents:
    """What a database holds: the key of its schemas (tables, types, views), each table's
    cache.fingerprint by name (every table of the database, the empty ones too), and the SQL of each view;
    with the checks' findings in the build before, by key (`findings`, which records this build's too)."""

    schema: str
    tables: dict[str, str]
    views: dict[str, str]
    findings: cache.Memo


def run_checks(con, checks: list[Check] | None = None, *, workers: int = 1, contents: Contents | None = None):
    """Run every check on an open DuckDB connection holding the tables; return the failing rows (a list of
    Finding), in the order of the checks. With `workers` > 1 the checks are spread over that many cursors in
    threads (for committed data only: a cursor does not see the caller's open transaction). With
    `contents` (what the database holds), a check's findings are taken from the build before when the same
    query ran there on the same rows of the tables it reads, with the same schemas and DuckDB: a change to
    one table runs again only the checks that read it."""
    checks = checks if checks is not None else load_checks()
    names = _cache_names(checks, contents) if contents is not None else {}
    known = {}
    for check in checks:
        rows = contents.findings.get(names[check.id]) if names.get(check.id) else cache.MISSING
        if rows is not cache.MISSING:
            known[check.id] = [Finding(check, row) for row in rows]
    ran = _run_all(con, [check for check in checks if check.id not in known], workers)
    for check in checks:
        if check.id not in known:
            known[check.id] = [finding for finding in ran if finding.check is check]
            if names.get(check.id):
                contents.findings.put(names[check.id], [finding.row for finding in known[check.id]])
    return [finding for check in checks for finding in known[check.id]]


# Functions whose result is not the tables' (the clock, chance, a sequence, a setting, the catalog, a file):
# a check that calls one runs on every build.
_IMPURE = {
    "now", "today", "random", "uuid", "uuidv4", "uuidv7", "gen_random_uuid", "glob", "getenv", "setseed",
    "query", "query_table", "localtime", "localtimestamp", "transaction_timestamp", "nextval", "currval",
    "txid_current", "version",
}  # fmt: skip
_IMPURE_PREFIXES = ("read_", "duckdb_", "pragma_", "current_", "get_current", "sqlite_", "pg_", "parquet_", "sniff_")
# What a query may be made of to be known by its tables (DuckDB's parse tree, json_serialize_sql): its nodes,
# their modifiers and orders, and these kinds of table reference; anything else (a table function, a
# SUMMARIZE, a sample) makes it run on every build.
_REFERENCES = {"BASE_TABLE", "JOIN", "SUBQUERY", "EMPTY", "EXPRESSION_LIST", "PIVOT"}
_ORDERS = {"ORDER_DEFAULT", "ASCENDING", "DESCENDING"}
_SCHEMAS = {"", "main", "release", "memory", "validated", "temp"}  # where the database's tables are
_VIEW = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+\S+\s+AS\s+(.*)", re.DOTALL | re.IGNORECASE)


def reads(sql: str, contents: Contents) -> set[str] | None:
    """The tables a query reads (DuckDB's parser: the base tables it names, and those of the views it
    names, recursively); None when it may read or return more than the tables' rows: more than one
    statement or not a SELECT, a name that is no table, view or common table expression of its own (DuckDB
    reads `FROM "f.csv"` as a file), a table function, a sample, a table at a version, a function of the
    clock, chance, a sequence or the catalog, a variable other than its tolerance."""
    found, seen, pending = set(), set(), [sql]
    while pending:
        tree = _parse(pending.pop())
        if tree is None:
            return None
        ctes = set(_cte_names(tree))
        for kind, node in _nodes(tree):
            if kind == "table":
                name = node["table_name"].lower()
                if node["catalog_name"].lower() not in _SCHEMAS or node["schema_name"].lower() not in _SCHEMAS:
                    return None
                if node.get("at_clause") or node.get("sample"):
                    return None
                if name in contents.tables:
                    found.add(name)
                elif name in contents.views:
                    if name not in seen:
                        seen.add(name)
                        match = _VIEW.search(contents.views[name])
                        if match is None:
                            return None
                        pending.append(match.group(1))
                elif name not in ctes:
                    return None
            elif kind == "impure":
                return None
    return found


_PARSER = None


def _parse(sql: str) -> list | None:
    """A query's parse tree (one SELECT statement), or None."""
    import json

    import duckdb

    global _PARSER
    if _PARSER is None:
        _PARSER = duckdb.connect()
    try:
        (text,) = _PARSER.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchone()
    except duckdb.Error:
        return None
    tree = json.loads(text)
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        return None
    return tree["statements"]


def _cte_names(node):
    if isinstance(node, dict):
        for entry in (node.get("cte_map") or {}).get("map", []):
            yield entry["key"].lower()
        for value in node.values():
            yield from _cte_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cte_names(value)


def _nodes(node):
    """("table", ref) for each base table a parse tree names, ("impure", part) for any part that reads or
    returns more than tables' rows."""
    if isinstance(node, list):
        for value in node:
            yield from _nodes(value)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if "class" in node:  # an expression
        if node["class"] == "FUNCTION" and not _pure(node):
            yield "impure", node
    elif isinstance(kind, str):
        if node.get("sample"):
            yield "impure", node
        elif kind == "BASE_TABLE":
            yield "table", node
        elif not (kind in _REFERENCES or kind in _ORDERS or kind.endswith(("_NODE", "_MODIFIER"))):
            yield "impure", node
    for value in node.values():
        yield from _nodes(value)


def _pure(function: dict) -> bool:
    name = function["function_name"].lower()
    if name == "getvariable":  # the check's tolerance, which is in its key, and no other variable
        (argument,) = function["arguments"] or [None]
        literal = (argument or {}).get("expression", {}).get("literal", {})
        return len(function["arguments"]) == 1 and literal == {"kind": "STRING", "text": "tolerance"}
    return name not in _IMPURE and not name.startswith(_IMPURE_PREFIXES)


def _cache_names(checks: list[Check], contents: Contents) -> dict[str, str | None]:
    """Each check's _cache_name. The tables each query reads are found once for these queries, views and
    tables (then taken from the build cache: parsing 28 queries costs about what running them does)."""
    shape = [contents.schema, *(c.sql for c in checks), *sorted(contents.views.items()), *sorted(contents.tables)]
    tables = cache.computed("reads", [repr(shape)], lambda: {c.sql: reads(c.sql, contents) for c in checks})
    return {check.id: _cache_name(check, contents, tables[check.sql]) for check in checks}


def _cache_name(check: Check, contents: Contents, tables=cache.MISSING) -> str | None:
    """The key of a check's findings in a build's record: the query, its tolerance, the database's schemas and
    the fingerprints of the tables it reads; None for a query that may read more than tables."""
    tables = reads(check.sql, contents) if tables is cache.MISSING else tables
    if tables is None:
        return None
    rows = [f"{name}\0{contents.tables[name]}" for name in sorted(tables)]
    return cache.key("finding", contents.schema, check.id, repr(check.tolerance), check.sql, *rows)


def _run_all(con, checks: list[Check], workers: int) -> list[Finding]:
    if workers <= 1:
        return _run(con, checks)
    chunks = [checks[n::workers] for n in range(workers)]
    results = in_threads(con, [lambda cursor, chunk=chunk: _run(cursor, chunk) for chunk in chunks])
    by_check = {id(check): [] for check in checks}
    for findings in results:
        for finding in findings:
            by_check[id(finding.check)].append(finding)
    return [finding for check in checks for finding in by_check[id(check)]]


def _run(con, checks: list[Check]) -> list[Finding]:
    # The release's tables hold a few thousand rows: planning a query costs more than running it, and
    # DuckDB's optimizer is most of the planning (a third of the checks' time). The results are the same.
    con.execute("PRAGMA disable_optimizer")
    try:
        return [finding for check in checks for finding in _run_one(con, check)]
    finally:
        con.execute("PRAGMA enable_optimizer")


def _run_one(con, check: Check) -> list[Finding]:
    con.execute(f"SET VARIABLE tolerance = {check.tolerance!r}")
    try:
        cursor = con.execute(check.sql)
    except Exception as error:  # duckdb raises several error classes
        raise PipelineError("check", f"the query of check {check.id} failed: {error}".rstrip(".") + ".") from None
    names = [d[0] for d in cursor.description]
    if names != RESULT_COLUMNS:
        raise PipelineError("check", f"check {check.id} returns columns {names}; expected {RESULT_COLUMNS}.")
    return [Finding(check, dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def sample_checks(con, checks: list[Check], sample: int = 20) -> tuple[int, list[Finding]]:
    """For millions of rows: every check's failing rows counted inside DuckDB, and only the first `sample`
    of them (in the order of the checks) brought into Python. Returns the count and the sample."""
    total, findings = 0, []
    for check in checks:
        con.execute(f"SET VARIABLE tolerance = {check.tolerance!r}")
        query = check.sql.strip().rstrip(";")
        try:
            (count,) = con.execute(f"SELECT count(*) FROM ({query})").fetchone()
            if count and len(findings) < sample:
                findings += _run(con, [replace(check, sql=f"SELECT * FROM ({query}) LIMIT {sample - len(findings)}")])
        except PipelineError:
            raise
        except Exception as error:  # duckdb raises several error classes
            raise PipelineError("check", f"the query of check {check.id} failed: {error}".rstrip(".") + ".") from None
        total += count
    return total, [Finding(next(c for c in checks if c.id == f.check.id), f.row) for f in findings]


def failure_message(findings: list[Finding], total: int | None = None) -> str:
    """The findings as one message: check, table, row, column, expected and actual (the first of `total`)."""
    lines = [
        f"{f.check.id}: table {f.row['table_name']}, row {f.row['record_key']}, column "
        f"{f.row['column_name']}: expected {f.row['expected']}, actual {f.row['actual']} ({f.row['message']})"
        for f in findings
    ]
    shown = "" if total is None or total == len(findings) else f", the first {len(findings)} shown"
    return f"{total or len(findings):,} cross-check failure(s){shown}: " + "; ".join(lines) + "."
