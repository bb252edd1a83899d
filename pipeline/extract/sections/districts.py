"""Results > Constituency vote (the 29 district races) and the districts per region the article states."""

from __future__ import annotations

import re

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    clean,
    header_key,
    parse_int,
    parse_name,
    parse_pct,
)
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import require_width, trim

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
    """The 29 districts and each race's winner and runner-up."""
    name = "district_results"
    table = doc.find_table(
        name, section="Constituency vote", header=["Region", "No.", "Candidate", "Party", "Votes", "Runner-up"]
    )
    region_id = None
    districts, results = [], []
    for row in table.data_rows():
        cells = trim(row)
        if cells and ctx.reference.region_id(cells[0]):
            fields = dict(
                zip(DISTRICT_FULL, require_width(name, row, len(DISTRICT_FULL), cells[0], table), strict=True)
            )
            region_id = ctx.region_id(name, fields["region"], fields["region"])
        else:
            fields = dict(
                zip(
                    DISTRICT_CONTINUED,
                    require_width(name, row, len(DISTRICT_CONTINUED), cells[0] if cells else "?", table),
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
            inferences.region_from_rowspan(ctx, number, region_id)
        districts.append({"district_number": number, "region_id": region_id})
        where = f"district {number}"
        winner_key = {"district_number": number, "candidate_rank": 1}
        results.append(
            {
                **winner_key,
                "candidate_name": ctx.value(name, winner_key, "candidate_name", fields["candidate"], parse_name),
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
                "candidate_name": ctx.value(name, runner_key, "candidate_name", runner["name"], parse_name),
                **_party_fields(ctx, name, runner["party"], where),
                "votes": ctx.value(name, runner_key, "votes", runner["votes"], parse_int),
                "vote_share_pct": ctx.value(name, runner_key, "vote_share_pct", runner["pct"], parse_pct),
            }
        )
    return {"districts": districts, "district_results": results}


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
        cells = trim(row)
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
        cells = trim(row)
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
