"""The table parsers, one module per section of the article, and the one registry of them.

Each module's `extract(doc, ctx)` finds its tables by section heading and header text, maps columns by
header text (a reordered column still lands in the right field; an unknown header stops the build), reads
every cell through `Extraction.value` (errata applied, errors naming table, row and column) and returns
{table: records}.
"""

from __future__ import annotations

from pipeline import metadata
from pipeline.common.errors import PipelineError
from pipeline.extract.context import Extraction
from pipeline.extract.crosswalks import read_crosswalks
from pipeline.extract.document import Document
from pipeline.extract.elections import read_elections
from pipeline.extract.independent import read_reports, read_searches
from pipeline.extract.names import read_names
from pipeline.extract.sections import debates, districts, infobox, parties, prose, results_by_region, turnout
from pipeline.extract.specs import read_prose, read_regular

# The one registry of the parsers written in Python. The tables a spec declares whole (schemas/extract/,
# `regular` or `prose`) need no entry: the generic readers make them.
SECTIONS = [
    parties.extract_parties,
    parties.extract_party_candidates,
    results_by_region.extract_party_list,
    turnout.extract_turnout,
    districts.extract_districts,
    districts.extract_region_district_counts,
    infobox.extract_national_results,
    infobox.extract_infobox_figures,
    prose.extract_voter_roll_reports,
    debates.extract_debates,
]


def extract_tables(doc: Document, ctx: Extraction) -> dict[str, list[dict]]:
    """Every published table's records, the reference tables and the extraction's own log included.
    The log (errata applied, inferences, gaps) is sorted, so that no parser's order shows in the output."""
    package = metadata.load()
    tables: dict[str, list[dict]] = {
        "regions": ctx.reference.region_rows(),
        "region_aliases": ctx.reference.alias_rows(),
        "vote_options": ctx.reference.option_rows(),
    }
    parsers = [*SECTIONS]
    for spec in package.specs.values():
        if spec.regular:
            parsers.append(lambda doc, ctx, spec=spec: read_regular(doc, ctx, spec))
        if spec.prose:
            parsers.append(lambda doc, ctx, spec=spec: read_prose(doc, ctx, spec))
    for parser in parsers:
        for name, records in parser(doc, ctx).items():
            if name in tables:
                raise PipelineError("extract", "two parsers produce the same table.", table=name)
            tables[name] = records
    tables |= read_elections(package)  # the elections the package holds (elections/)
    tables |= read_crosswalks([r["region_id"] for r in tables["regions"]])  # parties and regions across them
    tables |= read_reports(package)  # the second source: independent reports (sources/, elections/*/reports)
    tables |= read_searches(package)  # and what was searched for where no report was found
    tables |= read_names([r["region_id"] for r in tables["regions"]], ctx.reference.party_ids)
    ctx.check_errata_used()
    order = {r.name: number for number, r in enumerate(package.resources)}

    def by_place(row: dict) -> tuple:
        return order.get(row["table_name"], len(order)), row["record_key"], row["column_name"]

    tables["errata"] = sorted(ctx.applied, key=lambda row: row["erratum_id"])
    tables["extraction_inferences"] = sorted(ctx.inferences, key=by_place)
    tables["source_gaps"] = sorted(ctx.nulls, key=by_place)
    return tables
