"""State shared by the table parsers: name lookup, errata application and the inference log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pipeline.common.errors import PipelineError
from pipeline.extract.cells import clean
from pipeline.extract.errata import Erratum, format_key
from pipeline.metadata.codes import Reference

ELECTION_DAY = dt.date(2023, 3, 19)  # the day of the vote: the year of every day the article writes without one


class Extraction:
    """State shared by the parsers of one extraction: references, errata, and its log."""

    def __init__(self, reference: Reference, errata: dict[tuple[str, str, str], Erratum], *, earlier: bool = False):
        self.reference = reference
        self.errata = errata
        self._corrected = {(table, column) for table, _, column in errata}  # the columns an erratum names
        self.earlier = earlier  # an earlier release's snapshot: the errata it lacks the cells of are not its
        self.applied: list[dict] = []
        self.resolved: list[str] = []  # errata whose cell the source itself now shows corrected
        self.inferences: list[dict] = []
        self.nulls: list[dict] = []

    def value(self, table: str, key: dict, column: str, raw: str, parse: Callable[[str], Any]) -> Any:
        """Parse one source cell, applying a reviewed erratum if one names this cell. An erratum whose cell
        already shows its corrected value is not applied (the source has been corrected since: an erratum
        stays in errata/errata.yaml as long as a released snapshot needs it)."""
        corrected = (table, column) in self._corrected  # (a record's key is formatted only where it may be)
        erratum = self.errata.get((table, format_key(key), column)) if corrected else None
        if erratum is not None and _spaceless(raw) == _spaceless(erratum.value_after):
            self.resolved.append(erratum.id)
        elif erratum is not None:
            if _spaceless(raw) != _spaceless(erratum.value_before):  # the text and HTML renderings space cells apart
                raise PipelineError(
                    "extract",
                    f"erratum {erratum.id} expects the source to show {erratum.value_before!r} but it shows {raw!r}.",
                    table=table,
                    row=format_key(key),
                    column=column,
                    hint="The source changed: review the erratum in errata/errata.yaml again.",
                )
            self.applied.append(
                {
                    "erratum_id": erratum.id,
                    "table_name": table,
                    "record_key": format_key(key),
                    "column_name": column,
                    "value_before": erratum.value_before,
                    "value_after": erratum.value_after,
                    "evidence": erratum.evidence,
                }
            )
            raw = erratum.value_after
        try:
            return parse(raw)
        except ValueError as error:
            raise PipelineError(
                "extract", f"cannot read the cell: {error}.", table=table, row=format_key(key), column=column
            ) from None

    def infer(self, table: str, key: dict, column: str, value: Any, reason: str) -> None:
        """Record a value the extractor inferred (a row of extraction_inferences)."""
        self.inferences.append(
            {
                "table_name": table,
                "record_key": format_key(key),
                "column_name": column,
                "inferred_value": str(value),
                "reason": reason,
            }
        )

    def missing(self, table: str, key: dict, column: str, reason: str) -> None:
        """Record a value the source does not give (published as null)."""
        self.nulls.append({"table_name": table, "record_key": format_key(key), "column_name": column, "reason": reason})

    def region_id(self, table: str, name: str, row: str) -> str:
        """The region_id of a name in the source, or an error naming the table and row."""
        region_id = self.reference.region_id(name)
        if region_id is None:
            raise PipelineError(
                "extract",
                f"unknown region name {name!r}.",
                table=table,
                row=row,
                column="region_id",
                hint="If it is a new spelling, add it to the aliases in schemas/codes/regions.yaml.",
            )
        return region_id

    def option_id(self, table: str, name: str, where: str, *, party_only: bool = False) -> str:
        """The option_id of a party or option name in the source, or an error naming the place."""
        option_id = self.reference.option_id(name)
        if option_id is None or (party_only and option_id not in self.reference.party_ids):
            kind = "party" if party_only else "party or option"
            raise PipelineError(
                "extract",
                f"unknown {kind} name {name!r}.",
                table=table,
                row=where,
                hint="If it is a new spelling, add it to schemas/codes/options.yaml.",
            )
        return option_id

    def check_errata_used(self) -> None:
        """Every erratum must have named a cell the extractor read (in the current snapshot: an earlier
        release's may lack the rows of a later one)."""
        if self.earlier:
            return
        used = {entry["erratum_id"] for entry in self.applied} | set(self.resolved)
        unused = sorted((e for e in self.errata.values() if e.id not in used), key=lambda e: e.id)
        if unused:
            first = unused[0]
            raise PipelineError(
                "extract",
                f"errata {', '.join(e.id for e in unused)} name cells the extractor never read.",
                table=first.table,
                row=first.key,
                column=first.column,
                hint="The row may be gone from the source, or the erratum names the wrong table, key or column "
                "in errata/errata.yaml.",
            )


def _spaceless(text: str) -> str:
    """A cell's text without its spaces: '53.3 %' (HTML) and '53.3%' (plain text) are the same cell."""
    return "".join(clean(text).split())
