"""Every cross-check passes on the real data and fires on tampered data, coverage guards included."""

import pytest

from pipeline import metadata
from pipeline.crosscheck import load_checks, run_checks
from pipeline.errors import PipelineError
from pipeline.publish import build_database
from tests.conftest import replace_once, root_with_release, run_cli, tree_digest

CHECK_IDS = ["totals_ballots", "totals_party_list_votes"]


@pytest.fixture()
def con(frames, tmp_path):
    connection = build_database(frames, tmp_path / "test.duckdb", metadata.load())
    yield connection
    connection.close()


def findings_of(con, check_id):
    (check,) = [c for c in load_checks() if c.id == check_id]
    return [f.row for f in run_checks(con, [check])]


def test_the_checks_are_the_ones_tested_here():
    assert [c.id for c in load_checks()] == CHECK_IDS
    assert all(c.tolerance == 0 and c.severity == "error" for c in load_checks())


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_on_the_real_snapshot(con, check_id):
    assert findings_of(con, check_id) == []


def test_party_list_totals_fire_on_a_changed_regional_value(con):
    con.execute("UPDATE party_list_results SET votes = votes + 7 WHERE region_id = 'KZ-10' AND option_id = 'auyl'")
    (row,) = findings_of(con, "totals_party_list_votes")
    assert row["record_key"] == "option_id=auyl" and row["column_name"] == "votes"
    assert (row["expected"], row["actual"]) == ("693938", "693945")


def test_party_list_totals_coverage_guard_fires_on_a_missing_region(con):
    # Moving votes between rows keeps the sum, so only the coverage guard can notice the lost row.
    con.execute("UPDATE party_list_results SET votes = votes + 158103 WHERE region_id = 'KZ-11' AND option_id = 'amanat'")
    con.execute("DELETE FROM party_list_results WHERE region_id = 'KZ-10' AND option_id = 'amanat'")
    (row,) = findings_of(con, "totals_party_list_votes")
    assert row["message"] == "only 19 of 20 regions present"


def test_party_list_totals_fire_on_a_missing_national_row(con):
    con.execute("DELETE FROM national_party_list_results WHERE option_id = 'jsdp'")
    (row,) = findings_of(con, "totals_party_list_votes")
    assert row["message"] == "no national total for this option"


def test_ballot_totals_fire_on_a_changed_regional_value(con):
    con.execute("UPDATE region_ballots SET invalid_ballots_count = 0 WHERE region_id = 'KZ-75'")
    (row,) = findings_of(con, "totals_ballots")
    assert (row["column_name"], row["expected"], row["actual"]) == ("invalid_ballots_count", "158046", "146282")


def test_ballot_totals_coverage_guard_fires_on_a_missing_region(con):
    con.execute("DELETE FROM region_ballots WHERE region_id = 'KZ-79'")
    rows = findings_of(con, "totals_ballots")
    assert len(rows) == 3 and {r["message"] for r in rows} == {"only 19 of 20 regions present"}


def test_ballot_totals_fire_when_the_national_row_is_missing(con):
    con.execute("DELETE FROM national_ballots")
    assert {r["message"] for r in findings_of(con, "totals_ballots")} == {"no national total for this column"}


def test_a_failing_check_stops_publishing_and_keeps_the_release(tmp_path, fresh_build, source_text):
    # One digit changed in Abai's Amanat votes: every cell still parses, only the totals check can see it.
    tampered = replace_once(source_text, "| Abai Region | 416,191 | 158,103 |", "| Abai Region | 416,191 | 158,113 |")
    root = root_with_release(tmp_path / "bad", tampered, fresh_build)
    before = tree_digest(root)
    result = run_cli("publish", root=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert ("totals_party_list_votes: table party_list_results, row option_id=amanat, column votes: "
            "expected 3431510, actual 3431520") in result.stderr
    assert tree_digest(root) == before


def test_make_check_reports_on_the_published_database(fresh_build):
    result = run_cli("check", root=fresh_build)
    assert result.returncode == 0, result.stderr
    assert "2 of 2 checks pass" in result.stdout


def test_a_check_file_without_its_header_is_refused(tmp_path):
    (tmp_path / "no_header.sql").write_text("SELECT 1")
    with pytest.raises(PipelineError, match="lacks header lines"):
        load_checks(tmp_path)
