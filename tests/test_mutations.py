"""The mutation suite: every mutation of the raw snapshot either changes nothing or is rejected with a
clear error; a published number changes only where the article states it once or below the precision
of the figures it can be checked against (listed here, with the reason)."""

import csv
import io

import pytest

from tests.conftest import SOURCE
from tests.mutations import STAGES, run_suite

HARMLESS = {"footnotes", "whitespace", "alias", "swap columns"}
# Tables whose numbers the article states once, with nothing to check them against: a swap of two of
# their cells is indistinguishable from an edit of the article.
STATED_ONCE = {"opinion_polls", "exit_polls", "debate_polls"}


@pytest.fixture(scope="module")
def suite():
    return run_suite(SOURCE.read_bytes())


def test_the_suite_tries_every_kind_of_mutation(suite):
    results, _ = suite
    kinds = {m.kind for m, _, _ in results}
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
    assert len(results) >= 120


def test_every_rejection_is_a_clear_error(suite):
    results, _ = suite
    for mutation, status, error in results:
        if status != "rejected":
            continue
        assert error.stage in STAGES, mutation.name
        assert len(error.message) > 20, mutation.name
        if error.stage in ("extract", "validate") and mutation.kind not in ("empty", "truncate"):
            assert error.table, f"{mutation.name}: {error}"


def test_harmless_variations_change_nothing(suite):
    results, _ = suite
    for mutation, status, detail in results:
        if mutation.kind in HARMLESS:
            assert status == "identical", f"{mutation.name}: {detail if status == 'rejected' else status}"
        if mutation.kind == "reorder rows":  # the district table's rowspans make its row order meaningful
            assert status in ("identical", "rejected"), mutation.name


def changed_rows(before: str, after: str) -> list[dict]:
    old = set(before.splitlines())
    return [
        row
        for line in after.splitlines()[1:]
        if line not in old
        for row in csv.DictReader(io.StringIO(after.splitlines()[0] + "\n" + line))
    ]


def test_no_changed_number_is_published_unless_the_article_cannot_reveal_it(suite):
    results, baseline = suite
    shares = {
        (int(r["district_number"]), int(r["candidate_rank"])): float(r["vote_share_pct"])
        for r in csv.DictReader(io.StringIO(baseline["district_results"]))
    }
    explained = []
    for mutation, status, signature in results:
        if status != "changed":
            continue
        tables = {name for name in signature if signature[name] != baseline[name]}
        if mutation.kind == "alter digit" and tables <= {"district_results", "quality_checks"}:
            # A district's votes can be checked only against the two candidates' shares, published to two
            # decimals: the total each candidate implies is known to about votes x 0.005 / share, so a
            # change within the two candidates' rounding brackets cannot be seen (here a few dozen votes
            # at most), and district_implied_totals catches anything larger.
            (row,) = changed_rows(baseline["district_results"], signature["district_results"])
            district, rank = int(row["district_number"]), int(row["candidate_rank"])
            _, old, new = mutation.vote_change
            bound = old * 0.005 * (1 / shares[(district, rank)] + 1 / shares[(district, 3 - rank)])
            assert abs(new - old) <= bound + 1, f"{mutation.name}: {abs(new - old)} > {bound:.0f}"
            explained.append(mutation.name)
        elif mutation.kind == "swap cells" and tables <= STATED_ONCE | {"quality_checks"}:
            explained.append(mutation.name)
        else:
            pytest.fail(f"{mutation.name} changed {sorted(tables)} without a check failing")
    assert len(explained) < len(results) // 10, explained


def test_a_wrong_vote_count_is_caught_wherever_the_article_can_show_it(suite):
    results, _ = suite
    party_list = [
        (m, status) for m, status, _ in results if m.kind == "alter digit" and m.vote_change[0] == "Party-list vote"
    ]
    assert party_list and all(status == "rejected" for _, status in party_list)


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
