"""The portal's pages: each template of portal/templates/ (listed in portal/pages.yaml) rendered with the
charts, tables and figures of the release, in each language of the portal. Tables show their columns
under their headings (pipeline/site/text.py) with the numbers as the language writes them; the columns
that only place a chart's marks are left to the chart's CSV (portal/display.yaml)."""

from __future__ import annotations

from pathlib import Path

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.site import text


def render_pages(portal: Path, pages: list[dict], context: dict) -> dict[str, str]:
    """Every page, by its path in the site."""
    import jinja2

    texts = text.load(portal)
    hidden = set(read_yaml(portal / "display.yaml")["hidden_columns"])
    titles = {f.name: f.title for r in metadata.load().resources for f in r.fields}
    for table in (*context["charts"].values(), *context["tables"].values(), *context["regional"].values()):
        table["shown"] = [c for c in table["columns"] if c not in hidden]
        table["decimals"] = {c: text.decimals(table["rows"], c) for c in table["columns"]}
    files = {}
    for lang in text.LANGUAGES:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(portal / "templates"),
            autoescape=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        environment.filters["heading"] = lambda column, lang=lang: text.heading(column, lang, texts, titles)
        environment.filters["cell"] = lambda value, column, places, lang=lang: text.cell(
            value, column, places, lang, texts
        )
        prefix = "" if lang == "en" else f"{lang}/"
        for page in pages:
            for path, values in _instances(page, context):
                depth = (prefix + path).count("/")
                try:
                    files[prefix + path] = environment.get_template(page["template"]).render(
                        page=page | values,
                        pages=[p for p in pages if "per" not in p],
                        lang=lang,
                        t=texts[lang]["ui"],
                        up="../" * depth,
                        **values,
                        **context,
                    )
                except jinja2.TemplateError as error:
                    where = (
                        f"{error.name}:{error.lineno}"
                        if isinstance(error, jinja2.TemplateSyntaxError)
                        else page["template"]
                    )
                    raise PipelineError("site", f"portal/templates/{where}: {type(error).__name__}: {error}") from None
    return files


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
        values = {"file": page["file"].format(**region), "title": page["title"].format(**region)}
        out.append((values["file"], {"region": region, "here": here, **values}))
    return out
