"""The elections side by side (issue 23): elections as folders, the tables across elections, and the
2021 figures from independent reports."""

from __future__ import annotations

import shutil

import pytest

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.derive.elections import _reported, election_tables
from pipeline.extract.elections import ELECTIONS, read_elections

Y2021, Y2023 = "kz-majilis-2021-01-10", "kz-majilis-2023-03-19"


def one(rows, **key):
    (found,) = [r for r in rows if all(r[k] == v for k, v in key.items())]
    return found


def test_the_elections_are_the_folders_of_elections(tables):
    assert [e["election_id"] for e in tables["elections"]] == [Y2021, Y2023]
    y2021 = one(tables["elections"], election_id=Y2021)
    assert (str(y2021["election_date"]), y2021["election_kind"], y2021["region_scheme_year"]) == (
        "2021-01-10",
        "legislative",
        2021,
    )
    assert one(tables["elections"], election_id=Y2023)["data_origin_text"].startswith("the pinned article")
    options = {(o["election_id"], o["option_id"]): o for o in tables["election_options"]}
    assert options[(Y2021, "amanat")]["ballot_name"] == "Nur Otan"  # one id across the rename
    assert (Y2021, "against_all") not in options and (Y2023, "against_all") in options  # not on the 2021 ballot
    assert len([k for k in options if k[0] == Y2023]) == 8 and len([k for k in options if k[0] == Y2021]) == 5


def test_the_2021_result_comes_from_agreeing_reports(tables):
    results = tables["election_results"]
    amanat = one(results, election_id=Y2021, area_id="KZ", option_id="amanat", protocol_version="final")
    assert (amanat["votes"], amanat["vote_share_pct"], amanat["seats_count"]) == (5_148_074, 71.09, 76)
    assert amanat["result_source"] == "reports" and amanat["reports_count"] >= 8
    final = [r for r in results if r["election_id"] == Y2021 and r["protocol_version"] == "final"]
    total = sum(r["votes"] for r in final)
    assert total == 7_241_562  # the commission's votes for the parties (KazTAG; not a row: a check of the sum)
    for r in final:  # the published shares are over the parties' votes, to two decimals
        assert abs(100 * r["votes"] / total - r["vote_share_pct"]) <= 0.005 + 1e-9, r
    assert sum(r["seats_count"] or 0 for r in final) == 98
    preliminary = [r for r in results if r["election_id"] == Y2021 and r["protocol_version"] == "preliminary"]
    assert {r["option_id"]: r["vote_share_pct"] for r in preliminary} == {
        r["option_id"]: r["vote_share_pct"] for r in final
    }
    assert all(r["votes"] is None for r in preliminary)  # no report gives the preliminary counts
    ballots = one(tables["election_ballots"], election_id=Y2021, area_id="KZ", protocol_version="final")
    assert (ballots["registered_voters_count"], ballots["voters_count"], ballots["turnout_pct"]) == (
        11_919_241,
        7_539_280,
        63.25,
    )
    assert ballots["ballots_cast_count"] is None and ballots["invalid_ballots_count"] is None  # not found


def test_the_2023_rows_are_the_2023_tables(tables):
    """Derived, not copied: every national and regional 2023 row equals its source row."""
    results = {(r["area_id"], r["option_id"]): r for r in tables["election_results"] if r["election_id"] == Y2023}
    for r in tables["national_party_list_results"]:
        assert (results[("KZ", r["option_id"])]["votes"], results[("KZ", r["option_id"])]["vote_share_pct"]) == (
            r["votes"],
            r["vote_share_pct"],
        )
    for r in tables["party_list_results"]:
        assert results[(r["region_id"], r["option_id"])]["votes"] == r["votes"]
    assert len(results) == len(tables["national_party_list_results"]) + len(tables["party_list_results"]) == 168
    assert results[("KZ", "amanat")]["seats_count"] == 40 and results[("KZ", "against_all")]["seats_count"] is None
    ballots = one(tables["election_ballots"], election_id=Y2023, area_id="KZ")
    assert (ballots["registered_voters_count"], ballots["turnout_pct"]) == (12_035_578, 54.21)


def test_reports_that_disagree_stop_the_build_naming_the_cell(tables):
    changed = dict(tables)
    figure = next(
        f
        for f in tables["independent_reports"]
        if f["published_table_name"] == "election_results" and f["published_column_name"] == "votes"
    )
    other = figure | {"report_id": "test_other", "reported_value": figure["reported_value"] + 1, "reported_text": "x"}
    changed["independent_reports"] = [*tables["independent_reports"], other]
    with pytest.raises(PipelineError, match="the reports disagree on .*option_id=.*votes: .*test_other: x"):
        _reported(changed, "election_results", ("votes",), Y2023)
    rounded = other | {
        "reported_value": round(figure["reported_value"], -3),
        "reported_decimals": 0,
        "reported_multiplier": 1000,
    }
    changed["independent_reports"] = [*tables["independent_reports"], rounded]  # "5 148 thousand" agrees
    assert election_tables(changed)["election_results"]


def test_the_article_s_election_is_reported_against_its_own_tables(tables):
    changed = dict(tables)
    figure = next(f for f in tables["independent_reports"] if f["published_table_name"] == "election_results")
    wrong = figure | {"published_record_key": figure["published_record_key"].replace(Y2021, Y2023)}
    changed["independent_reports"] = [wrong]
    with pytest.raises(PipelineError, match="come from the article"):
        _reported(changed, "election_results", ("votes", "vote_share_pct", "seats_count"), Y2023)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace("election_id: kz-majilis-2021-01-10", "election_id: kz-majilis-2021-01-11"),
            "must be the folder",
        ),
        (lambda t: t.replace("election_date: 2021-01-10", "election_date: soon"), "must be a date"),
        (
            lambda t: t.replace("election_kind: legislative", "election_kind: coronation"),
            "election_kind must be one of",
        ),
        (
            lambda t: t.replace("data_origin: the independent", "data_origin: article\nx: the independent"),
            "needs exactly",
        ),
        (
            lambda t: t + "  - {option_id: adal, option_kind: party, party_id: adal, ballot_name: Adal}\n",
            "listed twice",
        ),
        (
            lambda t: t.replace(
                "data_origin: the independent reports in elections/kz-majilis-2021-01-10/reports",
                "data_origin: article",
            ),
            "lists no options",
        ),
    ],
    ids=["folder", "date", "kind", "unknown key", "option twice", "two articles"],
)
def test_a_bad_election_folder_is_a_clear_error(tmp_path, change, message):
    root = tmp_path / "elections"
    shutil.copytree(ELECTIONS, root)
    path = root / Y2021 / "election.yaml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(PipelineError, match=message):
        read_elections(metadata.load(), root)


def test_parties_keep_one_id_across_renames_with_the_ids_researchers_join_on(tables):
    names = {(r["party_id"], r["party_name"]): r for r in tables["party_names_history"]}
    assert (
        str(names[("amanat", "Nur Otan")]["valid_to"]) == str(names[("amanat", "Amanat")]["valid_from"]) == "2022-03-01"
    )
    assert str(names[("qhp", "People's Party of Kazakhstan")]["valid_from"]) == "2020-11-11"
    ids = {(r["party_id"], r["id_scheme"]): r for r in tables["party_identifiers"]}
    assert {p: ids[(p, "party_facts")]["external_id"] for p in ("amanat", "aq_jol", "qhp", "jsdp", "auyl", "adal")} == {
        "amanat": "3748",
        "aq_jol": "3747",
        "qhp": "3749",
        "jsdp": "3750",
        "auyl": "5627",
        "adal": "8748",
    }
    assert (
        ids[("respublica", "party_facts")]["external_id"] is None
        and "not checked" in ids[("respublica", "party_facts")]["note_text"]
    )
    assert "line 3587" in ids[("amanat", "party_facts")]["source_text"]
    parties = {o["party_id"] for o in tables["election_options"] if o["party_id"]}
    assert parties <= {p for p, _ in ids}  # every party on any ballot says which ids it has
    assert all(len([s for p, s in ids if p == party]) == 3 for party in parties)


def test_the_2022_regions_are_added_back_to_their_parents_never_split(tables):
    lineage = {r["region_id"]: r["parent_region_id"] for r in tables["region_lineage"]}
    assert lineage == {"KZ-10": "KZ-63", "KZ-33": "KZ-19", "KZ-62": "KZ-35"}
    codes = {r["region_id"]: r for r in tables["region_codes"]}
    assert (codes["KZ-19"]["former_region_code"], str(codes["KZ-19"]["valid_to"])) == ("KZ-ALM", "2022-11-29")
    assert codes["KZ-10"]["former_region_code"] is None and str(codes["KZ-79"]["valid_from"]) == "2018-11-26"
    on_2021 = {(r["area_id"], r["option_id"]): r for r in tables["results_on_2021_regions"]}
    assert {a for a, _ in on_2021} == {c for c in codes if c not in lineage}  # the 17 regions of 2021
    cells = {(r["region_id"], r["option_id"]): r["votes"] for r in tables["party_list_results"]}
    assert on_2021[("KZ-19", "amanat")]["votes"] == cells[("KZ-19", "amanat")] + cells[("KZ-33", "amanat")]
    assert on_2021[("KZ-61", "amanat")]["votes"] == cells[("KZ-61", "amanat")]  # an unchanged region as it was
    for option in {o for _, o in cells}:  # nothing lost or counted twice
        assert sum(r["votes"] for (a, o), r in on_2021.items() if o == option) == sum(
            v for (_, o), v in cells.items() if o == option
        )
    share = on_2021[("KZ-63", "amanat")]
    total = sum(r["votes"] for (a, _), r in on_2021.items() if a == "KZ-63")
    assert share["computed_share_pct"] == pytest.approx(100 * share["votes"] / total, abs=1e-6)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("parties_across_elections.yaml", "line: 3587}", "line: 3587, x: 1}", "an identifier needs"),
        (
            "parties_across_elections.yaml",
            "source: pf_core, line: 3583",
            "source: pf_nowhere, line: 3583",
            "not in 'sources'",
        ),
        (
            "parties_across_elections.yaml",
            """source: pf_clea, note: "None: the CLEA import covers Kazakhstan's elections of 2007 to 2016."}""",
            "source: pf_clea}",
            "no id needs a note",
        ),
        ("parties_across_elections.yaml", "valid_to: 2022-03-01", "valid_to: spring", "must be a date"),
        (
            "parties_across_elections.yaml",
            'quote: "Until 1 March 2022',
            'quote: "' + "x" * 200 + " Until 1 March 2022",
            "1 to 199 characters",
        ),
        ("region_lineage.yaml", "  KZ-62: {former: null, since: null}\n", "", "every region must be coded once"),
        ("region_lineage.yaml", "parent: KZ-35", "parent: KZ-99", "must be regions"),
    ],
    ids=[
        "identifier key",
        "unknown source",
        "missing id without note",
        "date",
        "long quote",
        "region uncoded",
        "parent",
    ],
)
def test_a_bad_crosswalk_entry_is_a_clear_error(tmp_path, tables, file, old, new, message):
    from pipeline import ROOT
    from pipeline.extract.crosswalks import read_crosswalks

    paths = {}
    for name in ("parties_across_elections.yaml", "region_lineage.yaml"):
        text = (ROOT / "sources" / name).read_text(encoding="utf-8")
        if name == file:
            assert text.count(old) >= 1, old
            text = text.replace(old, new, 1)
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError, match=message):
        read_crosswalks(
            [r["region_id"] for r in tables["regions"]],
            paths["parties_across_elections.yaml"],
            paths["region_lineage.yaml"],
        )


def test_the_tests_fixed_in_advance_run_where_two_publishers_give_every_count(tables):
    import numpy as np

    from pipeline.forensics import parameters
    from pipeline.forensics.across import elections_tests
    from pipeline.forensics.distributions import constrained_tail

    params = parameters()
    rows = {(r["election_id"], r["test_id"]): r for r in elections_tests(np, tables, [], params)}
    national = rows[(Y2021, "share_grid_national")]
    # the exact shares 71.0906, 10.9483, 9.1005, 5.2892, 3.5713: only the People's Party's is within 5 % of a 0.1 step
    assert (national["is_run"], national["units_count"], national["observed_value"]) == (True, 5, 1)
    assert national["p_value"] == pytest.approx(constrained_tail(np, 1, 1, 5, 0.05), rel=1e-5)
    assert national["numbers_source"] == "reports"
    # not blind (the article's two-decimal 2021 shares determined it): outside Holm's family
    assert (
        national["is_blind"] is False
        and national["adjusted_p_value"] is None
        and "Not blind" in national["reading_text"]
    )
    # an independent Monte Carlo of the null: four uniform fractional parts, the fifth fixed by the sum to 100
    rng = np.random.default_rng(7)
    parts = rng.random((200_000, 4))
    last = (-parts.sum(axis=1)) % 1.0
    near = lambda x: (x < 0.05) | (x > 0.95)  # noqa: E731
    hits = near(parts).sum(axis=1) + near(last)
    assert national["p_value"] == pytest.approx((hits >= 1).mean(), abs=0.005)
    assert not rows[(Y2021, "share_grid_region")]["is_run"]
    assert "holds no region's counts" in rows[(Y2021, "share_grid_region")]["reading_text"]
    assert "not in the package yet" in rows[("kz-president-2022-11-20", "share_grid_national")]["reading_text"]
    assert len(rows) == sum(len(v) for v in params["out_of_sample"]["elections"].values())
    # one publisher is a lead, not evidence: with Astana Times' counts alone the test does not run
    alone = dict(tables)
    alone["independent_reports"] = [
        f
        for f in tables["independent_reports"]
        if not (f["published_column_name"] == "votes" and f["publisher_id"] != "astana_times")
    ]
    rows = {(r["election_id"], r["test_id"]): r for r in elections_tests(np, alone, [], params)}
    assert not rows[(Y2021, "share_grid_national")]["is_run"]
    assert "two independent publishers" in rows[(Y2021, "share_grid_national")]["reading_text"]


def test_each_election_says_what_it_covers_and_what_was_searched(tables):
    rows = {
        (r["election_id"], r["level_name"], r["protocol_version"], r["published_column_name"]): r
        for r in tables["election_coverage"]
    }
    # elections x protocols x (national: 3 + 5 quantities; regional: no seats, 2 + 5)
    assert len(rows) == len(tables["election_coverage"]) == 2 * 2 * (8 + 7)
    votes = rows[(Y2021, "national", "final", "votes")]
    assert (votes["values_count"], votes["publishers_count"], votes["search_id"]) == (5, 3, None)
    invalid = rows[(Y2021, "national", "final", "invalid_ballots_count")]
    assert (invalid["values_count"], invalid["search_id"]) == (0, "kz_majilis_2021_2026_12_07")  # not found, searched
    assert rows[(Y2021, "regional", "final", "votes")]["values_count"] == 0
    assert rows[(Y2023, "regional", "final", "votes")]["values_count"] == 160
    # the article's election: what it lacks is not in the article; no search for 2021 is named for it
    assert rows[(Y2023, "national", "preliminary", "votes")]["search_id"] is None


def test_the_most_precise_figure_wins_and_two_figures_agree_only_where_their_roundings_overlap(tables):
    figure = next(
        f
        for f in tables["independent_reports"]
        if f["published_table_name"] == "election_results" and f["published_column_name"] == "votes"
    )
    thousands = figure | {"report_id": "a_thousands", "reported_value": round(figure["reported_value"], -3)}
    thousands |= {"reported_decimals": 0, "reported_multiplier": 1000}
    for order in ([figure, thousands], [thousands, figure]):  # whatever the order, the exact count is published
        changed = dict(tables) | {"independent_reports": [*tables["independent_reports"], *order]}
        row = next(
            r
            for r in _reported(changed, "election_results", ("votes",), Y2023)
            if r["option_id"] == "amanat" and r["protocol_version"] == "final"
        )
        assert row["votes"] == 5_148_074 and isinstance(row["votes"], int)
    share = next(
        f
        for f in tables["independent_reports"]
        if f["published_table_name"] == "election_results" and f["published_column_name"] == "vote_share_pct"
    )
    low = share | {"report_id": "z_low", "reported_value": share["reported_value"] - 0.05, "reported_decimals": 1}
    high = share | {"report_id": "z_high", "reported_value": share["reported_value"] + 0.05, "reported_decimals": 1}
    changed = dict(tables) | {"independent_reports": [*tables["independent_reports"], low, high]}
    with pytest.raises(
        PipelineError, match="the reports disagree"
    ):  # each agrees with the 2-decimal one, not each other
        _reported(changed, "election_results", ("vote_share_pct",), Y2023)


def test_a_record_key_that_does_not_give_the_table_s_key_is_an_error(tables):
    figure = next(f for f in tables["independent_reports"] if f["published_table_name"] == "election_results")
    broken = figure | {
        "published_record_key": figure["published_record_key"].replace("area_id=KZ", "area_id=KZ, Almaty")
    }
    with pytest.raises(PipelineError, match="does not give election_id, area_id, option_id, protocol_version"):
        _reported(dict(tables) | {"independent_reports": [broken]}, "election_results", ("votes",), Y2023)


def test_the_national_grid_test_runs_only_on_the_options_the_published_shares_are_of(tables):
    import numpy as np

    from pipeline.forensics import parameters
    from pipeline.forensics.across import elections_tests

    fewer = dict(tables)
    fewer["election_options"] = [
        o for o in tables["election_options"] if (o["election_id"], o["option_id"]) != (Y2021, "adal")
    ]
    row = next(
        r
        for r in elections_tests(np, fewer, [], parameters())
        if (r["election_id"], r["test_id"]) == (Y2021, "share_grid_national")
    )
    assert not row["is_run"] and "do not give back the published shares" in row["reading_text"]
