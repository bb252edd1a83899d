"""The second source: the registry of independent reports (sources/) and its reader."""

from __future__ import annotations

import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.extract.independent import figure_value, read_reports

PUBLISHERS = """publishers:
  - {publisher_id: agency, publisher_name: An Agency, publisher_kind: news_agency, publisher_country_code: KZ,
     homepage_url: "https://agency.example"}
"""
GOOD_FIGURE = """      - table: national_party_list_results
        key: {option_id: amanat}
        column: vote_share_pct
        text: "53,9%"
        quote: "партию Amanat проголосовали 3 431 510 человек, 53,9%, 40 мандатов"
"""


def registry(folder: Path, figures: str = GOOD_FIGURE, report_extra: str = "", publishers: str = PUBLISHERS) -> Path:
    (folder / "reports").mkdir(parents=True)
    (folder / "publishers.yaml").write_text(publishers, encoding="utf-8")
    (folder / "reports" / "a.yaml").write_text(
        "reports:\n"
        "  - report_id: agency_2023_03_27_final\n"
        "    publisher_id: agency\n"
        "    url: https://agency.example/final\n"
        "    published_date: 2023-03-27\n"
        "    language: ru\n" + report_extra + "    figures:\n" + figures,
        encoding="utf-8",
    )
    return folder


def test_a_report_becomes_one_row_per_figure(tmp_path):
    figures = GOOD_FIGURE + (
        "      - table: turnout_by_hour\n"
        "        key: {region_id: KZ-71, reported_at: 2023-03-19T12:00:00}\n"
        "        column: turnout_pct\n"
        '        text: "24,6"\n'
        '        quote: "в Астане явка составила 24,6 процента"\n'
        "        released_at: 2023-03-19T12:20:00\n"
        '        note: "as of 12:00"\n'
    )
    tables = read_reports(metadata.load(), registry(tmp_path, figures))
    assert tables["publishers"] == [
        {
            "publisher_id": "agency",
            "publisher_name": "An Agency",
            "publisher_kind": "news_agency",
            "publisher_country_code": "KZ",
            "homepage_url": "https://agency.example",
        }
    ]
    share, turnout = tables["independent_reports"]
    assert share["published_record_key"] == "option_id=amanat" and share["reported_value"] == 53.9
    assert share["quantity_id"] == "national_party_list_results.vote_share_pct[option_id=amanat]"
    assert share["reported_decimals"] == 1 and share["unit_name"] == "percent"
    assert share["published_date"] == datetime.date(2023, 3, 27) and share["language_code"] == "ru"
    assert turnout["published_record_key"] == "region_id=KZ-71, reported_at=2023-03-19T12:00:00"
    assert turnout["released_at"] == datetime.datetime(2023, 3, 19, 12, 20)
    assert turnout["reported_value"] == 24.6 and turnout["note_text"] == "as of 12:00"


@pytest.mark.parametrize(
    "text, language, value, decimals",
    [
        ("53,9%", "ru", 53.9, 1),
        ("53,90 %", "kk", 53.9, 2),
        ("3 431 510", "ru", 3431510, 0),
        ("3,431,510", "en", 3431510, 0),
        ("3,431,510", "ru", 3431510, 0),
        ("54.21%", "ru", 54.21, 2),
        ("54.21%", "en", 54.21, 2),
        ("10,223", "en", 10223, 0),
        ("55,23%", "en", 55.23, 2),
        ("12,035,578", "ru", 12035578, 0),
        ("312 000", "ru", 312000, 0),
    ],
)
def test_the_value_is_read_from_the_figure_as_written(text, language, value, decimals):
    assert figure_value(text, language) == (value, decimals)


@pytest.mark.parametrize("text", ["сорок", "1.234,5", "53,9 процента", "", "5%%", "10,223", "1,500"])
def test_a_figure_that_is_not_a_number_or_is_ambiguous_is_refused(text):
    """In Russian and Kazakh a single comma before three digits may be either separator: refused."""
    with pytest.raises(PipelineError, match="is not a figure|mixes separators|is ambiguous in ru"):
        figure_value(text, "ru")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('text: "53,9%"', 'text: "53,8%"', "the figure '53,8%' is not in its quote"),
        ("table: national_party_list_results", "table: national_votes", "'national_votes' is not a published table"),
        ("column: vote_share_pct", "column: option_name", "has no numeric column 'option_name'"),
        ("key: {option_id: amanat}", "key: {party_id: amanat}", "the key must give exactly option_id"),
        ('quote: "партию', 'quote: "' + "x" * 190 + " партию", "at most 199"),
        ("        quote:", "        source: x\n        quote:", "unknown keys source"),
        ('text: "53,9%"', 'text: "3"', "the figure '3' is not in its quote (as a whole number)"),
        ("        quote:", "        multiplier: true\n        quote:", "multiplier must be one of 1, 1000, 1000000"),
    ],
)
def test_a_wrong_figure_is_refused_naming_file_report_and_figure(tmp_path, old, new, message):
    folder = registry(tmp_path, GOOD_FIGURE.replace(old, new, 1))
    with pytest.raises(PipelineError) as caught:
        read_reports(metadata.load(), folder)
    text = str(caught.value)
    assert "reports/a.yaml, report agency_2023_03_27_final, figure #1" in text and message in text, text


def test_an_unknown_publisher_a_repeated_figure_and_a_reused_report_id_are_refused(tmp_path):
    folder = registry(tmp_path, publishers=PUBLISHERS.replace("publisher_id: agency", "publisher_id: other"))
    with pytest.raises(PipelineError, match="publisher 'agency' is not in publishers.yaml"):
        read_reports(metadata.load(), folder)
    folder = registry(tmp_path / "twice")
    text = (folder / "reports" / "a.yaml").read_text(encoding="utf-8")
    (folder / "reports" / "b.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError, match="b.yaml, report agency_2023_03_27_final, figure #1: the report already"):
        read_reports(metadata.load(), folder)  # one report may span files, but never give a figure twice
    (folder / "reports" / "b.yaml").write_text(text.replace("/final", "/other"), encoding="utf-8")
    with pytest.raises(PipelineError, match="the report id is also used in a.yaml for another address"):
        read_reports(metadata.load(), folder)


def test_no_break_spaces_are_written_as_spaces(tmp_path):
    figures = GOOD_FIGURE.replace('text: "53,9%"', 'text: "3\u00a0431\u00a0510"').replace(
        "column: vote_share_pct", "column: votes"
    )
    figures = figures.replace("3 431 510 человек", "3\u00a0431\u00a0510 человек")
    (row,) = read_reports(metadata.load(), registry(tmp_path, figures))["independent_reports"]
    assert row["reported_text"] == "3 431 510" and "\u00a0" not in row["quote_text"]
    assert row["reported_value"] == 3431510


def test_the_registry_covers_what_issue_11_asks(tables):
    """At least 150 figures from at least 8 publishers, every family the issue lists, real values."""
    figures, publishers = tables["independent_reports"], tables["publishers"]
    assert len(figures) >= 150 and len({f["publisher_id"] for f in figures}) >= 8
    assert {p["publisher_id"] for p in publishers} == {f["publisher_id"] for f in figures}  # none unused
    families = {f["published_table_name"] for f in figures}
    assert {
        "national_party_list_results",
        "national_results",
        "national_ballots",
        "national_turnout_by_hour",
        "turnout_by_hour",
        "exit_polls",
        "opinion_polls",
        "party_candidates",
        "stated_figures",
    } <= families
    by_quantity = {(f["report_id"], f["quantity_id"]): f for f in figures}
    amanat = by_quantity[("newtimes_2023_03_27_final_results", "national_party_list_results.votes[option_id=amanat]")]
    assert (amanat["reported_text"], amanat["reported_value"], amanat["language_code"]) == ("3 431 510", 3431510, "ru")
    assert sum(f["is_date_inferred"] for f in figures) > 0  # the registry says which dates it inferred


def test_every_report_is_on_its_publishers_own_site(tables):
    """A report is cited at its publisher's address: no mirror, aggregator or copy under another host."""
    homes = {p["publisher_id"]: urlsplit(p["homepage_url"]).hostname.removeprefix("www.") for p in tables["publishers"]}
    for figure in tables["independent_reports"]:
        host = urlsplit(figure["report_url"]).hostname
        home = homes[figure["publisher_id"]]
        assert host == home or host.endswith("." + home), (figure["report_id"], host, home)
        assert "wiki" not in host, figure["report_id"]


def test_a_figure_in_thousands_is_multiplied(tmp_path):
    figures = (
        "      - table: exit_polls\n"
        "        key: {poll_id: sotsis_a_exit_2023_03_19, option_id: amanat}\n"
        "        column: respondents_count\n"
        '        text: "312"\n'
        '        quote: "опрошено около 312 тыс. избирателей"\n'
        "        multiplier: 1000\n"
    )
    (row,) = read_reports(metadata.load(), registry(tmp_path, figures))["independent_reports"]
    assert (row["reported_value"], row["reported_multiplier"], row["reported_decimals"]) == (312_000, 1000, 0)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("reports: [", "cannot be read"),
        ("    published_date: 2023-03-27\n", "cannot be read: day is out of range"),
    ],
)
def test_a_damaged_registry_file_is_a_clear_error(tmp_path, damage, message):
    folder = registry(tmp_path)
    path = folder / "reports" / "a.yaml"
    text = path.read_text(encoding="utf-8")
    if damage.startswith("reports"):
        path.write_text(damage, encoding="utf-8")
    else:
        path.write_text(text.replace(damage, "    published_date: 2023-02-30\n"), encoding="utf-8")
    with pytest.raises(PipelineError, match=message):
        read_reports(metadata.load(), folder)


def test_every_regional_figure_says_whether_a_report_gives_it_and_what_was_searched(tables):
    """report_coverage: the 220 regional figures the article gives for the final result (160 votes, 20
    regions' ballots cast, invalid ballots and registered voters); one is given by an independent report,
    with another value (Shymkent's registered voters), each other one names the search that looked for it
    (report_searches, sources/searches.yaml), which says where the leads are."""
    coverage = {
        (r["published_table_name"], r["published_record_key"], r["published_column_name"]): r
        for r in tables["report_coverage"]
    }
    assert len(coverage) == 220
    shymkent = coverage[("region_ballots", "region_id=KZ-79", "registered_voters_count")]
    # the city commission's roll on election day, not the final protocol's (acknowledged: A028)
    assert (shymkent["coverage_status"], shymkent["reports_count"], shymkent["search_id"]) == ("disagrees", 1, None)
    amanat = coverage[("party_list_results", "region_id=KZ-11, option_id=amanat", "votes")]
    assert (amanat["coverage_status"], amanat["reports_count"]) == ("not_found", 0)
    searches = {
        (s["search_id"], s["published_table_name"], s["published_column_name"]): s for s in tables["report_searches"]
    }
    missing = [r for r in coverage.values() if r["coverage_status"] == "not_found"]
    assert len(missing) == 219
    assert all((r["search_id"], r["published_table_name"], r["published_column_name"]) in searches for r in missing)
    search = searches[("regional_results_2026_12_07", "party_list_results", "votes")]
    assert search["queries_count"] == len(search["queries_text"].split(" | ")) == 14
    assert "https://qmonitor.kz/politics/5068" in search["outcome_text"]


def test_a_report_of_a_regional_figure_shows_in_its_coverage(tables):
    """Figures reported for Akmola's Amanat votes, one with the article's value, make its cell 'agrees',
    with no search named; one with another value makes Abai's 'disagrees'; the other cells keep theirs."""
    from pipeline.derive import report_coverage

    reported = dict(tables)
    figure = tables["independent_reports"][0] | {"published_table_name": "party_list_results"}
    figure |= {"published_record_key": "region_id=KZ-11, option_id=amanat", "published_column_name": "votes"}
    figure |= {"reported_value": 204_078.0, "reported_decimals": 0, "reported_multiplier": 1}
    abai = figure | {"published_record_key": "region_id=KZ-10, option_id=amanat", "reported_value": 158_000.0}
    reported["independent_reports"] = [*tables["independent_reports"], figure, figure | {"publisher_id": "other"}, abai]
    rows = {(r["published_record_key"], r["published_column_name"]): r for r in report_coverage(reported)}
    akmola = rows[("region_id=KZ-11, option_id=amanat", "votes")]
    assert (akmola["coverage_status"], akmola["reports_count"], akmola["publishers_count"], akmola["search_id"]) == (
        "agrees",
        2,
        2,
        None,
    )
    assert rows[("region_id=KZ-10, option_id=amanat", "votes")]["coverage_status"] == "disagrees"
    assert rows[("region_id=KZ-15, option_id=amanat", "votes")]["search_id"] == "regional_results_2026_12_07"


def test_every_district_quantity_says_whether_the_article_or_a_report_gives_it(tables):
    """district_coverage: 29 districts x 6 quantities of a full result; the article gives the winner's and
    the runner-up's votes only, no independent report gives any, and each row names the district search."""
    rows = {(r["district_number"], r["quantity_name"]): r for r in tables["district_coverage"]}
    assert len(rows) == 174 and {d for d, _ in rows} == set(range(1, 30))
    given = {q for (_, q), r in rows.items() if r["is_given_by_article"]}
    assert given == {"winner_votes", "runner_up_votes"}
    assert {r["coverage_status"] for r in rows.values()} == {"not_found"}
    assert {r["search_id"] for r in rows.values()} == {"district_results_2026_12_07"}
    assert rows[(12, "ballots_cast")]["region_id"] == "KZ-19" and rows[(21, "winner_votes")]["region_id"] == "KZ-43"
    (search,) = [s for s in tables["report_searches"] if s["search_id"] == "district_results_2026_12_07"]
    assert search["queries_count"] == 11 and "A003" in search["outcome_text"] and "A005" in search["outcome_text"]


def test_a_report_of_a_district_figure_shows_in_its_coverage(tables):
    """A report giving district 12's winner votes as the article has them makes that row 'agrees'; one
    giving district 21's runner-up another value makes it 'disagrees'; neither then names a search."""
    from pipeline.derive import district_coverage

    reported = dict(tables)
    figure = tables["independent_reports"][0] | {"published_table_name": "district_results"}
    figure |= {"published_record_key": "district_number=12, candidate_rank=1", "published_column_name": "votes"}
    figure |= {"reported_value": 153_225.0, "reported_decimals": 0, "reported_multiplier": 1}
    other = figure | {"published_record_key": "district_number=21, candidate_rank=2", "reported_value": 89_000.0}
    reported["independent_reports"] = [*tables["independent_reports"], figure, other]
    rows = {(r["district_number"], r["quantity_name"]): r for r in district_coverage(reported)}
    assert (rows[(12, "winner_votes")]["coverage_status"], rows[(12, "winner_votes")]["search_id"]) == ("agrees", None)
    assert rows[(21, "runner_up_votes")]["coverage_status"] == "disagrees"
    assert rows[(12, "runner_up_votes")]["coverage_status"] == "not_found"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("queries"), "lacks queries"),
        (lambda e: e.update(queries=[]), "queries must be a list"),
        (lambda e: e.update(quantities=["party_list_results.no_such_column"]), "is not a column of a table from"),
        (lambda e: e.update(quantities=["forensic_tests.p_value"]), "is not a column of a table from"),
        (lambda e: e.update(quantities=[]), "quantities must be a list"),
        (lambda e: e.update(outcome=None), "outcome must be text"),
        (lambda e: e.update(searched_date="yesterday"), "searched_date must be a date"),
    ],
)
def test_a_wrong_search_is_refused_naming_the_file_and_the_search(tmp_path, change, message):
    import yaml

    from pipeline.extract.independent import read_searches

    entry = {
        "search_id": "s",
        "searched_date": datetime.date(2026, 12, 7),
        "quantities": ["party_list_results.votes"],
        "where": "somewhere",
        "queries": ["a query"],
        "outcome": "nothing",
    }
    path = tmp_path / "searches.yaml"
    path.write_text(yaml.safe_dump({"searches": [entry]}), encoding="utf-8")
    assert read_searches(metadata.load(), path)["report_searches"][0]["queries_text"] == "a query"
    change(entry)
    path.write_text(yaml.safe_dump({"searches": [entry]}), encoding="utf-8")
    with pytest.raises(PipelineError, match=f"search #1: .*{message}") as error:
        read_searches(metadata.load(), path)
    assert error.value.table == "report_searches"
