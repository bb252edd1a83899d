"""Opinion polls and exit polls."""

from __future__ import annotations

from pipeline.extract.cells import (
    parse_date_range,
    parse_int,
    parse_margin,
    parse_pct,
    slug,
)
from pipeline.extract.context import ELECTION_DAY, Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import map_columns, require_width

# --- Polls ------------------------------------------------------------------------------------

POLL_FIXED = {"pollingfirm": "pollster", "fieldworkdate": "fieldwork", "samplesize": "sample", "margin": "margin"}
EXIT_POLL_FIXED = {"pollingfirm": "pollster", "samplesize": "sample", "turnout": "turnout"}


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


def extract_opinion_polls(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "opinion_polls"
    table = doc.find_table(name, section="Opinion polls", header=["Polling firm", "Fieldwork date", "Margin"])
    roles = map_columns(name, table.header_rows()[-1], POLL_FIXED, ctx, table)
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
        pollster = cells["pollster"]
        start, end = ctx.value(
            name, {"pollster_name": pollster}, "fieldwork_end_date", cells["fieldwork"], parse_date_range
        )
        poll_id = f"{slug(pollster)}_{end:%Y_%m_%d}"
        key = {"poll_id": poll_id}
        common = {
            "poll_id": poll_id,
            "pollster_name": pollster,
            "fieldwork_start_date": start,
            "fieldwork_end_date": end,
            "respondents_count": ctx.value(name, key, "respondents_count", cells["sample"], parse_int),
            "margin_of_error_pp": ctx.value(name, key, "margin_of_error_pp", cells["margin"], parse_margin),
        }
        rows += option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}


def extract_exit_polls(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "exit_polls"
    table = doc.find_table(name, section="Exit polls", header=["Polling firm", "Sample size", "Turnout"])
    roles = map_columns(name, table.header_rows()[-1], EXIT_POLL_FIXED, ctx, table)
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
        poll_id = f"{slug(cells['pollster'])}_exit_{ELECTION_DAY:%Y_%m_%d}"
        key = {"poll_id": poll_id}
        common = {
            "poll_id": poll_id,
            "pollster_name": cells["pollster"],
            "respondents_count": ctx.value(name, key, "respondents_count", cells["sample"], parse_int),
            "turnout_estimate_pct": ctx.value(name, key, "turnout_estimate_pct", cells["turnout"], parse_pct),
        }
        rows += option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}
