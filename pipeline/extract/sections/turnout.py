"""Results > Voter turnout: turnout per region at each report on election day, and the national row."""

from __future__ import annotations

import datetime as dt

from pipeline.common.errors import PipelineError
from pipeline.extract import inferences
from pipeline.extract.cells import (
    header_key,
    parse_count_pct,
    parse_pct,
    parse_time,
)
from pipeline.extract.context import ELECTION_DAY, Extraction
from pipeline.extract.document import Document
from pipeline.extract.grid import require_width, trim

NATIONAL = "national (unlabelled row)"  # the label of the row without one, in messages

# --- Turnout through the day ------------------------------------------------------------------


def extract_turnout(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Turnout per region at each report of election day, and the national row."""
    name = "turnout_by_hour"
    table = doc.find_table(name, section="Voter turnout", header=["Region", "Time"])
    header = table.header_rows()
    labels = [c for c in trim(header[-1]) if header_key(c) != "region"]  # an expanded grid repeats 'Region'
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
        cells = require_width(name, row, 1 + len(times), label or NATIONAL, table)[1:]
        if not label:
            national_rows += 1
            inferences.national_turnout_row(ctx)
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
