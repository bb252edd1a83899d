"""The extract stage on the real snapshot: real values, row counts and every inference."""

import datetime as dt

import pytest

from tests.conftest import SOURCE

EXPECTED_ROWS = {
    "regions": 20,
    "region_aliases": 5,
    "parties": 7,
    "party_list_results": 160,
    "region_ballots": 20,
    "national_party_list_results": 8,
    "national_ballots": 1,
    "turnout_by_hour": 140,
    "national_turnout_by_hour": 7,
    "districts": 29,
    "district_results": 58,
    "district_result_claims": 3,
    "opinion_polls": 36,
    "exit_polls": 24,
    "national_results": 7,
    "party_candidates": 8,
    "region_district_counts": 20,
    "voter_roll_reports": 2,
    "stated_figures": 24,
    "electoral_rules": 1,
    "seat_allocation": 7,
    "chamber_seats": 8,
    "national_infobox_figures": 1,
    "election_timetable": 9,
    "debates": 3,
    "debate_participants": 21,
    "debate_polls": 8,
    "vote_options": 10,
    "errata": 6,
    "extraction_inferences": 21,
    "source_gaps": 15,
}


def one(rows, **key):
    found = [r for r in rows if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, f"{len(found)} rows match {key}"
    return found[0]


def test_row_counts(tables):
    registry = {"publishers", "independent_reports", "region_names", "party_names"}  # sources/: own tests
    registry |= {"report_searches", "report_coverage", "district_coverage"}  # searches.yaml: tests/test_reports.py
    registry |= {"releases", "release_changes", "release_structure_changes"}  # releases/: tests/test_release*.py
    registry |= {"elections", "election_options", "election_results", "election_ballots", "results_on_2021_regions"}
    registry |= {"election_coverage", "turnout_change"}
    registry |= {"party_names_history", "party_identifiers", "region_codes", "region_lineage"}  # test_elections.py
    assert {name: len(rows) for name, rows in tables.items() if name not in registry} == EXPECTED_ROWS


def test_national_party_list_results(tables):
    national = tables["national_party_list_results"]
    assert one(national, option_id="amanat") == {"option_id": "amanat", "votes": 3_431_510, "vote_share_pct": 53.9}
    assert one(national, option_id="baytaq")["votes"] == 146_431
    assert tables["national_ballots"] == [
        {
            "country_code": "KZ",
            "registered_voters_count": 12_035_578,
            "invalid_ballots_count": 158_046,
            "ballots_cast_count": 6_524_487,
            "turnout_pct": 54.21,
        }
    ]


def test_erratum_restores_the_against_all_total(tables):
    assert one(tables["national_party_list_results"], option_id="against_all")["votes"] == 248_291
    applied = one(tables["errata"], erratum_id="E001")
    assert (applied["value_before"], applied["value_after"]) == ("248.291", "248,291")


def test_region_values(tables):
    assert one(tables["region_ballots"], region_id="KZ-75") == {
        "region_id": "KZ-75",
        "registered_voters_count": 1_202_078,
        "invalid_ballots_count": 11_764,
        "ballots_cast_count": 310_416,
        "turnout_pct": 25.82,
    }
    # Aliases resolve: 'Qostanai Region' is Kostanay (KZ-39), 'Türkistan Region' is Turkistan (KZ-61).
    assert one(tables["party_list_results"], region_id="KZ-39", option_id="amanat")["votes"] == 226_607
    assert one(tables["party_list_results"], region_id="KZ-61", option_id="auyl") == {
        "region_id": "KZ-61",
        "option_id": "auyl",
        "votes": 140_322,
        "vote_share_pct": 23.39,
    }
    # 'Almaty' is the city, never the region.
    assert one(tables["party_list_results"], region_id="KZ-19", option_id="amanat")["votes"] == 313_949
    assert one(tables["party_list_results"], region_id="KZ-75", option_id="amanat")["votes"] == 150_312


def test_kyzylorda_row_without_a_name_is_inferred(tables):
    assert one(tables["region_ballots"], region_id="KZ-43")["registered_voters_count"] == 486_034
    inference = one(tables["extraction_inferences"], table_name="region_ballots", record_key="region_id=KZ-43")
    assert "only region without a row" in inference["reason"]
    assert one(tables["extraction_inferences"], table_name="national_ballots")["inferred_value"] == "KZ"


def test_district_winners_and_runners_up(tables):
    results = tables["district_results"]
    assert one(results, district_number=14, candidate_rank=1) == {
        "district_number": 14,
        "candidate_rank": 1,
        "candidate_name": "Abzal Quspan",
        "is_independent": True,
        "candidate_party_id": None,
        "affiliation_name": None,
        "affiliation_party_id": None,
        "votes": 126_784,
        "vote_share_pct": 50.22,
    }
    assert one(results, district_number=14, candidate_rank=2)["candidate_name"] == "Luqpan Ahmediarov"
    assert one(results, district_number=14, candidate_rank=2)["votes"] == 46_172
    bazarbek = one(results, district_number=5, candidate_rank=1)
    assert (bazarbek["candidate_name"], bazarbek["is_independent"], bazarbek["affiliation_party_id"]) == (
        "Baqytjan Bazarbek",
        True,
        "amanat",
    )
    imanbai = one(results, district_number=3, candidate_rank=2)
    assert (
        imanbai["candidate_name"],
        imanbai["affiliation_name"],
        imanbai["affiliation_party_id"],
        imanbai["votes"],
    ) == ("Inga Imanbai", "QDP", None, 6_798)
    qasqaraurov = one(results, district_number=12, candidate_rank=2)
    assert (qasqaraurov["candidate_party_id"], qasqaraurov["vote_share_pct"]) == ("amanat", 21.69)
    assert sum(r["candidate_rank"] == 1 and r["is_independent"] for r in results) == 7


def test_districts_follow_their_region_rowspan(tables):
    by_region = {}
    for district in tables["districts"]:
        by_region.setdefault(district["region_id"], []).append(district["district_number"])
    assert by_region["KZ-61"] == [25, 26, 27]
    assert by_region["KZ-75"] == [3, 4, 5]
    assert by_region["KZ-79"] == [6, 7]
    assert len(by_region) == 20
    assert sorted(d["district_number"] for d in tables["districts"]) == list(range(1, 30))


def test_turnout_by_hour(tables):
    assert (
        one(tables["turnout_by_hour"], region_id="KZ-75", reported_at=dt.datetime(2023, 3, 19, 22))["turnout_pct"]
        == 25.82
    )
    assert (
        one(tables["turnout_by_hour"], region_id="KZ-23", reported_at=dt.datetime(2023, 3, 19, 14))["turnout_pct"]
        == 36.15
    )
    assert one(tables["national_turnout_by_hour"], reported_at=dt.datetime(2023, 3, 19, 10)) == {
        "reported_at": dt.datetime(2023, 3, 19, 10),
        "voters_count": 1_710_381,
        "turnout_pct": 14.21,
    }


def test_polls(tables):
    strategy = one(tables["opinion_polls"], poll_id="strategy_2023_02_27", option_id="undecided")
    assert strategy == {
        "poll_id": "strategy_2023_02_27",
        "pollster_name": "Strategy",
        "fieldwork_start_date": dt.date(2023, 2, 17),
        "fieldwork_end_date": dt.date(2023, 2, 27),
        "respondents_count": 1_600,
        "margin_of_error_pp": 3.0,
        "option_id": "undecided",
        "share_pct": 12.7,
    }
    # Options are mapped by header text: the polls' column order (Aq Jol before QHP) differs from the results.
    assert (
        one(tables["opinion_polls"], poll_id="democratic_institute_2023_02_18", option_id="aq_jol")["share_pct"] == 5.4
    )
    sotsis = one(tables["exit_polls"], poll_id="sotsis_a_exit_2023_03_19", option_id="respublica")
    assert (sotsis["respondents_count"], sotsis["share_pct"], sotsis["turnout_estimate_pct"]) == (312_000, 8.8, 55.6)


def test_parties(tables):
    numbers = {p["party_id"]: p["ballot_number"] for p in tables["parties"]}
    assert numbers == {"amanat": 1, "auyl": 2, "respublica": 3, "qhp": 4, "baytaq": 5, "aq_jol": 6, "jsdp": 7}
    assert one(tables["parties"], party_id="qhp")["party_full_name"] == "People's Party of Kazakhstan"
    assert one(tables["parties"], party_id="baytaq")["party_full_name"] is None  # the cell is empty


@pytest.mark.parametrize(
    "alias", ["Aqmola Region", "Aqtöbe Region", "Qarağandy Region", "Qostanai Region", "Türkistan Region"]
)
def test_every_alias_is_a_spelling_the_article_uses(tables, alias):
    assert alias in {a["alias_name"] for a in tables["region_aliases"]}
    assert f"| {alias} |" in SOURCE.read_text(encoding="utf-8")


def test_national_results_from_the_infobox_and_the_prose(tables):
    amanat = one(tables["national_results"], party_id="amanat")
    assert (amanat["votes"], amanat["seats_count"], amanat["list_seats_count"], amanat["district_seats_count"]) == (
        3_431_510,
        62,
        40,
        22,
    )
    # The infobox prints the changes without sign: they are recomputed with it.
    assert (amanat["seat_change_published_abs"], amanat["seat_change_count"]) == (14, -14)
    assert (amanat["swing_published_abs_pp"], amanat["swing_pp"]) == (17.19, -17.19)
    jsdp = one(tables["national_results"], party_id="jsdp")
    # A boycott is not a 0 % result: no 2021 share and no swing; no seats then (an inference), so +4 seats.
    assert (jsdp["status_2021"], jsdp["vote_share_2021_pct"], jsdp["seats_2021_count"]) == ("boycotted", None, 0)
    assert (jsdp["seat_change_count"], jsdp["swing_pp"], jsdp["swing_published_abs_pp"]) == (4, None, 5.2)
    assert one(tables["parties"], party_id="jsdp")["vote_share_2021_pct"] is None
    respublica = one(tables["national_results"], party_id="respublica")
    assert (respublica["status_2021"], respublica["seat_change_count"], respublica["swing_pp"]) == (
        "new",
        None,
        None,
    )
    assert one(tables["national_results"], party_id="qhp")["leader_name"] is None  # the infobox has no Leader5
    assert one(tables["national_results"], party_id="baytaq")["list_seats_count"] == 0


def test_candidates_and_district_counts(tables):
    assert one(tables["party_candidates"], nominator_id="aq_jol") == {
        "nominator_id": "aq_jol",
        "party_id": "aq_jol",
        "first_on_list_name": "Azat Peruashev",
        "list_candidates_count": 54,
        "district_candidates_count": 23,
        "candidates_count": 77,
        "list_registered_date": dt.date(2023, 2, 13),
    }
    assert one(tables["party_candidates"], nominator_id="independent")["district_candidates_count"] == 359
    counts = {
        r["region_id"]: (r["districts_listed_count"], r["district_seats_elected_count"])
        for r in tables["region_district_counts"]
    }
    assert counts["KZ-61"] == (3, 3) and counts["KZ-11"] == (None, 1)
    assert counts["KZ-79"] == (2, 2)  # erratum E002: the districts table says 3
    assert [r["registered_voters_count"] for r in tables["voter_roll_reports"]] == [11_976_406, 12_032_550]


def test_party_details(tables):
    auyl = one(tables["parties"], party_id="auyl")
    assert (
        auyl["political_position"],
        auyl["leader_name"],
        auyl["vote_share_2021_pct"],
        auyl["political_stance"],
    ) == ("Centre-left", "Äli Bektaev", 5.3, "Pro-government")
    # 'New' spans both 2021 result cells, so the stance sits one cell earlier.
    baytaq = one(tables["parties"], party_id="baytaq")
    assert (baytaq["status_2021"], baytaq["vote_share_2021_pct"], baytaq["political_stance"]) == (
        "new",
        None,
        "Pro-presidential",
    )
    assert one(tables["parties"], party_id="jsdp")["leader_name"] == "Ashat Raqymjanov"  # erratum E003
    assert one(tables["parties"], party_id="amanat")["ideology_text"] is None


def test_timetable_debates_and_debate_poll(tables):
    campaign = one(tables["election_timetable"], event_name="Election campaigning")
    assert (campaign["start_date"], campaign["end_date"]) == (dt.date(2023, 2, 18), dt.date(2023, 3, 18))
    assert one(tables["election_timetable"], event_name="Nominations of candidates deadline")["time_of_day"] == "18:00"
    ktk = one(tables["debates"], debate_id="ktk")
    assert (ktk["starts_at"], ktk["moderator_names"], ktk["duration_seconds"]) == (
        dt.datetime(2023, 3, 10, 21, 0),
        "Evgenia Säkenova",
        2 * 3600 + 2 * 60 + 22,
    )
    assert one(tables["debates"], debate_id="qazaqstan")["starts_at"] == dt.datetime(2023, 3, 1, 20, 30)
    assert one(tables["debate_participants"], debate_id="ktk", party_id="qhp")["participation_code"] == "P"
    assert one(tables["debate_polls"], debate_id="ktk", option_id="respublica")["share_pct"] == 15.0
    assert one(tables["debate_polls"], debate_id="ktk", option_id="none")["respondents_count"] == 21_000
    assert tables["national_infobox_figures"][0]["turnout_change_published_abs_pp"] == 9.04


def test_counts_stated_in_the_prose(tables):
    stated = {r["figure_id"]: r for r in tables["stated_figures"]}
    assert stated["polling_stations_total"]["stated_count"] == 10_223
    assert (stated["polling_stations_domestic"]["stated_count"], stated["polling_stations_abroad"]["stated_count"]) == (
        10_146,
        77,
    )
    assert stated["district_candidates_registered"]["stated_count"] == 435
    assert stated["list_candidates_registered"]["stated_count"] == 281
    assert stated["polling_stations_domestic"]["section_name"] == "Conduct > Election day"
    assert stated["ballots_printed"]["source_text"].startswith("The CEC also established that the total number")
    assert stated["list_candidates_nominated"]["counted_name"] == "candidates"
    counts = {figure: stated[figure]["stated_count"] for figure in stated}
    assert (counts["polling_station_countries_abroad"], counts["absentee_ballots_issued"]) == (62, 22_578)
    assert (counts["observers_accredited_first"], counts["observers_accredited_total"]) == (25, 793)
    assert (counts["observer_countries"], counts["observer_organisations"]) == (41, 12)
    assert (counts["odihr_core_team_experts"], counts["odihr_long_term_observers"]) == (11, 32)
    assert (counts["odihr_short_term_observers_planned"], counts["district_seats_amanat_preliminary"]) == (300, 22)
    assert stated["odihr_core_team_experts"]["section_name"] == "Observation > OSCE"


def test_a_stated_figure_that_no_longer_reads_so_stops_the_build(source_text):
    from pipeline.common.errors import PipelineError
    from tests.conftest import extract_text, replace_once

    text = replace_once(
        source_text, "In total, 10,223 polling stations were formed", "Some 10,223 polling stations formed"
    )
    with pytest.raises(PipelineError) as caught:
        extract_text(text)
    assert (caught.value.table, caught.value.row) == ("stated_figures", "figure_id=polling_stations_total")
    assert "expected one sentence under the heading 'Preparations'" in str(caught.value)


def test_every_gap_and_inference_names_a_real_row_and_column(tables):
    """A gap is a published null; an inference a published value: both must point at cells that exist
    (one row, or every row where the key is 'column=*')."""
    from pipeline import metadata
    from pipeline.extract.errata import format_key

    package = metadata.load()
    for log, expect_null in (("source_gaps", True), ("extraction_inferences", False)):
        for row in tables[log]:
            resource = package.resource(row["table_name"])
            assert row["column_name"] in resource.field_names, row
            keys = {format_key({k: r[k] for k in resource.primary_key}): r for r in tables[resource.name]}
            every = row["record_key"].endswith("=*")
            assert every or row["record_key"] in keys, row
            cells = (
                [r[row["column_name"]] for r in keys.values()]
                if every
                else [keys[row["record_key"]][row["column_name"]]]
            )
            assert all((cell is None) == expect_null for cell in cells), row


def test_the_chamber_as_elected(tables):
    """98 seats: each party's list and district seats, the 7 independents, Baytaq 0 (not null)."""
    chamber = {r["seat_holder_id"]: r for r in tables["chamber_seats"]}
    assert sum(r["seats_count"] for r in chamber.values()) == 98
    assert (chamber["amanat"]["seats_count"], chamber["amanat"]["affiliated_independents_count"]) == (62, 1)
    assert (chamber["baytaq"]["seats_count"], chamber["baytaq"]["published_seats_count"]) == (0, None)
    independent = chamber["independent"]
    assert (independent["party_id"], independent["district_seats_count"], independent["list_seats_count"]) == (
        None,
        7,
        0,
    )


def test_claims_against_district_results_are_read_from_the_prose(tables):
    """Three challengers' own counts, each read by the generic prose reader from named slots."""
    claims = {r["claim_id"]: r for r in tables["district_result_claims"]}
    assert set(claims) == {"boqaev_stambekov", "altaev_qyryqbaev", "ahmediarov_quspan"}
    ahmediarov = claims["ahmediarov_quspan"]
    assert (ahmediarov["district_number"], ahmediarov["challenger_name"], ahmediarov["official_winner_name"]) == (
        14,
        "Luqpan Ahmediarov",
        "Abzal Quspan",
    )
    assert (ahmediarov["challenger_claimed_votes"], ahmediarov["winner_claimed_votes"]) == (14_816, 8_922)
    altaev = claims["altaev_qyryqbaev"]  # a sentence that starts with a non-ASCII capital (Ä)
    assert (altaev["challenger_name"], altaev["district_number"], altaev["challenger_claimed_votes"]) == (
        "Ältaev",
        None,
        35_178,
    )
    assert claims["boqaev_stambekov"]["source_text"].startswith("Erlan Stambekov, an official winner")
