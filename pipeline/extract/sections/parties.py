"""Parties > Contesting (the party table) and Candidates by party affiliation."""

from __future__ import annotations

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    header_key,
    parse_day,
    parse_int,
    parse_name,
    parse_pct,
)
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import collapse_repeats, require_width, sub_header, trim

# --- Parties ----------------------------------------------------------------------------------

_PARTY_TABLE_STATUS = {"new": "new", "didnotparticipate": "boycotted"}


def extract_parties(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The seven parties on the ballot, from the party table."""
    name = "parties"
    table = doc.find_table(name, section="Contesting", header=["Name", "No.", "Ideology", "Leader"])
    rows = []
    # Columns: swatch, short name, full name ("Name" spans three), No., Ideology, Position, Leader,
    # 2021 result (votes %, seats), Political stance. Where the 2021 result is a word ('New', 'Did not
    # participate') the cell spanned both result columns, so the stance comes one cell earlier.
    for row in table.data_rows():
        cells = require_width(name, row, 10, row[1] if len(row) > 1 else "?", table)
        party_id = ctx.option_id(name, cells[1], cells[1], party_only=True)
        key = {"party_id": party_id}
        if not cells[2]:
            ctx.missing(name, key, "party_full_name", "the full-name cell of the article's party table is empty")
        if not cells[4]:
            ctx.missing(name, key, "ideology_text", "the ideology cell of the article's party table is empty")
        result = cells[7]
        status = _PARTY_TABLE_STATUS.get(header_key(result))
        # The stance is the row's last cell; a word result that spans both result cells leaves the text
        # rendering one cell short (and the HTML grid with the word twice).
        stance = next((c for c in reversed(cells[8:]) if c), "")
        if status:
            share = None  # a party that did not stand in 2021 had no result: null, and the status says why
            if status == "boycotted":
                inferences.boycott_from_party_table(ctx, key, result)
        else:
            status = "contested"
            share = ctx.value(name, key, "vote_share_2021_pct", result, parse_pct)
        rows.append(
            {
                "party_id": party_id,
                "ballot_number": ctx.value(name, key, "ballot_number", cells[3], parse_int),
                "party_short_name": cells[1],
                "party_full_name": cells[2] or None,
                "ideology_text": cells[4] or None,
                "political_position": cells[5],
                "leader_name": ctx.value(name, key, "leader_name", cells[6], parse_name),
                "status_2021": status,
                "vote_share_2021_pct": share,
                "political_stance": stance,
            }
        )
    found = [r["party_id"] for r in rows]
    missing = [p for p in ctx.reference.party_ids if p not in found]
    if missing or len(found) != len(set(found)):
        raise PipelineError(
            "extract",
            f"the party table should list each of the {len(ctx.reference.party_ids)} "
            f"parties once; missing: {', '.join(missing) or 'none'}; found: {', '.join(found)}.",
            table=name,
        )
    return {"parties": rows}


# --- Candidates by party ------------------------------------------------------------------------


def extract_party_candidates(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The candidates per party (and the independents) from the candidates table."""
    name = "party_candidates"
    table = doc.find_table(
        name,
        section="Candidates by party affiliation",
        header=["Party", "No. 1 in party list", "Party list registration"],
    )
    header = table.header_rows()
    sub = sub_header(header)
    if sub != ["partylist", "singlememberdistrict"]:
        raise PipelineError(
            "extract",
            f"second header row should read 'Party list | Single-member district', found "
            f"{' | '.join(trim(header[-1]))}.",
            table=name,
            row="header",
        )
    # Columns: swatch, party, first on the list, list candidates, district candidates, total, registration.
    rows = []
    for row in table.data_rows():
        cells = trim(row)
        label = cells[1] if len(cells) > 1 else ""
        if header_key(label) == "independents":
            figures = collapse_repeats([c for c in cells[2:] if c and not c.startswith("colspan")])
            if len(figures) != 1:
                raise PipelineError(
                    "extract", f"expected one figure for independents, found {figures}.", table=name, row="Independents"
                )
            key = {"nominator_id": "independent"}
            count = ctx.value(name, key, "district_candidates_count", figures[0], parse_int)
            inferences.independents_district_count(ctx, key, count)
            rows.append(
                {
                    "nominator_id": "independent",
                    "party_id": None,
                    "first_on_list_name": None,
                    "list_candidates_count": None,
                    "district_candidates_count": count,
                    "candidates_count": None,
                    "list_registered_date": None,
                }
            )
            continue
        cells = require_width(name, row, 7, label or "?", table)
        party_id = ctx.option_id(name, label, label, party_only=True)
        key = {"nominator_id": party_id}
        rows.append(
            {
                "nominator_id": party_id,
                "party_id": party_id,
                "first_on_list_name": cells[2],
                "list_candidates_count": ctx.value(name, key, "list_candidates_count", cells[3], parse_int),
                "district_candidates_count": ctx.value(name, key, "district_candidates_count", cells[4], parse_int),
                "candidates_count": ctx.value(name, key, "candidates_count", cells[5], parse_int),
                "list_registered_date": ctx.value(name, key, "list_registered_date", cells[6], parse_day),
            }
        )
    found = [r["party_id"] for r in rows if r["party_id"]]
    if sorted(found) != sorted(ctx.reference.party_ids):
        raise PipelineError("extract", f"expected each party once, found {', '.join(found)}.", table=name)
    return {name: rows}
