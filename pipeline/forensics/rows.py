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
