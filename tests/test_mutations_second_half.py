"""The mutation suite, its second half (tests/test_mutations.py runs the first): each outcome checked by
tests/mutation_cases.py."""

import pytest

from tests.conftest import SOURCE
from tests.mutation_cases import (  # noqa: F401 (collected here, on this half's results)
    test_a_wrong_vote_count_is_caught_wherever_the_article_can_show_it,
    test_every_rejection_is_a_clear_error,
    test_harmless_variations_change_nothing,
    test_no_changed_number_is_published_unless_the_article_cannot_reveal_it,
)
from tests.mutations import generate, run_suite
from tests.test_mutations import PARTS


@pytest.fixture(scope="module")
def suite():
    return run_suite(SOURCE.read_bytes(), 1, PARTS)


def test_this_half_is_every_other_mutation_from_the_second(suite):
    results, _ = suite
    mutations = list(generate(SOURCE.read_bytes().decode("utf-8")))
    assert [m.name for m, _, _ in results] == [m.name for m in mutations[1::PARTS]]
