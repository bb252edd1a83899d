"""The seat-allocation rule, on the real votes and on invented inputs."""

import datetime as dt

import pytest

from pipeline.derive import allocate_seats


def party(party_id, votes, registered_day=15, ballot=1):
    return {
        "party_id": party_id,
        "votes": votes,
        "list_registered_date": dt.date(2023, 2, registered_day),
        "ballot_number": ballot,
    }


def seats(rows):
    return {r["party_id"]: r["seats_count"] for r in rows}


def test_real_votes_give_the_published_seats(tables):
    allocation = {r["party_id"]: r for r in tables["seat_allocation"]}
    assert {p: r["allocated_seats_count"] for p, r in allocation.items()} == {
        "amanat": 40,
        "auyl": 8,
        "respublica": 6,
        "aq_jol": 6,
        "qhp": 5,
        "jsdp": 4,
        "baytaq": 0,
    }
    assert allocation["jsdp"]["remainder_seats_count"] == 1 and allocation["amanat"]["remainder_seats_count"] == 1
    assert not allocation["baytaq"]["has_passed_threshold"] and allocation["baytaq"]["quota_votes"] is None
    assert allocation["amanat"]["quota_votes"] == pytest.approx(5_971_719 / 69, abs=0.001)


def test_a_tie_of_remainders_goes_to_the_list_registered_earlier():
    rows = allocate_seats(
        [party("a", 100, 15, 1), party("b", 100, 13, 2), party("c", 100, 14, 3)],
        seats=2,
        threshold_pct=5,
        base_votes=300,
    )
    assert seats(rows) == {"a": 0, "b": 1, "c": 1}


def test_a_tie_on_the_same_day_goes_to_the_lower_ballot_number():
    rows = allocate_seats([party("a", 100, 14, 2), party("b", 100, 14, 1)], seats=1, threshold_pct=5, base_votes=200)
    assert seats(rows) == {"a": 0, "b": 1}


def test_when_only_one_party_passes_the_next_gets_two_seats():
    # Only 'big' reaches 5%; 'next' (1%) takes part as the runner-up: quota 9,100 / 69 = 131.9, so
    # big 68.24 -> 68 and next 0.76 -> 0 + the last remainder seat = 1, topped up to 2 from big.
    rows = allocate_seats(
        [party("big", 9_000), party("next", 100), party("small", 50)], seats=69, threshold_pct=5, base_votes=10_000
    )
    assert seats(rows) == {"big": 67, "next": 2, "small": 0}
    assert {r["party_id"]: r["minimum_rule_seats_count"] for r in rows} == {"big": -1, "next": 1, "small": 0}
    assert [r["has_passed_threshold"] for r in rows] == [True, False, False]


def test_the_runner_up_keeps_more_than_two_if_the_quota_gives_more():
    # quota 9,400 / 69 = 136.2: big 66.06 -> 66, next 2.94 -> 2 + the remainder seat = 3; no top-up.
    rows = allocate_seats(
        [party("big", 9_000), party("next", 400), party("small", 300)], seats=69, threshold_pct=5, base_votes=10_000
    )
    assert seats(rows) == {"big": 66, "next": 3, "small": 0}
    assert all(r["minimum_rule_seats_count"] == 0 for r in rows)


def test_exactly_the_threshold_passes():
    rows = allocate_seats([party("a", 95), party("b", 5)], seats=20, threshold_pct=5, base_votes=100)
    assert all(r["has_passed_threshold"] for r in rows) and seats(rows) == {"a": 19, "b": 1}


def test_no_party_passing_is_an_error():
    with pytest.raises(ValueError, match="no party passes"):
        allocate_seats([party("a", 1), party("b", 1)], seats=5, threshold_pct=5, base_votes=100)
