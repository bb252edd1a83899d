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
P2022, R2022 = "kz-president-2022-11-20", "kz-referendum-2022-06-05"
M2023, R2024 = "kz-maslikhat-2023-03-19", "kz-referendum-2024-10-06"
P2019 = "kz-president-2019-06-09"


def one(rows, **key):
    (found,) = [r for r in rows if all(r[k] == v for k, v in key.items())]
    return found


def test_the_elections_are_the_folders_of_elections(tables):
    assert [e["election_id"] for e in tables["elections"]] == [Y2021, Y2023, M2023, P2019, P2022, R2022, R2024]
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
    ballots = one(tables["election_ballots"], election_id=Y2023, area_id="KZ", protocol_version="final")
    assert (ballots["registered_voters_count"], ballots["turnout_pct"]) == (12_035_578, 54.21)
    # election night: the commission's last turnout of the day (22:00), from the turnout tables
    night = one(tables["election_ballots"], election_id=Y2023, area_id="KZ", protocol_version="preliminary")
    assert (night["voters_count"], night["turnout_pct"], night["registered_voters_count"]) == (6_521_860, 54.19, None)
    assert (
        one(tables["election_ballots"], election_id=Y2023, area_id="KZ-75", protocol_version="preliminary")[
            "turnout_pct"
        ]
        == one(tables["turnout_by_hour"], region_id="KZ-75", reported_at=night_of(tables))["turnout_pct"]
    )


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
    figure = next(
        f
        for f in tables["independent_reports"]
        if f["published_table_name"] == "election_results" and Y2021 in f["published_record_key"]
    )
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
    # 2022: six of the seven final counts from two publishers, Abden's exact count from one (Rudny Altai;
    # Kazinform prints "206,000"): not run, and said so
    president = rows[(P2022, "share_grid_national")]
    assert not president["is_run"] and president["reading_text"].endswith("two independent publishers: abden.")
    assert rows[(R2022, "share_grid_national")]["reading_text"].endswith("two independent publishers: no, yes.")
    # 2019: no count from a publisher on its own site (only relays of other agencies): not run
    assert "two independent publishers: akhmetbekov, espayeva" in rows[(P2019, "share_grid_national")]["reading_text"]
    assert not any("not in the package yet" in r["reading_text"] for r in rows.values())  # every election is
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
    assert len(rows) == len(tables["election_coverage"]) == 7 * 2 * (8 + 7)
    votes = rows[(Y2021, "national", "final", "votes")]
    assert (votes["values_count"], votes["publishers_count"], votes["search_id"]) == (5, 3, None)
    invalid = rows[(Y2021, "national", "final", "invalid_ballots_count")]
    assert (invalid["values_count"], invalid["search_id"]) == (0, "kz_majilis_2021_2026_12_07")  # not found, searched
    assert rows[(Y2021, "regional", "final", "votes")]["values_count"] == 0
    night = rows[(Y2021, "regional", "preliminary", "turnout_pct")]  # election night in the 17 regions of 2021
    assert (night["values_count"], night["publishers_count"]) == (17, 2)
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


def night_of(tables):
    return max(r["reported_at"] for r in tables["national_turnout_by_hour"])


def test_the_2022_presidential_election_is_a_folder_of_reports(tables):
    results = {
        (r["option_id"], r["protocol_version"]): r for r in tables["election_results"] if r["election_id"] == P2022
    }
    assert len(results) == 14  # six candidates and 'against all', preliminary and final
    # the final count for Tokayev is one more than the preliminary one (Kazinform, Rudny Altai; Kommersant)
    assert (results[("tokayev", "final")]["votes"], results[("tokayev", "preliminary")]["votes"]) == (
        6_456_393,
        6_456_392,
    )
    assert results[("tokayev", "final")]["vote_share_pct"] == 81.31
    assert results[("against_all", "final")]["votes"] == 460_484  # Telegraf's "480 484" is not entered
    assert results[("kazhyken", "final")]["votes"] == 200_907  # Kazinform's "300,907" is not entered
    final = [r for r in results.values() if r["protocol_version"] == "final"]
    valid = sum(r["votes"] for r in final)
    assert valid == 7_940_478  # the shares are of the votes for every option, 'against all' included
    for r in final:  # each within the rounding of its published decimals (5.8 and 2.6 are given to one)
        decimals = len(str(r["vote_share_pct"]).split(".")[1])
        assert abs(100 * r["votes"] / valid - r["vote_share_pct"]) <= 0.5 * 10**-decimals + 1e-9, r
    ballots = one(tables["election_ballots"], election_id=P2022, area_id="KZ", protocol_version="final")
    assert (ballots["voters_count"], ballots["turnout_pct"], ballots["invalid_ballots_count"]) == (
        8_300_046,
        69.44,
        None,
    )
    kinds = {o["option_id"]: o["option_kind"] for o in tables["election_options"] if o["election_id"] == P2022}
    assert kinds["tokayev"] == "candidate" and kinds["against_all"] == "against_all"


def test_the_turnout_change_since_2021_is_on_the_2021_regions(tables):
    rows = {(r["area_id"], r["protocol_version"]): r for r in tables["turnout_change"]}
    assert len(rows) == 19  # the country final; the country and the 17 regions of 2021 on election night
    country = rows[("KZ", "final")]
    assert (country["turnout_pct"], country["earlier_turnout_pct"], country["turnout_change_pp"]) == (
        54.21,
        63.25,
        -9.04,
    )
    assert rows[("KZ", "preliminary")]["turnout_change_pp"] == -9.11  # 54.19 against 63.3 at 22:00
    # Almaty city, a region of its own in both: as published (25.82 at 22:00 in 2023, 30.3 in 2021)
    almaty = rows[("KZ-75", "preliminary")]
    assert (almaty["turnout_pct"], almaty["earlier_turnout_pct"], almaty["regions_added_count"]) == (25.82, 30.3, 1)
    # East Kazakhstan of 2021 is East Kazakhstan and Abai of 2023, weighted by their final registered voters
    east = rows[("KZ-63", "preliminary")]
    at_night = {
        r["region_id"]: r["turnout_pct"] for r in tables["turnout_by_hour"] if r["reported_at"] == night_of(tables)
    }
    rolls = {r["region_id"]: r["registered_voters_count"] for r in tables["region_ballots"]}
    weighted = (at_night["KZ-63"] * rolls["KZ-63"] + at_night["KZ-10"] * rolls["KZ-10"]) / (
        rolls["KZ-63"] + rolls["KZ-10"]
    )
    assert east["regions_added_count"] == 2 and east["turnout_pct"] == round(weighted, 2) == 60.91
    assert east["earlier_turnout_pct"] == 72.4 and east["turnout_change_pp"] == -11.49
    assert not any(area in ("KZ-10", "KZ-33", "KZ-62") for area, _ in rows)  # never the new regions in 2021
    # every region of 2021 turned out less in 2023 on election night
    assert all(r["turnout_change_pp"] < 0 for r in rows.values())


def test_the_2022_referendum_is_a_folder_of_reports(tables):
    results = {
        (r["option_id"], r["protocol_version"]): r for r in tables["election_results"] if r["election_id"] == R2022
    }
    assert {k: (r["votes"], r["vote_share_pct"]) for k, r in results.items()} == {
        ("yes", "preliminary"): (6_163_863, 77.18),
        ("no", "preliminary"): (1_490_475, 18.66),
        ("yes", "final"): (6_163_516, 77.18),  # Al Mayadeen alone gives the final count
        ("no", "final"): (None, 18.66),  # no report gives the final 'no' count
    }
    ballots = {b["protocol_version"]: b for b in tables["election_ballots"] if b["election_id"] == R2022}
    assert (ballots["preliminary"]["voters_count"], ballots["preliminary"]["turnout_pct"]) == (7_986_293, 68.06)
    assert (ballots["final"]["voters_count"], ballots["final"]["turnout_pct"]) == (7_985_769, 68.05)
    # the published shares are of the voters who took part, not of the two answers' votes
    preliminary = ballots["preliminary"]["voters_count"]
    assert round(100 * results[("yes", "preliminary")]["votes"] / preliminary, 2) == 77.18
    assert one(tables["elections"], election_id=R2022)["region_scheme_year"] == 2021  # before the split of 8 June


def test_the_regional_councils_of_2023_hold_astana_where_its_reports_agree(tables):
    """The maslikhats' party-list vote: Astana from Kazinform, Kapital.kz and bes.media; the three figures
    they disagree on are entered from none of them (the report file gives both and the arithmetic)."""
    results = {r["option_id"]: r for r in tables["election_results"] if r["election_id"] == M2023}
    assert {r["area_id"] for r in results.values()} == {"KZ-71"}  # one unit of 20
    assert (results["amanat"]["votes"], results["amanat"]["vote_share_pct"], results["amanat"]["seats_count"]) == (
        227_307,
        68.78,
        12,
    )
    assert results["auyl"]["votes"] is None  # 2,197 (Kazinform, Kapital.kz) or 2,147 (bes.media)
    assert results["qhp"]["vote_share_pct"] is None and results["aq_jol"]["vote_share_pct"] is None
    assert sum(r["seats_count"] or 0 for r in results.values()) == 17  # the city's party-list seats
    # our arithmetic: bes.media's 2,147 gives back the shares every report prints for Amanat (68.78)
    given = sum(r["votes"] for r in results.values() if r["votes"] is not None)
    assert round(100 * 227_307 / (given + 2_147), 2) == 68.78 != round(100 * 227_307 / (given + 2_197), 2)
    # an area with a count missing is not added up to the regions of 2021 (its shares would be of part)
    assert not [r for r in tables["results_on_2021_regions"] if r["election_id"] == M2023]


def test_the_2024_referendum_keeps_its_preliminary_counts_and_final_shares_apart(tables):
    results = {
        (r["option_id"], r["protocol_version"]): r for r in tables["election_results"] if r["election_id"] == R2024
    }
    assert (results[("yes", "preliminary")]["votes"], results[("no", "preliminary")]["votes"]) == (5_561_937, 2_045_271)
    assert results[("yes", "preliminary")]["reports_count"] == 6  # count and share from three publishers
    # the final meeting's figures only as The Astana Times gives them (its counts in millions are not entered)
    assert (results[("yes", "final")]["votes"], results[("yes", "final")]["vote_share_pct"]) == (None, 71.12)
    ballots = one(tables["election_ballots"], election_id=R2024, area_id="KZ", protocol_version="preliminary")
    assert (ballots["registered_voters_count"], ballots["voters_count"], ballots["invalid_ballots_count"]) == (
        12_284_487,
        7_820_204,
        130_267,
    )
    # our arithmetic: with 82,729 ballots with both answers marked, the four kinds add up to the voters
    assert 5_561_937 + 2_045_271 + 82_729 + 130_267 == ballots["voters_count"]


def _with_regional_counts(tables, counts: dict, shares: dict | None = None, alone: tuple = ()):
    """The tables with the regional councils' final counts replaced by `counts` ({region: {option: votes}}),
    each given by two publishers but the cells in `alone` (one publisher), with the published shares
    (`shares`, or two decimals computed from the counts)."""
    from pipeline.extract.errata import format_key

    changed = dict(tables)
    rows, figures = [], []
    for area, cells in counts.items():
        valid = sum(cells.values())
        for option, votes in cells.items():
            key = {"election_id": M2023, "area_id": area, "option_id": option, "protocol_version": "final"}
            share = round(100 * votes / valid, 2) if shares is None else shares[area][option]
            rows.append(key | {"votes": votes, "vote_share_pct": share, "seats_count": None})
            for publisher in ("kazinform", "bes_media")[: 1 if (area, option) in alone else 2]:
                figures.append(
                    {
                        "publisher_id": publisher,
                        "published_table_name": "election_results",
                        "published_column_name": "votes",
                        "published_record_key": format_key(key),
                    }
                )
    others = [r for r in tables["election_results"] if r["election_id"] != M2023]
    changed["election_results"] = others + rows
    changed["independent_reports"] = [
        f for f in tables["independent_reports"] if M2023 not in (f["published_record_key"] or "")
    ]
    changed["independent_reports"] += figures
    return changed


def _council_tests(tables, params, counts, shares=None, alone=()):
    import numpy as np

    from pipeline.forensics.across import elections_tests

    result = elections_tests(np, _with_regional_counts(tables, counts, shares, alone), [], params)
    return {r["test_id"]: r for r in result if r["election_id"] == M2023}


def test_the_regional_tests_fixed_in_advance_run_where_two_publishers_give_every_count(tables):
    """Not run on the data (Astana lacks Auyl's count), they run once counts are there, with the 2023 nulls:
    on counts computed from two-decimal shares every test fires; on counts drawn at random none does."""
    import numpy as np

    from pipeline.forensics import parameters
    from pipeline.forensics.across import elections_tests
    from pipeline.forensics.distributions import constrained_tail

    params = parameters()
    settings = params["out_of_sample"]
    rows = {(r["election_id"], r["test_id"]): r for r in elections_tests(np, tables, [], params)}
    for test in ("share_grid_region", "counts_reproducible_region", "region_rounding_scan"):
        assert rows[(M2023, test)]["reading_text"] == (
            "Not run: no region has every option's count from two independent publishers (KZ-71: auyl)."
        )
    options = sorted(o["option_id"] for o in tables["election_options"] if o["election_id"] == M2023)
    rng = np.random.default_rng(2023)
    regions = [f"KZ-{n}" for n in (10, 11, 15, 19, 23, 27, 31, 33, 35, 39)]
    honest = {
        a: dict(zip(options, map(int, rng.integers(20_000, 200_000, len(options))), strict=True)) for a in regions
    }
    valid = {a: sum(c.values()) for a, c in honest.items()}
    computed, shares = {}, {}  # each share drawn to two decimals first, the counts rounded from it
    for a in regions:
        two = np.round(rng.dirichlet(np.ones(len(options))) * 100, 2)
        two[0] = round(100 - two[1:].sum(), 2)
        shares[a] = dict(zip(options, map(float, two), strict=True))
        computed[a] = {o: int(round(shares[a][o] / 100 * valid[a])) for o in options}
    fired, quiet = _council_tests(tables, params, computed, shares), _council_tests(tables, params, honest)
    # the grid test: the exact constrained tail with the fixed window, 10 regions of 7 shares
    window = settings["window_fraction"]
    for found in (fired, quiet):
        grid = found["share_grid_region"]
        assert (grid["units_count"], grid["expected_value"]) == (70, 2 * window * 70)
        assert grid["p_value"] == pytest.approx(
            constrained_tail(np, int(grid["observed_value"]), 10, 7, window), rel=1e-5
        )
    assert fired["share_grid_region"]["observed_value"] >= 60 and fired["share_grid_region"]["p_value"] < 1e-30
    assert quiet["share_grid_region"]["p_value"] > settings["alpha"]
    # counts given back by their shares: all but a few of the computed; by chance, about what the null says
    back = fired["counts_reproducible_region"]
    assert back["observed_value"] >= 0.9 * back["units_count"] and back["p_value"] < 1e-6
    chance = [min(1.0, 0.5 / (window * v * 0.01 / 100)) for v in valid.values()]
    assert back["expected_value"] < back["units_count"] * max(chance) + 1e-9
    assert quiet["counts_reproducible_region"]["p_value"] > settings["alpha"]
    # the scan: Holm over the regions, p the smallest adjusted
    assert fired["region_rounding_scan"]["observed_value"] == 10 and fired["region_rounding_scan"]["p_value"] < 1e-6
    assert quiet["region_rounding_scan"]["observed_value"] == 0 and quiet["region_rounding_scan"]["p_value"] > 0.01


def test_the_regional_tests_read_only_the_regions_they_can_test(tables):
    """A count from one publisher leaves its region out; so do counts that do not give back their published
    shares (shares of another total, as a referendum's of the voters); and, for the grid test, a region
    whose grid step is worth under ten votes (the uniform null fails on small totals)."""
    import numpy as np

    from pipeline.forensics import parameters

    params = parameters()
    options = sorted(o["option_id"] for o in tables["election_options"] if o["election_id"] == M2023)
    rng = np.random.default_rng(7)
    regions = [f"KZ-{n}" for n in (10, 11, 15, 19, 23, 27, 31, 33, 35, 39)]
    counts = {
        a: dict(zip(options, map(int, rng.integers(20_000, 200_000, len(options))), strict=True)) for a in regions
    }
    one = _council_tests(tables, params, counts, alone=(("KZ-10", "amanat"),))
    assert one["share_grid_region"]["units_count"] == 63 and "KZ-10" not in one["share_grid_region"]["reading_text"]
    # the shares of the voters who took part (3 % more than the valid votes): not the counts' shares
    of_voters = {a: {o: round(100 * v / (sum(c.values()) * 1.03), 2) for o, v in c.items()} for a, c in counts.items()}
    other = _council_tests(tables, params, counts, shares=of_voters)
    for test in ("share_grid_region", "counts_reproducible_region", "region_rounding_scan"):
        assert not other[test]["is_run"] and "do not give back the published shares" in other[test]["reading_text"]
    small = dict(counts, **{"KZ-11": {o: int(v) for o, v in zip(options, rng.integers(500, 1500, 7), strict=True)}})
    found = _council_tests(tables, params, small)
    assert found["share_grid_region"]["units_count"] == 63
    assert "KZ-11 (a grid step worth under 10 votes)" in found["share_grid_region"]["reading_text"]
    assert found["region_rounding_scan"]["units_count"] == 10  # (the scan reads exact distances: any total)
