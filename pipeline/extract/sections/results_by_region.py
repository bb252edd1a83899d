"""Results > Results by region > Party-list vote: votes and ballots per region, and the totals row."""

from __future__ import annotations

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    header_key,
    parse_int,
    parse_int_or_none,
    parse_pct,
)
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import map_columns, require_width, sub_header

# --- Party-list results by region -------------------------------------------------------------

PARTY_LIST_FIXED = {"region": "region", "registeredvoters": "registered", "invalidblank": "invalid", "total": "total"}


def extract_party_list(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Party-list votes and ballots per region, and the national totals row."""
    name = "party_list_results"
    table = doc.find_table(name, section="Party-list vote", header=["Region", "Registered voters", "Invalid/ blank"])
    header = table.header_rows()
    if len(header) != 2:
        raise PipelineError("extract", f"expected two header rows, found {len(header)}.", table=name, row="header")
    roles = map_columns(name, header[0], PARTY_LIST_FIXED, ctx, table)
    layout: list[tuple[str, str]] = []
    for role in roles:
        if role.startswith("option:") or role == "total":
            layout += [(role, "votes"), (role, "pct")]
        else:
            layout.append((role, ""))
    sub = sub_header(header)
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
        cells = require_width(name, row, len(layout), label or f"#{number} (unlabelled)", table)
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
            inferences.national_totals_row(ctx, candidate["registered"])
    if national is None:
        raise PipelineError(
            "extract", "no national totals row (an unlabelled row larger than every region).", table=name
        )
    rest = [p for p in unlabelled if p is not national]
    missing = sorted({r["region_id"] for r in ctx.reference.regions} - {p["region_id"] for p in labelled})
    if len(rest) == 1 and len(missing) == 1:
        rest[0]["region_id"] = missing[0]
        inferences.region_by_elimination(ctx, missing[0], rest[0]["cells"]["registered."])
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
