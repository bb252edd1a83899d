"""The portal on a phone (390 px wide): every page over HTTP in Debian's headless Chromium, with axe-core's
check (no serious or critical violation), no sideways scroll, each chart's narrow drawing with no text
under 11 px, and each page within its weight budget; and the checks fire on pages made to fail them."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.servers import serve_folder
from tests.site_browser import (  # noqa: F401 (fixtures)
    MARKS,
    MIN_TEXT_PX,
    PAGE_BUDGET,
    PAGES,
    TRANSLATED,
    Tab,
    axe,
    drawing,
    expected_drawing,
    page_weight,
    smallest_text,
)


@pytest.fixture(scope="module")
def phone_visits(built, browser):
    """Every page in every language over HTTP on a phone's screen (390 px wide): what it reads, and
    axe-core's violations: by every rule but colour contrast (which depends on neither the width nor the
    language, and runs on every English page at 1280 px: tests/test_site.py) on the English pages, by the
    rules words can change (RULES_OF_WORDS) on the Russian and Kazakh ones."""
    results = {}
    with serve_folder(built) as (url, _):
        tab = Tab(browser, width=390)
        for name in PAGES + TRANSLATED:
            results[name] = tab.visit(url.rstrip("/") + "/", name, accessibility="light" if name in PAGES else "words")
        tab.page.close()
    return results


def test_axe_core_finds_no_serious_violation_on_any_page_on_a_phone(phone_visits):
    """Every page in every language at 390 px: no serious or critical violation of axe-core's rules, and no
    sideways scroll."""
    assert {name: seen["axe"] for name, seen in phone_visits.items() if seen.get("axe")} == {}
    assert sum("axe" in seen for seen in phone_visits.values()) == 3 * 29
    assert len(phone_visits) == len(PAGES + TRANSLATED) == 3 * 29
    assert {name: seen["scroll_width"] for name, seen in phone_visits.items()} == dict.fromkeys(PAGES + TRANSLATED, 390)


def test_no_chart_text_is_under_11_px_on_a_phone(phone_visits, built):
    """A phone gets each chart's narrow drawing, shown at a scale that keeps its smallest text at 11 px or
    more."""
    smallest = {}
    for name, seen in phone_visits.items():
        assert all(drawing(seen, c) == expected_drawing(name, c["name"], True) for c in seen["charts"]), name
        smallest |= {(name, chart): size for chart, size in smallest_text(seen, built).items()}
    assert len(smallest) == 3 * sum(len({chart for chart, *_ in marks}) for marks in MARKS.values())
    assert {key: round(size, 1) for key, size in smallest.items() if size < MIN_TEXT_PX} == {}


def test_every_page_stays_within_its_weight_budget_on_a_phone(phone_visits, built):
    """What a browser fetches for each page at 390 px, within the budget docs/portal.md states."""
    weights = {name: page_weight(seen, name, built) for name, seen in phone_visits.items()}
    assert max(weights.values()) <= PAGE_BUDGET, weights


def test_the_text_size_check_fires_on_a_page_that_shrinks_its_charts(built, browser, tmp_path):
    """Without the phone's drawings (no <source>), a phone shrinks the wide ones: their text falls under
    11 px, and the check says which."""
    site = tmp_path / "site"
    shutil.copytree(built, site)
    page = site / "regions.html"
    page.write_text(re.sub(r"<source [^>]*>", "", page.read_text(encoding="utf-8")), encoding="utf-8")
    with serve_folder(site) as (url, _):
        tab = Tab(browser, width=390)
        seen = tab.visit(url.rstrip("/") + "/", "regions.html")
        tab.page.close()
    small = {chart for chart, size in smallest_text(seen, site).items() if size < MIN_TEXT_PX}
    assert small == {"turnout_map", "share_maps", "turnout_change_map"}


def test_axe_core_fires_on_a_page_with_what_the_portal_avoids(tmp_path, browser):
    """The check can fail, in each of its modes: an image without a text alternative, a scroll region a
    keyboard cannot reach, a summary without a name and a language that is not one are reported (and grey
    on grey, where colour contrast runs)."""
    (tmp_path / "bad.html").write_text(
        '<!DOCTYPE html><html lang="xx-nonsense"><head><title>bad</title></head><body><main><h1>bad</h1>'
        '<img src="data:,"><p style="color:#999;background:#aaa">grey on grey</p>'
        "<details><summary></summary>x</details>"
        '<div style="overflow:auto;width:60px;height:30px"><p>' + "a wide line of text " * 20 + "</p></div>"
        "</main></body></html>",
        encoding="utf-8",
    )
    found = {}
    with serve_folder(tmp_path) as (url, _):
        page = browser.new_page(viewport={"width": 390, "height": 600})
        page.goto(url.rstrip("/") + "/bad.html")
        for mode in ("full", "light", "words"):
            found[mode] = {rule for rule, _, _ in axe(page, mode)}
        page.close()
    for mode in ("full", "light", "words"):
        assert {"image-alt", "scrollable-region-focusable", "html-lang-valid", "summary-name"} <= found[mode], mode
    assert "color-contrast" in found["full"] and "color-contrast" not in found["light"] | found["words"]
