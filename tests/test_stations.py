"""The station-level path (issue 15): schemas, validation inside DuckDB, the SQL cross-checks against the
published regional totals, the synthetic generator and the station-level forensic tests. Every rule and
every check is made to fire on a copy of a synthetic set."""

import json
import math
import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pytest

from pipeline import ROOT, metadata
from pipeline.checks.run import load_checks, run_checks
from pipeline.common.errors import PipelineError
from pipeline.stations import CHECKS, open_returns, read_release
from pipeline.stations.commands import check_returns
from pipeline.stations.forensics import chi2_sf_9
from pipeline.stations.forensics import run as forensic_tests
from pipeline.stations.synth import allocate, generate
from pipeline.stations.validate import validate
from tests.hostile import assert_clear_failure, run_main

RELEASE = ROOT / "processed"
STATIONS = 600


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A small synthetic set with planted anomalies, written by the command line."""
    out = tmp_path_factory.mktemp("synth") / "set"
    run = run_main("synth", "--stations", str(STATIONS), "--seed", "5", "--out", str(out), "--anomaly", "digits=0.05")
    assert run.code == 0, run.err
    assert "SYNTHETIC" in run.out and f"{STATIONS:,} stations" in run.out
    return out


@pytest.fixture
def copy(synthetic, tmp_path):
    target = tmp_path / "set"
    shutil.copytree(synthetic, target)
    return target


def rewrite(folder, table: str, select: str) -> None:
    """Replace a table's Parquet file by a query over it (`t`)."""
    path = folder / f"{table}.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    con.close()


def findings(folder) -> set[str]:
    con = open_returns(folder, RELEASE)
    validate(con)
    return {f.check.id for f in run_checks(con, load_checks(CHECKS))}


@pytest.fixture(scope="module")
def unchanged_findings(synthetic) -> set[str]:
    """What the cross-checks find in the synthetic set as written (each test's copy of it is byte for byte the
    same, and open_returns only reads it): computed once, not once per test."""
    return findings(synthetic)


def test_the_station_schemas_come_from_the_one_metadata_source():
    package = metadata.load_stations()
    assert [r.name for r in package.resources] == ["stations", "station_ballots", "station_votes", "planted_anomalies"]
    votes = package.resource("station_votes")
    assert votes.primary_key == ("station_id", "protocol_version", "option_id")
    assert votes.field("votes").constraints == {"minimum": 0}  # the field of fields.yaml, as in party_list_results
    assert metadata.load().resource("party_list_results").field("votes").type == votes.field("votes").type
    assert {fk["reference"]["resource"] for fk in votes.foreign_keys} == {"station_ballots", "regions", "vote_options"}


def test_the_synthetic_set_sums_exactly_to_the_published_totals(synthetic):
    con = duckdb.connect()
    votes = dict(
        con.execute(
            f"SELECT region_id || '/' || option_id, sum(votes) FROM read_parquet('{synthetic}/station_votes.parquet') "
            "WHERE protocol_version = 'final' GROUP BY ALL"
        ).fetchall()
    )
    assert votes["KZ-75/amanat"] == 150_312 and votes["KZ-71/amanat"] == 186_496  # Almaty, Astana: the article's
    assert len(votes) == 160
    ballots = con.execute(
        f"SELECT sum(b.registered_voters_count), sum(b.ballots_cast_count), sum(b.invalid_ballots_count) "
        f"FROM read_parquet('{synthetic}/station_ballots.parquet') b JOIN read_parquet('{synthetic}/stations.parquet') "
        "s USING (station_id) WHERE s.counted_in_region_id = 'KZ-71' AND b.protocol_version = 'final'"
    ).fetchone()
    assert ballots == (788_931, 341_118, 7_555)  # Astana's registered voters, ballots cast and invalid ballots
    abroad = con.execute(
        f"SELECT count(*), count(region_id) FROM read_parquet('{synthetic}/stations.parquet') WHERE is_abroad"
    ).fetchone()
    assert abroad[0] >= 1 and abroad[1] == 0
    sizes = con.execute(
        f"SELECT min(registered_voters_count), median(registered_voters_count), max(registered_voters_count) "
        f"FROM read_parquet('{synthetic}/station_ballots.parquet')"
    ).fetchone()
    assert sizes[0] < sizes[1] / 10 and sizes[2] > 3 * sizes[1]  # skewed, with small stations


def test_the_set_is_marked_synthetic_and_passes_the_whole_path(synthetic):
    descriptor = json.loads((synthetic / "datapackage.json").read_text())
    assert descriptor["synthetic"] is True and descriptor["title"].startswith("SYNTHETIC")
    assert descriptor["generator"] == {
        "command": "python -m pipeline synth",
        "stations": STATIONS,
        "seed": 5,
        "anomalies": {"digits": 0.05},
    }
    dictionary = (synthetic / "data_dictionary.md").read_text()
    assert (
        dictionary.count("SYNTHETIC") == 1
        and "## station_votes" in dictionary
        and "`ballots_issued_count`" in dictionary
    )
    con = duckdb.connect()
    marks = con.execute(
        f"SELECT DISTINCT decode(key), decode(value) FROM parquet_kv_metadata('{synthetic}/*.parquet') "
        "WHERE decode(key) = 'synthetic'"
    ).fetchall()
    assert marks == [("synthetic", "true")]
    run = run_main("stations", str(synthetic), "--json", str(synthetic.parent / "out.json"))
    assert run.code == 0, run.err
    assert "(SYNTHETIC data): valid" in run.out and "5 cross-checks passed" in run.out
    result = json.loads((synthetic.parent / "out.json").read_text())
    assert result["counts"]["station_votes"] == 8 * STATIONS and result["leader_option_id"] == "amanat"
    tests = {row["test_id"]: row for row in result["forensics"]}
    assert tests["final_vs_preliminary_leader"]["null_model"] == "no preliminary protocols"
    assert sum(cell["stations"] for cell in result["histogram"]) == STATIONS


def test_a_set_with_preliminary_protocols_passes_the_whole_path_and_its_protocols_are_compared(tmp_path):
    out = tmp_path / "set"
    argv = ("synth", "--stations", "3000", "--seed", "8", "--out", str(out), "--preliminary")
    assert run_main(*argv, "--anomaly", "final_favours_leader=0.05").code == 0
    assert json.loads((out / "datapackage.json").read_text())["generator"]["preliminary"] is True
    run = run_main("stations", str(out), "--json", str(tmp_path / "out.json"))
    assert run.code == 0, run.err
    assert "5 cross-checks passed" in run.out and "final_vs_preliminary_leader" in run.out
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["counts"]["station_votes"] == 2 * 8 * 3000  # final and preliminary protocols
    tests = {row["test_id"]: row for row in result["forensics"]}
    assert tests["final_vs_preliminary_leader"]["p_value"] < 1e-6
    assert (
        tests["final_vs_preliminary_leader"]["role"] == "calibrated"
        and tests["final_vs_preliminary_leader"]["adjusted_p_value"] >= tests["final_vs_preliminary_leader"]["p_value"]
    )
    assert tests["turnout_leader_correlation"]["role"] == "descriptive"
    assert tests["turnout_leader_correlation"]["adjusted_p_value"] is None  # outside Holm's family
    assert tests["two_decimal_pct_leader_commission"]["stations_tested"] > 0  # commissions from the stations table


def test_the_same_seed_gives_the_same_bytes_and_processed_is_refused(tmp_path):
    outputs = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert run_main("synth", "--stations", "200", "--seed", seed, "--out", str(tmp_path / name)).code == 0
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())})
    assert outputs[0] == outputs[1] and outputs[0]["station_votes.parquet"] != outputs[2]["station_votes.parquet"]
    assert run_main("synth", "--stations", "200", "--seed", "3", "--out", str(tmp_path / "a")).code == 0  # replaced
    before = sorted(p.name for p in RELEASE.iterdir())
    assert_clear_failure(
        run_main("synth", "--stations", "200", "--out", str(RELEASE / "synthetic")), "never goes there"
    )
    elsewhere = ("--root", str(tmp_path / "root"), "synth", "--stations", "200", "--release", str(RELEASE))
    for inside in (RELEASE / "synthetic", ROOT / "site" / "x", tmp_path / "root" / "processed" / "x"):
        assert_clear_failure(run_main(*elsewhere, "--out", str(inside)), "never goes there")
    assert sorted(p.name for p in RELEASE.iterdir()) == before and not (ROOT / "site" / "x").exists()
    assert_clear_failure(
        run_main("synth", "--stations", "30", "--out", str(tmp_path / "d"), "--anomaly", "stuffing=0.2"),
        "choose a smaller fraction",
    )
    odd = tmp_path / "odd[1]"
    shutil.copytree(tmp_path / "a", odd)
    assert_clear_failure(run_main("stations", str(odd)), "is refused")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert_clear_failure(run_main("synth", "--stations", "200", "--out", str(tmp_path / "mine")), "not empty")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize(
    "table, select, table_row_column",
    [
        ("station_votes", "SELECT * REPLACE (CAST(votes AS VARCHAR) AS votes) FROM t", ("station_votes", "votes")),
        (  # unsigned: a check subtracting two counts would overflow
            "station_ballots",
            "SELECT * REPLACE (CAST(registered_voters_count AS UINTEGER) AS registered_voters_count) FROM t",
            ("station_ballots", "registered_voters_count"),
        ),
        (
            "station_ballots",
            "SELECT * EXCLUDE (ballots_issued_count) FROM t",
            ("station_ballots", "ballots_issued_count"),
        ),
        (
            "stations",
            "SELECT * REPLACE (CASE WHEN station_number = 2 THEN NULL ELSE station_number END AS station_number) "
            "FROM t",
            ("stations", "station_number"),
        ),
        (
            "station_votes",
            "SELECT * REPLACE (CASE WHEN option_id = 'qhp' AND station_id = '75/1/1' THEN -1 ELSE votes END AS votes) "
            "FROM t",
            ("station_votes", "votes"),
        ),
        (
            "stations",
            "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN '75-1-1' ELSE station_id END AS station_id) FROM t",
            ("stations", "station_id"),
        ),
        (
            "station_ballots",
            "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN 'draft' ELSE protocol_version END "
            "AS protocol_version) FROM t",
            ("station_ballots", "protocol_version"),
        ),
        (
            "station_votes",
            "SELECT * FROM t UNION ALL SELECT * FROM t WHERE station_id = '75/1/1' AND option_id = 'auyl'",
            ("station_votes", "station_id, protocol_version, option_id"),
        ),
        (
            "station_votes",
            "SELECT * REPLACE (CASE WHEN option_id = 'qhp' AND station_id = '75/1/1' THEN 'qhp2' ELSE option_id END "
            "AS option_id) FROM t",
            ("station_votes", "option_id"),
        ),
        (
            "stations",
            "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN 'KZ-99' ELSE region_id END AS region_id) FROM t",
            ("stations", "region_id"),
        ),
        (
            "station_votes",
            "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version) FROM t "
            "WHERE station_id = '75/1/1'",
            ("station_votes", "station_id, protocol_version"),
        ),
    ],
    ids=[
        "type",
        "unsigned",
        "missing column",
        "null",
        "minimum",
        "pattern",
        "enum",
        "duplicate key",
        "unknown option",
        "unknown region",
        "votes of no protocol",
    ],
)
def test_every_kind_of_schema_rule_is_enforced_in_duckdb(copy, table, select, table_row_column):
    rewrite(copy, table, select)
    with pytest.raises(PipelineError) as caught:
        check_returns(copy, RELEASE, forensics=False)
    error = caught.value
    assert (error.stage, error.table, error.column) == ("validate", *table_row_column), error.describe()
    if error.message.startswith("the column"):
        assert error.row is None  # a whole column is wrong
    elif error.column == "station_number":
        assert error.row.startswith("station_id=") and error.row.endswith("/2")
    else:
        assert "75/1/1" in error.row or "75-1-1" in error.row, error.describe()


@pytest.mark.parametrize(
    "changes, fired",
    [
        (  # a vote moved from one option to another at one station: the station adds up, the region does not
            [
                (
                    "station_votes",
                    "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN votes + CASE option_id "
                    "WHEN 'amanat' THEN -1 WHEN 'auyl' THEN 1 ELSE 0 END ELSE votes END AS votes) FROM t",
                )
            ],
            {"station_votes_sum_to_regions"},
        ),
        (
            [
                (
                    "station_ballots",
                    "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN registered_voters_count + 1 "
                    "ELSE registered_voters_count END AS registered_voters_count) FROM t",
                )
            ],
            {"station_ballots_sum_to_regions"},
        ),
        (  # a preliminary protocol (not summed) whose votes do not add up and which issued too many ballots
            [
                (
                    "station_ballots",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version, "
                    "registered_voters_count + 1 AS ballots_issued_count, "
                    "ballots_cast_count + 1 AS ballots_cast_count) "
                    "FROM t WHERE station_id = '75/1/1'",
                ),
                (
                    "station_votes",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version) "
                    "FROM t WHERE station_id = '75/1/1'",
                ),
            ],
            {"station_votes_add_up", "station_ballots_within_registered"},
        ),
        (
            [
                (
                    "stations",
                    "SELECT * REPLACE (CASE WHEN station_id = '75/1/1' THEN true ELSE is_abroad END AS is_abroad) "
                    "FROM t",
                )
            ],
            {"stations_in_their_region"},
        ),
        (  # a station lost from every table: the coverage guard
            [
                (name, "SELECT * FROM t WHERE station_id <> '75/1/1'")
                for name in ("planted_anomalies", "station_votes", "station_ballots", "stations")
            ],
            {"station_votes_sum_to_regions", "station_ballots_sum_to_regions"},
        ),
        (  # a preliminary protocol (not summed) with a poll's option in place of 'against all'
            [
                (
                    "station_ballots",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version) FROM t "
                    "WHERE station_id = '75/1/1'",
                ),
                (
                    "station_votes",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version, "
                    "CASE WHEN option_id = 'against_all' THEN 'undecided' ELSE option_id END AS option_id) "
                    "FROM t WHERE station_id = '75/1/1'",
                ),
            ],
            {"station_votes_add_up"},
        ),
        (  # a preliminary protocol (which the sums do not cover) with absurd figures
            [
                (
                    "station_ballots",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version, "
                    "9223372036854775807 AS registered_voters_count, 9223372036854775807 AS ballots_issued_count) "
                    "FROM t WHERE station_id = '75/1/1'",
                ),
                (
                    "station_votes",
                    "SELECT * FROM t UNION ALL SELECT * REPLACE ('preliminary' AS protocol_version) "
                    "FROM t WHERE station_id = '75/1/1'",
                ),
            ],
            {"station_ballots_within_registered"},
        ),
        (
            [
                (
                    "stations",
                    "SELECT * REPLACE (CASE WHEN is_abroad AND station_number = 1 THEN 42 "
                    "ELSE territorial_commission_number END AS territorial_commission_number) FROM t",
                )
            ],
            {"stations_in_their_region"},
        ),
    ],
    ids=[
        "region votes",
        "region ballots",
        "station protocol",
        "region of a station",
        "a missing station",
        "an option off the ballot",
        "a preliminary protocol beyond its region",
        "commission abroad",
    ],
)
def test_every_cross_check_fires(copy, unchanged_findings, changes, fired):
    assert unchanged_findings == set()  # (the copy as made: nothing fires before the changes)
    for table, select in changes:
        rewrite(copy, table, select)
    assert findings(copy) == fired
    with pytest.raises(PipelineError) as caught:
        check_returns(copy, RELEASE, forensics=False)
    # a station's row is named where a station is wrong, the region's where only the sums are
    named = "station_id=ab/0/1" if "THEN 42" in str(changes) else "station_id=75/1/1"
    assert caught.value.stage == "check" and (named in caught.value.describe()) != (
        fired <= {"station_votes_sum_to_regions", "station_ballots_sum_to_regions"}
    )
    assert "region_id=KZ-75" in caught.value.describe() or named in caught.value.describe()


def test_many_failures_are_counted_in_duckdb_and_a_few_shown(copy):
    rewrite(copy, "station_ballots", "SELECT * REPLACE (registered_voters_count + 1 AS registered_voters_count) FROM t")
    with pytest.raises(PipelineError) as caught:
        check_returns(copy, RELEASE, forensics=False)
    assert caught.value.message.startswith("21 cross-check failure(s), the first 20 shown:")  # 20 regions + KZ


def test_a_set_is_called_synthetic_by_its_files_too_and_never_mixed_with_other_files(synthetic, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for path in synthetic.glob("*.parquet"):
        shutil.copy(path, bare)
    run = run_main("stations", str(bare))
    assert run.code == 0 and "(SYNTHETIC data)" in run.out  # no datapackage.json: the files' own mark
    mixed = tmp_path / "mixed"
    shutil.copytree(synthetic, mixed)
    (mixed / "notes.txt").write_text("mine")
    assert_clear_failure(run_main("synth", "--stations", "200", "--out", str(mixed)), "other files")
    assert (mixed / "notes.txt").read_text() == "mine"
    package = tmp_path / "package"
    package.mkdir()
    (package / "datapackage.json").write_text('{"name": "someone-elses-data"}')
    assert_clear_failure(run_main("synth", "--stations", "200", "--out", str(package / "x")), "holds a data package")
    glob_release = tmp_path / "rel[12]"
    shutil.copytree(RELEASE, glob_release, ignore=shutil.ignore_patterns("*.csv", "*.duckdb"))
    assert_clear_failure(
        run_main("synth", "--stations", "200", "--out", str(tmp_path / "g"), "--release", str(glob_release)),
        "is refused",
    )
    orders = []
    for name, flags in (("o1", ["whole_pct=0.01", "digits=0.01"]), ("o2", ["digits=0.01", "whole_pct=0.01"])):
        argv = ["synth", "--stations", "400", "--out", str(tmp_path / name)]
        assert run_main(*argv, *[x for f in flags for x in ("--anomaly", f)]).code == 0
        orders.append((tmp_path / name / "datapackage.json").read_bytes())
    assert orders[0] == orders[1]


def test_no_final_protocol_means_no_forensic_test():
    from pipeline.stations.forensics import station_arrays

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE station_votes (station_id VARCHAR, protocol_version VARCHAR, option_id VARCHAR, votes INT)"
    )
    assert station_arrays(con) is None


def test_a_missing_or_damaged_file_is_a_clear_error(copy):
    (copy / "station_votes.parquet").write_bytes(b"PAR1 not really")
    assert_clear_failure(run_main("stations", str(copy)), "table station_votes", "cannot be read as Parquet")
    (copy / "stations.parquet").unlink()
    assert_clear_failure(run_main("stations", str(copy)), "table stations", "is missing")


def test_allocation_is_exact_and_capped():
    rng = np.random.default_rng(0)
    for _ in range(50):
        weights = rng.random(30) * (rng.random(30) > 0.2)
        cap = rng.integers(0, 50, 30)
        total = int(rng.integers(0, cap.sum() + 1))
        out = allocate(np, total, weights, cap=cap)
        assert out.sum() == total and (out <= cap).all() and (out >= 0).all()
    assert list(allocate(np, 10, [1, 1, 2])) == [3, 2, 5]  # 2.5, 2.5, 5: the tie goes to the first


@pytest.fixture(scope="module")
def published():
    return read_release(RELEASE)


@pytest.fixture(scope="module")
def clean(published):
    return generate(published, 10_223, 11, {})


@pytest.fixture(scope="module")
def clean_p_values(published):
    """The station tests' rows and the election of the clean set (seed 11): the baseline of every planted case,
    and the clean case itself (the same draw: generate is deterministic)."""
    return _p_values(published, {})


@pytest.fixture(scope="module")
def clean_rows(clean_p_values):
    return clean_p_values[0]


def _p_values(published, anomalies, seed=11):
    election = generate(published, 10_223, seed, anomalies, preliminary=True)
    rows = forensic_tests(
        np,
        election.registered,
        election.cast,
        election.votes.sum(axis=1),
        election.votes[:, election.leader],
        np.array([int(r[3:]) for r in election.counted_in]),
        commission=np.array(election.commission),
        preliminary_leader=election.preliminary_votes[:, election.leader],
    )
    return {row["test_id"]: row for row in rows}, election


@pytest.mark.parametrize(
    "anomaly, detected_by",
    [
        ({}, set()),
        ({"whole_pct": 0.03}, {"whole_pct_leader"}),
        ({"stuffing": 0.03}, set()),  # its tests are descriptive: below
        ({"digits": 0.05}, {"last_digit_leader"}),
        ({"two_decimal_pct": 0.05}, set()),  # below 10,000 valid votes every count is on the two-decimal grid
        ({"final_favours_leader": 0.02}, {"final_vs_preliminary_leader"}),
        ({"commission_two_decimal_pct": 0.3}, {"two_decimal_pct_leader_commission"}),
    ],
    ids=["clean", "whole percentages", "stuffing", "digits", "two decimals", "final protocols", "commissions"],
)
def test_the_station_tests_find_what_was_planted_and_nothing_else(
    published, anomaly, detected_by, clean, clean_rows, clean_p_values
):
    rows, election = _p_values(published, anomaly) if anomaly else clean_p_values
    planted = sorted(election.planted)
    kind = next(iter(anomaly), None)
    if kind == "final_favours_leader":  # the answer key: the preliminary protocols changed, the final ones not
        assert (election.preliminary_votes[planted, clean.leader] < election.votes[planted, clean.leader]).all()
        assert (election.votes == clean.votes).all()
    elif kind == "commission_two_decimal_pct":  # every station of a changed commission, on the grid as a whole
        assert len(planted) >= 0.1 * len(election.votes)
        key = np.array([f"{r}/{c}" for r, c in zip(election.counted_in, election.commission, strict=True)])
        for commission in sorted(set(key[planted])):
            here = key == commission
            leader, valid = election.votes[here, clean.leader].sum(), election.votes[here].sum()
            assert round(valid * round(10_000 * leader / valid) / 10_000) == leader, commission
    else:  # the answer key lists exactly the stations whose leader's votes the anomaly changed
        assert (election.votes[planted, clean.leader] != clean.votes[planted, clean.leader]).all()
    eligible = ((clean.votes.sum(axis=1) >= 100) & ~clean.is_abroad).sum()
    if kind in ("whole_pct", "stuffing", "digits", "final_favours_leader"):  # (a count on its grid is left alone)
        assert len(planted) >= 0.6 * sum(anomaly.values()) * eligible  # (some counts already are on the grid)
    calibrated = {test for test, row in rows.items() if row["role"] == "calibrated"}
    assert {t for t in calibrated if rows[t]["p_value"] is not None and rows[t]["p_value"] < 1e-4} == detected_by
    assert rows["two_decimal_pct_leader"]["p_value"] is None or rows["two_decimal_pct_leader"]["p_value"] > 0.01
    # the correlation tests are descriptive: urban and rural stations correlate on clean sets already, and
    # stuffing shows as a correlation well above the clean set's
    rise = rows["turnout_leader_correlation"]["statistic"] - clean_rows["turnout_leader_correlation"]["statistic"]
    assert clean_rows["turnout_leader_correlation"]["p_value"] < 1e-4  # (the null is wrong for such stations)
    assert (rise > 0.05) == (kind == "stuffing"), rise


def test_the_generator_s_rural_stations_turn_out_more_and_favour_the_leader(published):
    def gaps(election):  # rural minus urban, within each region that has both, averaged over the regions
        valid = election.votes.sum(axis=1)
        turnout, share = election.cast / election.registered, election.votes[:, election.leader] / np.maximum(valid, 1)
        region, big = np.array(election.counted_in), ~election.is_abroad & (election.registered >= 100)
        found = []
        for code in sorted(set(region)):
            rural, urban = (region == code) & big & ~election.urban, (region == code) & big & election.urban
            if rural.any() and urban.any():
                found.append((turnout[rural].mean() - turnout[urban].mean(), share[rural].mean() - share[urban].mean()))
        assert len(found) == 17  # every region but the three cities
        return np.mean(found, axis=0)

    turnout_gap, leader_gap = gaps(generate(published, 10_223, 3, {}))
    assert 0.17 < turnout_gap < 0.23 and 0.02 < leader_gap < 0.03  # about 20 and 2.5 points
    flat = gaps(generate(published, 10_223, 3, {}, gaps=(0.0, 0.0)))
    assert abs(flat[0]) < 0.02 and abs(flat[1]) < 0.005


def test_preliminary_protocols_differ_from_the_final_ones_by_small_symmetric_corrections(published):
    election = generate(published, 10_223, 4, {}, preliminary=True)
    changed = (election.preliminary_votes != election.votes).any(axis=1) | (
        election.preliminary_invalid != election.invalid
    )
    assert 0.01 < changed.mean() < 0.03  # CORRECTION_SHARE of the stations
    assert (election.preliminary_votes.sum(axis=1) + election.preliminary_invalid == election.cast).all()
    moved = np.abs(election.preliminary_votes - election.votes).sum(axis=1)
    assert moved.max() <= 2 * 10 and (election.preliminary_votes >= 0).all()


def test_clerical_corrections_are_as_likely_to_raise_the_leader_s_count_as_to_lower_it(published, monkeypatch):
    """The sign test's null holds in the generator: with a correction at every station (about 2,000 of
    them touch the leader's count), the share that raise it is a half within 3 standard errors."""
    from pipeline.stations import synth

    monkeypatch.setattr(synth, "CORRECTION_SHARE", 1.0)
    election = generate(published, 10_223, 6, {}, preliminary=True)
    leader, before = election.votes[:, election.leader], election.preliminary_votes[:, election.leader]
    changed = leader != before
    raised = int((leader[changed] > before[changed]).sum())
    assert changed.sum() > 1_500 and abs(raised / changed.sum() - 0.5) < 3 * 0.5 / math.sqrt(changed.sum())
    up, down = (leader - before)[leader > before], (before - leader)[leader < before]
    assert abs(up.mean() - down.mean()) < 0.3  # and by as much either way (the cap is the smaller pile)
    assert (election.preliminary_votes.sum(axis=1) + election.preliminary_invalid == election.cast).all()


def test_each_station_test_s_role_follows_its_calibration_in_docs_scale_md():
    """'calibrated' exactly where the clean sets' rate below 5 % is consistent with 5 % or less (the lower
    end of its 95 % interval at most 5 %), as the table make bench-scale writes into docs/scale.md shows."""
    from pipeline.stations.forensics import ROLES, TESTS

    text = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")
    table = text.split("<!-- forensics -->")[1].split("Family:")[0]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in table.splitlines() if line.startswith("| ")}
    for test in TESTS:
        cells = rows[test]
        lower = float(cells[5].split(" to ")[0].rstrip("%")) / 100
        assert cells[1] == ROLES[test] == ("calibrated" if lower <= 0.05 else "descriptive"), (test, cells)


def test_holm_adjusts_only_the_calibrated_tests_that_ran():
    from pipeline.stations.forensics import _holm

    rows = [
        {"test_id": "a", "p_value": 0.01, "role": "calibrated"},
        {"test_id": "b", "p_value": 0.04, "role": "calibrated"},
        {"test_id": "c", "p_value": 0.03, "role": "calibrated"},
        {"test_id": "d", "p_value": 1e-9, "role": "descriptive"},
        {"test_id": "e", "p_value": None, "role": "calibrated"},
    ]
    adjusted = {r["test_id"]: r["adjusted_p_value"] for r in _holm(rows)}
    assert adjusted == {"a": 0.03, "c": 0.06, "b": 0.06, "d": None, "e": None}


def test_the_sign_test_is_an_exact_binomial_tail():
    from fractions import Fraction

    from pipeline.stations.forensics import binomial_upper

    exact = sum(Fraction(math.comb(30, j), 2**30) for j in range(21, 31))
    assert binomial_upper(21, 30) == pytest.approx(float(exact), rel=1e-12)
    assert binomial_upper(0, 30) == 1.0 and binomial_upper(16, 31) == pytest.approx(0.5, rel=1e-12)
    assert binomial_upper(31, 30) == 0.0


def test_chi_square_tail_matches_its_tables():
    from pipeline.stations.forensics import chi2_sf

    assert chi2_sf_9(16.919) == pytest.approx(0.05, abs=1e-5)
    assert chi2_sf_9(21.666) == pytest.approx(0.01, abs=1e-5)
    assert chi2_sf_9(0) == 1.0
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=1e-4) and chi2_sf(9.488, 4) == pytest.approx(0.05, abs=1e-4)
    assert chi2_sf(124.342, 100) == pytest.approx(0.05, abs=1e-4)
    tail = [chi2_sf(x, 9) for x in (1399.9, 1400.0, 1400.1, 1500.0)]
    assert tail == sorted(tail, reverse=True) and 0 < tail[0] < 1e-290  # falling, no jump
    assert chi2_sf(10_000, 10_000) == pytest.approx(0.498, abs=0.002)


def test_bench_scale_runs_at_a_small_size(tmp_path):
    run = subprocess.run(
        [sys.executable, "bench/scale.py", "--rows", "16000", "--repeats", "1", "--work", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "16,000 rows" in run.stdout and "x the bare scan" in run.stdout and "peak memory" in run.stdout
    run = subprocess.run(
        [sys.executable, "bench/station_forensics.py", "--clean", "1", "--planted", "1", "--fractions", "0.05",
         "--stations", "2000", "--kinds", "stuffing"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = {line.split(" | ")[0]: line for line in run.stdout.splitlines() if line.startswith("| ")}
    assert rows["| whole_pct_leader"].split(" | ")[1:3] == ["calibrated", "1"]  # one clean set tested
    assert "| stuffing | 5.0% |" in run.stdout and "/1 |" in rows["| stuffing"]
