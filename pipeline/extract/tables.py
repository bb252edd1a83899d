"""Table parsers: from a Document's tables to tidy records, one list of dicts per published table.

Each parser finds its table by section heading and header text, maps columns by header text (so a
reordered column still lands in the right field, and an unknown header stops the build), and reads
every cell through `Extraction.value` so that errata are applied and errors name table, row and
column.
"""

from __future__ import annotations

import datetime as dt
import re

from pipeline.errata import format_key
from pipeline.errors import PipelineError
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
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document, SourceTable

ELECTION_DAY = dt.date(2023, 3, 19)
NATIONAL = "national (unlabelled row)"


def _trim(row: list[str]) -> list[str]:
    """Drop the empty cells a collapsed span leaves at the end of a row."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _collapse_repeats(cells: list[str]) -> list[str]:
    """Header labels with the repeats a colspan leaves in an expanded grid (HTML front end) removed."""
    return [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]


def _sub_header(header: list[list[str]]) -> list[str]:
    """The labels of the last header row that are not also in the rows above it (those are rowspan
    repeats in an expanded grid), empty cells dropped."""
    above = {header_key(c) for row in header[:-1] for c in row}
    return [header_key(c) for c in header[-1] if c and header_key(c) not in above]


def _require_width(table: str, row: list[str], width: int, label: str, where: SourceTable) -> list[str]:
    cells = _trim(row)
    if len(cells) > width or len(cells) < width - 1:
        raise PipelineError(
            "extract",
            f"expected {width} cells, found {len(cells)} ({' | '.join(cells)}).",
            table=table,
            row=label,
            hint=f"Source table at {where.location}.",
        )
    return cells + [""] * (width - len(cells))


def _columns(table: str, header: list[str], fixed: dict[str, str], ctx: Extraction, where: SourceTable) -> list[str]:
    """Map header cells to column roles: a key of `fixed`, or 'option:<option_id>'."""
    roles = []
    for label in _collapse_repeats(_trim(header)):
        key = header_key(label)
        if key in fixed:
            roles.append(fixed[key])
            continue
        option_id = ctx.reference.option_id(label)
        if option_id is None:
            raise PipelineError(
                "extract",
                f"unexpected column header {label!r}.",
                table=table,
                row="header",
                hint=f"Source table at {where.location}; known headers: "
                f"{', '.join(fixed.values())} and the option names.",
            )
        roles.append(f"option:{option_id}")
    duplicated = {r for r in roles if roles.count(r) > 1}
    if duplicated:
        raise PipelineError(
            "extract", f"column headers appear twice: {', '.join(sorted(duplicated))}.", table=table, row="header"
        )
    missing = [r for r in fixed.values() if r not in roles and not r.startswith("?")]
    if missing:
        raise PipelineError("extract", f"missing column headers: {', '.join(missing)}.", table=table, row="header")
    return roles


# --- Party-list results by region -------------------------------------------------------------

PARTY_LIST_FIXED = {"region": "region", "registeredvoters": "registered", "invalidblank": "invalid", "total": "total"}


def extract_party_list(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "party_list_results"
    table = doc.find_table(name, section="Party-list vote", header=["Region", "Registered voters", "Invalid/ blank"])
    header = table.header_rows()
    if len(header) != 2:
        raise PipelineError("extract", f"expected two header rows, found {len(header)}.", table=name, row="header")
    roles = _columns(name, header[0], PARTY_LIST_FIXED, ctx, table)
    layout: list[tuple[str, str]] = []
    for role in roles:
        if role.startswith("option:") or role == "total":
            layout += [(role, "votes"), (role, "pct")]
        else:
            layout.append((role, ""))
    sub = _sub_header(header)
    expected_sub = [header_key("Votes" if part == "votes" else "%") for _, part in layout if part]
    if sub != expected_sub:
        raise PipelineError(
            "extract",
            f"second header row should read {' | '.join(expected_sub)}, found {' | '.join(sub)}.",
            table=name,
            row="header",
        )
    option_ids = [r.split(":", 1)[1] for r in roles if r.startswith("option:")]
    ballot = [o["option_id"] for o in ctx.reference.options if o["option_kind"] in ("party", "against_all")]
    if sorted(option_ids) != sorted(ballot):
        raise PipelineError(
            "extract",
            f"the header should name every ballot option ({', '.join(ballot)}); found {', '.join(option_ids)}.",
            table=name,
            row="header",
        )

    parsed = []
    for number, row in enumerate(table.data_rows(), start=1):
        label = row[0] if row else ""
        cells = _require_width(name, row, len(layout), label or f"#{number} (unlabelled)", table)
        by_role = {f"{role}.{part}": cell for (role, part), cell in zip(layout, cells, strict=True)}
        parsed.append({"label": by_role["region."], "cells": by_role, "number": number})

    # Rows whose region cell is empty: the national totals row, and any region whose name was lost.
    labelled = [p for p in parsed if p["label"]]
    unlabelled = [p for p in parsed if not p["label"]]
    for p in labelled:
        p["region_id"] = ctx.region_id(name, p["label"], p["label"])
    for p in unlabelled:
        p["registered"] = parse_int_or_none(p["cells"]["registered."])
    national = None
    if unlabelled:
        candidate = max(unlabelled, key=lambda p: p["registered"] or -1)
        if candidate["registered"] and all(
            candidate["registered"] > (parse_int_or_none(p["cells"]["registered."]) or 0) for p in labelled
        ):
            national = candidate
            ctx.infer(
                "national_ballots",
                {"country_code": "KZ"},
                "country_code",
                "KZ",
                f"A row of the party-list table has no label; its registered voters "
                f"({candidate['registered']:,}) exceed every region's, so it is the national totals row.",
            )
    if national is None:
        raise PipelineError(
            "extract", "no national totals row (an unlabelled row larger than every region).", table=name
        )
    rest = [p for p in unlabelled if p is not national]
    missing = sorted({r["region_id"] for r in ctx.reference.regions} - {p["region_id"] for p in labelled})
    if len(rest) == 1 and len(missing) == 1:
        rest[0]["region_id"] = missing[0]
        ctx.infer(
            "region_ballots",
            {"region_id": missing[0]},
            "region_id",
            missing[0],
            f"A row of the party-list table (registered voters {rest[0]['cells']['registered.']}) has an "
            f"empty region cell; {missing[0]} is the only region without a row, so the row is taken to be it.",
        )
    elif rest or missing:
        raise PipelineError(
            "extract",
            f"{len(rest)} rows without a region name and regions without a row: {', '.join(missing) or 'none'}.",
            table=name,
            column="region_id",
        )
    regions = [p for p in parsed if p is not national]
    seen = [p["region_id"] for p in regions]
    duplicates = sorted({r for r in seen if seen.count(r) > 1})
    if duplicates:
        raise PipelineError(
            "extract", f"regions appear twice: {', '.join(duplicates)}.", table=name, column="region_id"
        )

    out = {"party_list_results": [], "region_ballots": [], "national_party_list_results": [], "national_ballots": []}
    for p in parsed:
        is_national = p is national
        key = {"country_code": "KZ"} if is_national else {"region_id": p["region_id"]}
        ballots_table = "national_ballots" if is_national else "region_ballots"
        results_table = "national_party_list_results" if is_national else "party_list_results"
        cells = p["cells"]
        out[ballots_table].append(
            {
                **key,
                "registered_voters_count": ctx.value(
                    ballots_table, key, "registered_voters_count", cells["registered."], parse_int
                ),
                "invalid_ballots_count": ctx.value(
                    ballots_table, key, "invalid_ballots_count", cells["invalid."], parse_int
                ),
                "ballots_cast_count": ctx.value(
                    ballots_table, key, "ballots_cast_count", cells["total.votes"], parse_int
                ),
                "turnout_pct": ctx.value(ballots_table, key, "turnout_pct", cells["total.pct"], parse_pct),
            }
        )
        for option_id in option_ids:
            row_key = ({} if is_national else key) | {"option_id": option_id}
            out[results_table].append(
                {
                    **row_key,
                    "votes": ctx.value(results_table, row_key, "votes", cells[f"option:{option_id}.votes"], parse_int),
                    "vote_share_pct": ctx.value(
                        results_table, row_key, "vote_share_pct", cells[f"option:{option_id}.pct"], parse_pct
                    ),
                }
            )
    return out


def parse_int_or_none(text: str) -> int | None:
    try:
        return parse_int(text)
    except ValueError:
        return None


# --- Turnout through the day ------------------------------------------------------------------


def extract_turnout(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "turnout_by_hour"
    table = doc.find_table(name, section="Voter turnout", header=["Region", "Time"])
    header = table.header_rows()
    labels = [c for c in _trim(header[-1]) if header_key(c) != "region"]  # an expanded grid repeats 'Region'
    try:
        times = [parse_time(cell) for cell in labels]
    except ValueError as error:
        raise PipelineError(
            "extract", f"the last header row should list reporting times: {error}.", table=name, row="header"
        ) from None
    if len(set(times)) != len(times):
        raise PipelineError("extract", "a reporting time appears twice.", table=name, row="header")
    stamps = [dt.datetime.combine(ELECTION_DAY, t) for t in times]
    out = {"turnout_by_hour": [], "national_turnout_by_hour": []}
    seen: set[str] = set()
    national_rows = 0
    for row in table.data_rows():
        label = row[0] if row else ""
        cells = _require_width(name, row, 1 + len(times), label or NATIONAL, table)[1:]
        if not label:
            national_rows += 1
            ctx.infer(
                "national_turnout_by_hour",
                {"row": "national"},
                "region_id",
                "(national)",
                "The turnout table's row without a region label gives voter counts with the "
                "percentages, so it is taken as the national figure.",
            )
            for stamp, cell in zip(stamps, cells, strict=True):
                key = {"reported_at": stamp.isoformat()}
                count, pct = ctx.value("national_turnout_by_hour", key, "voters_count", cell, parse_count_pct)
                out["national_turnout_by_hour"].append(
                    {"reported_at": stamp, "voters_count": count, "turnout_pct": pct}
                )
            continue
        region_id = ctx.region_id(name, label, label)
        if region_id in seen:
            raise PipelineError("extract", f"region {region_id} appears twice.", table=name, row=label)
        seen.add(region_id)
        for stamp, cell in zip(stamps, cells, strict=True):
            key = {"region_id": region_id, "reported_at": stamp.isoformat()}
            out[name].append(
                {
                    "region_id": region_id,
                    "reported_at": stamp,
                    "turnout_pct": ctx.value(name, key, "turnout_pct", cell, parse_pct),
                }
            )
    if national_rows != 1:
        raise PipelineError(
            "extract",
            f"expected one national row (no region label), found {national_rows}.",
            table="national_turnout_by_hour",
        )
    return out


# --- Single-member districts ------------------------------------------------------------------

_RUNNER_UP = re.compile(
    r"(?P<name>.+?),\s*(?P<party>.+?)\s+(?P<pct>\d+(?:\.\d+)?\s?%)\s*"
    r"\((?P<votes>[\d,.]+)\s+votes\)"
)
_INDEPENDENT = re.compile(r"Independent(?:\s*\((?P<affiliation>[^)]+)\))?", re.IGNORECASE)
DISTRICT_FULL = ["region", "district", "seats", "swatch", "candidate", "party", "votes", "pct", "runner_up"]
DISTRICT_CONTINUED = ["district", "swatch", "candidate", "party", "votes", "pct", "runner_up"]


def _party_fields(ctx: Extraction, table: str, text: str, where: str) -> dict:
    independent = _INDEPENDENT.fullmatch(clean(text))
    if independent:
        affiliation = independent["affiliation"]
        affiliation_party = ctx.reference.option_id(affiliation) if affiliation else None
        if affiliation_party not in ctx.reference.party_ids:
            affiliation_party = None
        return {
            "is_independent": True,
            "candidate_party_id": None,
            "affiliation_name": clean(affiliation) if affiliation else None,
            "affiliation_party_id": affiliation_party,
        }
    return {
        "is_independent": False,
        "candidate_party_id": ctx.option_id(table, text, where, party_only=True),
        "affiliation_name": None,
        "affiliation_party_id": None,
    }


def extract_districts(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "district_results"
    table = doc.find_table(
        name, section="Constituency vote", header=["Region", "No.", "Candidate", "Party", "Votes", "Runner-up"]
    )
    region_id = None
    districts, results = [], []
    for row in table.data_rows():
        cells = _trim(row)
        if cells and ctx.reference.region_id(cells[0]):
            fields = dict(
                zip(DISTRICT_FULL, _require_width(name, row, len(DISTRICT_FULL), cells[0], table), strict=True)
            )
            region_id = ctx.region_id(name, fields["region"], fields["region"])
        else:
            fields = dict(
                zip(
                    DISTRICT_CONTINUED,
                    _require_width(name, row, len(DISTRICT_CONTINUED), cells[0] if cells else "?", table),
                    strict=True,
                )
            )
            if region_id is None:
                raise PipelineError(
                    "extract", "a district row comes before any region name.", table=name, row=" | ".join(cells)
                )
        number = ctx.value(
            "districts", {"district_number": fields["district"]}, "district_number", fields["district"], parse_int
        )
        if "region" not in fields:
            ctx.infer(
                "districts",
                {"district_number": number},
                "region_id",
                region_id,
                "The region cell spans several district rows in the article (a rowspan); the district "
                "takes the region named on the row above.",
            )
        districts.append({"district_number": number, "region_id": region_id})
        where = f"district {number}"
        winner_key = {"district_number": number, "candidate_rank": 1}
        results.append(
            {
                **winner_key,
                "candidate_name": _candidate_name(name, fields["candidate"], where),
                **_party_fields(ctx, name, fields["party"], where),
                "votes": ctx.value(name, winner_key, "votes", fields["votes"], parse_int),
                "vote_share_pct": ctx.value(name, winner_key, "vote_share_pct", fields["pct"], parse_pct),
            }
        )
        runner = _RUNNER_UP.fullmatch(fields["runner_up"])
        if not runner:
            raise PipelineError(
                "extract",
                f"cannot read the runner-up cell {fields['runner_up']!r}; expected 'Name, Party 12.34% (1,234 votes)'.",
                table=name,
                row=where,
                column="runner_up",
            )
        runner_key = {"district_number": number, "candidate_rank": 2}
        results.append(
            {
                **runner_key,
                "candidate_name": _candidate_name(name, runner["name"], where),
                **_party_fields(ctx, name, runner["party"], where),
                "votes": ctx.value(name, runner_key, "votes", runner["votes"], parse_int),
                "vote_share_pct": ctx.value(name, runner_key, "vote_share_pct", runner["pct"], parse_pct),
            }
        )
    return {"districts": districts, "district_results": results}


def _name(text: str) -> str:
    """A person's name cell: non-empty text without digits."""
    text = clean(text)
    if not text or any(ch.isdigit() for ch in text):
        raise ValueError(f"expected a name, found {text!r}")
    return text


def _candidate_name(table: str, text: str, where: str) -> str:
    text = clean(text)
    if not text or any(ch.isdigit() for ch in text):
        raise PipelineError(
            "extract", f"expected a candidate's name, found {text!r}.", table=table, row=where, column="candidate_name"
        )
    return text


# --- Parties ----------------------------------------------------------------------------------

_PARTY_TABLE_STATUS = {"new": "new", "didnotparticipate": "boycotted"}


def extract_parties(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "parties"
    table = doc.find_table(name, section="Contesting", header=["Name", "No.", "Ideology", "Leader"])
    rows = []
    # Columns: swatch, short name, full name ("Name" spans three), No., Ideology, Position, Leader,
    # 2021 result (votes %, seats), Political stance. Where the 2021 result is a word ('New', 'Did not
    # participate') the cell spanned both result columns, so the stance comes one cell earlier.
    for row in table.data_rows():
        cells = _require_width(name, row, 10, row[1] if len(row) > 1 else "?", table)
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
            share = None
            if status == "boycotted":
                ctx.infer(
                    name,
                    key,
                    "status_2021",
                    status,
                    f"The party table says {result!r} for 2021; the infobox says the party boycotted that election.",
                )
                share = 0.0
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
                "leader_name": ctx.value(name, key, "leader_name", cells[6], _name),
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
    ctx.missing(
        name,
        {"party_id": "*"},
        "seats_2021_count",
        "the party table's 2021 'Seats' column is empty in every row (the infobox gives the seats)",
    )
    return {"parties": rows}


# --- Polls ------------------------------------------------------------------------------------

POLL_FIXED = {"pollingfirm": "pollster", "fieldworkdate": "fieldwork", "samplesize": "sample", "margin": "margin"}
EXIT_POLL_FIXED = {"pollingfirm": "pollster", "samplesize": "sample", "turnout": "turnout"}


def _poll_option_rows(ctx: Extraction, name: str, key: dict, roles: list[str], cells: dict, common: dict) -> list[dict]:
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
    roles = _columns(name, table.header_rows()[-1], POLL_FIXED, ctx, table)
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, _require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
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
        rows += _poll_option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}


def extract_exit_polls(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "exit_polls"
    table = doc.find_table(name, section="Exit polls", header=["Polling firm", "Sample size", "Turnout"])
    roles = _columns(name, table.header_rows()[-1], EXIT_POLL_FIXED, ctx, table)
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, _require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
        poll_id = f"{slug(cells['pollster'])}_exit_{ELECTION_DAY:%Y_%m_%d}"
        key = {"poll_id": poll_id}
        common = {
            "poll_id": poll_id,
            "pollster_name": cells["pollster"],
            "respondents_count": ctx.value(name, key, "respondents_count", cells["sample"], parse_int),
            "turnout_estimate_pct": ctx.value(name, key, "turnout_estimate_pct", cells["turnout"], parse_pct),
        }
        rows += _poll_option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}


PARSERS = [
    extract_parties,
    extract_party_list,
    extract_turnout,
    extract_districts,
    extract_opinion_polls,
    extract_exit_polls,
]


def extract_tables(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Every published table's records, reference tables included."""
    tables: dict[str, list[dict]] = {
        "regions": ctx.reference.region_rows(),
        "region_aliases": ctx.reference.alias_rows(),
        "vote_options": ctx.reference.option_rows(),
    }
    for parser in PARSERS:
        for name, records in parser(doc, ctx).items():
            if name in tables:
                raise PipelineError("extract", "two parsers produce the same table.", table=name)
            tables[name] = records
    ctx.check_errata_used()
    tables["errata"] = ctx.applied
    tables["extraction_inferences"] = ctx.inferences
    tables["source_gaps"] = ctx.nulls
    return tables


# --- National results: the infobox and the results prose -----------------------------------

_DISAMBIGUATION = re.compile(r"\s*\([^)]*\)$")
_LAST_ELECTION = re.compile(r"(?P<pct>\d+(?:\.\d+)?%),\s*(?P<seats>\d+) seats?")
_PREVIOUS_STATUS = {"didnotexist": "new", "boycotted": "boycotted"}


def _infobox_abs(parse):
    """Reader for an infobox change cell: the magnitude it shows, or None where it says 'New'."""

    def read(text: str):
        return None if header_key(text) == "new" else parse(text)

    return read


def _parse_pp(text: str) -> float:
    text = clean(text)
    if not re.fullmatch(r"\d+(?:\.\d+)?pp", text):
        raise ValueError(f"expected percentage points like 17.19pp, found {text!r}")
    return float(text[:-2])


def extract_national_results(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
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
        rows[party_id] = {
            "party_id": party_id,
            "leader_name": leader,
            "votes": ctx.value(name, key, "votes", cell("Popular Vote"), parse_int),
            "vote_share_pct": ctx.value(name, key, "vote_share_pct", cell("Percentage"), parse_pct),
            "seats_count": ctx.value(name, key, "seats_count", cell("Seats"), parse_int),
            "status_2021": status,
            # A party that boycotted 2021 had no votes and no seats: a fact, not a blank.
            "vote_share_2021_pct": (
                ctx.value(name, key, "vote_share_2021_pct", previous["pct"], parse_pct)
                if previous
                else 0.0
                if status == "boycotted"
                else None
            ),
            "seats_2021_count": (
                ctx.value(name, key, "seats_2021_count", previous["seats"], parse_int)
                if previous
                else 0
                if status == "boycotted"
                else None
            ),
            "seat_change_published_abs": ctx.value(
                name, key, "seat_change_published_abs", cell("Seat Change"), _infobox_abs(parse_int)
            ),
            "swing_published_abs_pp": ctx.value(
                name, key, "swing_published_abs_pp", cell("Swing"), _infobox_abs(_parse_pp)
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
            ctx.missing(
                name,
                {"party_id": party_id},
                "(infobox values)",
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
                ctx.infer(
                    name,
                    {"party_id": party_id},
                    "list_seats_count",
                    0,
                    "The Results prose says the party 'failed to surpass the 5% electoral threshold', so it "
                    "won no party-list seats.",
                )
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


# --- Candidates by party ------------------------------------------------------------------------


def _parse_day(text: str) -> dt.date:
    start, end = parse_date_range(text)
    if start != end:
        raise ValueError(f"expected one day, found a range {text!r}")
    return start


def extract_party_candidates(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "party_candidates"
    table = doc.find_table(
        name,
        section="Candidates by party affiliation",
        header=["Party", "No. 1 in party list", "Party list registration"],
    )
    header = table.header_rows()
    sub = _sub_header(header)
    if sub != ["partylist", "singlememberdistrict"]:
        raise PipelineError(
            "extract",
            f"second header row should read 'Party list | Single-member district', found "
            f"{' | '.join(_trim(header[-1]))}.",
            table=name,
            row="header",
        )
    # Columns: swatch, party, first on the list, list candidates, district candidates, total, registration.
    rows = []
    for row in table.data_rows():
        cells = _trim(row)
        label = cells[1] if len(cells) > 1 else ""
        if header_key(label) == "independents":
            figures = _collapse_repeats([c for c in cells[2:] if c and not c.startswith("colspan")])
            if len(figures) != 1:
                raise PipelineError(
                    "extract", f"expected one figure for independents, found {figures}.", table=name, row="Independents"
                )
            key = {"nominator_id": "independent"}
            count = ctx.value(name, key, "district_candidates_count", figures[0], parse_int)
            ctx.infer(
                name,
                key,
                "district_candidates_count",
                count,
                "The independents' row keeps one figure after a collapsed colspan; it is the single-member "
                "district count (independents cannot stand on party lists, and the prose gives 359 registered "
                "independent district candidates).",
            )
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
        cells = _require_width(name, row, 7, label or "?", table)
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
                "list_registered_date": ctx.value(name, key, "list_registered_date", cells[6], _parse_day),
            }
        )
    found = [r["party_id"] for r in rows if r["party_id"]]
    if sorted(found) != sorted(ctx.reference.party_ids):
        raise PipelineError("extract", f"expected each party once, found {', '.join(found)}.", table=name)
    return {name: rows}


# --- Districts per region as the article states them -------------------------------------------


def extract_region_district_counts(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """The 'Electoral districts' table (two side-by-side halves) and the results table's 'Total seats'."""
    name = "region_district_counts"
    stated: dict[str, str] = {}
    # The article lays the table out in two halves side by side (one table in the text rendering, two
    # wikitables in the HTML): read every table under the heading.
    candidates = [t for t in doc.tables if header_key("Electoral districts") in {header_key(s) for s in t.section}]
    if not candidates:
        raise PipelineError("extract", "no table under the heading 'Electoral districts'.", table=name)
    for row in (row for table in candidates for row in table.rows):
        cells = _trim(row)
        if len(cells) == 2 and ctx.reference.region_id(cells[0]):
            region_id = ctx.region_id(name, cells[0], cells[0])
            if region_id in stated:
                raise PipelineError("extract", f"region {region_id} appears twice.", table=name, row=cells[0])
            stated[region_id] = cells[1]
        elif cells and not {header_key(c) for c in cells if c} <= {"region", "deputies"}:
            raise PipelineError("extract", f"unexpected row {' | '.join(cells)!r}.", table=name)
    results = doc.find_table(
        name, section="Constituency vote", header=["Region", "No.", "Candidate", "Party", "Votes", "Runner-up"]
    )
    total_seats: dict[str, str] = {}
    for row in results.data_rows():
        cells = _trim(row)
        if cells and ctx.reference.region_id(cells[0]):
            total_seats[ctx.region_id(name, cells[0], cells[0])] = cells[2]
    rows = []
    for region in ctx.reference.regions:
        region_id = region["region_id"]
        key = {"region_id": region_id}
        if region_id not in stated:
            ctx.missing(
                name,
                key,
                "districts_listed_count",
                "the article's 'Electoral districts' table has no row for this region",
            )
        if region_id not in total_seats:
            ctx.missing(
                name,
                key,
                "district_seats_elected_count",
                "the constituency results table gives no 'Total seats' for this region",
            )
        rows.append(
            {
                "region_id": region_id,
                "districts_listed_count": (
                    ctx.value(name, key, "districts_listed_count", stated[region_id], parse_int)
                    if region_id in stated
                    else None
                ),
                "district_seats_elected_count": (
                    ctx.value(name, key, "district_seats_elected_count", total_seats[region_id], parse_int)
                    if region_id in total_seats
                    else None
                ),
            }
        )
    return {name: rows}


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
                as_of = ctx.value(name, {"sentence": sentence[:40]}, "as_of_date", date["date"], _parse_day)
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


# --- Infobox national figures, timetable, debates ------------------------------------------------


def extract_infobox_figures(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
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
    ctx.missing(
        name,
        key,
        "turnout_change_pp",
        "the infobox prints the turnout change without its sign and the "
        "article does not give the 2021 turnout, so the signed change is not published",
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
                    name, key, "turnout_change_published_abs_pp", turnout["change"], _parse_pp
                ),
                "seats_total_count": int(seats.group(1)),
            }
        ]
    }


def _day_in_2023(text: str) -> dt.date:
    """'19 January' (the timetable omits the year) -> 2023-01-19."""
    return _parse_day(f"{clean(text)} {ELECTION_DAY.year}")


_TIMETABLE_WHEN = re.compile(
    r"(?P<start>\d{1,2} [A-Za-z]+)(?:\s*[–-]\s*(?P<end>\d{1,2} [A-Za-z]+))?"
    r"(?:,\s*(?P<time>\d{1,2}:\d{2}))?"
)


def extract_timetable(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "election_timetable"
    table = doc.find_table(name, section="Timetable", header=["Date", "Event"])
    if [header_key(c) for c in _trim(table.rows[0])] != ["date", "event"]:
        raise PipelineError(
            "extract", "the timetable's first row should read 'Date | Event'.", table=name, row="header"
        )
    rows = []
    for row in table.rows[1:]:  # the days are not figures, so the header is just the first row
        date_text, event = _require_width(name, row, 2, row[-1] if row else "?", table)
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
        start = ctx.value(name, key, "start_date", when["start"], _day_in_2023)
        end = ctx.value(name, key, "end_date", when["end"], _day_in_2023) if when["end"] else start
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


_DEBATE_DAY = re.compile(r"(?:held (?:for|on)|take place on) (?P<day>\d{1,2} [A-Z][a-z]+(?: \d{4})?)")


def _parse_duration(text: str) -> int:
    match = re.fullmatch(r"(\d+):([0-5]\d):([0-5]\d)", clean(text))
    if not match:
        raise ValueError(f"expected a duration like 1:25:33, found {text!r}")
    hours, minutes, seconds = map(int, match.groups())
    return hours * 3600 + minutes * 60 + seconds


def extract_debates(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    name = "debates"
    table = doc.find_table(name, section="Debates", header=["Organisers", "Location", "Moderator(s)", "Duration"])
    header_end = next((i for i, row in enumerate(table.rows) if row and _is_time(row[0])), None)
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
        cells = _require_width(name, row, width, row[1] if len(row) > 1 else "?", table)
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
                "duration_seconds": ctx.value(
                    name, key, "duration_seconds", cells[5 + len(party_ids)], _parse_duration
                ),
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
    ctx.infer(
        "debate_participants",
        {"debate_id": "*"},
        "participation_code",
        "P/R",
        "The table does not explain its codes. 'P' is read as the party's leader and 'R' as a representative: "
        "the prose has QHP chairman Ertisbaev speak in the KTK debate (QHP 'P') and QHP member Oksana "
        "Äubäkirova stand in for him in the Khabar debate (QHP 'R').",
    )
    return {"debates": debates, "debate_participants": participants, **_debate_poll(doc, ctx, debates)}


def _is_time(text: str) -> bool:
    try:
        parse_time(text)
        return True
    except ValueError:
        return False


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
        "debates", key, "starts_at", text if re.search(r"\d{4}$", text) else f"{text} {ELECTION_DAY.year}", _parse_day
    )
    ctx.infer(
        "debates",
        key,
        "starts_at",
        day.isoformat(),
        f"The table lost the debate's day; the Debates prose says the {organiser} debate was held on {text}.",
    )
    return day


def _debate_poll(doc: Document, ctx: Extraction, debates: list[dict]) -> dict[str, list[dict]]:
    name = "debate_polls"
    table = doc.find_table(name, section="Debates", header=["Debate", "Polling firm", "Respondents"])
    roles = _columns(
        name,
        table.header_rows()[-1],
        {"debate": "debate", "pollingfirm": "pollster", "respondents": "sample"},
        ctx,
        table,
    )
    rows = []
    for row in table.data_rows():
        cells = dict(zip(roles, _require_width(name, row, len(roles), row[0] if row else "?", table), strict=True))
        day = ctx.value(name, {"debate": cells["debate"]}, "debate_id", cells["debate"], _parse_day)
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
        rows += _poll_option_rows(ctx, name, key, roles, cells, common)
    return {name: rows}


PARSERS += [
    extract_national_results,
    extract_party_candidates,
    extract_region_district_counts,
    extract_voter_roll_reports,
    extract_infobox_figures,
    extract_timetable,
    extract_debates,
]
