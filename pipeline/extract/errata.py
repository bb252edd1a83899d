"""The reviewed errata file: corrections to values the source publishes, with evidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_reviewed

ERRATA_FILE = ROOT / "errata" / "errata.yaml"
REQUIRED = ("id", "table", "key", "column", "value_before", "value_after", "evidence", "reviewed_by")


def format_key(key: dict | str) -> str:
    """'column=value, ...' from a key written as a mapping (or already as that text)."""
    if isinstance(key, str):
        return key
    return ", ".join(f"{column}={value}" for column, value in key.items())


def parse_key(text: str) -> dict[str, str] | None:
    """The mapping a 'column=value, ...' key text (format_key's) writes, or None where a part is not
    'column=value' or a value holds '=' (a value holding ', ' cannot be told from two parts)."""
    parts = [part.split("=", 1) for part in text.split(", ")]
    if any(len(p) != 2 or "=" in p[1] for p in parts):
        return None
    return dict(parts)


@dataclass(frozen=True)
class Erratum:
    """A reviewed correction of one source cell: the value before and after, and the evidence."""

    id: str
    table: str
    key: str
    column: str
    value_before: str
    value_after: str
    evidence: str


def errata_resolves(path: Path = ERRATA_FILE) -> dict[str, list[str]]:
    """Which cross-checks each erratum makes pass (its optional `resolves` list)."""
    return {str(e["id"]): list(e.get("resolves", [])) for e in read_reviewed(path, REQUIRED, "erratum", "extract")}


def load_errata(path: Path = ERRATA_FILE) -> dict[tuple[str, str, str], Erratum]:
    """The reviewed errata by the cell they correct (table, record key, column)."""
    errata: dict[tuple[str, str, str], Erratum] = {}
    for entry in read_reviewed(path, REQUIRED, "erratum", "extract"):
        erratum = Erratum(
            id=str(entry["id"]),
            table=entry["table"],
            key=format_key(entry["key"]),
            column=entry["column"],
            value_before=str(entry["value_before"]),
            value_after=str(entry["value_after"]),
            evidence=" ".join(entry["evidence"].split()),
        )
        slot = (erratum.table, erratum.key, erratum.column)
        if slot in errata:
            raise PipelineError("extract", f"errata {errata[slot].id} and {erratum.id} correct the same cell.")
        errata[slot] = erratum
    return errata
