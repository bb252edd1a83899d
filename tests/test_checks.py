"""Every cross-check fires on tampered data (coverage guards included); on the real snapshot each
ends in the status the quality report gives it."""

import pytest

from pipeline import metadata
from pipeline.checks.quality import Acknowledgement, assess, load_acknowledgements
from pipeline.checks.run import Finding, load_checks, run_checks
from pipeline.common.errors import PipelineError
from pipeline.publish.database import build_database
from pipeline.validate import validate
from tests.conftest import replace_once, root_with_release, run_cli, scanned_tables, tree_digest

# Statuses on the real snapshot: what docs/quality_report.md shows.
EXPECTED_STATUS = {
    "article_2021_columns": {"passed"},
    "candidates_add_up": {"passed"},
    "candidates_match_prose": {"acknowledged"},
    "claims_name_official_winners": {"passed"},
    "names_complete": {"passed"},
    "debates_in_campaign": {"passed"},
    "infobox_national_figures": {"passed"},
    "parties_match_infobox": {"corrected", "passed"},
    "district_ballots_plausible": {"acknowledged"},
    "district_counts": {"acknowledged", "corrected"},
    "district_implied_totals": {"acknowledged"},
    "district_winner_ahead": {"passed"},
    "infobox_matches_totals_row": {"passed"},
    "pct_party_list_share": {"passed"},
    "polls_fieldwork_dates": {"passed"},
    "polls_sum_to_100": {"acknowledged", "corrected"},
    "reports_agree": {"acknowledged", "corrected"},
    "reports_agree_with_each_other": {"acknowledged"},
    "row_ballots_sum": {"passed"},
    "seat_allocation_matches": {"passed"},
    "stated_figures_add_up": {"passed"},
    "seat_change_and_swing": {"passed"},
    "seats_add_up": {"passed"},
    "totals_ballots": {"passed"},
    "totals_party_list_votes": {"passed", "corrected"},
    "turnout_last_report_final": {"acknowledged"},
    "turnout_national_base": {"passed"},
    "turnout_never_decreases": {"passed"},
    "turnout_recomputed": {"acknowledged"},
}
TURNOUT = "turnout_by_hour.turnout_pct[region_id={}, reported_at=2023-03-19T{}:00:00]"
REAL_FINDINGS = {  # (check, record_key) of every finding on the real snapshot
    ("district_ballots_plausible", "region_id=KZ-43"),
    ("district_ballots_plausible", "region_id=KZ-79"),
    ("district_counts", "region_id=KZ-11"),
    ("district_implied_totals", "district_number=12"),
    ("candidates_match_prose", "figure_id=district_candidates_registered"),
    ("candidates_match_prose", "figure_id=district_candidates_registered_by_parties"),
    ("candidates_match_prose", "figure_id=district_candidates_rejected"),
    ("polls_sum_to_100", "poll_id=public_opinion_research_institute_2023_03_10"),
    ("polls_sum_to_100", "poll_id=strategy_2023_02_27"),
    ("turnout_last_report_final", "country_code=KZ"),
    ("turnout_recomputed", "region_id=KZ-71"),
    ("polls_sum_to_100", "debate_id=ktk"),
    # Independent reports in error (each acknowledged with the reports that agree with the article):
    *(
        ("reports_agree", f"report_id={report}, quantity_id={quantity}")
        for report, quantity in [
            (
                "astana_times_2023_03_19_turnout_2200",
                "turnout_by_hour.turnout_pct[region_id=KZ-31, reported_at=2023-03-19T22:00:00]",
            ),
            (
                "astana_times_2023_03_19_turnout_2200",
                "turnout_by_hour.turnout_pct[region_id=KZ-71, reported_at=2023-03-19T22:00:00]",
            ),
            ("astana_times_2023_03_19_voting_begins", "stated_figures.stated_count[figure_id=polling_stations_total]"),
            (
                "informburo_2023_03_19_turnout_1800",
                "turnout_by_hour.turnout_pct[region_id=KZ-61, reported_at=2023-03-19T18:00:00]",
            ),
            (
                "informburo_2023_03_19_turnout_1800",
                "turnout_by_hour.turnout_pct[region_id=KZ-62, reported_at=2023-03-19T18:00:00]",
            ),
            (
                "kazinform_2023_01_30_public_opinion_poll_en",
                "opinion_polls.margin_of_error_pp"
                "[poll_id=public_opinion_research_institute_2023_01_28, option_id=amanat]",
            ),
            ("kazinform_2023_03_27_final_results", "national_party_list_results.votes[option_id=amanat]"),
            ("liter_kz_2023_03_19_voting_starts", "stated_figures.stated_count[figure_id=polling_stations_abroad]"),
            ("news_az_2023_03_27_final_results", "national_party_list_results.vote_share_pct[option_id=respublica]"),
            ("kazaknews_2023_03_19_voting_starts", "stated_figures.stated_count[figure_id=absentee_ballots_issued]"),
            (
                "liter_kz_2023_03_19_voting_starts",
                "stated_figures.stated_count[figure_id=polling_station_countries_abroad]",
            ),
            (
                "egemen_qazaqstan_2023_01_voter_roll",
                "voter_roll_reports.registered_voters_count[as_of_date=2023-01-01]",
            ),
            ("anyqtimes_kz_2023_03_19_shymkent_voters", "region_ballots.registered_voters_count[region_id=KZ-79]"),
            ("kazinform_2023_03_19_turnout_2000", "national_ballots.registered_voters_count[country_code=KZ]"),
            ("the_diplomatic_insight_2023_03_20_city_turnout", "region_ballots.turnout_pct[region_id=KZ-71]"),
        ]
    ),
    # Reports that disagree with most of the others of the same quantity (each acknowledged):
    *(
        ("reports_agree_with_each_other", f"report_id={report}, quantity_id={quantity}")
        for report, quantity in [
            ("astana_times_2023_03_19_turnout_2200", TURNOUT.format("KZ-31", "22")),
            ("astana_times_2023_03_19_voting_begins", "stated_figures.stated_count[figure_id=polling_stations_total]"),
            ("informburo_2023_03_19_turnout_1800", TURNOUT.format("KZ-61", "18")),
            ("informburo_2023_03_19_turnout_1800", TURNOUT.format("KZ-62", "18")),
            ("kazinform_2023_03_27_final_results", "national_party_list_results.votes[option_id=amanat]"),
            (
                "liter_kz_2023_03_19_voting_starts",
                "stated_figures.stated_count[figure_id=polling_station_countries_abroad]",
            ),
            ("liter_kz_2023_03_19_voting_starts", "stated_figures.stated_count[figure_id=polling_stations_abroad]"),
            ("news_az_2023_03_27_final_results", "national_party_list_results.vote_share_pct[option_id=respublica]"),
            (
                "qazmonitor_2023_03_24_exit_poll_eurasian_integration",
                "exit_polls.share_pct[poll_id=institute_of_eurasian_integration_exit_2023_03_19, option_id=baytaq]",
            ),
        ]
    ),
}


@pytest.fixture(scope="module")
def database(tables):
    connection = build_database(validate(tables), ":memory:", metadata.load())
    yield connection
    connection.close()


@pytest.fixture()
def con(database):
    """The release's database, each test's tampering rolled back afterwards."""
    database.execute("BEGIN TRANSACTION")
    yield database
    database.execute("ROLLBACK")


def findings_of(con, check_id):
    (check,) = [c for c in load_checks() if c.id == check_id]
    return [f.row for f in run_checks(con, [check])]


def new_findings(con, check_id):
    return [r for r in findings_of(con, check_id) if (check_id, r["record_key"]) not in REAL_FINDINGS]


def test_every_check_is_covered_here():
    assert sorted(c.id for c in load_checks()) == sorted(EXPECTED_STATUS)
    assert {c.id for c in load_checks()} == {case[0] for case in TAMPERING}


def test_real_snapshot_findings(con):
    found = {(f.check.id, f.row["record_key"]) for f in run_checks(con)}
    assert found == REAL_FINDINGS


def test_real_snapshot_statuses(con, tables):
    checks = load_checks()
    from pipeline.extract.errata import errata_resolves

    quality = assess(checks, run_checks(con, checks), tables["errata"], errata_resolves(), load_acknowledgements())
    statuses = {}
    for row in quality:
        statuses.setdefault(row["check_id"], set()).add(row["status"])
    assert statuses == EXPECTED_STATUS


# (check, SQL that breaks the relation, expected record_key of the new finding, text in its message)
def reported(report_id: str, table: str, key: str, column: str, text: str, value: float, decimals: int) -> str:
    """SQL adding one figure of a made-up report by a publisher of the registry."""
    return (
        f"INSERT INTO independent_reports VALUES ('{report_id}', 'kazinform', 'https://www.inform.kz/x', "
        f"DATE '2023-03-27', FALSE, 'ru', '{table}.{column}[{key}]', '{table}', '{key}', '{column}', '{text}', "
        f"{value}, {decimals}, 1, 'percent', NULL, 'x {text} x', NULL)"
    )


FIGURE_KEY = "report_id={}, quantity_id={}.{}[{}]"


def unpublished(report_id: str, quantity: str, text: str, value: float) -> str:
    """SQL adding one figure of a quantity the package does not publish, from a made-up report."""
    return (
        f"INSERT INTO independent_reports VALUES ('{report_id}', 'kazinform', 'https://www.inform.kz/x', "
        f"DATE '2023-03-27', FALSE, 'ru', '{quantity}', NULL, NULL, NULL, '{text}', {value}, 0, 1, NULL, NULL, "
        f"'x {text} x', NULL)"
    )


TAMPERING = [
    (
        "reports_agree_with_each_other",
        ";".join(
            [
                unpublished("test_a", "test_count", "10", 10),
                unpublished("test_b", "test_count", "10", 10),
                unpublished("test_c", "test_count", "11", 11),
            ]
        ),
        "report_id=test_c, quantity_id=test_count",
        "the report disagrees with 2 of the 2 other reports of test_count",
    ),
    (
        "claims_name_official_winners",
        "UPDATE district_result_claims SET official_winner_name = 'Someone Else' WHERE claim_id = 'ahmediarov_quspan'",
        "claim_id=ahmediarov_quspan",
        "the claim names another official winner than district_results",
    ),
    (
        "claims_name_official_winners",
        "UPDATE district_result_claims SET challenger_name = 'Nobody' WHERE claim_id = 'altaev_qyryqbaev'",
        "claim_id=altaev_qyryqbaev",
        "the challenger is not the official runner-up",
    ),
    (
        "claims_name_official_winners",
        "UPDATE district_result_claims SET official_winner_name = 'Nobody' WHERE claim_id = 'altaev_qyryqbaev'",
        "claim_id=altaev_qyryqbaev",
        "no district of district_results matches the claim",
    ),
    (
        "names_complete",
        "DELETE FROM region_names WHERE region_id = 'KZ-62' AND script_code = 'Latn'",
        "region_id=KZ-62",
        "no kk/Latn/official name",
    ),
    (
        "names_complete",
        "DELETE FROM party_names WHERE party_id = 'baytaq' AND name_form = 'short'",
        "party_id=baytaq",
        "no short name",
    ),
    (
        "candidates_match_prose",
        "UPDATE party_candidates SET list_candidates_count = 91 WHERE nominator_id = 'amanat'",
        "figure_id=list_candidates_registered",
        "against the registered list candidates the prose states: 282 against 281",
    ),
    (
        "candidates_match_prose",
        "DELETE FROM party_candidates WHERE nominator_id = 'independent'",
        "figure_id=district_candidates_registered_independent",
        "the independents' district candidates in the table against the registered independents the prose "
        "states: missing against 359",
    ),
    (
        "candidates_match_prose",
        "DELETE FROM stated_figures WHERE figure_id = 'list_candidates_registered'",
        "figure_id=list_candidates_registered",
        "against the registered list candidates the prose states: 281 against missing",
    ),
    (
        "reports_agree",
        reported("test_turnout", "national_ballots", "country_code=KZ", "turnout_pct", "54,3", 54.3, 1),
        FIGURE_KEY.format("test_turnout", "national_ballots", "turnout_pct", "country_code=KZ"),
        "kazinform reports 54,3 for national_ballots.turnout_pct[country_code=KZ]; the package publishes 54.21",
    ),
    (
        "reports_agree",
        reported("test_missing", "national_party_list_results", "option_id=nobody", "votes", "12", 12, 0),
        FIGURE_KEY.format("test_missing", "national_party_list_results", "votes", "option_id=nobody"),
        "the package publishes no value for national_party_list_results.votes[option_id=nobody]",
    ),
    (
        "reports_agree",
        reported("test_column", "national_results", "party_id=amanat", "seats_2021_count", "76", 76, 0),
        FIGURE_KEY.format("test_column", "national_results", "seats_2021_count", "party_id=amanat"),
        "no published column national_results.seats_2021_count to compare with",
    ),
    (
        "stated_figures_add_up",
        "UPDATE stated_figures SET stated_count = 78 WHERE figure_id = 'polling_stations_abroad'",
        "figure_id=polling_stations_total",
        "the parts sum to 10224, the stated total is 10223",
    ),
    (
        "stated_figures_add_up",
        "DELETE FROM stated_figures WHERE figure_id = 'district_candidates_registered_by_parties'",
        "figure_id=district_candidates_registered",
        "only 1 of its 2 parts are present",
    ),
    (
        "stated_figures_add_up",
        "DELETE FROM stated_figures WHERE figure_id = 'district_candidates_nominated'",
        "figure_id=district_candidates_nominated",
        "the total is missing",
    ),
    (
        "totals_party_list_votes",
        "UPDATE party_list_results SET votes = votes + 7 WHERE region_id = 'KZ-10' AND option_id = 'auyl'",
        "option_id=auyl",
        "the regions sum to 693945, the national total is 693938",
    ),
    (
        "totals_party_list_votes",
        "UPDATE party_list_results SET votes = votes + 158103 WHERE region_id = 'KZ-11' AND option_id = 'amanat';"
        "DELETE FROM party_list_results WHERE region_id = 'KZ-10' AND option_id = 'amanat'",
        "option_id=amanat",
        "only 19 of 20 regions present",
    ),
    (
        "totals_party_list_votes",
        "DELETE FROM national_party_list_results WHERE option_id = 'jsdp'",
        "option_id=jsdp",
        "no national total for this option",
    ),
    (
        "totals_ballots",
        "UPDATE region_ballots SET invalid_ballots_count = 0 WHERE region_id = 'KZ-75'",
        "country_code=KZ",
        "the regions sum to 146282, the national total is 158046",
    ),
    (
        "totals_ballots",
        "DELETE FROM region_ballots WHERE region_id = 'KZ-79'",
        "country_code=KZ",
        "only 19 of 20 regions present",
    ),
    ("totals_ballots", "DELETE FROM national_ballots", "country_code=KZ", "no national total for this column"),
    (
        "row_ballots_sum",
        "UPDATE region_ballots SET ballots_cast_count = ballots_cast_count + 1 WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "differ from ballots cast by -1",
    ),
    (
        "row_ballots_sum",
        "DELETE FROM party_list_results WHERE region_id = 'KZ-10' AND option_id = 'baytaq'",
        "region_id=KZ-10",
        "only 7 of 8 options present",
    ),
    (
        "pct_party_list_share",
        "UPDATE party_list_results SET vote_share_pct = 67.82 WHERE region_id = 'KZ-10' AND option_id = 'amanat'",
        "region_id=KZ-10, option_id=amanat",
        "differs from the recomputed one",
    ),
    (
        "pct_party_list_share",
        "UPDATE national_party_list_results SET vote_share_pct = 3.91 WHERE option_id = 'against_all'",
        "option_id=against_all",
        "differs from the recomputed one",
    ),
    (
        "turnout_recomputed",
        "UPDATE region_ballots SET turnout_pct = 57.03 WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "published turnout differs",
    ),
    (
        "turnout_last_report_final",
        "UPDATE turnout_by_hour SET turnout_pct = 57.0 WHERE region_id = 'KZ-10' AND hour(reported_at) = 22",
        "region_id=KZ-10",
        "the last report differs from the final turnout",
    ),
    (
        "turnout_last_report_final",
        "DELETE FROM turnout_by_hour WHERE region_id = 'KZ-10' AND hour(reported_at) = 22",
        "region_id=KZ-10",
        "no report at the last reporting time",
    ),
    (
        "turnout_never_decreases",
        "UPDATE turnout_by_hour SET turnout_pct = 60.0 WHERE region_id = 'KZ-10' AND hour(reported_at) = 14",
        "region_id=KZ-10, reported_at=16:00",
        "lower than at 14:00",
    ),
    (
        "turnout_never_decreases",
        "UPDATE national_turnout_by_hour SET voters_count = 7000000 WHERE hour(reported_at) = 20",
        "country_code=KZ, reported_at=22:00",
        "lower than at 20:00",
    ),
    (
        "turnout_never_decreases",
        "DELETE FROM turnout_by_hour WHERE region_id = 'KZ-10' AND hour(reported_at) = 12",
        "region_id=KZ-10",
        "reports missing for this unit",
    ),
    (
        "turnout_national_base",
        "UPDATE national_turnout_by_hour SET turnout_pct = 14.25 WHERE hour(reported_at) = 10",
        "reported_at=10:00",
        "no stated registered-voter total reproduces",
    ),
    (
        "district_winner_ahead",
        "UPDATE district_results SET votes = 80000 WHERE district_number = 1 AND candidate_rank = 2",
        "district_number=1",
        "not ahead of the runner-up",
    ),
    (
        "district_winner_ahead",
        "DELETE FROM district_results WHERE district_number = 1 AND candidate_rank = 2",
        "district_number=1",
        "lacks its winner or runner-up",
    ),
    (
        "district_implied_totals",
        "UPDATE district_results SET vote_share_pct = 12.20 WHERE district_number = 1 AND candidate_rank = 2",
        "district_number=1",
        "imply different district totals",
    ),
    (
        "district_counts",
        "UPDATE region_district_counts SET district_seats_elected_count = 3 WHERE region_id = 'KZ-71'",
        "region_id=KZ-71",
        "the article states 3 districts; the results list 2",
    ),
    (
        "district_counts",
        "DELETE FROM region_district_counts WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "has no row in region_district_counts",
    ),
    (
        "district_counts",
        "UPDATE electoral_rules SET district_seats_total_count = 30",
        "*",
        "the number of districts differs from the law's",
    ),
    (
        "district_ballots_plausible",
        "UPDATE region_ballots SET ballots_cast_count = 400000 WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "% of the party-list ballots cast",
    ),
    (
        "district_ballots_plausible",
        "DELETE FROM region_ballots WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "no party-list ballots for this region",
    ),
    (
        "seats_add_up",
        "UPDATE chamber_seats SET published_seats_count = 61 WHERE seat_holder_id = 'amanat'",
        "seat_holder_id=amanat",
        "differ from the published total",
    ),
    (
        "seats_add_up",
        "DELETE FROM chamber_seats WHERE seat_holder_id = 'independent'",
        "*",
        "the seats add up to 91, the law has 98",
    ),
    (
        "seats_add_up",
        "DELETE FROM chamber_seats WHERE seat_holder_id = 'baytaq'",
        "seat_holder_id=baytaq",
        "the party has no row in the chamber",
    ),
    (
        "seats_add_up",
        "UPDATE chamber_seats SET list_seats_count = 7, seats_count = 7 WHERE seat_holder_id = 'auyl'",
        "*",
        "the seats add up to 68, the law has 69",
    ),
    (
        "infobox_matches_totals_row",
        "UPDATE national_results SET votes = votes + 1 WHERE party_id = 'auyl'",
        "party_id=auyl",
        "the infobox differs from the totals row",
    ),
    (  # the article's 2021 share of Ak Zhol against the reports' (10.95)
        "article_2021_columns",
        "UPDATE national_results SET vote_share_2021_pct = 10.59 WHERE party_id = 'aq_jol'",
        "party_id=aq_jol",
        "the article's 2021 share differs from the reports'",
    ),
    (  # the article's 2021 seats of the People's Party against the reports' (10)
        "article_2021_columns",
        "UPDATE national_results SET seats_2021_count = 11 WHERE party_id = 'qhp'",
        "party_id=qhp",
        "the article's 2021 seats differ from the reports'",
    ),
    (  # coverage: the article's 2021 share of a party that contested 2021, lost
        "article_2021_columns",
        "UPDATE national_results SET vote_share_2021_pct = NULL WHERE party_id = 'qhp'",
        "party_id=qhp",
        "the article gives no 2021 share for a party that contested 2021",
    ),
    (  # coverage: a 2021 row lost from the package's own figures
        "article_2021_columns",
        "DELETE FROM election_results WHERE election_id = 'kz-majilis-2021-01-10' AND option_id = 'auyl' "
        "AND protocol_version = 'final'",
        "party_id=auyl",
        "no 2021 national result for the party in election_results",
    ),
    (
        "seat_change_and_swing",
        "UPDATE national_results SET swing_published_abs_pp = 17.20 WHERE party_id = 'amanat'",
        "party_id=amanat",
        "differs from the recomputed one",
    ),
    (
        "seat_change_and_swing",
        "UPDATE national_results SET seat_change_published_abs = 3 WHERE party_id = 'respublica'",
        "party_id=respublica",
        "differs from the recomputed one",
    ),
    (
        "seat_allocation_matches",
        "UPDATE seat_allocation SET published_seats_count = 39 WHERE party_id = 'amanat'",
        "party_id=amanat",
        "differ from the recomputed allocation",
    ),
    (
        "seat_allocation_matches",
        "UPDATE seat_allocation SET allocated_seats_count = 3 WHERE party_id = 'jsdp'",
        "*",
        "not all list seats are allocated",
    ),
    (
        "polls_sum_to_100",
        "UPDATE opinion_polls SET share_pct = share_pct + 1 "
        "WHERE poll_id = 'democratic_institute_2023_02_18' AND option_id = 'amanat'",
        "poll_id=democratic_institute_2023_02_18",
        "the shares add up to 101.0%",
    ),
    (
        "polls_sum_to_100",
        "DELETE FROM exit_polls WHERE poll_id = 'sotsis_a_exit_2023_03_19' AND option_id = 'baytaq'",
        "poll_id=sotsis_a_exit_2023_03_19",
        "only 7 of 8 options present",
    ),
    (
        "polls_fieldwork_dates",
        "UPDATE opinion_polls SET fieldwork_end_date = DATE '2023-03-15' WHERE poll_id = 'strategy_2023_02_27'",
        "poll_id=strategy_2023_02_27",
        "on or after the publication ban",
    ),
    (
        "polls_fieldwork_dates",
        "UPDATE opinion_polls SET fieldwork_start_date = DATE '2023-03-01' WHERE poll_id = 'strategy_2023_02_27'",
        "poll_id=strategy_2023_02_27",
        "ends before it starts",
    ),
    # A poll moved a year back (fieldwork in February 2022) is not a poll of this election.
    (
        "polls_fieldwork_dates",
        "UPDATE opinion_polls SET fieldwork_start_date = DATE '2022-02-17', "
        "fieldwork_end_date = DATE '2022-02-27' WHERE poll_id = 'strategy_2023_02_27'",
        "poll_id=strategy_2023_02_27",
        "starts before the election was called",
    ),
    (
        "candidates_add_up",
        "UPDATE party_candidates SET candidates_count = 68 WHERE nominator_id = 'qhp'",
        "nominator_id=qhp",
        "differ from the total",
    ),
    (
        "candidates_add_up",
        "UPDATE party_candidates SET list_candidates_count = NULL WHERE nominator_id = 'qhp'",
        "nominator_id=qhp",
        "differ from the total",
    ),
    (
        "seat_change_and_swing",
        "UPDATE national_results SET status_2021 = NULL WHERE party_id = 'auyl'",
        "party_id=auyl",
        "its 2021 result is missing",
    ),
    (
        "infobox_matches_totals_row",
        "UPDATE national_results SET vote_share_pct = NULL WHERE party_id = 'auyl'",
        "party_id=auyl",
        "the infobox differs from the totals row",
    ),
    (
        "district_implied_totals",
        "DELETE FROM district_results WHERE district_number = 3 AND candidate_rank = 2",
        "district_number=3",
        "lacks its winner or runner-up",
    ),
    (
        "parties_match_infobox",
        "DELETE FROM national_results WHERE party_id = 'baytaq'",
        "party_id=baytaq",
        "has no national result",
    ),
    (
        "turnout_recomputed",
        "DELETE FROM region_ballots WHERE region_id = 'KZ-10'",
        "region_id=KZ-10",
        "has no ballots row",
    ),
    (
        "infobox_national_figures",
        "UPDATE national_infobox_figures SET turnout_pct = 54.12",
        "country_code=KZ",
        "the infobox differs from the results table",
    ),
    (
        "infobox_national_figures",
        "DELETE FROM national_infobox_figures",
        "country_code=KZ",
        "a row to compare is missing",
    ),
    (
        "parties_match_infobox",
        "UPDATE parties SET vote_share_2021_pct = 71.2 WHERE party_id = 'amanat'",
        "party_id=amanat",
        "different 2021 shares",
    ),
    (
        "parties_match_infobox",
        "UPDATE parties SET leader_name = 'Erlan Koshanov' WHERE party_id = 'amanat'",
        "party_id=amanat",
        "different leaders",
    ),
    (
        "parties_match_infobox",
        "UPDATE parties SET status_2021 = 'new' WHERE party_id = 'auyl'",
        "party_id=auyl",
        "disagree on the 2021 election",
    ),
    (
        "debates_in_campaign",
        "UPDATE debates SET starts_at = TIMESTAMP '2023-03-19 20:00:00' WHERE debate_id = 'ktk'",
        "debate_id=ktk",
        "outside the campaign period",
    ),
    (
        "debates_in_campaign",
        "DELETE FROM debate_participants WHERE debate_id = 'ktk' AND party_id = 'baytaq'",
        "debate_id=ktk",
        "the debate lacks parties",
    ),
    (
        "debates_in_campaign",
        "DELETE FROM election_timetable WHERE event_name = 'Election campaigning'",
        "debate_id=ktk",
        "the timetable has no campaign period",
    ),
]


@pytest.mark.parametrize(
    "check_id, sql, record_key, message", TAMPERING, ids=[f"{c[0]}-{i}" for i, c in enumerate(TAMPERING)]
)
def test_check_fires_on_tampered_data(con, check_id, sql, record_key, message):
    assert new_findings(con, check_id) == []
    for statement in sql.split(";"):
        con.execute(statement)
    found = new_findings(con, check_id)
    assert any(r["record_key"] == record_key and message in r["message"] for r in found), found


def test_an_unexplained_finding_fails_and_a_stale_acknowledgement_too():
    (check,) = [c for c in load_checks() if c.id == "turnout_recomputed"]
    finding = Finding(
        check,
        {
            "table_name": "region_ballots",
            "record_key": "region_id=KZ-71",
            "column_name": "turnout_pct",
            "expected": "43.238",
            "actual": "42.91",
            "message": "m",
        },
    )
    with pytest.raises(PipelineError, match="1 cross-check failure"):
        assess([check], [finding], [], {}, [])
    ack = Acknowledgement(
        "A1", "turnout_recomputed", "region_ballots", "region_id=KZ-71", "turnout_pct", "why", "43.238", "42.91"
    )
    rows = assess([check], [finding], [], {}, [ack])
    assert [(r["status"], r["explanation"]) for r in rows] == [("acknowledged", "A1: why")]
    # An acknowledgement explains the values it names: the same finding with another value fails again.
    moved = Finding(check, {**finding.row, "actual": "42.90"})
    with pytest.raises(PipelineError, match="1 cross-check failure"):
        assess([check], [moved], [], {}, [ack])
    with pytest.raises(PipelineError, match="acknowledgements A1 match no finding"):
        assess([check], [], [], {}, [ack])


def test_every_acknowledgement_and_erratum_has_its_reason():
    from pipeline.extract.errata import load_errata

    acknowledgements, errata = load_acknowledgements(), list(load_errata().values())
    assert acknowledgements and errata
    assert [a.id for a in acknowledgements if len(a.reason) <= 80] == []
    assert [e.id for e in errata if len(e.evidence) <= 80 or e.value_before == e.value_after] == []


def test_a_failing_check_stops_publishing_and_keeps_the_release(tmp_path, fresh_build, source_text):
    # One digit changed in Abai's Amanat votes: every cell still parses, only the cross-checks can see it.
    tampered = replace_once(source_text, "| Abai Region | 416,191 | 158,103 |", "| Abai Region | 416,191 | 158,113 |")
    root = root_with_release(tmp_path / "bad", tampered, fresh_build)
    before = tree_digest(root)
    result = run_cli("publish", root=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        "totals_party_list_votes: table party_list_results, row option_id=amanat, column votes: "
        "expected 3431510, actual 3431520"
    ) in result.stderr
    assert "row_ballots_sum: table region_ballots, row region_id=KZ-10" in result.stderr
    assert tree_digest(root) == before


def test_make_check_reports_on_the_published_database(fresh_build):
    result = run_cli("check", root=fresh_build)
    assert result.returncode == 0, result.stderr
    summary = (
        "29 checks: 18 found nothing, 11 found 45 findings (9 corrected by errata, 36 acknowledged), none unexplained"
    )
    assert f"Cross-checks on the published database: {summary}." in result.stdout


def test_a_check_file_without_its_header_is_refused(tmp_path):
    (tmp_path / "no_header.sql").write_text("SELECT 1")
    with pytest.raises(PipelineError, match="lacks header lines"):
        load_checks(tmp_path)


def test_reported_figures_agree_within_the_rounding_of_both(con):
    """54.21 published to two decimals: a report of 54.2 (one decimal) agrees, 54.26 (two) does not."""
    con.execute(reported("test_rounded", "national_ballots", "country_code=KZ", "turnout_pct", "54,2", 54.2, 1))
    con.execute(reported("test_close", "national_ballots", "country_code=KZ", "turnout_pct", "54,26", 54.26, 2))
    found = {r["record_key"].split(",")[0] for r in new_findings(con, "reports_agree")}
    assert found == {"report_id=test_close"}


def test_a_checks_findings_are_known_by_the_tables_it_reads(con):
    """A check's findings are taken from the build before only while the tables it reads are unchanged. The
    tables its key holds (DuckDB's parse tree: the tables it names, and those of the views it names) include
    every table DuckDB's plan scans for it; one table changed changes the key of exactly the checks that
    read it; a query that may read or return more than the tables' rows (a file however it is
    named, a table function, a sample, the clock, chance, a sequence, a variable other than its tolerance,
    more than one statement) is run on every build, whatever its comments and strings say."""
    from dataclasses import replace

    from pipeline.checks.run import Contents, _cache_names, reads
    from pipeline.common import cache

    package = metadata.load()
    prints = {r.name: f"rows of {r.name}" for r in package.resources}
    views = {view.name: view.sql for view in package.views}
    contents = Contents("schema", prints, views, cache.Memo())
    checks = load_checks()
    read = {check.id: reads(check.sql, contents) for check in checks}
    for check in checks:  # the plan may skip a table whose count(*) its statistics give: never one more
        assert scanned_tables(con, check.sql) <= read[check.id], check.id

    changed = Contents("schema", prints | {"party_list_results": "other rows"}, views, cache.Memo())
    before, after = _cache_names(checks, contents), _cache_names(checks, changed)
    keyed = {check.id for check in checks if before[check.id] != after[check.id]}
    assert keyed == {check.id for check in checks if "party_list_results" in read[check.id]}
    assert "pct_party_list_share" in keyed and "seat_allocation_matches" not in keyed

    pure = "SELECT a, 'b' FROM parties WHERE x <> '--' AND y = getvariable('tolerance') -- now() FROM 'x.csv'"
    assert reads(pure, contents) == {"parties"}
    for impure in (
        "SELECT * FROM 'x.csv'",
        'SELECT * FROM "x.csv"',
        "SELECT * FROM x.csv",
        "SELECT 1 FROM parties WHERE a IN (SELECT a FROM x.csv)",
        "SELECT 1 FROM parties AS p JOIN regions AS r ON p.a = r.a, 'x.csv'",
        "SELECT 1 FROM parties JOIN regions USING (a), 'x.csv'",
        'WITH regions AS (SELECT * FROM "x.csv") SELECT * FROM regions',
        "TABLE 'x.csv'",
        "SELECT * FROM (SUMMARIZE 'x.csv')",
        "SELECT * FROM read_csv('x.csv')",
        "SELECT * FROM duckdb_tables()",
        "SELECT * FROM other.main.parties",
        "SELECT * FROM parties AT (VERSION => 1)",
        "SELECT 1 FROM parties USING SAMPLE 10",
        "SELECT * FROM parties TABLESAMPLE 10%",
        "SELECT 1 FROM parties WHERE x <> '--' AND now() > 1",
        "SELECT today()",
        "SELECT txid_current()",
        "SELECT nextval('s')",
        "SELECT getvariable('other')",
        "SELECT getvariable(lower('TOLERANCE'))",
        "SELECT 1; SELECT 2",
        "ATTACH 'x.db' AS o; SELECT * FROM o.parties",
    ):
        assert _cache_names([replace(checks[0], sql=impure)], contents)[checks[0].id] is None, impure
