"""Timetable: the election calendar."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.errata import format_key
from pipeline.errors import PipelineError
from pipeline.extract.cells import (
    header_key,
    parse_day_in_year,
    parse_time,
)
from pipeline.extract.context import ELECTION_DAY, Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import require_width, trim


def parse_day_in_election_year(text: str) -> dt.date:
    """'19 January' (the timetable omits the year) -> 2023-01-19."""
    return parse_day_in_year(text, ELECTION_DAY.year)


_TIMETABLE_WHEN = re.compile(
    r"(?P<start>\d{1,2} [A-Za-z]+)(?:\s*[–-]\s*(?P<end>\d{1,2} [A-Za-z]+))?"
    r"(?:,\s*(?P<time>\d{1,2}:\d{2}))?"
)


def extract_timetable(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "election_timetable"
    table = doc.find_table(name, section="Timetable", header=["Date", "Event"])
    if [header_key(c) for c in trim(table.rows[0])] != ["date", "event"]:
        raise PipelineError(
            "extract", "the timetable's first row should read 'Date | Event'.", table=name, row="header"
        )
    rows = []
    for row in table.rows[1:]:  # the days are not figures, so the header is just the first row
        date_text, event = require_width(name, row, 2, row[-1] if row else "?", table)
        key = {"event_name": event}
        when = _TIMETABLE_WHEN.fullmatch(date_text)
        if when is None:
            raise PipelineError(
                "extract",
                f"cannot read the date {date_text!r}; expected '19 January', "
                "'8 February, 18:00' or '18 February – 18 March'.",
                table=name,
                row=format_key(key),
                column="start_date",
            )
        start = ctx.value(name, key, "start_date", when["start"], parse_day_in_election_year)
        end = ctx.value(name, key, "end_date", when["end"], parse_day_in_election_year) if when["end"] else start
        time_of_day = (
            ctx.value(name, key, "time_of_day", when["time"], parse_time).strftime("%H:%M") if when["time"] else None
        )
        rows.append({"event_name": event, "start_date": start, "end_date": end, "time_of_day": time_of_day})
    ctx.infer(
        name,
        {"event_name": "*"},
        "start_date",
        ELECTION_DAY.year,
        "The timetable gives days without the year; the calendar runs from the dissolution on 19 January "
        "to election day on 19 March 2023, so every day is in 2023.",
    )
    return {name: rows}
