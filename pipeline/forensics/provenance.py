"""Whose numbers each forensic test reads: the cells (a table's value by row and column) of the validated
tables it takes its values from, and how many of them an independent report gives with the same value
(independent_reports, within the figure's rounding: extract.independent.agrees).
Today every test reads the article's tables, corrected by the errata; a cell an independent report gives
is one the quality gate compared with that report (pipeline/checks/reports_agree_with_each_other.sql and
the other cross-checks of the reports)."""

from __future__ import annotations

from pipeline import metadata
from pipeline.checks.run import CHECKS
from pipeline.common.yamlfile import read_yaml
from pipeline.extract.errata import format_key
from pipeline.extract.independent import agrees, figures_by_cell

# The regional valid votes (ballots cast less invalid ballots) and turnout (ballots cast over registered
# voters), and their national counterparts, as the tests compute them (regions.prepare).
_REGION_VALID = ("region_ballots", {}, ("ballots_cast_count", "invalid_ballots_count"))
_REGION_TURNOUT = ("region_ballots", {}, ("ballots_cast_count", "registered_voters_count"))
_NATION_SHARES = [
    ("national_party_list_results", {}, ("votes",)),
    ("national_ballots", {}, ("ballots_cast_count", "invalid_ballots_count")),
]


def reads(test_id: str, subject_id: str, params: dict) -> list[tuple[str, dict, tuple[str, ...]]]:
    """What a test reads: (table, the rows it takes (column: value), the columns), for each table."""
    test_id = test_id.removesuffix("_unweighted")
    if test_id in ("share_grid_region", "share_grid_region_constrained") or test_id.startswith(
        "share_grid_region_window_"
    ):
        return [("party_list_results", {}, ("votes",)), _REGION_VALID]
    if test_id == "counts_reproducible":
        return [("party_list_results", {}, ("votes", "vote_share_pct")), _REGION_VALID]
    if test_id == "second_digit_region":
        return [("party_list_results", {}, ("votes",))]
    if test_id == "turnout_grid_region":
        return [_REGION_TURNOUT]
    if test_id in ("turnout_share_correlation", "turnout_against_all_correlation"):
        option = params["leading_option"] if test_id == "turnout_share_correlation" else "against_all"
        return [("party_list_results", {"option_id": option}, ("votes",)), _REGION_VALID, _REGION_TURNOUT]
    if test_id == "share_grid_national":
        return _NATION_SHARES
    if test_id == "poll_error":
        polls = [(table, {"poll_id": subject_id}, ("share_pct",)) for table in ("exit_polls", "opinion_polls")]
        return [*polls, *_NATION_SHARES]
    raise KeyError(f"no record of what the forensic test {test_id} reads")


def attach(tests: list[dict], tables: dict[str, list[dict]], params: dict) -> list[dict]:
    """The rows of forensic_tests with whose numbers each test reads: numbers_source, input_cells_count and
    reported_cells_count."""
    package = metadata.load()
    figures = figures_by_cell(tables["independent_reports"])
    options = {r["option_id"] for r in tables["national_party_list_results"]}
    decimals = read_yaml(CHECKS / "reports_agree.yaml")["published"]  # as the check compares them
    for test in tests:
        cells: dict[tuple, bool] = {}  # each cell the test reads: whether a report gives its value
        for table, where, columns in reads(test["test_id"], test["subject_id"], params):
            key = package.resource(table).primary_key
            for row in tables[table]:
                if all(row[column] == value for column, value in where.items()):
                    if table in ("exit_polls", "opinion_polls") and row["option_id"] not in options:
                        continue  # the undecided: the poll errors read only the options with an official share
                    record = format_key({column: row[column] for column in key})
                    for column in columns:
                        cell = (table, record, column)
                        places = decimals.get(table, {}).get(column)
                        places = None if places == "exact" else places
                        cells[cell] = any(agrees(f, row[column], places) for f in figures.get(cell, []))
        found = sum(cells.values())
        test["numbers_source"] = (
            "article" if not found else "article_and_reports" if found == len(cells) else "article_partly_reported"
        )
        test["input_cells_count"], test["reported_cells_count"] = len(cells), found
    return tests


def phrase(test: dict) -> str:
    """Whose numbers a test read, as the sentence that gives its result says it."""
    n, k = test["input_cells_count"], test["reported_cells_count"]
    if test["numbers_source"] == "article":
        return f"the article's tables alone: no independent report gives any of the {n} values the test reads"
    if test["numbers_source"] == "article_partly_reported":
        return f"the article's tables; independent reports give {k} of the {n} values the test reads"
    return f"the article's tables; independent reports give all {n} values the test reads"
