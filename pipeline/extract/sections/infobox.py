"""The infobox (national result per party, national figures) and the Results prose (party-list seats)."""

from __future__ import annotations

import re

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    header_key,
    parse_int,
    parse_pct,
    parse_pp,
)
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document

# --- National results: the infobox and the results prose -----------------------------------

_DISAMBIGUATION = re.compile(r"\s*\([^)]*\)$")
_LAST_ELECTION = re.compile(r"(?P<pct>\d+(?:\.\d+)?%),\s*(?P<seats>\d+) seats?")
_PREVIOUS_STATUS = {"didnotexist": "new", "boycotted": "boycotted"}
# The columns a party's infobox entry gives: null, each a reviewed gap, for a party the infobox omits.
_INFOBOX_COLUMNS = (
    "leader_name",
    "votes",
    "vote_share_pct",
    "seats_count",
    "status_2021",
    "vote_share_2021_pct",
    "seats_2021_count",
    "seat_change_published_abs",
    "swing_published_abs_pp",
)


def _infobox_abs(parse):
    """Reader for an infobox change cell: the magnitude it shows, or None where it says 'New'."""

    def read(text: str):
        return None if header_key(text) == "new" else parse(text)

    return read


def extract_national_results(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The national result per party from the infobox, with the list seats from the prose."""
    name = "national_results"
    box = doc.infobox
    numbers = sorted({int(m.group(1)) for key in box if (m := re.fullmatch(r"Party(\d+)", key))})
    if not numbers:
        raise PipelineError("extract", "the infobox lists no parties (keys Party1, Party2, ...).", table=name)
    rows = {}
    for n in numbers:
        party_id = ctx.option_id(name, _DISAMBIGUATION.sub("", box[f"Party{n}"]), f"infobox Party{n}", party_only=True)
        key = {"party_id": party_id}

        def cell(field: str, required: bool = True, n: int = n, party_id: str = party_id) -> str | None:
            value = box.get(f"{field}{n}")
            if value is None and required:
                raise PipelineError(
                    "extract", f"the infobox has no '{field}{n}'.", table=name, row=f"party_id={party_id}"
                )
            return value

        last = cell("Last Election")
        status = _PREVIOUS_STATUS.get(header_key(last), "contested")
        previous = _LAST_ELECTION.fullmatch(last) if status == "contested" else None
        if status == "contested" and previous is None:
            raise PipelineError(
                "extract",
                f"cannot read the previous result {last!r}; expected '71.09%, 76 seats', "
                "'Did not exist' or 'Boycotted'.",
                table=name,
                row=f"party_id={party_id}",
                column="vote_share_2021_pct",
            )
        leader = cell("Leader", required=False)
        if leader is None:
            ctx.missing(name, key, "leader_name", f"the infobox gives no Leader{n} for this party")

        def in_2021(column, group, parse, previous=previous, key=key):
            """The 2021 figure from 'Last Election'; null for a party that did not stand (new or boycotted)."""
            return ctx.value(name, key, column, previous[group], parse) if previous else None

        seats_2021 = in_2021("seats_2021_count", "seats", parse_int)
        if status == "boycotted":
            seats_2021 = inferences.no_seats_when_boycotted(ctx, key, last)

        rows[party_id] = {
            "party_id": party_id,
            "leader_name": leader,
            "votes": ctx.value(name, key, "votes", cell("Popular Vote"), parse_int),
            "vote_share_pct": ctx.value(name, key, "vote_share_pct", cell("Percentage"), parse_pct),
            "seats_count": ctx.value(name, key, "seats_count", cell("Seats"), parse_int),
            "status_2021": status,
            "vote_share_2021_pct": in_2021("vote_share_2021_pct", "pct", parse_pct),
            "seats_2021_count": seats_2021,
            "seat_change_published_abs": ctx.value(
                name, key, "seat_change_published_abs", cell("Seat Change"), _infobox_abs(parse_int)
            ),
            "swing_published_abs_pp": ctx.value(
                name, key, "swing_published_abs_pp", cell("Swing"), _infobox_abs(parse_pp)
            ),
        }
    list_seats = _list_seats_from_prose(doc, ctx)
    for party_id in ctx.reference.party_ids:
        if party_id not in rows:
            rows[party_id] = {
                "party_id": party_id,
                "leader_name": None,
                "votes": None,
                "vote_share_pct": None,
                "seats_count": None,
                "status_2021": None,
                "vote_share_2021_pct": None,
                "seats_2021_count": None,
                "seat_change_published_abs": None,
                "swing_published_abs_pp": None,
            }
            for column in _INFOBOX_COLUMNS:
                ctx.missing(
                    name,
                    {"party_id": party_id},
                    column,
                    "the infobox lists only the parties that won seats; this party's infobox values are null",
                )
        rows[party_id]["list_seats_count"] = list_seats[party_id]
    return {name: [rows[p] for p in ctx.reference.party_ids]}


def _list_seats_from_prose(doc: Document, ctx: Extraction) -> dict[str, int]:
    """Party-list seats from the Results prose ('... Amanat party winning 40 seats, followed by Auyl with 8 ...')."""
    name = "national_results"
    text = doc.find_paragraph(name, section="Results", contains="according to party-list")
    seats: dict[str, int] = {}
    for fragment in re.split(r",\s*|\s+while\s+", text):
        found = {
            option_id
            for option_id in ctx.reference.party_ids
            for alias in ctx.reference.names_of(option_id)
            if re.search(rf"\b{re.escape(alias)}\b", fragment)
        }
        count = re.search(r"(\d+) seats", fragment)
        for party_id in found:
            if count:
                value = int(count.group(1))
            elif "failed to surpass" in fragment:
                value = 0
                inferences.no_list_seats(ctx, party_id)
            else:
                continue
            if seats.setdefault(party_id, value) != value:
                raise PipelineError(
                    "extract",
                    f"the Results prose gives two seat counts for {party_id}.",
                    table=name,
                    row=f"party_id={party_id}",
                    column="list_seats_count",
                )
    missing = [p for p in ctx.reference.party_ids if p not in seats]
    if missing:
        raise PipelineError(
            "extract",
            f"the Results prose gives no party-list seats for {', '.join(missing)}.",
            table=name,
            column="list_seats_count",
        )
    return seats


# --- Infobox national figures, timetable, debates ------------------------------------------------


def extract_infobox_figures(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The infobox's national figures: registered voters, turnout and its change, seats."""
    name = "national_infobox_figures"
    key = {"country_code": "KZ"}
    box = doc.infobox
    turnout = re.fullmatch(r"(?P<pct>[\d.]+%)\s*\(\s*(?P<change>[\d.]+pp)\s*\)", box.get("Turnout", ""))
    if turnout is None:
        raise PipelineError(
            "extract",
            f"cannot read the infobox turnout {box.get('Turnout')!r}; expected '54.21% ( 9.04pp)'.",
            table=name,
            column="turnout_pct",
        )
    seats = re.match(r"All (\d+) seats", box.get("Seats For Election", ""))
    if seats is None:
        raise PipelineError(
            "extract", "cannot read the infobox's 'Seats For Election'.", table=name, column="seats_total_count"
        )
    return {
        name: [
            {
                "country_code": "KZ",
                "registered_voters_count": ctx.value(
                    name, key, "registered_voters_count", box.get("Registered", ""), parse_int
                ),
                "turnout_pct": ctx.value(name, key, "turnout_pct", turnout["pct"], parse_pct),
                "turnout_change_published_abs_pp": ctx.value(
                    name, key, "turnout_change_published_abs_pp", turnout["change"], parse_pp
                ),
                "seats_total_count": int(seats.group(1)),
            }
        ]
    }
