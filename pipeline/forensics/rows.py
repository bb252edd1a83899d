"""How a forensic result is written: rounded figures and p-values, and one row of forensic_tests."""

from __future__ import annotations


def p_value(value):
    """A p-value with six significant digits (a tiny one keeps its exponent), or None."""
    return None if value is None else float(f"{float(value):.6g}")


def rounded(value, digits: int = 6):
    """A float rounded for publication (so that outputs do not depend on the last bit), or None."""
    return None if value is None else round(float(value), digits)


def test_row(test_id, level, n, statistic, observed, expected, p, method, count=None, low=None, high=None, reading=""):
    """One row of forensic_tests for a test of the whole set of units (subject `all`)."""
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
        "p_value": p_value(p),
        "p_value_method": method,
        "draws_count": count,
        "reading_text": reading,
    }


# Each test's role, fixed here with the code: the primary tests and the exploratory ones form the family a
# multiple-testing correction counts; robustness rows restate a primary test with other parameters, and
# descriptive rows have no valid null model (the poll errors; the second digits of regional totals).
ROLES = {
    "share_grid_region": "primary",
    "share_grid_region_constrained": "primary",
    "counts_reproducible": "primary",
    "turnout_grid_region": "primary",
    "share_grid_national": "exploratory",
    "turnout_share_correlation": "exploratory",
    "turnout_share_correlation_unweighted": "exploratory",
    "turnout_against_all_correlation": "exploratory",
    "turnout_against_all_correlation_unweighted": "exploratory",
    "second_digit_region": "descriptive",
    "poll_error": "descriptive",
}
# Every test of this election was suggested by the numbers it tests or had its parameters set after reading
# them: the article's Analysis section names the hundredths and the turnout (issue 22's review).
POST_HOC = True


def with_role(test: dict) -> dict:
    """A row of forensic_tests with its role in the family of tests and whether it is post hoc."""
    role = "robustness" if test["test_id"].startswith("share_grid_region_window_") else ROLES[test["test_id"]]
    return test | {"test_role": role, "is_post_hoc": POST_HOC}
