"""Site step: the static data portal in site/, built from the published release only (it reads the
database and datapackage.json; it never extracts). Charts are the Vega-Lite specs of portal/charts/, each
with the SQL that gives its data, pre-rendered to SVG (vl-convert) so that every chart shows without
JavaScript; each chart's data is published beside it as CSV, its spec as JSON, and shown as a table under
it. The other tables of the pages are the SQL files of portal/tables/. Pages come from the Jinja2
templates of portal/templates/, listed in portal/pages.yaml. Byte-identical from run to run."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from pipeline import ROOT, metadata
from pipeline.errors import PipelineError
from pipeline.yamlfile import read_yaml

PORTAL = ROOT / "portal"
_GENERATED_ID = re.compile(r"\b(gradient|clip|pattern)_?(\d+)\b")


def build(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write the site into `out` (default root/site); returns the files written."""
    import duckdb
    import jinja2
    import vl_convert

    out = out or root / "site"
    pages = read_yaml(PORTAL / "pages.yaml")
    database = root / "processed" / metadata.load().meta["database"]
    con = duckdb.connect(str(database), read_only=True)
    try:
        tiles = read_yaml(PORTAL / "tiles.yaml")
        con.execute("CREATE TEMP TABLE tiles (region_id VARCHAR, short VARCHAR, col INTEGER, row INTEGER)")
        con.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)", [[t["region_id"], t["short"], t["col"], t["row"]] for t in tiles]
        )
        charts = {
            path.name.removesuffix(".vl.json"): _chart(con, vl_convert, path)
            for path in sorted((PORTAL / "charts").glob("*.vl.json"))
        }
        tables = {path.stem: _query(con, path) for path in sorted((PORTAL / "tables").glob("*.sql"))}
        context = _context(con, root)
    finally:
        con.close()
    final, out = out, out.with_name(out.name + ".staging")  # written whole, then swapped in
    if out.exists():
        shutil.rmtree(out)
    (out / "charts").mkdir(parents=True)
    (out / "data").mkdir()
    written = []
    for name, chart in charts.items():
        written.append(
            _write(out / "charts" / f"{name}.vl.json", json.dumps(chart["spec"], indent=2, ensure_ascii=False) + "\n")
        )
        written.append(_write(out / "data" / f"{name}.csv", _csv(chart)))
    for name, table in tables.items():
        written.append(_write(out / "data" / f"{name}.csv", _csv(table)))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PORTAL / "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    for page in pages:
        html = environment.get_template(page["template"]).render(
            page=page, pages=pages, charts=charts, tables=tables, **context
        )
        written.append(_write(out / page["file"], html))
    written.append(_write(out / "style.css", (PORTAL / "style.css").read_text(encoding="utf-8")))
    _swap(out, final)
    return [final / path.relative_to(out) for path in written]


def _swap(staging: Path, final: Path) -> None:
    """Replace `final` by `staging`: the previous site stays whole until the new one is complete."""
    previous = final.with_name(final.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    if previous.exists():
        shutil.rmtree(previous)


def _query(con, path: Path) -> dict:
    """The rows of one SQL file, with its name and its leading comment as the description."""
    import duckdb

    sql = path.read_text(encoding="utf-8")
    try:
        cursor = con.execute(sql)
    except duckdb.Error as error:
        raise PipelineError("site", f"{path.relative_to(path.parents[1])}: {str(error).splitlines()[0]}") from None
    columns = [d[0] for d in cursor.description]
    comment = " ".join(line.removeprefix("--").strip() for line in sql.splitlines() if line.startswith("--"))
    return {
        "name": path.name.split(".")[0],
        "comment": comment,
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()],
    }


def _chart(con, vl_convert, path: Path) -> dict:
    """One chart: its spec with its data (the rows of its SQL file) and the SVG, ids made stable."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    chart = _query(con, path.with_name(path.name.replace(".vl.json", ".sql")))
    spec["data"] = {"values": chart["rows"]}
    names: dict[str, str] = {}

    def stable(match: re.Match) -> str:  # vl-convert numbers gradients and clips per process
        return names.setdefault(match.group(0), f"{match.group(1)}_{len(names)}")

    svg = _GENERATED_ID.sub(stable, vl_convert.vegalite_to_svg(spec))
    return chart | {"title": spec["title"], "description": spec["description"], "spec": spec, "svg": svg}


def _csv(table: dict) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, table["columns"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(table["rows"])
    return text.getvalue()


def _context(con, root: Path) -> dict:
    def rows(sql: str) -> list[dict]:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    (nation,) = rows("SELECT * FROM national_ballots")
    (rules,) = rows("SELECT * FROM electoral_rules")
    (reports,) = rows("SELECT count(*) AS figures, count(DISTINCT publisher_id) AS publishers FROM independent_reports")
    statuses = {r["status"]: r["n"] for r in rows("SELECT status, count(*) AS n FROM quality_checks GROUP BY status")}
    tests = {r["test_id"]: r for r in rows("SELECT * FROM forensic_tests WHERE subject_id = 'all'")}
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    return {
        "nation": nation,
        "rules": rules,
        "reports": reports,
        "statuses": statuses,
        "tests": tests,
        "package": descriptor,
        "seats": rows(
            "SELECT coalesce(p.party_short_name, 'Independents') AS holder, s.seats_count AS seats "
            "FROM chamber_seats AS s LEFT JOIN parties AS p USING (party_id) WHERE s.seats_count > 0 "
            "ORDER BY s.seats_count DESC, holder"
        ),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
