"""The HTML front end reads the article as Wikipedia serves it into the same tables as the text one."""

from pipeline.stages import document_tables
from tests.html_fixture import render


def parse_html(*args, **kwargs):
    """pipeline.extract.html.parse_html, imported when a test runs (it loads pandas: 0.2 s that the test
    workers that do not run these tests would spend collecting them)."""
    from pipeline.extract.html import parse_html

    return parse_html(*args, **kwargs)


ROWSPAN_REASON = "The region cell spans several district rows"


def extract_html(html: str) -> dict[str, list[dict]]:
    return document_tables(parse_html(html, "fixture"))


def test_fixture_has_the_structure_wikipedia_serves(source_text):
    html = render(source_text)
    for marker in (
        'rowspan="3"',
        'colspan="2"',
        '<sup class="reference"',
        "data-sort-value=",
        'style="display:none"',
        "&nbsp;%",
        'class="mw-heading mw-heading2"',
        "<caption>",
        'class="infobox',
        "mw-editsection",
    ):
        assert marker in html, marker


def test_html_and_text_give_the_same_tables_cell_for_cell(source_text, tables):
    from_html = extract_html(render(source_text))
    assert from_html.keys() == tables.keys()
    for name in tables:
        if name == "extraction_inferences":
            continue
        assert from_html[name] == tables[name], name
    # The HTML keeps the spans the text rendering collapsed, so it needs no rowspan inference; every
    # other inference is the same.
    text_inferences = [r for r in tables["extraction_inferences"] if not r["reason"].startswith(ROWSPAN_REASON)]
    assert from_html["extraction_inferences"] == text_inferences
    assert len(tables["extraction_inferences"]) - len(text_inferences) == 9


def test_html_cleaning(source_text):
    doc = parse_html(render(source_text), "fixture")
    turnout = next(t for t in doc.tables if t.section[-1] == "Voter turnout")
    assert turnout.rows[1][:3] == ["Region", "10:00", "12:00"]  # footnote [7] and sort keys are gone
    party_list = next(t for t in doc.tables if t.section[-1] == "Party-list vote")
    assert party_list.caption == "Party-list results by region"
    assert party_list.rows[2][:4] == ["Abai Region", "416,191", "158,103", "67.81 %"]  # sort key, [3] gone; nbsp
    assert doc.infobox["Party3"] == "Respublica" and "Leader5" not in doc.infobox


def test_a_rowspan_past_the_last_row_stays_in_its_column():
    html = (
        '<h2>Voter turnout</h2><table class="wikitable"><tr><th>Region</th><th>Time</th></tr>'
        '<tr><td>Astana</td><td rowspan="3">1%</td></tr></table>'
    )
    (table,) = parse_html(html).tables
    assert table.rows == [["Region", "Time"], ["Astana", "1%"]]
