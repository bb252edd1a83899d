import datetime as dt

import pytest

from pipeline.extract.cells import (
    clean,
    header_key,
    parse_count_pct,
    parse_date_range,
    parse_int,
    parse_margin,
    parse_pct,
    parse_time,
    slug,
)


@pytest.mark.parametrize(
    "text, value", [("12,035,578", 12035578), ("0", 0), ("359", 359), (" 4,103 ", 4103), ("1,710,381[3]", 1710381)]
)
def test_parse_int_reads_comma_grouped_numbers(text, value):
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["248.291", "1,23", "12 035", "", "-5", "12,0355", "5%", "New"])
def test_parse_int_refuses_anything_else(text):
    with pytest.raises(ValueError, match="whole number"):
        parse_int(text)


@pytest.mark.parametrize("text, value", [("53.90%", 53.9), ("0.67%", 0.67), ("100%", 100.0), ("8.01 %", 8.01)])
def test_parse_pct(text, value):
    assert parse_pct(text) == value


@pytest.mark.parametrize("text", ["53.90", "101%", "%", "53,90%", "n/a"])
def test_parse_pct_refuses(text):
    with pytest.raises(ValueError):
        parse_pct(text)


def test_parse_count_pct_and_margin_and_time():
    assert parse_count_pct("1,710,381 (14.21%)") == (1710381, 14.21)
    assert parse_margin("± 1.1%") == 1.1
    assert parse_margin("±3.0%") == 3.0
    assert parse_time("22:00") == dt.time(22, 0)
    with pytest.raises(ValueError):
        parse_time("25:00")
    with pytest.raises(ValueError):
        parse_count_pct("1,710,381")


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("3–10 March 2023", dt.date(2023, 3, 3), dt.date(2023, 3, 10)),
        ("17–27 February 2023", dt.date(2023, 2, 17), dt.date(2023, 2, 27)),
        ("28 February – 3 March 2023", dt.date(2023, 2, 28), dt.date(2023, 3, 3)),
        ("28 December 2022 – 3 January 2023", dt.date(2022, 12, 28), dt.date(2023, 1, 3)),
        ("10 March 2023", dt.date(2023, 3, 10), dt.date(2023, 3, 10)),
    ],
)
def test_parse_date_range(text, start, end):
    assert parse_date_range(text) == (start, end)


@pytest.mark.parametrize("text", ["10–3 March 2023", "March 2023", "3-10 Marsh 2023", "31 February 2023"])
def test_parse_date_range_refuses(text):
    with pytest.raises(ValueError):
        parse_date_range(text)


def test_clean_removes_markup_footnotes_and_odd_characters():
    assert clean("  ''Abai\u00a0Region''[12] ") == "Abai Region"
    assert clean("\u22125.20pp") == "-5.20pp"
    assert clean("'") == ""
    assert header_key("Invalid/ blank") == header_key("invalid/blank") == "invalidblank"
    assert slug("SOTSIS-A") == "sotsis_a"
