"""The portal's charts: each Vega-Lite spec of portal/charts/ with the rows of its SQL file, the shared
style of portal/charts/config.json (no chart text under 12 px), rendered by vl-convert to three files:
the chart for wide screens as SVG and PNG (the downloads) and a narrow version as SVG for phones, which
is the spec with the merge patches (RFC 7386) of portal/charts/narrow.json (every chart: a width that
fits a phone without shrinking, legends below, the title left to the page) and NAME.narrow.json (the
chart's own: fewer columns, shorter labels) applied. Pages show the one that fits the screen (<picture>), so a
chart's text keeps its size on a phone. Ids that vl-convert numbers per process are made stable."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.common import cache
from pipeline.common.errors import PipelineError
from pipeline.site.language import d3_locales, with_words

_GENERATED_ID = re.compile(r"\b(gradient|clip|pattern)_?(\d+)\b")
_SIZE = re.compile(r'<svg[^>]*? width="([\d.]+)" height="([\d.]+)"')
VARIANTS = ("wide", "narrow")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merged key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def render(chart: dict, spec: dict, path: Path, vl_convert, lang: str = "en", words: dict | None = None) -> dict:
    """The chart (its name and rows, from the query) with its specs and files: `spec` is the spec with its
    data, `svg`/`png` the wide chart, `narrow_svg` the phone's, and each one's size in px."""
    where = f"portal/charts/{path.name}"
    narrow_path = path.with_name(path.name.replace(".vl.json", ".narrow.json"))
    try:
        config = json.loads((path.parent / "config.json").read_text(encoding="utf-8"))
        patches = [json.loads((path.parent / "narrow.json").read_text(encoding="utf-8"))]
        if narrow_path.is_file():  # applied after the shared one (a null in it removes a key the shared one set)
            patches.append(json.loads(narrow_path.read_text(encoding="utf-8")))
        patches = [with_words(patch, words or {}, where) for patch in patches]
    except ValueError as error:
        raise PipelineError("site", f"{where}: its config or narrow patch: {error}") from None
    values = json.loads(json.dumps(chart["rows"], default=str))  # dates as ISO text, as Vega-Lite reads them
    spec = {**spec, "config": merge_patch(config, spec.get("config", {})), "data": {"values": values}}
    narrow = spec
    for patch in patches:
        narrow = merge_patch(narrow, patch)
    specs = {"wide": spec, "narrow": narrow}
    out = {"spec": spec, "title": spec["title"], "description": spec["description"]}
    for variant, each in specs.items():
        names: dict[str, str] = {}

        def stable(match: re.Match, variant=variant, names=names) -> str:
            # numbered again per chart and variant, and named after both, so that no two drawings share
            # an id (url(#id) takes the first)
            return names.setdefault(match.group(0), f"{chart['name']}_{variant}_{match.group(1)}_{len(names)}")

        try:
            svg = _GENERATED_ID.sub(stable, _drawn(vl_convert, each, lang))
        except ValueError as error:
            raise PipelineError(
                "site", f"{where} ({variant}): Vega-Lite cannot render it: {str(error).splitlines()[0]}"
            ) from None
        width, height = (round(float(v)) for v in _SIZE.search(svg).groups())
        out[f"{variant}_svg"] = svg
        out[f"{variant}_size"] = (width, height)
    out["png"] = _cached("chart-png", [out["wide_svg"]], lambda: vl_convert.svg_to_png(out["wide_svg"], scale=1))
    return chart | out


def _drawn(vl_convert, spec: dict, lang: str) -> str:
    """vl-convert's SVG of a spec, its numbers and dates in the language's convention (from the build cache
    when this spec was drawn before by this code)."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False)
    if lang == "en":  # (vl-convert's own, d3's en-US)
        return _cached("chart-svg", [text], lambda: vl_convert.vegalite_to_svg(spec).encode("utf-8")).decode("utf-8")
    number, time = d3_locales(lang)

    def draw() -> bytes:
        return vl_convert.vegalite_to_svg(spec, format_locale=number, time_format_locale=time).encode("utf-8")

    return _cached("chart-svg", [text, lang], draw).decode("utf-8")


def _cached(kind: str, parts: list, make) -> bytes:
    """What make() gives (bytes), kept in the build cache under the digest of its inputs, the code's,
    vl-convert's and Babel's versions (the locales of the charts' numbers and dates; pipeline/common/
    cache.py): drawing is most of the site's build time."""
    import babel
    import vl_convert

    name = cache.key(kind, vl_convert.__version__, babel.__version__, *parts)
    data = cache.get(kind, name)
    if data is None:
        data = make()
        cache.put(kind, name, data)
    return data
