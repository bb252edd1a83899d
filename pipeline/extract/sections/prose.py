"""Figures the article states in its prose: the voter rolls before election day."""

from __future__ import annotations

import re

from pipeline.common.errors import PipelineError
from pipeline.extract.cells import (
    header_key,
    parse_day,
    parse_int,
)
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document

# --- Voter rolls stated in the prose --------------------------------------------------------------

_ROLL = re.compile(r"(?:as of|As of) (?P<date>\d{1,2} \w+ \d{4})")
_BIG_NUMBER = re.compile(r"\d{1,3}(?:,\d{3}){2,}")


def extract_voter_roll_reports(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Registered-voter totals the 'Voter registration' prose states, with their dates."""
    name = "voter_roll_reports"
    rows = []
    for path, text in doc.paragraphs:
        if header_key("Voter registration") not in {header_key(s) for s in path}:
            continue
        for sentence in re.split(r"(?<=\.)\s+", text):
            date, number = _ROLL.search(sentence), _BIG_NUMBER.search(sentence)
            if date and number and "registered voters" in sentence:
                as_of = ctx.value(name, {"sentence": sentence[:40]}, "as_of_date", date["date"], parse_day)
                rows.append(
                    {
                        "as_of_date": as_of,
                        "registered_voters_count": ctx.value(
                            name,
                            {"as_of_date": as_of.isoformat()},
                            "registered_voters_count",
                            number.group(0),
                            parse_int,
                        ),
                        "source_text": sentence,
                    }
                )
    if not rows:
        raise PipelineError(
            "extract", "the 'Voter registration' section states no registered-voter totals.", table=name
        )
    return {name: sorted(rows, key=lambda r: r["as_of_date"])}
