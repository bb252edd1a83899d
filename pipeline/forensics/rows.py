"""How a forensic result is written: rounded figures and p-values, and one row of forensic_tests."""

from __future__ import annotations


def p_value(value):
    """A p-value with six significant digits (a tiny one keeps its exponent), or None."""
    return None if value is None else float(f"{float(value):.6g}")


def rounded(value, digits: int = 6):
    """A float rounded for publication (so that outputs do not depend on the last bit), or None."""
    return None if value is None else round(float(value), digits)


def test_row(
    test_id,
    level,
    n,
    statistic,
    observed,
    expected,
    p,
    method,
    count=None,
    low=None,
    high=None,
    reading="",
    interval=None,
):
    """One row of forensic_tests for a test of the whole set of units (subject `all`); `interval`: what its
    interval is (null_range_99, confidence_95), where it states one."""
    return {
        "test_id": test_id,
        "subject_id": "all",
        "unit_level": level,
        "units_count": n,
        "statistic_name": statistic,
        "observed_value": rounded(observed),
        "expected_value": rounded(expected),
        "interval_low": rounded(low),
        "interval_high": rounded(high),
        "interval_kind": interval,
        "p_value": p_value(p),
        "p_value_method": method,
        "draws_count": count,
        "reading_text": reading,
    }


# Each test's role, fixed here with the code, and whether it is post hoc (suggested by the numbers it tests,
# or its parameters set after reading them: every test of this election, whose article names the
# hundredths and the turnout). The primary and exploratory tests form the family a multiple-testing
# correction counts; robustness rows restate a primary test with other parameters; descriptive rows have no
# valid null model (the poll errors; the second digits of regional totals).
ROLES = {
    "share_grid_region": ("primary", True),
    "share_grid_region_constrained": ("primary", True),
    "counts_reproducible": ("primary", True),
    "turnout_grid_region": ("primary", True),
    "share_grid_national": ("exploratory", True),
    "turnout_share_correlation": ("exploratory", True),
    "turnout_share_correlation_unweighted": ("exploratory", True),
    "turnout_against_all_correlation": ("exploratory", True),
    "turnout_against_all_correlation_unweighted": ("exploratory", True),
    "second_digit_region": ("descriptive", True),
    "poll_error": ("descriptive", True),
}
WINDOWS = "share_grid_region_window_"  # the robustness rows of share_grid_region, one per window


def with_role(test: dict) -> dict:
    """A row of forensic_tests with its role in the family of tests and whether it is post hoc."""
    role, post_hoc = ("robustness", True) if test["test_id"].startswith(WINDOWS) else ROLES[test["test_id"]]
    return test | {"test_role": role, "is_post_hoc": post_hoc}


def window_id(fraction: float) -> str:
    """The test_id of share_grid_region with another window (a fraction of a step): its percent, '.' as '_'."""
    return WINDOWS + f"{fraction * 100:g}".replace(".", "_")


def window_percent(test_id: str) -> str:
    """The window of a robustness row, in percent of a step, as its test_id gives it."""
    return test_id.removeprefix(WINDOWS).replace("_", ".")
