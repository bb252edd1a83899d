"""The mutation suite, its first half (the second: tests/test_mutations_second_half.py; the checks of each
outcome: tests/mutation_cases.py), that it tries every kind of mutation, and that its shortcut gives the
full gate's answer."""

import pytest

from tests.conftest import SOURCE
from tests.mutation_cases import (  # noqa: F401 (collected here, on this half's results)
    test_a_wrong_vote_count_is_caught_wherever_the_article_can_show_it,
    test_every_rejection_is_a_clear_error,
    test_harmless_variations_change_nothing,
    test_no_changed_number_is_published_unless_the_article_cannot_reveal_it,
)
from tests.mutations import generate, run_suite

PARTS = 2  # the suite runs in two halves, on two test workers


@pytest.fixture(scope="module")
def suite():
    return run_suite(SOURCE.read_bytes(), 0, PARTS)


def test_the_suite_tries_every_kind_of_mutation(suite):
    mutations = list(generate(SOURCE.read_bytes().decode("utf-8")))
    kinds = {m.kind for m in mutations}
    assert kinds == {
        "drop row",
        "duplicate row",
        "reorder rows",
        "rename header",
        "blank cell",
        "swap cells",
        "swap columns",
        "footnotes",
        "whitespace",
        "alias",
        "separators",
        "alter digit",
        "truncate",
        "invalid utf-8",
        "empty",
    }
    assert len(mutations) >= 120
    results, _ = suite  # this half is every other mutation, from the first
    assert [m.name for m, _, _ in results] == [m.name for m in mutations[0::PARTS]]


def test_the_suites_shortcut_gives_the_full_gates_answer(suite):
    """The suite replaces only the changed tables in a database holding the baseline, and runs again only
    the checks that read a changed table (tests/mutations.py): on a mutation that changes a district's
    votes, the shortened gate and the full one (every table loaded into an empty database, every check
    run) agree, finding for finding, and a check reading a view counts the view's tables as its own."""
    from pipeline import metadata
    from pipeline.extract import parse_bytes
    from pipeline.publish.database import load_tables
    from pipeline.publish.staging import verify_release
    from pipeline.stages import document_tables
    from pipeline.validate import validate
    from tests.mutations import _VALIDATED, _baseline_database, _database, _gate_rerunning_only, _load_changed, _reads

    package = metadata.load()
    assert _reads("SELECT * FROM district_races", package) >= {"district_results", "districts"}
    assert _reads("SELECT * FROM information_schema.tables", package) is None
    results, _ = suite
    mutation = next(m for m, status, _ in results if m.kind == "alter digit" and status == "changed")
    tables = document_tables(parse_bytes(mutation.apply(SOURCE.read_bytes()), "mutated.txt"))
    answers = []
    for con in (_baseline_database(package), _database(package, "full gate")):
        validated = validate(tables, package, con, memo=None if answers else _VALIDATED)  # (its memo kept true)
        con.execute("BEGIN TRANSACTION")
        try:
            if not answers:  # the baseline's database: the changed table replaced, the checks reading it run
                _load_changed(con, validated, package, {"district_results"})
                answers.append(_gate_rerunning_only(con, validated, package, {"district_results"}))
            else:  # an empty database: everything loaded, every check run
                load_tables(con, validated, package)
                answers.append(verify_release(con, validated, package))
        finally:
            con.execute("ROLLBACK")
    assert answers[0] == answers[1] and len(answers[0]) > 29
