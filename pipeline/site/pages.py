"""The portal's pages: each template of portal/templates/ (listed in portal/pages.yaml) rendered with the
charts, tables and figures of the release, in each language of the portal (English at the top of the
site, Russian and Kazakh under ru/ and kk/), every page with a switch to the same page in the others.
Tables show their columns under their headings (pipeline/site/text.py) with the numbers as the language
writes them; the columns that only place a chart's marks are left to the chart's CSV (portal/display.yaml).
A text of the language's file is trusted markup (the files are reviewed); the values it is filled with
are escaped."""

from __future__ import annotations

import datetime
from pathlib import Path

from markupsafe import Markup

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.site import text


def render_pages(portal: Path, pages: list[dict], texts: dict, contexts: dict, shared: dict) -> dict[str, str]:
    """Every page in every language, by its path in the site."""
    import jinja2

    display = read_yaml(portal / "display.yaml")
    hidden = set(display["hidden_columns"])
    titles = {f.name: f.title for r in metadata.load().resources for f in r.fields}
    files = {}
    for lang in text.LANGUAGES:
        context = contexts[lang]
        in_charts = hidden | set(display["chart_hidden_columns"])
        for drop, tables in (
            (in_charts, context["charts"]),
            (hidden, context["tables"]),
            (hidden, context["regional"]),
        ):
            for table in tables.values():
                table["shown"] = [c for c in table["columns"] if c not in drop]
                table["decimals"] = {c: text.decimals(table["rows"], c) for c in table["columns"]}
        environment = _environment(jinja2, portal, lang, texts, titles, set(display["english_columns"]))
        trusted = _trusted(texts[lang])
        prefix = "" if lang == "en" else f"{lang}/"
        words = context["words"]
        seats = [s | {"holder": words.get(s["holder"], s["holder"])} for s in shared["seats"]]
        for page in pages:
            for path, values in _instances(page, context):
                depth = (prefix + path).count("/")
                own = texts[lang]["pages"][page["key"]]
                here = (
                    page | values | {k: Markup(own[k]).format(**values.get("names", {})) for k in ("title", "summary")}
                )
                try:
                    files[prefix + path] = environment.get_template(page["template"]).render(
                        **{k: v for k, v in shared.items() if k != "seats"},
                        **context,
                        **{k: v for k, v in values.items() if k != "names"},
                        seats=seats,
                        page=here,
                        pages=[p for p in pages if "per" not in p],
                        lang=lang,
                        t=trusted,
                        root="../" * depth,
                        home="../" * depth + prefix,
                    )
                except jinja2.TemplateError as error:
                    where = (
                        f"{error.name}:{error.lineno}"
                        if isinstance(error, jinja2.TemplateSyntaxError)
                        else page["template"]
                    )
                    raise PipelineError(
                        "site", f"portal/templates/{where} ({lang}): {type(error).__name__}: {error}"
                    ) from None
    return files


def _environment(jinja2, portal: Path, lang: str, texts: dict, titles: dict, english_columns: set[str]):
    """The templates' environment for a language: its filters write that language's headings, numbers,
    dates and lists."""
    from babel.dates import format_date

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(portal / "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    ui = texts[lang]["ui"]

    def cell(value, column, places):
        return text.cell(value, column, places, lang, texts)

    def winners(rows):
        names = [Markup("{} ({})").format(r["winner_name"], r["winner_party"]) for r in rows]
        return names[0] if len(names) == 1 else Markup(", ").join(names[:-1]) + Markup(f" {ui['and']} ") + names[-1]

    environment.filters |= {
        "heading": lambda column: text.heading(column, lang, texts, titles),
        "cell": cell,
        "fmt": lambda template, **values: Markup(template).format(**values),
        "date": lambda day: format_date(datetime.date.fromisoformat(str(day)), "long", locale=text.LOCALES[lang]),
        "signed": lambda value: ("+" if value > 0 else "") + cell(value, "change_pp", 2),
        "winners": winners,
    }
    environment.tests["day"] = lambda value: isinstance(value, datetime.date)
    environment.globals |= {
        "english_columns": english_columns,
        "languages": text.LANGUAGES,
        "language_names": text.NAMES,
        "language_dirs": {other: "" if other == "en" else f"{other}/" for other in text.LANGUAGES},
    }
    return environment


def _trusted(node, key: str = ""):
    """A language's texts as markup (the file is reviewed: its HTML is shown as HTML, and `fmt` escapes
    only the values it fills in), but for the words that go into data and charts (headings, values, tile
    labels, chart words and titles), which stay plain text and are escaped where a page shows them."""
    if isinstance(node, dict):
        return {k: v if k in _PLAIN and not key else _trusted(v, key + k) for k, v in node.items()}
    return Markup(node) if isinstance(node, str) else node


_PLAIN = {"columns", "values", "tiles", "chart_words", "charts"}


def _instances(page: dict, context: dict) -> list[tuple[str, dict]]:
    """The files a page entry makes: one, or one per region (`per: region`), each with its own values: the
    region's names (region_names) and its rows of each table of portal/region/ (without their region_id)."""
    if page.get("per") != "region":
        return [(page["file"], {})]
    out = []
    for region in context["tables"]["region_names"]["rows"]:
        here = {
            name: table
            | {
                "rows": [r for r in table["rows"] if r["region_id"] == region["region_id"]],
                "shown": [c for c in table["shown"] if c != "region_id"],
            }
            for name, table in context["regional"].items()
        }
        file = page["file"].format(**region)
        out.append((file, {"region": region, "here": here, "file": file, "names": {"region": region["region_name"]}}))
    return out
