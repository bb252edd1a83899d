"""Site step: the static data portal in site/, built from the published release only (it reads the
database and datapackage.json; it never extracts). Charts are the Vega-Lite specs of portal/charts/, each
with the SQL that gives its data, pre-rendered to SVG and PNG (vl-convert, pipeline/site/charts.py) so
that every chart shows without JavaScript; each chart's data is published beside it as CSV, its spec as
JSON, and shown as a table beside it. The other tables of the pages are the SQL files of
portal/tables/. Pages come from the Jinja2 templates of portal/templates/, listed in portal/pages.yaml.
Byte-identical from run to run."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path

from pipeline import ROOT, metadata
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.site import language, text
from pipeline.site.charts import render as render_chart
from pipeline.site.pages import render_pages

PORTAL = ROOT / "portal"


def build_locked(root: Path = ROOT, *, wait: float | None = None) -> list[Path]:
    """`python -m pipeline site`: build the site of the release in `root` under the build lock (one
    writer, and the release does not change meanwhile)."""
    from pipeline.common.defaults import LOCK_WAIT
    from pipeline.common.errors import PipelineError
    from pipeline.common.lock import build_lock

    if not (root / "datapackage.json").is_file():
        raise PipelineError("site", f"no published release in {root}; run `make` first.")
    with build_lock(root, "site", wait=LOCK_WAIT if wait is None else wait):
        return build(root)


def build(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write the site into `out` (default root/site); returns the files written. Every page and file is
    rendered in memory first; a failure (a query, a spec, a template) is a PipelineError naming its file
    and leaves the previous site as it was. The caller holds the folder's lock (`python -m pipeline site`)."""
    out = out or root / "site"
    files = _render(root)
    _recover(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):  # the charts' PNG
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        _swap(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / relative for relative in files]


def _render(root: Path) -> dict[str, str | bytes]:
    """Every file of the site, by relative path: in English at the top, in Russian and Kazakh under ru/
    and kk/ (pages and charts; the charts' data is published once, in English, under data/)."""
    import duckdb
    import vl_convert

    from pipeline.publish import readers

    pages = read_yaml(PORTAL / "pages.yaml")
    colours = read_yaml(PORTAL / "colours.yaml")
    texts = text.load(PORTAL)
    descriptor, _ = readers.verified_descriptor(root, "site")
    database = root / "processed" / metadata.load().meta["database"]
    con = readers.open_database(database, "site")
    queried = {}
    raw = {}  # the queries' rows as the release gives them (the CSV files)
    try:
        con.execute("CREATE TEMP TABLE tiles (region_id VARCHAR, short VARCHAR, col INTEGER, row INTEGER)")
        for lang in text.LANGUAGES:  # each language's queries, its names and tile labels
            _tiles(con, texts[lang]["tiles"])
            rows = {
                folder: {path.name.split(".")[0]: _query(con, path) for path in sorted((PORTAL / folder).glob("*.sql"))}
                for folder in ("charts", "tables", "region")
            }
            if lang == "en":  # the rows as the release gives them: the CSV files
                raw = rows
            words = language.names(con, lang, texts)
            queried[lang] = {
                folder: {
                    name: language.translated(table, words, f"portal/{folder}", strict=lang != "en")
                    for name, table in tables.items()
                }
                for folder, tables in rows.items()
            } | {"words": words}
        table_rows = _rows_by_region(con, descriptor)
        context = _context(con, descriptor)
    except duckdb.Error as error:  # a damaged or foreign database that opened (a portal query is named in _query)
        raise PipelineError(
            "site",
            f"cannot read the release's database {database}: {str(error).splitlines()[0]}.",
            hint="Rebuild the release with `make`.",
        ) from None
    finally:
        con.close()
    files: dict[str, str | bytes] = {}
    contexts = {}
    for lang in text.LANGUAGES:
        prefix = "" if lang == "en" else f"{lang}/"
        got = queried[lang]
        charts = {
            path.name.removesuffix(".vl.json"): _chart(
                vl_convert,
                path,
                got["charts"].get(path.name.removesuffix(".vl.json")),
                colours,
                lang,
                texts,
                got["words"],
            )
            for path in sorted((PORTAL / "charts").glob("*.vl.json"))
        }
        for name, chart in charts.items():
            files[f"{prefix}charts/{name}.vl.json"] = json.dumps(chart["spec"], indent=2, ensure_ascii=False) + "\n"
            files[f"{prefix}charts/{name}.svg"] = chart["wide_svg"]
            files[f"{prefix}charts/{name}.narrow.svg"] = chart["narrow_svg"]
            files[f"{prefix}charts/{name}.png"] = chart["png"]
        if lang == "en":  # the data of the charts and tables, once (the package's own names and codes)
            for path in sorted((PORTAL / "charts").glob("*.sql")) + sorted((PORTAL / "tables").glob("*.sql")):
                files[f"data/{path.stem}.csv"] = _csv(raw[path.parent.name][path.stem])
        regional = got["region"] | {"table_rows": table_rows}
        contexts[lang] = {"charts": charts, "tables": got["tables"], "regional": regional, "words": got["words"]}
    files |= render_pages(PORTAL, pages, texts, contexts, context)
    files["style.css"] = (PORTAL / "style.css").read_text(encoding="utf-8")
    files["sort.js"] = (PORTAL / "sort.js").read_text(encoding="utf-8")
    return files


def _tiles(con, shorts: dict[str, str]) -> None:
    """The tile map's squares (portal/tiles.yaml) with their labels in a language, as the temporary table
    `tiles` the charts' queries join."""
    tiles = read_yaml(PORTAL / "tiles.yaml")
    con.execute("DELETE FROM tiles")
    con.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [[t["region_id"], shorts[t["region_id"]], t["col"], t["row"]] for t in tiles],
    )


def _recover(final: Path) -> None:
    """A swap killed between its two renames left only the previous site: put it back."""
    previous = final.with_name(final.name + ".previous")
    if previous.exists() and not final.exists():
        previous.rename(final)


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


def _chart(vl_convert, path: Path, chart: dict, colours: dict, lang: str, texts: dict, words: dict) -> dict:
    """One chart in a language: its spec (portal/charts/) with its title, description and words in the
    language and the party colours, drawn with the rows of its query (charts.render)."""
    where = f"portal/charts/{path.name}"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        if chart is None:
            raise ValueError(f"its data query {path.name.replace('.vl.json', '.sql')} is missing")
    except ValueError as error:  # bad JSON included
        raise PipelineError("site", f"{where}: {error}") from None
    name = path.name.removesuffix(".vl.json")
    own = texts[lang]["charts"].get(name)
    if not own:
        raise PipelineError("site", f"portal/text/{lang}.yaml: no title and description for the chart {name!r}")
    spec = {"$schema": spec.pop("$schema"), "title": own["title"], "description": own["description"], **spec}
    spec = language.with_words(spec, texts[lang]["chart_words"], where)
    coloured = {words.get(party, party): colour for party, colour in colours.items()}
    spec = _with_colours(spec, chart["rows"], coloured, where)
    return render_chart(chart, spec, path, vl_convert, lang, texts[lang]["chart_words"])


def _with_colours(node, rows: list[dict], colours: dict, where: str):
    """The spec with every `"scale": "party_colours"` replaced by the shared party colours of the values its
    field takes, in the order of the chart's rows (its query's order, the order drawn): the legend lists
    only what the channel draws, in that order. A value with no colour is an error."""
    if isinstance(node, dict):
        if node.get("scale") == "party_colours":
            drawn = list(dict.fromkeys(row[node["field"]] for row in rows if row[node["field"]] is not None))
            missing = [value for value in drawn if value not in colours]
            if missing:
                raise PipelineError("site", f"{where}: no colour in portal/colours.yaml for {missing}")
            return node | {"scale": {"domain": drawn, "range": [colours[value] for value in drawn]}}
        return {key: _with_colours(value, rows, colours, where) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_colours(value, rows, colours, where) for value in node]
    return node


def _csv(table: dict) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, table["columns"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(table["rows"])
    return text.getvalue()


def _rows_by_region(con, descriptor: dict) -> dict:
    """How many rows each region has in each published table keyed by region (the region pages link them)."""
    names = [
        r["name"]
        for r in descriptor["resources"]
        if "schema" in r and "region_id" in {f["name"] for f in r["schema"]["fields"]}
    ]
    union = " UNION ALL ".join(
        f"SELECT region_id, '{name}' AS table_name, count(*) AS rows_count FROM {name} GROUP BY region_id"
        for name in names
    )
    rows = con.execute(f"SELECT * FROM ({union}) ORDER BY region_id, table_name").fetchall()  # noqa: S608
    columns = ["region_id", "table_name", "rows_count"]
    return {
        "name": "table_rows",
        "comment": "",
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in rows],
    }


def _context(con, descriptor: dict) -> dict:
    def rows(sql: str) -> list[dict]:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    (nation,) = rows(
        "SELECT *, (SELECT turnout_pct FROM national_turnout_by_hour ORDER BY reported_at DESC LIMIT 1) "
        "AS turnout_at_22 FROM national_ballots"
    )
    (rules,) = rows("SELECT * FROM electoral_rules")
    (reports,) = rows("SELECT count(*) AS figures, count(DISTINCT publisher_id) AS publishers FROM independent_reports")
    (checks,) = rows(
        "SELECT count(DISTINCT check_id) AS total, "
        "count(DISTINCT check_id) FILTER (WHERE status <> 'passed') AS with_findings, "
        "count(*) FILTER (WHERE status = 'corrected') AS corrected, "
        "count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged FROM quality_checks"
    )
    tests = {r["test_id"]: r for r in rows("SELECT * FROM forensic_tests WHERE subject_id = 'all'")}
    (election,) = rows("SELECT election_date FROM elections WHERE election_id = 'kz-majilis-2023-03-19'")
    return {
        "nation": nation,
        "rules": rules,
        "reports": reports,
        "checks": checks,
        "tests": tests,
        "election_date": election["election_date"],
        "package": descriptor,
        "seats": rows(
            "SELECT coalesce(p.party_short_name, 'Independents') AS holder, s.seats_count AS seats "
            "FROM chamber_seats AS s LEFT JOIN parties AS p USING (party_id) WHERE s.seats_count > 0 "
            "ORDER BY s.seats_count DESC, holder"
        ),
    }


def _swap(staging: Path, final: Path) -> None:
    """Replace `final` by the complete `staging`: moved aside, moved in, then the old one removed (a kill
    between the two renames is undone by _recover on the next build)."""
    previous = final.with_name(final.name + ".previous")
    if previous.exists():
        shutil.rmtree(previous)
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
