"""The portal in English, Russian and Kazakh: every page in each (site/, site/ru/, site/kk/) with its `lang`,
a switch to the same page in the others, the interface text from one reviewed file per language with the
same keys (a key, a heading or a word missing from one stops the build, naming it), the names of regions
and parties from the release's own tables, and numbers and dates as each language writes them. Read from
the built site (tests/test_site.py shows it equals the committed one). Every Russian and Kazakh page is also
opened in a browser on a phone's screen then a desktop's, as the English ones are in tests/test_site.py."""

from __future__ import annotations

import re
import shutil

import pytest
from markupsafe import Markup

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.forensics.provenance import phrase
from pipeline.site import build as site
from pipeline.site import text
from tests.servers import serve_folder
from tests.site_browser import MARKS, PAGES, TRANSLATED, WIDTHS, Tab, problems

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def visits(built, browser):
    """Every Russian and Kazakh page over HTTP, opened on a phone's screen then widened to a desktop's, with
    axe-core's check at both widths by the rules words can change (site_browser.RULES_OF_WORDS): a page in
    Russian or Kazakh is its English template with other words, which tests/test_site.py checks by every
    rule."""
    found = {}
    with serve_folder(built) as (url, _):
        tab = Tab(browser, axe_core=True, tables=False)  # (what the pages show: read from the files)
        for name in TRANSLATED:
            views = tab.visit_on_a_phone_then_a_desktop(url.rstrip("/") + "/", name, dict.fromkeys(WIDTHS, "words"))
            found |= {(name, width): seen for width, seen in views.items()}
        tab.close()
    return found


@pytest.mark.parametrize("name", TRANSLATED)
def test_every_page_reads_cleanly_on_a_phone_and_on_a_desktop(visits, built, name):
    """At 390 and 1280 px: nothing reported by the browser, no request outside the site, no serious or
    critical violation of the rules words can change, no sideways scroll, each chart drawn for the width in
    the page's language with no text under 11 px, within the page's weight budget (site_browser.problems)."""
    assert {width: problems(visits[name, width], name, built) for width in WIDTHS} == dict.fromkeys(WIDTHS, {})


def test_the_checks_read_every_chart_of_both_languages_at_both_widths(visits):
    read = [(name, width, c["name"]) for name in TRANSLATED for width in WIDTHS for c in visits[name, width]["charts"]]
    assert len(read) == 2 * 2 * sum(len({chart for chart, *_ in marks}) for marks in MARKS.values())
    assert {seen["axe_mode"] for seen in visits.values()} == {"words"} and len(visits) == 2 * 58


def _page(built, name: str) -> str:
    return (built / name).read_text(encoding="utf-8")


def test_every_page_is_in_each_language_with_its_lang_and_a_switch_to_the_others(built):
    for name in PAGES + TRANSLATED:
        lang = name.split("/")[0] if name.startswith(("ru/", "kk/")) else "en"
        page = name.removeprefix(f"{lang}/")
        html = _page(built, name)
        assert f'<html lang="{lang}">' in html, name
        depth = "../" * name.count("/")
        for other, label in text.NAMES.items():
            target = f"{depth}{'' if other == 'en' else other + '/'}{page}"
            assert f'<a href="{target}" lang="{other}" hreflang="{other}"' in html, (name, other)
            assert f'<link rel="alternate" hreflang="{other}" href="{target}">' in html, (name, other)
            assert label in html
        assert ((built / name).parent / f"{depth}{page}").resolve() == (built / page).resolve()  # it resolves
    assert len(TRANSLATED) == 2 * len(PAGES) == 58


def test_the_language_files_have_the_same_keys_and_every_heading_and_word():
    texts = text.load(ROOT / "portal")  # (stops on a key missing from one)
    for lang in ("ru", "kk"):
        assert texts[lang]["ui"]["translation_note"], lang  # the files say they await a native reviewer
        assert set(texts[lang]["tiles"]) == set(texts["en"]["tiles"])
        assert all(len(short) <= 9 for short in texts[lang]["tiles"].values()), lang
    for kind in ("article", "article_partly_reported", "article_and_reports"):  # the English equals the docs' sentence
        test = {"numbers_source": kind, "input_cells_count": 200, "reported_cells_count": 7}
        assert Markup(texts["en"]["provenance"][kind]).format(n=200, k=7) == phrase(test)


@pytest.mark.parametrize(
    ("lang", "where", "change", "error"),
    [
        ("kk", "ui", lambda section: section.pop("skip"), r"kk\.yaml: keys missing \['ui\.skip'\]"),
        (
            "ru",
            "columns",
            lambda section: section.pop("winner_votes"),
            r"ru\.yaml: no heading for the column 'winner_votes'",
        ),
        ("ru", "values", lambda section: section.pop("party list"), r"no word for 'party list' \(kind\)"),
        (
            "kk",
            "chart_words",
            lambda section: section.pop("turnout_pct"),
            r"keys missing \['chart_words\.turnout_pct'\]",
        ),
    ],
)
def test_a_text_missing_from_a_language_stops_the_build_and_names_it(
    built, fresh_build, tmp_path, monkeypatch, lang, where, change, error
):
    import yaml

    portal = tmp_path / "portal"
    shutil.copytree(site.PORTAL, portal)
    path = portal / "text" / f"{lang}.yaml"
    texts = read_yaml(path)
    change(texts[where])
    path.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(site, "PORTAL", portal)
    with pytest.raises(PipelineError, match=error):
        site.build(fresh_build, tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_numbers_and_dates_are_written_as_each_language_writes_them(built):
    en, ru, kk = (_page(built, f"{prefix}index.html") for prefix in ("", "ru/", "kk/"))
    assert "54.21 %" in en and "6,524,487 ballots of 12,035,578" in en and "on 19 March 2023" in en
    assert "54,21 %" in ru and f"6{NBSP}524{NBSP}487" in ru and "19 марта 2023" in ru
    assert "54,21 %" in kk and f"6{NBSP}524{NBSP}487" in kk and "2023" in kk and "наурыз" in kk
    assert re.search(r'data-v="3431510">3' + NBSP + "431" + NBSP + "510<", ru)  # a table's cell
    assert "53,90" in ru and "53.90" in en


def test_names_come_from_the_release_in_each_language(built, con):
    name_ru, name_kk = con.execute(
        "SELECT name_ru, name_kk FROM region_names_wide WHERE region_id = 'KZ-75'"
    ).fetchone()
    assert (name_ru, name_kk) == ("город Алматы", "Алматы қаласы")
    assert f"<h1>{name_ru}</h1>" in _page(built, "ru/region/KZ-75.html")
    assert f"<h1>{name_kk}</h1>" in _page(built, "kk/region/KZ-75.html")
    assert "<h1>Almaty</h1>" in _page(built, "region/KZ-75.html")
    (qhp_ru,) = con.execute(
        "SELECT local_name FROM party_names WHERE party_id = 'qhp' AND language_code = 'ru' AND name_form = 'short'"
    ).fetchone()
    assert qhp_ru == "НПК" and "<td>НПК</td>" in _page(built, "ru/index.html")
    assert "<td>QHP</td>" in _page(built, "index.html")


def test_each_language_has_its_own_drawings_with_its_words(built):
    words = {lang: read_yaml(ROOT / "portal" / "text" / f"{lang}.yaml")["chart_words"] for lang in text.LANGUAGES}
    for lang, prefix in (("en", ""), ("ru", "ru/"), ("kk", "kk/")):
        svg = (built / f"{prefix}charts/turnout_by_hour.svg").read_text(encoding="utf-8")
        assert f">{words[lang]['turnout_pct']}<" in svg.replace("&amp;", "&"), lang
        assert (built / f"{prefix}charts/turnout_by_hour.png").read_bytes()[:4] == b"\x89PNG"
    assert words["ru"]["turnout_pct"] != words["en"]["turnout_pct"]
    assert not (built / "ru" / "data").exists()  # the charts' data: once, as the release gives it
    assert ",Abai\n" in (built / "data" / "turnout_map.csv").read_text(encoding="utf-8")  # (not the last language's)
    assert "article_partly_reported" in (built / "data" / "forensic_elections.csv").read_text(encoding="utf-8")
    assert "<td>the article&#39;s, partly reported</td>" in _page(built, "elections.html")  # a code as words


def test_a_text_is_markup_and_the_values_it_is_filled_with_are_escaped():
    import jinja2

    from pipeline.site.pages import _environment

    texts = text.load(ROOT / "portal")
    environment = _environment(jinja2, ROOT / "portal", "en", texts, {}, set())
    rendered = environment.from_string('{{ "<b>{name}</b>" | fmt(name="<script>") }}').render()
    assert rendered == "<b>&lt;script&gt;</b>"


def test_no_page_shows_its_own_markup_as_text(built):
    """A text of the language files that holds HTML (a <strong>, a <code>, a link) is shown as HTML, not
    escaped into visible tags (quality.intro and data.files_intro were, in every language)."""
    for name in PAGES + TRANSLATED:
        html = _page(built, name)
        assert not re.search(r"&lt;/?(strong|code|a|var|em)\b", html), name
    assert "<strong>" in _page(built, "ru/quality.html") and "<code>datapackage.json</code>" in _page(
        built, "data.html"
    )


def test_every_code_the_release_can_give_has_a_word_in_every_language():
    """The codes the portal shows as words (a check's severity, a region's rounding model, whose numbers a
    test reads) have one in each language for every value the schema allows, not only those the release
    holds today (article_and_reports had none)."""
    fields = read_yaml(ROOT / "schemas" / "fields.yaml")
    codes = {
        code
        for name in ("severity", "preferred_model", "numbers_source")
        for code in fields[name]["constraints"]["enum"]
    }
    assert len(codes) == 8
    for lang in text.LANGUAGES:
        values = read_yaml(ROOT / "portal" / "text" / f"{lang}.yaml")["values"]
        assert codes <= set(values), (lang, codes - set(values))
