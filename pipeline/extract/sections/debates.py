"""Debates: the televised debates, who took part, and the audience poll of the KTK debate."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    header_key,
    is_time,
    parse_day,
    parse_duration,
    parse_int,
    parse_pct,
    parse_time,
    slug,
)
from pipeline.extract.context import ELECTION_DAY, Extraction
from pipeline.extract.document import Document
from pipeline.extract.errata import format_key
from pipeline.extract.grid import map_columns, require_width

_DEBATE_DAY = re.compile(r"(?:held (?:for|on)|take place on) (?P<day>\d{1,2} [A-Z][a-z]+(?: \d{4})?)")


def extract_debates(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The debates, who took part in each, and the audience poll of the KTK debate."""
    name = "debates"
    table = doc.find_table(name, section="Debates", header=["Organisers", "Location", "Moderator(s)", "Duration"])
    header_end = next((i for i, row in enumerate(table.rows) if row and is_time(row[0])), None)
    if header_end is None:
        raise PipelineError("extract", "no debate rows (rows starting with a time like 20:30).", table=name)
    party_row = [c for c in table.rows[header_end - 1] if c and ctx.reference.option_id(c)]
    party_ids = [ctx.option_id(name, label, "header", party_only=True) for label in party_row]
    if sorted(party_ids) != sorted(ctx.reference.party_ids):
        raise PipelineError(
            "extract",
            f"the party header row should name the seven parties, found {party_row}.",
            table=name,
            row="header",
        )
    width = 5 + len(party_ids) + 2  # time, organiser, location, languages, moderators, parties, duration, source
    debates, participants = [], []
    prose = [text for path, text in doc.paragraphs if header_key("Debates") in {header_key(s) for s in path}]
    for row in table.rows[header_end:]:
        cells = require_width(name, row, width, row[1] if len(row) > 1 else "?", table)
        organiser = cells[1]
        if not slug(organiser):
            raise PipelineError(
                "extract",
                "the organiser cell is empty; it identifies the debate.",
                table=name,
                row=f"starting {cells[0]}",
                column="organiser_name",
            )
        debate_id = slug(organiser)
        key = {"debate_id": debate_id}
        day = _debate_day(ctx, prose, organiser, key)
        start = dt.datetime.combine(day, ctx.value(name, key, "starts_at", cells[0], parse_time))
        if not cells[4]:
            ctx.missing(name, key, "moderator_names", "the moderators cell of the debates table is empty")
        debates.append(
            {
                "debate_id": debate_id,
                "starts_at": start,
                "date_source": "prose",
                "organiser_name": organiser,
                "location_name": cells[2],
                "languages_text": cells[3],
                "moderator_names": cells[4] or None,
                "duration_seconds": ctx.value(name, key, "duration_seconds", cells[5 + len(party_ids)], parse_duration),
            }
        )
        for party_id, code in zip(party_ids, cells[5 : 5 + len(party_ids)], strict=True):
            if code not in {"P", "R"}:
                raise PipelineError(
                    "extract",
                    f"expected a participation code P or R, found {code!r}.",
                    table="debate_participants",
                    row=f"debate_id={debate_id}, party_id={party_id}",
                    column="participation_code",
                )
            participants.append({"debate_id": debate_id, "party_id": party_id, "participation_code": code})
    inferences.participation_codes(ctx)
    return {"debates": debates, "debate_participants": participants, **_debate_poll(doc, ctx, debates)}


def _debate_day(ctx: Extraction, prose: list[str], organiser: str, key: dict) -> dt.date:
    """The day of a debate from the Debates prose: the paragraph that names its organiser."""
    found = {m["day"] for text in prose if organiser.split()[0] in text for m in _DEBATE_DAY.finditer(text)}
    if len(found) != 1:
        raise PipelineError(
            "extract",
            f"expected the Debates prose to give one day for the {organiser} debate, found {sorted(found) or 'none'}.",
            table="debates",
            row=format_key(key),
            column="starts_at",
        )
    text = found.pop()
    day = ctx.value(
        "debates", key, "starts_at", text if re.search(r"\d{4}$", text) else f"{text} {ELECTION_DAY.year}", parse_day
    )
    inferences.debate_day_from_prose(ctx, key, day.isoformat(), organiser, text)
    return day


def _debate_poll(doc: Document, ctx: Extraction, debates: list[dict]) -> dict[str, list[dict]]:
    name = "debate_polls"
    table = doc.find_table(name, section="Debates", header=["Debate", "Polling firm", "Respondents"])
    roles = map_columns(
        name,
        table.header_rows()[-1],
        {"debate": "debate", "pollingfirm": "pollster", "respondents": "sample"},
        ctx,
        table,
    )
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
        day = ctx.value(name, {"debate": cells["debate"]}, "debate_id", cells["debate"], parse_day)
        matching = [d["debate_id"] for d in debates if d["starts_at"].date() == day]
        if len(matching) != 1:
            raise PipelineError(
                "extract", f"no single debate on {day}.", table=name, row=cells["debate"], column="debate_id"
            )
        key = {"debate_id": matching[0]}
        common = {
            "debate_id": matching[0],
            "pollster_name": cells["pollster"],
            "respondents_count": ctx.value(name, key, "respondents_count", cells["sample"], parse_int),
        }
        rows += option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}


def option_rows(ctx: Extraction, name: str, key: dict, roles: list[str], cells: dict, common: dict) -> list[dict]:
    """One row per option column of a poll, the poll's own columns repeated."""
    rows = []
    for role in roles:
        if role.startswith("option:"):
            option_id = role.split(":", 1)[1]
            rows.append(
                {
                    **common,
                    "option_id": option_id,
                    "share_pct": ctx.value(name, key | {"option_id": option_id}, "share_pct", cells[role], parse_pct),
                }
            )
    return rows
