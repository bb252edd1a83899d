"""Strict parsers for the cell formats the article uses. Each raises ValueError with a reason."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from pipeline.metadata.codes import name_key

_FOOTNOTE = re.compile(r"\[(?:\d+|[a-z]|note \d+|citation needed|nb \d+)\]", re.IGNORECASE)
_WIKI_EMPHASIS = re.compile(r"'{2,}")
_SPACES = re.compile(r"\s+")


# Invisible characters that carry no content: a soft hyphen (a hyphenation hint), zero-width space, word
# joiner, byte-order mark, the implicit direction marks (they only orient neighbouring punctuation) and the
# Mongolian vowel separator. They are removed. Invisible characters that can change what a reader sees or
# what a name is (bidi embeddings, overrides and isolates, zero-width (non-)joiners, other controls) are
# left in place for the validate stage to reject with the table, row and column.
_HARMLESS_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff\u200e\u200f\u061c\u180e"), None)


@lru_cache(maxsize=65536)
def clean(text: str) -> str:
    """Normalise a cell: Unicode NFC, harmless invisible characters, footnote markers, wiki emphasis, odd
    spaces and minus signs removed. Cached: a build cleans about 4,000 distinct cells, most of them several
    times (a pure function of the text)."""
    text = unicodedata.normalize("NFC", text).translate(_HARMLESS_INVISIBLE)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")
    text = text.replace("\u2212", "-")
    text = _FOOTNOTE.sub("", text)
    text = _WIKI_EMPHASIS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if text and set(text) <= {"'", '"'}:  # a cell left with nothing but stray quote markup
        return ""
    return text


@lru_cache(maxsize=8192)
def header_key(text: str) -> str:
    """Key for matching header text and names in a cell: the cell cleaned, then case, spacing and
    punctuation ignored (reference.name_key). Cached: the same headings and labels are matched often."""
    return name_key(clean(text))


_INT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def parse_int(text: str) -> int:
    """'12,035,578' -> 12035578. Only commas are accepted as thousands separators."""
    text = clean(text)
    if not _INT.fullmatch(text):
        raise ValueError(f"expected a whole number like 12,035,578, found {text!r}")
    return int(text.replace(",", ""))


_PCT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s?%")


def parse_pct(text: str) -> float:
    """'53.90%' -> 53.9."""
    text = clean(text)
    match = _PCT.fullmatch(text)
    if not match:
        raise ValueError(f"expected a percentage like 53.90%, found {text!r}")
    value = float(match.group(1))
    if value > 100:
        raise ValueError(f"percentage above 100: {text!r}")
    return value


_PLUS_MINUS = re.compile(r"±\s?(\d+(?:\.\d+)?)\s?%")


def parse_margin(text: str) -> float:
    """'± 1.1%' -> 1.1 (percentage points)."""
    text = clean(text)
    match = _PLUS_MINUS.fullmatch(text)
    if not match:
        raise ValueError(f"expected a margin of error like ± 1.1%, found {text!r}")
    return float(match.group(1))


_COUNT_PCT = re.compile(r"(?P<count>[\d,]+)\s*\((?P<pct>[\d.]+\s?%)\)")


def parse_count_pct(text: str) -> tuple[int, float]:
    """'1,710,381 (14.21%)' -> (1710381, 14.21)."""
    text = clean(text)
    match = _COUNT_PCT.fullmatch(text)
    if not match:
        raise ValueError(f"expected a count with a percentage like 1,710,381 (14.21%), found {text!r}")
    return parse_int(match["count"]), parse_pct(match["pct"])


_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def parse_time(text: str) -> dt.time:
    """'10:00' -> time(10, 0)."""
    text = clean(text)
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"expected a time like 10:00, found {text!r}")
    return dt.time(int(match.group(1)), int(match.group(2)))


MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_MONTH = "(" + "|".join(MONTHS) + ")"
_DATE_RANGE = re.compile(
    rf"(?P<d1>\d{{1,2}})(?:\s+(?P<m1>{_MONTH}))?(?:\s+(?P<y1>\d{{4}}))?\s*[-–—]\s*"
    rf"(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})",
    re.IGNORECASE,
)
_DATE = re.compile(rf"(?P<d>\d{{1,2}})\s+(?P<m>{_MONTH})\s+(?P<y>\d{{4}})", re.IGNORECASE)


def parse_date_range(text: str) -> tuple[dt.date, dt.date]:
    """'3–10 March 2023' -> (2023-03-03, 2023-03-10); also '28 February – 3 March 2023' and one day."""
    text = clean(text)
    match = _DATE_RANGE.fullmatch(text)
    if match:
        end = dt.date(int(match["y2"]), MONTHS[match["m2"].lower()], int(match["d2"]))
        start_month = MONTHS[match["m1"].lower()] if match["m1"] else end.month
        start_year = int(match["y1"]) if match["y1"] else end.year
        start = dt.date(start_year, start_month, int(match["d1"]))
        if start > end:
            raise ValueError(f"date range ends before it starts: {text!r}")
        return start, end
    match = _DATE.fullmatch(text)
    if match:
        day = dt.date(int(match["y"]), MONTHS[match["m"].lower()], int(match["d"]))
        return day, day
    raise ValueError(f"expected a date or date range like 3–10 March 2023, found {text!r}")


def slug(text: str) -> str:
    """'Public Opinion Research Institute' -> 'public_opinion_research_institute'."""
    return re.sub(r"[^a-z0-9]+", "_", clean(text).casefold()).strip("_")


def parse_int_or_none(text: str) -> int | None:
    """parse_int, or None where the cell holds no whole number."""
    try:
        return parse_int(text)
    except ValueError:
        return None


def parse_name(text: str) -> str:
    """A person's name: non-empty text without digits."""
    text = clean(text)
    if not text or any(ch.isdigit() for ch in text):
        raise ValueError(f"expected a name, found {text!r}")
    return text


def parse_pp(text: str) -> float:
    """'17.19pp' -> 17.19 (percentage points)."""
    text = clean(text)
    if not re.fullmatch(r"\d+(?:\.\d+)?pp", text):
        raise ValueError(f"expected percentage points like 17.19pp, found {text!r}")
    return float(text[:-2])


def parse_day(text: str) -> dt.date:
    """'19 March 2023' -> 2023-03-19; a range is refused."""
    start, end = parse_date_range(text)
    if start != end:
        raise ValueError(f"expected one day, found a range {text!r}")
    return start


def parse_day_in_year(text: str, year: int) -> dt.date:
    """'19 January' (a day without its year) -> that day in `year`."""
    return parse_day(f"{clean(text)} {year}")


def parse_duration(text: str) -> int:
    """'1:25:33' -> 5133 (seconds)."""
    match = re.fullmatch(r"(\d+):([0-5]\d):([0-5]\d)", clean(text))
    if not match:
        raise ValueError(f"expected a duration like 1:25:33, found {text!r}")
    hours, minutes, seconds = map(int, match.groups())
    return hours * 3600 + minutes * 60 + seconds


def is_time(text: str) -> bool:
    """Whether a cell reads as a time of day like 20:30."""
    try:
        parse_time(text)
        return True
    except ValueError:
        return False


_DAYS_AND_TIME = re.compile(
    r"(?P<start>\d{1,2} [A-Za-z]+)(?:\s*[–-]\s*(?P<end>\d{1,2} [A-Za-z]+))?(?:,\s*(?P<time>\d{1,2}:\d{2}))?"
)


def parse_days_and_time(text: str, year: int) -> tuple[dt.date, dt.date, str | None]:
    """'8 February, 18:00' -> (2023-02-08, 2023-02-08, '18:00'); '18 February – 18 March' -> a span of
    days; days without their year, taken in `year`."""
    match = _DAYS_AND_TIME.fullmatch(clean(text))
    if match is None:
        raise ValueError(
            f"expected '19 January', '8 February, 18:00' or '18 February – 18 March', found {clean(text)!r}"
        )
    start = parse_day_in_year(match["start"], year)
    end = parse_day_in_year(match["end"], year) if match["end"] else start
    return start, end, parse_time(match["time"]).strftime("%H:%M") if match["time"] else None
