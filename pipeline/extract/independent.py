"""The second source: independent reports of the election's figures (sources/), read into the tables
`publishers` and `independent_reports`.

sources/publishers.yaml lists the publishers; each sources/reports/*.yaml file lists reports (publisher,
address, date, language) and the figures each states: the published table, row key and column that give
the same quantity, the figure as written (`text`, with a `multiplier` where the words around it say
"thousand") and a verbatim quote containing it. The value is read
from the text, so the number and the quote cannot drift apart. Everything is checked here with errors
naming the file, report and figure; the comparison with the article is a cross-check (reports_agree).
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import yaml

from pipeline import ROOT, metadata
from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml

SOURCES = ROOT / "sources"
PUBLISHER_KEYS = {"publisher_id", "publisher_name", "publisher_kind", "publisher_country_code", "homepage_url"}
REPORT_KEYS = {"report_id", "publisher_id", "url", "published_date", "language", "figures"}
OPTIONAL_REPORT_KEYS = {"date_inferred"}  # true where the page shows no date and the text implies it
FIGURE_KEYS = {"table", "key", "column", "text", "quote"}
OPTIONAL_FIGURE_KEYS = {"note", "released_at", "multiplier"}
MULTIPLIERS = (1, 1000, 1_000_000)  # a figure written in thousands ("12 тысяч") or millions
MAX_QUOTE = 199
# No-break and thin spaces are written as spaces in the registry (they are invisible in a quote).
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
# A figure as written: digits with optional thousands separators (space, or comma in English), an optional
# decimal part (comma in Russian and Kazakh, point in any language) and an optional percent sign.
_FIGURE = re.compile(r"[+-]?\d{1,3}(?:[ ,]\d{3})*(?:[.,]\d+)?\s?%?|[+-]?\d+(?:[.,]\d+)?\s?%?")
_QUANTITY = re.compile(r"[a-z][a-z0-9_]*")
_CACHE: dict = {}


def read_reports(
    package: metadata.Package, folder: Path = SOURCES, elections: Path | None = None
) -> dict[str, list[dict]]:
    """The tables `publishers` and `independent_reports` from `folder` and every election's reports/ under
    `elections` (elections/ by default, when `folder` is the sources/; read once per process and content:
    the mutation suite extracts many variants of the article, never of the reports; and taken from the build
    cache when the same files were read before against the same schemas by the same code)."""
    from pipeline.extract.elections import ELECTIONS, report_files

    elections = elections or (ELECTIONS if folder == SOURCES else None)
    files = [folder / "publishers.yaml", *sorted((folder / "reports").glob("*.yaml"))]
    files += report_files(elections) if elections else []
    stamp = (package.source or id(package), *((str(p), *cache.stamp(p)) for p in files if p.exists()))
    if stamp not in _CACHE:
        _CACHE.clear()
        _CACHE[stamp] = _read_cached(package, files)
    publishers, figures = _CACHE[stamp]
    return {"publishers": [dict(r) for r in publishers], "independent_reports": [dict(r) for r in figures]}


def _read_cached(package: metadata.Package, files: list[Path]) -> tuple[list, list]:
    """_read, taken from the build cache when the same files were read against the same schemas (the
    package's source) by the same code and YAML library."""
    if not package.source:  # a package made in memory: nothing to know it by
        return _read(package, files[0], files[1:])
    contents = [os.path.relpath(p, files[0].parent).encode() + b"\0" + p.read_bytes() for p in files if p.exists()]
    parts = [package.source, yaml.__version__, *contents]
    return cache.computed("reports", parts, lambda: _read(package, files[0], files[1:]))


def _read(package: metadata.Package, publishers_file: Path, report_files: list[Path]) -> tuple[list, list]:
    publishers = _entries(publishers_file, "publishers")
    known = set()
    for number, entry in enumerate(publishers, start=1):
        _keys(entry, PUBLISHER_KEYS, set(), publishers_file, f"publisher #{number}")
        if not isinstance(entry["publisher_id"], str):
            raise _error(publishers_file, f"publisher #{number}", "publisher_id must be text")
        known.add(entry["publisher_id"])
    figures, seen_reports, seen_figures, inferred = [], {}, set(), {}
    for path in report_files:
        for number, report in enumerate(_entries(path, "reports"), start=1):
            where = f"report #{number}"
            _keys(report, REPORT_KEYS, OPTIONAL_REPORT_KEYS, path, where)
            for key in ("report_id", "publisher_id", "url", "language"):
                if not isinstance(report[key], str):
                    raise _error(path, where, f"{key} must be text, not {report[key]!r}")
            report_id = report["report_id"]
            where = f"report {report_id}"
            facts = {k: report[k] for k in REPORT_KEYS - {"figures"}}
            inferred[report_id] = inferred.get(report_id, False) or bool(report.get("date_inferred"))
            if report_id in seen_reports and seen_reports[report_id][1] != facts:
                other = seen_reports[report_id][0].name
                raise _error(
                    path, where, f"the report id is also used in {other} for another address, date or publisher"
                )
            seen_reports.setdefault(report_id, (path, facts))  # one report may give figures of several families
            if report["publisher_id"] not in known:
                raise _error(path, where, f"publisher {report['publisher_id']!r} is not in {publishers_file.name}")
            if not isinstance(report["figures"], list) or not report["figures"]:
                raise _error(path, where, "'figures' must be a non-empty list")
            for index, figure in enumerate(report["figures"], start=1):
                row = _figure(package, report, figure, path, f"{where}, figure #{index}")
                if (report_id, row["quantity_id"]) in seen_figures:
                    raise _error(path, f"{where}, figure #{index}", f"the report already gives {row['quantity_id']}")
                seen_figures.add((report_id, row["quantity_id"]))
                figures.append(row)
    for row in figures:  # a report split over several files is dated as inferred if any part says so
        row["is_date_inferred"] = inferred[row["report_id"]]
    figures.sort(key=lambda r: (r["report_id"], r["quantity_id"]))
    rows = [{k: entry[k] for k in PUBLISHER_KEYS} for entry in sorted(publishers, key=lambda e: e["publisher_id"])]
    return rows, figures


def _figure(package: metadata.Package, report: dict, figure: dict, path: Path, where: str) -> dict:
    """One figure as a row of independent_reports, after every check of its fields."""
    _keys(figure, FIGURE_KEYS, OPTIONAL_FIGURE_KEYS, path, where)
    table, column, key = figure["table"], figure["column"], figure["key"]
    if table is None:  # a quantity the package does not publish: named by `column`, compared with nothing
        if key not in ({}, None) or not isinstance(column, str) or not _QUANTITY.fullmatch(column):
            raise _error(
                path, where, "a figure with table: null needs key: {} and a snake_case quantity name as column"
            )
        unit, record_key, quantity_id = None, None, column
    else:
        try:
            resource = package.resource(table)
        except KeyError:
            raise _error(path, where, f"{table!r} is not a published table") from None
        field = next((f for f in resource.fields if f.name == column), None)
        if field is None or field.type not in ("integer", "number"):
            raise _error(path, where, f"{table} has no numeric column {column!r}")
        if not isinstance(key, dict) or set(key) != set(resource.primary_key):
            raise _error(
                path, where, f"the key must give exactly {', '.join(resource.primary_key)} (the key of {table})"
            )
        types = {f.name: f.type for f in resource.fields}
        record_key = ", ".join(f"{k}={_key_text(key[k], types[k], path, where)}" for k in resource.primary_key)
        unit, quantity_id = field.unit, f"{table}.{column}[{record_key}]"
    text, quote = (str(figure[k]).translate(_SPACES) for k in ("text", "quote"))
    quote = " ".join(quote.split())
    if len(quote) > MAX_QUOTE:
        raise _error(path, where, f"the quote has {len(quote)} characters; at most {MAX_QUOTE}")
    if not _contains_whole(quote, text):
        raise _error(path, where, f"the figure {text!r} is not in its quote (as a whole number)")
    value, decimals = figure_value(text, report["language"], path, where)
    multiplier = figure.get("multiplier", 1)
    if type(multiplier) is not int or multiplier not in MULTIPLIERS:
        raise _error(path, where, f"multiplier must be one of {', '.join(map(str, MULTIPLIERS))}, not {multiplier!r}")
    released = figure.get("released_at")
    if released is not None and not isinstance(released, datetime.datetime):
        raise _error(path, where, f"released_at must be a date and time like 2023-03-19T12:15:00, not {released!r}")
    return {
        "report_id": report["report_id"],
        "publisher_id": report["publisher_id"],
        "report_url": report["url"],
        "published_date": report["published_date"],
        "is_date_inferred": None,  # set once every file is read
        "language_code": report["language"],
        "quantity_id": quantity_id,
        "published_table_name": table,
        "published_record_key": record_key,
        "published_column_name": None if table is None else column,
        "reported_text": text,
        "reported_value": value * multiplier,
        "reported_decimals": decimals,
        "reported_multiplier": multiplier,
        "unit_name": unit,
        "released_at": released,
        "quote_text": quote,
        "note_text": " ".join(str(figure["note"]).split()) if figure.get("note") else None,
    }


def _contains_whole(quote: str, text: str) -> bool:
    """Whether `quote` contains the figure `text` as a whole number: not '12' in '312', '3' in '3 431 510'
    or '23' in '1,23' (a digit, or a separator and a digit, on either side means a longer number)."""
    start = quote.find(text)
    while start >= 0:
        end = start + len(text)
        before, after = quote[max(0, start - 2) : start], quote[end : end + 2]
        longer_before = (
            before[-1:].isdigit()
            or before[-1:] in (".", ",")
            or (len(before) == 2 and before[0].isdigit() and before[1] in " ,.")
        )
        longer_after = after[:1].isdigit() or (len(after) == 2 and after[0] in " ,." and after[1].isdigit())
        if not (longer_before or longer_after):
            return True
        start = quote.find(text, start + 1)
    return False


def figure_value(text: str, language: str, path: Path | str = "", where: str = "") -> tuple[float, int]:
    """The number a figure's text writes, and its digits after the decimal separator: '53,9%' in Russian
    -> (53.9, 1); '3 431 510' -> (3431510.0, 0); '3,431,510' in English -> (3431510.0, 0). A comma is a
    decimal comma unless it separates groups of three digits in English (some English pages of Kazakh
    agencies write '55,23%') or there are several."""
    if not _FIGURE.fullmatch(text):
        raise _error(path, where, f"{text!r} is not a figure (digits, separators and an optional %)")
    digits = text.rstrip("%").strip().replace(" ", "")
    english_thousands = language == "en" and re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", digits)
    if english_thousands or digits.count(",") > 1:
        digits = digits.replace(",", "")  # thousands separators
    elif "," in digits:
        if "." in digits:
            raise _error(path, where, f"{text!r} mixes separators; write it as the report does")
        if re.fullmatch(r"[+-]?\d{1,3},\d{3}", digits):
            raise _error(path, where, f"{text!r} is ambiguous in {language}: a decimal comma or a thousands separator")
        digits = digits.replace(",", ".")  # the decimal comma of Russian and Kazakh
    return float(digits), len(digits.partition(".")[2])


def _key_text(value, kind: str, path: Path, where: str) -> str:
    """A key value written as the published record keys write it (times as 2023-03-19T10:00:00)."""
    if kind == "datetime":
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value)
            except ValueError:
                raise _error(path, where, f"{value!r} is not a date and time") from None
        if not isinstance(value, datetime.datetime):
            raise _error(path, where, f"{value!r} is not a date and time")
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def figures_by_cell(figures: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """The rows of independent_reports by the published cell they give: (table, record key, column)."""
    cells: dict[tuple[str, str, str], list[dict]] = {}
    for f in figures:
        cells.setdefault((f["published_table_name"], f["published_record_key"], f["published_column_name"]), []).append(
            f
        )
    return cells


def agrees(figure: dict, value, decimals: int | None = None) -> bool:
    """Whether an independent figure gives this published value (with `decimals`, as the package publishes
    it; None for a count): equal within the rounding of both, half a unit of the coarser last decimal,
    times the figure's multiplier (a count in thousands agrees within 500), as the check reports_agree
    compares them."""
    reported = figure["reported_value"]
    if reported is None or value is None:
        return False
    places = figure["reported_decimals"] or 0
    places = places if decimals is None else min(places, decimals)
    return abs(reported - value) <= 0.5 * 10**-places * (figure["reported_multiplier"] or 1) + 1e-9


SEARCH_KEYS = {"search_id", "searched_date", "quantities", "where", "queries", "outcome"}


def read_searches(package: metadata.Package, path: Path = SOURCES / "searches.yaml") -> dict[str, list[dict]]:
    """The table report_searches from the reviewed search log (sources/searches.yaml): one row per search and
    quantity (a published table's column) it looked for."""
    rows, seen = [], set()
    for number, entry in enumerate(_entries(path, "searches", "report_searches"), start=1):
        where = f"search #{number}"
        _keys(entry, SEARCH_KEYS, {"election_id"}, path, where, "report_searches")
        if not isinstance(entry["search_id"], str) or entry["search_id"] in seen:
            raise _error(path, where, "search_id must be text, and unique", "report_searches")
        seen.add(entry["search_id"])
        if not isinstance(entry["searched_date"], datetime.date):
            raise _error(path, where, "searched_date must be a date (YYYY-MM-DD)", "report_searches")
        queries, quantities = entry["queries"], entry["quantities"]
        if not isinstance(queries, list) or not queries or not all(isinstance(q, str) and q for q in queries):
            raise _error(path, where, "queries must be a list of the queries as typed", "report_searches")
        if not isinstance(quantities, list) or not quantities:
            raise _error(path, where, "quantities must be a list of table.column", "report_searches")
        for key in ("where", "outcome"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise _error(path, where, f"{key} must be text", "report_searches")
        if not isinstance(entry.get("election_id", ""), str):
            raise _error(path, where, "election_id must be text (an election of elections/)", "report_searches")
        for quantity in quantities:
            table, _, column = str(quantity).partition(".")
            if table not in {r.name for r in package.from_source} or column not in package.resource(table).field_names:
                message = f"{quantity!r} is not a column of a table from the sources (table.column)"
                raise _error(path, where, message, "report_searches")
            rows.append(
                {
                    "search_id": entry["search_id"],
                    "election_id": entry.get("election_id"),
                    "published_table_name": table,
                    "published_column_name": column,
                    "searched_date": entry["searched_date"],
                    "searched_where_text": " ".join(str(entry["where"]).split()),
                    "queries_count": len(queries),
                    "queries_text": " | ".join(queries),
                    "outcome_text": " ".join(str(entry["outcome"]).split()),
                }
            )
    return {
        "report_searches": sorted(
            rows, key=lambda r: (r["search_id"], r["published_table_name"], r["published_column_name"])
        )
    }


def _entries(path: Path, list_key: str, table: str = "independent_reports") -> list:
    if not path.exists():
        return []
    content = read_source(path)
    entries = content.get(list_key) if isinstance(content, dict) else None
    if not isinstance(entries, list):
        raise _error(path, "", f"the file must hold a list under '{list_key}'", table)
    return entries


def _keys(entry, required: set, optional: set, path: Path, where: str, table: str = "independent_reports") -> None:
    if not isinstance(entry, dict):
        raise _error(path, where, "must be a mapping", table)
    missing, unknown = sorted(required - set(entry)), sorted(set(entry) - required - optional)
    if missing or unknown:
        listed = f"lacks {', '.join(missing) or 'nothing'}; unknown keys {', '.join(unknown) or 'none'}"
        raise _error(path, where, listed, table)


def _error(path: Path | str, where: str, message: str, table: str = "independent_reports") -> PipelineError:
    name = path.relative_to(ROOT) if isinstance(path, Path) and path.is_relative_to(ROOT) else path
    return PipelineError("extract", f"{name}{', ' + where if where else ''}: {message}.", table=table)


def read_source(path: Path):
    """A file of sources/ parsed, or a PipelineError naming it (a YAML error, a date that does not exist)."""
    try:
        return read_yaml(path) or {}
    except (yaml.YAMLError, ValueError) as error:
        first = str(error).splitlines()[0]
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        raise PipelineError("extract", f"{name} cannot be read: {first}.") from None
