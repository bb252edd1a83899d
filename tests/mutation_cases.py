"""The mutation suite's checks of each mutation's outcome, shared by the two halves of the suite that the
test workers run side by side (tests/test_mutations.py, tests/test_mutations_second_half.py): every
mutation of the raw snapshot either changes nothing or is rejected with a clear error; a published number
changes only where the article states it once or below the precision of the figures it can be checked
against (listed here, with the reason)."""

import csv
import io

import pytest

from tests.mutations import STAGES

HARMLESS = {"footnotes", "whitespace", "alias", "swap columns"}
# Tables whose numbers the article states once, with nothing to check them against: a swap of two of
# their cells is indistinguishable from an edit of the article.
STATED_ONCE = {"opinion_polls", "exit_polls", "debate_polls"}


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
