"""Property-based tests of the cell parsers: what they accept they read exactly, and anything else is a
ValueError (which the pipeline turns into a clear error), never another exception."""

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.cells import (
    MONTHS,
    clean,
    parse_count_pct,
    parse_date_range,
    parse_int,
    parse_margin,
    parse_pct,
    parse_time,
)

MONTH_NAMES = {number: name.capitalize() for name, number in MONTHS.items()}
noise = st.sampled_from(["", " ", "\u00a0", "[3]", "[12]", "''", " [a]"])


@given(st.integers(min_value=0, max_value=10**12), noise, noise)
def test_parse_int_reads_every_grouped_number(number, before, after):
    assert parse_int(f"{before}{number:,}{after}".strip() if before != "''" else f"{number:,}") == number


@given(st.integers(min_value=1000, max_value=10**9))
def test_parse_int_refuses_other_separators(number):
    for separator in (".", " ", "'"):
        text = f"{number:,}".replace(",", separator)
        try:
            parse_int(text)
        except ValueError:
            continue
        raise AssertionError(f"{text!r} was accepted")


@given(st.integers(min_value=0, max_value=10000), st.sampled_from(["%", " %", "\u00a0%"]))
def test_parse_pct_reads_two_decimals(hundredths, suffix):
    assert parse_pct(f"{hundredths / 100:.2f}{suffix}") == round(hundredths / 100, 2)


@given(st.integers(min_value=0, max_value=99_999_999), st.integers(min_value=0, max_value=10000))
def test_parse_count_pct(count, hundredths):
    assert parse_count_pct(f"{count:,} ({hundredths / 100:.2f}%)") == (count, round(hundredths / 100, 2))


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 12, 31)), st.integers(min_value=0, max_value=60))
def test_parse_date_range(start, days):
    end = start + dt.timedelta(days=days)
    if start.year != end.year:
        text = f"{start.day} {MONTH_NAMES[start.month]} {start.year} – {end.day} {MONTH_NAMES[end.month]} {end.year}"
    elif start.month != end.month:
        text = f"{start.day} {MONTH_NAMES[start.month]} – {end.day} {MONTH_NAMES[end.month]} {end.year}"
    elif days:
        text = f"{start.day}–{end.day} {MONTH_NAMES[end.month]} {end.year}"
    else:
        text = f"{start.day} {MONTH_NAMES[start.month]} {start.year}"
    assert parse_date_range(text) == (start, end)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_parsers_raise_only_value_errors(text):
    """Any other exception would escape as a traceback; a ValueError becomes a clear error."""
    for parse in (parse_int, parse_pct, parse_count_pct, parse_margin, parse_time, parse_date_range):
        try:
            parse(text)
        except ValueError:
            pass


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_clean_is_idempotent_and_leaves_no_noise(text):
    """Cleaning twice changes nothing; no footnote marker, run of spaces, edge space or minus sign stays."""
    once = clean(text)
    assert clean(once) == once
    assert once == once.strip() and "  " not in once and "\u2212" not in once
    assert not re.search(r"\[(?:\d+|[a-z])\]", once)


@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=20), noise, noise)
def test_clean_keeps_the_text_around_the_noise(word, before, after):
    """What clean removes is the noise, not the text: a word with footnotes and spaces around it survives."""
    import unicodedata

    assert clean(f"{before}{word}{after}") == unicodedata.normalize("NFC", word)
