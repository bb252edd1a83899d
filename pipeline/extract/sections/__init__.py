"""The table parsers, one module per section of the article, and the one registry of them.

Each module's `extract(doc, ctx)` finds its tables by section heading and header text, maps columns by
header text (a reordered column still lands in the right field; an unknown header stops the build), reads
every cell through `Extraction.value` (errata applied, errors naming table, row and column) and returns
{table: records}.
"""

from __future__ import annotations

from pipeline.errors import PipelineError
from pipeline.extract.context import Extraction
from pipeline.extract.document import Document
from pipeline.extract.sections import (
    debates,
    districts,
    infobox,
    parties,
    polls,
    prose,
    results_by_region,
    timetable,
    turnout,
)

# The one registry: every parser. The order fixes the order of the errata and inference rows (and so
# the bytes of the database and the quality report); a new parser goes at the end.
SECTIONS = [
    parties.extract_parties,
    results_by_region.extract_party_list,
    turnout.extract_turnout,
    districts.extract_districts,
    polls.extract_opinion_polls,
    polls.extract_exit_polls,
    infobox.extract_national_results,
    parties.extract_party_candidates,
    districts.extract_region_district_counts,
    prose.extract_voter_roll_reports,
    infobox.extract_infobox_figures,
    timetable.extract_timetable,
    debates.extract_debates,
]


def extract_tables(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Every published table's records, the reference tables and the extraction's own log included."""
    tables: dict[str, list[dict]] = {
        "regions": ctx.reference.region_rows(),
        "region_aliases": ctx.reference.alias_rows(),
        "vote_options": ctx.reference.option_rows(),
    }
    for parser in SECTIONS:
        for name, records in parser(doc, ctx).items():
            if name in tables:
                raise PipelineError("extract", "two parsers produce the same table.", table=name)
            tables[name] = records
    ctx.check_errata_used()
    tables["errata"] = ctx.applied
    tables["extraction_inferences"] = ctx.inferences
    tables["source_gaps"] = ctx.nulls
    return tables
