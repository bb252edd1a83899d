"""The static data portal (site/): built from the release only, byte-identical, small, and opened in a
real browser (Debian's headless Chromium, driven by Playwright) from a local HTTP server and from
file://: no console error, no failed request, no request outside the site, every chart drawn with the
marks its data asks for, the figures shown equal to the database's, and a text alternative for every
image. With KZ_SCREENSHOTS=1, a screenshot of each page is saved in build/screenshots/ (test output, not
committed; 1.6 s of the browser's time, so not by default)."""

from __future__ import annotations

import decimal
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.common.lock import build_lock
from pipeline.common.yamlfile import read_yaml
from pipeline.site import build as site
from tests.conftest import committed_digest, run_cli, tree_digest
from tests.servers import serve_folder
from tests.site_browser import (  # noqa: F401 (fixtures)
    DRAWN_TEXT,
    MARKS,
    MIN_TEXT_PX,
    NARROW,
    NARROW_SQL,
    PAGE_BUDGET,
    PAGES,
    READ_DRAWING,
    REGIONS,
    SCREENSHOTS,
    TRANSLATED,
    WIDTHS,
    Tab,
    _drawn_selectors,
    axe,
    drawing,
    expected_drawing,
    page_weight,
    problems,
    smallest_text,
    table,
)

ENGLISH = read_yaml(ROOT / "portal" / "text" / "en.yaml")  # the portal's words in English
# Pages opened from file:// too (the site opened from disk): a page at the top, the data page and a page two
# folders down; that every relative link of every page resolves is checked without a browser (below).
BY_FILE = ["index.html", "data.html", "ru/region/KZ-75.html"]
# Colour contrast depends on the stylesheet and the colours a template gives its text, not on the width, the
# words or the data (and it is most of axe-core's time): checked at 1280 px on one page of each template, the
# navigation's pages and a region's.
CONTRAST = [page["file"].format(region_id="KZ-75") for page in read_yaml(ROOT / "portal" / "pages.yaml")]


@pytest.fixture(scope="module")
def visits(built, browser):
    """Every English page over HTTP, opened on a phone's screen then widened to a desktop's (the Russian and
    Kazakh ones: tests/test_site_languages.py), with axe-core's check at both widths by every rule but colour
    contrast; the CONTRAST pages loaded on a desktop's screen too, checked by every rule; three pages from
    file://; and every chart's two drawings (charts/NAME.svg and NAME.narrow.svg) opened on their own, with
    what they draw."""
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results = {}
    with serve_folder(built) as (url, _):
        base = url.rstrip("/") + "/"
        tab = Tab(browser, axe_core=True)
        for name in PAGES:
            views = tab.visit_on_a_phone_then_a_desktop(base, name, dict.fromkeys(WIDTHS, "light"), SCREENSHOTS)
            results |= {(name, width): seen for width, seen in views.items()}
        tab.close()
        tab = Tab(browser, width=WIDTHS[1], axe_core=True)
        for name in CONTRAST:  # loaded on a desktop's screen, not widened: every rule, colour contrast too
            results["loaded", name] = tab.visit(base, name, accessibility="full")
        tab.close()
        tab = Tab(browser)
        for name in BY_FILE:
            results["file", name] = tab.visit(built.as_uri() + "/", name)
        for chart, selectors in _drawn_selectors().items():
            for variant, suffix in (("wide", ""), ("narrow", ".narrow")):
                tab.page.goto(f"{base}charts/{chart}{suffix}.svg")
                wanted = {
                    selector: NARROW.get((chart, selector), selector) if variant == "narrow" else selector
                    for selector in selectors
                }
                results["drawing", chart, variant] = tab.page.evaluate(READ_DRAWING, wanted)
        tab.close()
    return results


def test_the_committed_site_equals_a_fresh_build(built):
    assert tree_digest(built.parent, "site") == committed_digest("site")


def test_the_site_is_small_and_needs_no_script_and_no_address_outside_itself(built):
    """Every chart is a drawing of the site's own (SVG, PNG); the only script is the site's own sort.js,
    which sorts tables where script runs (the pages read the same without it): no CDN, no other host."""
    files = [p for p in built.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 1024 * 1024  # (a page: PAGE_BUDGET)
    for page in built.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r"<script[^>]*>", html)
        depth = "../" * len(page.relative_to(built).parents[:-1])
        assert scripts == [f'<script src="{depth}sort.js" defer>'], page.name
        assert not re.search(r'<(img|link|script|iframe|source)[^>]+(src|srcset|href)="(https?:)?//', html), page
    assert sorted(p.relative_to(built).as_posix() for p in built.rglob("*.html")) == sorted(PAGES + TRANSLATED)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_reads_cleanly_on_a_phone_and_on_a_desktop(visits, built, name):
    """At 390 and 1280 px: nothing reported by the browser, no request outside the site, no serious or
    critical violation of axe-core's rules, no sideways scroll, each chart drawn for the width with no text
    under 11 px, within the page's weight budget (site_browser.problems)."""
    assert {width: problems(visits[name, width], name, built) for width in WIDTHS} == dict.fromkeys(WIDTHS, {})


def test_axe_core_ran_every_rule_where_it_must(visits, built):
    """Every rule but colour contrast on every English page at both widths; colour contrast too on one page
    of each template loaded at 1280 px, which reads as it does widened from a phone's screen."""
    ran = {key: seen["axe_ran"] for key, seen in visits.items() if "axe_ran" in seen}
    assert {key for key, rules in ran.items() if "color-contrast" in rules} == {("loaded", name) for name in CONTRAST}
    assert all(len(rules) > 50 for rules in ran.values()) and len(ran) == 2 * len(PAGES) + len(CONTRAST) == 68
    for name in CONTRAST:
        loaded, widened = visits["loaded", name], visits[name, WIDTHS[1]]
        assert problems(loaded, name, built) == {}, name
        assert [c["src"] for c in loaded["charts"]] == [c["src"] for c in widened["charts"]], name
        assert loaded["scroll_width"] == widened["scroll_width"] and loaded["tables"] == widened["tables"], name
        assert page_weight(loaded, name, built) == page_weight(widened, name, built), name


def test_every_region_page_is_its_template_with_other_data():
    """Colour contrast runs on one region page (CONTRAST): the others hold the same elements with the same
    classes and no style of their own, so the same colours on the same backgrounds."""
    shapes = {}
    for page in sorted((ROOT / "site" / "region").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert " style=" not in html, page.name
        shapes[page.name] = set(re.findall(r'<([a-z0-9]+)(?=[\s>])(?:[^>]*?class="([^"]*)")?', html))
    assert len(shapes) == 20 and all(shape == shapes["KZ-75.html"] for shape in shapes.values()), {
        name: shape ^ shapes["KZ-75.html"] for name, shape in shapes.items() if shape != shapes["KZ-75.html"]
    }


@pytest.mark.parametrize("name", BY_FILE)
def test_the_site_opens_from_disk(visits, built, name):
    seen = visits["file", name]
    assert seen["console"] == [] and seen["failed"] == [] and seen["bad_status"] == []
    assert seen["requests"] and all(url.startswith(built.as_uri() + "/") for url in seen["requests"])


@pytest.mark.parametrize("name", PAGES)
def test_every_chart_draws_the_marks_of_its_data_and_every_image_has_a_text_alternative(visits, con, name):
    """Each chart of the page, in both its drawings (wide and the phone's), draws one mark per row its data
    asks for; each is an image with its title as its text alternative, under a caption that gives its title
    and description (read once, not twice)."""
    for chart, selector, sql in MARKS.get(name, []):
        for variant in ("wide", "narrow"):
            query = NARROW_SQL.get((chart, selector), sql) if variant == "narrow" else sql
            expected = con.execute(query).fetchone()[0]
            assert visits["drawing", chart, variant][selector]["count"] == expected, (chart, selector, variant)
    charts = list(dict.fromkeys(chart for chart, *_ in MARKS.get(name, [])))
    specs = [ENGLISH["charts"][chart] for chart in charts]  # (the charts' words: portal/text/en.yaml)
    for seen in [visits[name, width] for width in WIDTHS] + [visits.get(("file", name))]:
        if seen is None:
            continue
        assert [c["name"] for c in seen["charts"]] == charts
        assert [c["alt"] for c in seen["charts"]] == [spec["title"] for spec in specs]  # the caption says the rest
        assert [
            c["caption"].startswith(f"{spec['title']}. {spec['description']}")
            for c, spec in zip(seen["charts"], specs, strict=True)
        ] == [True] * len(specs)
        narrow = seen["width"] == WIDTHS[0]
        assert all(drawing(seen, c) == expected_drawing(name, c["name"], narrow) for c in seen["charts"])
        assert all(c["natural"] > 0 for c in seen["charts"])
        assert seen["images_without_alt"] == 0 and seen["images"] == len(charts) and seen["svgs"] == 0
        assert seen["duplicate_ids"] == []


def test_the_home_page_shows_the_databases_turnout_and_seats(visits, con):
    seen = visits["index.html", WIDTHS[1]]
    turnout, seats = con.execute(
        "SELECT turnout_pct, (SELECT sum(seats_count) FROM chamber_seats) FROM national_ballots"
    ).fetchone()
    assert seen["texts"]["turnout"] == [f"{turnout:.2f} %"] and turnout == 54.21
    assert seen["texts"]["seats_total"] == [str(seats)] and seats == 98
    shown = {r["seat_holder"]: int(r["seats"]) for r in table(seen, "Seats in the Mäjilis") if r["kind"] == "district"}
    assert shown["Independents"] == 7  # every independent won a district seat


def test_every_tile_of_the_map_shows_its_regions_turnout(visits, con):
    tiles = {short: region for region, short in ENGLISH["tiles"].items()}
    turnout = dict(con.execute("SELECT region_id, turnout_pct FROM region_ballots").fetchall())
    drawn = visits["drawing", "turnout_map", "wide"][DRAWN_TEXT["tiles"][1]]["texts"]
    shown = {tiles[short]: float(value) for short, value in drawn}
    assert shown == turnout and len(shown) == 20
    assert shown["KZ-75"] == 25.82  # Almaty, the lowest


def test_the_turnout_change_is_shown_on_the_regions_of_2021(visits, con):
    """Each row of the page's table is a row of turnout_change; the regions created in 2022 are never a row
    (the tile map gives them their 2021 region's value, named)."""
    rows = table(visits["regions.html", WIDTHS[1]], "Turnout in 2021 and 2023 on the regions of 2021")
    published = con.execute(
        "SELECT count(*), min(turnout_change_pp) FROM turnout_change WHERE protocol_version = 'preliminary'"
    ).fetchone()
    night = [r for r in rows if r["figure"] == "election night (22:00)"]
    assert len(night) == published[0] == 18 and min(float(r["turnout_change_pp"]) for r in night) == published[1]
    assert not {r["region"] for r in rows} & {"Abai Region", "Jetisu Region", "Ulytau Region"}
    page = (ROOT / "site" / "regions.html").read_text(encoding="utf-8")  # the sentence, built from the table
    assert "turnout fell by 9.11 points nationally" in page and "most in Almaty Region (-14.95 points)" in page


def test_the_district_page_shows_each_races_winner_and_votes(visits, con):
    rows = table(visits["districts.html", WIDTHS[1]], "The 29 district races")
    shown = {int(r["district_number"]): (r["winner_name"], int(r["winner_votes"].replace(",", ""))) for r in rows}
    races = con.execute("SELECT district_number, winner_name, winner_votes FROM district_races").fetchall()
    assert shown == {number: (name, votes) for number, name, votes in races} and len(shown) == 29


def test_the_regions_and_parties_carry_their_kazakh_and_russian_names(visits, con):
    regions = {r["region_id"]: r for r in table(visits["regions.html", WIDTHS[1]], "The regions and cities")}
    assert regions["KZ-75"]["name_kk"] == "Алматы қаласы" and regions["KZ-75"]["name_ru"] == "город Алматы"
    names = dict(con.execute("SELECT region_id, name_kk FROM region_names_wide").fetchall())
    assert {key: row["name_kk"] for key, row in regions.items()} == names
    parties = {r["party"]: r for r in table(visits["seats.html", WIDTHS[1]], "The parties in the Mäjilis")}
    assert parties["Amanat"]["seats"] == "62" and parties["Amanat"]["name_kk"] == "«AMANAT» партиясы"


def test_the_data_page_lists_every_file_with_its_size_and_hash(visits, fresh_build):
    descriptor = json.loads((fresh_build / "datapackage.json").read_text(encoding="utf-8"))
    rows = table(visits["file", "data.html"], "The published files")
    assert [r["description"] for r in rows] == [r["title"] for r in descriptor["resources"]]  # every file's
    assert [(r["file"], int(r["bytes"].replace(",", "")), r["sha256"]) for r in rows] == [
        (r["path"], r["bytes"], r["hash"].removeprefix("sha256:")) for r in descriptor["resources"]
    ]


def test_the_browser_checks_fire_on_a_broken_page(built, browser, tmp_path):
    """A page that asks another host, fails a request, throws and draws an undescribed chart is caught."""
    broken = tmp_path / "site"
    shutil.copytree(built, broken)
    html = (broken / "index.html").read_text(encoding="utf-8")
    html = html.replace(
        "</main>",
        '<img src="http://192.0.2.1/pixel.png"><link rel="stylesheet" href="missing.css">'
        "<script>undefined_function()</script><svg><rect/></svg></main>",
    )
    (broken / "index.html").write_text(html, encoding="utf-8")
    with serve_folder(broken) as (url, _):
        seen = Tab(browser).visit(url.rstrip("/") + "/", "index.html")
    assert any("undefined_function" in message for message in seen["console"])
    assert any("192.0.2.1" in failure for failure in seen["failed"])
    assert any("missing.css: 404" in status for status in seen["bad_status"])
    assert any(not request.startswith(url) for request in seen["requests"])
    assert seen["images_without_alt"] == 1 and seen["svgs"] == 1


def test_make_site_without_a_release_is_a_clear_error(tmp_path):
    result = run_cli("site", root=tmp_path)
    assert result.returncode == 1 and "no published release" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_failed_site_build_names_the_file_and_keeps_the_previous_site(built, fresh_build, tmp_path, monkeypatch):
    portal = tmp_path / "portal"
    shutil.copytree(site.PORTAL, portal)
    (portal / "charts" / "districts.sql").write_text("SELECT winner FROM no_such_table\n", encoding="utf-8")
    monkeypatch.setattr(site, "PORTAL", portal)
    out = tmp_path / "site"
    shutil.copytree(built, out)
    before = tree_digest(tmp_path, "site")
    with pytest.raises(PipelineError, match=r"charts/districts\.sql: Catalog Error.*no_such_table"):
        site.build(fresh_build, out)
    assert tree_digest(tmp_path, "site") == before


def test_the_seat_allocation_lists_the_parties_by_votes(visits, con):
    order = [
        name
        for (name,) in con.execute(
            "SELECT p.party_short_name FROM seat_allocation JOIN parties AS p USING (party_id) ORDER BY votes DESC"
        ).fetchall()
    ]
    axis = [label for (label,) in visits["drawing", "seat_allocation", "wide"][DRAWN_TEXT["seat_axis"][1]]["texts"]]
    assert [label for label in axis if label in order] == order


def test_every_small_map_tile_shows_its_share(visits, con):
    tiles = ENGLISH["tiles"]
    shares = con.execute("SELECT region_id, vote_share_pct FROM party_list_results").fetchall()
    # (d3's format rounds the double's exact value half up, as JavaScript's toFixed: 5.25 is 5.3)
    expected = sorted(
        (tiles[region], str(decimal.Decimal(share).quantize(decimal.Decimal("0.1"), decimal.ROUND_HALF_UP)))
        for region, share in shares
    )
    drawn = visits["drawing", "share_maps", "wide"][DRAWN_TEXT["share_tiles"][1]]["texts"]
    assert sorted(map(tuple, drawn)) == expected


def test_the_home_page_counts_the_checks_as_the_quality_report_does(visits, con, fresh_build):
    total, with_findings, corrected, acknowledged = con.execute(
        "SELECT count(DISTINCT check_id), count(DISTINCT check_id) FILTER (WHERE status <> 'passed'), "
        "count(*) FILTER (WHERE status = 'corrected'), count(*) FILTER (WHERE status = 'acknowledged') "
        "FROM quality_checks"
    ).fetchone()
    (shown,) = visits["index.html", WIDTHS[1]]["texts"]["checks"]
    assert shown.startswith(f"Of {total} cross-checks, {total - with_findings} found nothing and {with_findings} found")
    assert f"{corrected} corrected in the source (errata), {acknowledged} acknowledged" in shown
    report = (fresh_build / "docs" / "quality_report.md").read_text(encoding="utf-8")
    assert f"{total} checks: {total - with_findings} found nothing" in report


def test_a_broken_template_names_itself_and_leaves_no_trace(built, fresh_build, tmp_path, monkeypatch):
    portal = tmp_path / "portal"
    shutil.copytree(site.PORTAL, portal)
    (portal / "templates" / "seats.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ no_such_value }}{% endblock %}', encoding="utf-8"
    )
    monkeypatch.setattr(site, "PORTAL", portal)
    out = tmp_path / "out" / "site"
    shutil.copytree(built, out)
    before = tree_digest(out.parent, "site")
    with pytest.raises(PipelineError, match=r"portal/templates/seats\.html \(en\): UndefinedError.*no_such_value"):
        site.build(fresh_build, out)
    assert tree_digest(out.parent, "site") == before and sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_a_site_build_waits_for_the_folders_lock_and_the_time_zone_changes_nothing(published_copy, built):
    """A build started while another command holds the folder's lock waits for it (so two builds take
    turns), then, in a time zone far from this machine's (UTC, where `built` was made), leaves exactly
    the site built here."""
    command = [sys.executable, "-m", "pipeline", "--root", str(published_copy), "site"]
    env = {**os.environ, "TZ": "America/Los_Angeles"}
    with build_lock(published_copy, "test"):
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "waiting for it to finish" in run.stderr.readline()
        assert not (published_copy / "site").exists()
    assert run.wait(timeout=120) == 0
    assert tree_digest(published_copy, "site") == tree_digest(built.parent, "site")
    assert sorted(p.name for p in published_copy.iterdir() if p.name.startswith((".site", "site"))) == ["site"]


def test_the_home_page_opens_with_the_result_and_the_change_since_2021(built):
    """The result as the article's results table gives it, independents included so that the seats add up
    to the chamber, with the change since 2021 from the package's own 2021 figures (election_results), not
    the article's 2021 columns; the elections page has the change beside 2021 too."""

    def row(*cells):
        return f"<td>{cells[0]}</td>" + "".join(f'<td class="n">{c}</td>' for c in cells[1:])

    def page(name):  # (a number's cell carries its value for sorting: data-v)
        return re.sub(r' data-v="[^"]*"', "", (built / name).read_text(encoding="utf-8"))

    home = page("index.html")
    assert row("Amanat", "3,431,510", "53.90", "40", "22", "62", "-17.19") in home
    assert "<td>Independents</td><td></td><td></td>" + "".join(f'<td class="n">{c}</td>' for c in (0, 7, 7)) in home
    assert "Amanat won 62 of the 98 seats: 40 from its list with 53.90 % of the party-list vote" in home
    assert "6 parties passed the 5 % threshold; independents won 7 districts" in home
    elections = page("elections.html")
    assert row("Amanat", "3,431,510", "53.90", "71.09", "-17.19") in elections
    assert "in advance, not blind" in elections and '<td class="n">0.41</td>' in elections


def test_every_page_credits_the_article_and_has_a_skip_link():
    """CC BY-SA asks for the source to be named and linked on every page; a keyboard reader can skip the
    navigation. Read from the committed site (which equals a fresh build: test above)."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    (article,) = descriptor["sources"]
    assert article["path"] == "https://en.wikipedia.org/wiki/2023_Kazakh_legislative_election"
    pages = sorted((ROOT / "site").rglob("*.html"))
    assert [p.relative_to(ROOT / "site").as_posix() for p in pages] == sorted(PAGES + TRANSLATED)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert f'<a href="{article["path"]}">' in html, page.name
        assert "creativecommons.org/licenses/by-sa/4.0/" in html, page.name
        assert '<a class="skip" href="#content">' in html and '<main id="content"' in html, page.name
    data = (ROOT / "site" / "data.html").read_text(encoding="utf-8")
    assert 'href="../CITATION.cff"' in data and "@misc{kz_election_2023_" in data
    assert f"version = {{{descriptor['version']}}}" in data


def test_every_scrolling_table_is_reachable_by_keyboard_and_keeps_its_key_in_view():
    """A table wider than a phone scrolls in its frame: the frame takes the keyboard's focus and names
    itself (axe-core's scrollable-region-focusable), and the first column stays in view (the stylesheet)."""
    frames = 0
    for page in sorted((ROOT / "site").rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for frame in re.findall(r'<div class="scroll"[^>]*>', html):
            frames += 1
            assert 'tabindex="0"' in frame and 'role="region"' in frame and 'aria-label="' in frame, (page.name, frame)
    assert frames >= 10
    style = (ROOT / "site" / "style.css").read_text(encoding="utf-8")
    assert ".scroll th:first-child, .scroll td:first-child { position: sticky; left: 0;" in style


_LINK = re.compile(r'\b(?:href|src|srcset)="([^"]+)"')


def _broken_links(site: Path, repository: Path) -> list[tuple[str, str]]:
    """Every relative link of every page that leads nowhere: a file of the site that is not there, an
    anchor that no element of its page has, or a file of the release (../processed/..., ../docs/...) that
    the repository does not hold. (page, link)"""
    ids = {p: set(re.findall(r'\bid="([^"]+)"', p.read_text(encoding="utf-8"))) for p in site.rglob("*.html")}
    broken = []
    for page in sorted(ids):
        for link in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"(https?:|data:|mailto:)", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page.resolve()
            if target.is_relative_to(site.resolve()):
                ok = target.is_file() and (not anchor or anchor in ids.get(target, set()) or target.suffix != ".html")
            else:  # beside the site: the release's files, in the repository
                ok = (repository / target.relative_to(site.resolve().parent)).is_file()
            if not ok:
                broken.append((page.relative_to(site).as_posix(), link))
    return broken


def test_every_relative_link_of_every_page_leads_somewhere(built, tmp_path):
    """All 87 pages' links to the site's pages, drawings, data and anchors resolve, and their links to the
    release's files (the data page's, the region pages' CSV) resolve in the repository; a broken link, a
    missing anchor and a missing release file are found."""
    assert _broken_links(built, ROOT) == []
    links = sum(len(_LINK.findall(p.read_text(encoding="utf-8"))) for p in built.rglob("*.html"))
    assert links > 87 * 20
    site = tmp_path / "site"
    shutil.copytree(built, site)
    page = site / "ru" / "region" / "KZ-75.html"
    html = page.read_text(encoding="utf-8").replace(
        'href="../../ru/regions.html#each-region"', 'href="../../ru/regions.html#nowhere"'
    )
    page.write_text(
        html.replace("../../../processed/turnout_by_hour.csv", "../../../processed/no_such.csv"), encoding="utf-8"
    )
    (site / "charts" / "seats.png").unlink()
    assert set(_broken_links(site, ROOT)) >= {
        ("ru/region/KZ-75.html", "../../ru/regions.html#nowhere"),
        ("ru/region/KZ-75.html", "../../../processed/no_such.csv"),
        ("index.html", "charts/seats.png"),
    }


def test_the_checks_read_every_chart_at_both_widths(visits, built):
    """The pages' checks (test_every_page_reads_cleanly_on_a_phone_and_on_a_desktop) read each chart at both
    widths; a phone fetches less than a desktop, and the regions page is the heaviest (20 tiles in 8 maps)."""
    read = [(name, width, c["name"]) for name in PAGES for width in WIDTHS for c in visits[name, width]["charts"]]
    assert len(read) == 2 * sum(len({chart for chart, *_ in marks}) for marks in MARKS.values())  # (none on a
    weights = {width: page_weight(visits["regions.html", width], "regions.html", built) for width in WIDTHS}  # region
    assert weights[WIDTHS[1]] > weights[WIDTHS[0]] > 100_000  # page)


def test_a_party_s_colour_means_that_party_on_every_chart_and_maps_are_neutral():
    """A party's colour (portal/colours.yaml) appears in a chart only through the shared party scale, never
    as a fixed colour of something else (the national turnout line was Amanat's blue, every seat bar too);
    the maps' sequential scales are grey, no party's hue."""
    party = {c.lower() for c in read_yaml(ROOT / "portal" / "colours.yaml").values()}
    schemes = []
    for path in sorted((ROOT / "portal" / "charts").glob("*.json")):  # the specs and their phones' patches
        text = path.read_text(encoding="utf-8").lower()
        assert not party & set(re.findall(r"#[0-9a-f]{6}", text)), path.name
        schemes += [(path.name, scheme) for scheme in re.findall(r'"scheme":\s*"([a-z]+)"', text)]
    assert {scheme for _, scheme in schemes} == {"greys"} and len(schemes) >= 4, schemes
    spec = json.loads((ROOT / "site" / "charts" / "seat_allocation.vl.json").read_text(encoding="utf-8"))
    (bars,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "bar"]
    scale = bars["encoding"]["color"]["scale"]  # the built spec: the party scale filled in
    colours = read_yaml(ROOT / "portal" / "colours.yaml")
    assert dict(zip(scale["domain"], scale["range"], strict=True))["Amanat"] == colours["Amanat"]


DISTINCT = 12  # CIECAM02-UCS colour difference every two parties keep, as drawn and as colour-blind readers see


def _too_close(colours: dict[str, str]) -> set[tuple[str, str, str]]:
    """The pairs of colours closer than DISTINCT, as drawn and under a simulated deuteranopia and protanopia
    (colorspacious: Machado et al. 2009, at full severity): (vision, one, other)."""
    from itertools import combinations

    import numpy as np
    from colorspacious import cspace_convert, deltaE

    close = set()
    for vision in ("normal", "deuteranomaly", "protanomaly"):
        seen = {}
        for name, colour in colours.items():
            rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
            if vision != "normal":
                space = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
                rgb = np.clip(cspace_convert(rgb, space, "sRGB1"), 0, 1)
            seen[name] = rgb
        for one, other in combinations(colours, 2):
            if deltaE(seen[one], seen[other], input_space="sRGB1") < DISTINCT:
                close.add((vision, one, other))
    return close


def test_the_party_colours_stay_apart_for_colour_blind_readers():
    """The colours of the ballot's options, the independents and 'undecided' (drawn together on the seats,
    result and poll charts) stay distinguishable under simulated deuteranopia and protanopia; the red, green
    and orange of the old palette did not, nor the old grey of 'undecided', and the check says so; the kind
    of a seat is a shape, not a paler shade of the party's colour."""
    colours = read_yaml(ROOT / "portal" / "colours.yaml")
    drawn = {name: colours[name] for name in colours if name != "Independent"}  # (the same as Independents)
    assert len(drawn) == 10 and _too_close(drawn) == set()
    assert _too_close(drawn | {"Undecided": "#aaaaaa"}) == {("deuteranomaly", "Respublica", "Undecided")}
    seats = json.loads((ROOT / "portal" / "charts" / "seats.vl.json").read_text(encoding="utf-8"))
    assert seats["encoding"]["shape"]["field"] == "kind" and "opacity" not in seats["encoding"]  # not a shade
    old = drawn | {"QHP": "#c0392b", "Baytaq": "#4c9a2a", "Auyl": "#e08a1e", "Independents": "#8c6d31"}
    assert {("deuteranomaly", "QHP", "Independents"), ("protanomaly", "Auyl", "Baytaq")} <= _too_close(old)


def test_each_region_has_its_page_with_its_result_turnout_districts_names_and_forensic_row(visits, con):
    """Almaty's page (one of 20, linked from the Regions page): its turnout beside the nation's, its result,
    its districts' winners and runners-up by name, its names in Kazakh and Russian, its forensic row and
    its rows in each table, all the database's."""
    page = visits["region/KZ-75.html", WIDTHS[1]]
    html = (ROOT / "site" / "region" / "KZ-75.html").read_text(encoding="utf-8")
    assert '<span lang="kk">Алматы қаласы</span> · <span lang="ru">город Алматы</span>' in html
    assert "Turnout in Almaty was 25.82 % (310,416 ballots of 1,202,078 registered voters), against 54.21 %" in html
    districts = {
        int(r["district_number"]): (r["winner_name"], r["runner_up_name"]) for r in table(page, "The single-member")
    }
    expected = con.execute(
        "SELECT district_number, winner_name, runner_up_name FROM district_races WHERE region_id = 'KZ-75'"
    ).fetchall()
    assert districts == {number: (winner, runner_up) for number, winner, runner_up in expected} and len(districts) == 3
    result = {r["option"]: r["share_pct"] for r in table(page, "The party-list result in Almaty")}
    assert result["Amanat"] == "50.33" and len(result) == 8
    (forensic,) = table(page, "The row of Almaty")
    p_value = con.execute("SELECT p_value FROM forensic_region_rounding WHERE region_id = 'KZ-75'").fetchone()[0]
    assert forensic["p_value"] == f"{p_value:.1E}" and "The numbers tested are the article's" in html
    rows = dict(re.findall(r"<code>([a-z_]+)</code></a>: (\d+) rows?", html))
    assert rows["turnout_by_hour"] == "7" and rows["party_list_results"] == "8" and rows["districts"] == "3"
    links = re.findall(r'href="region/(KZ-\d\d)\.html"', (ROOT / "site" / "regions.html").read_text(encoding="utf-8"))
    assert sorted(links) == sorted(REGIONS)


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
        tab.close()
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
