"""What joins elections across time (sources/parties_across_elections.yaml, sources/region_lineage.yaml)
-> the tables party_names_history, party_identifiers, region_codes and region_lineage. Every entry is
checked here for what validation cannot see: a known source, a quote under 200 characters, dates that are
dates, the new regions' parents among the regions, every region coded once."""

from __future__ import annotations

import datetime
from pathlib import Path

from pipeline import ROOT
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.extract.independent import MAX_QUOTE

PARTIES_FILE = ROOT / "sources" / "parties_across_elections.yaml"
LINEAGE_FILE = ROOT / "sources" / "region_lineage.yaml"
NAME_KEYS = {"party_name", "url", "publisher", "quote"}
OPTIONAL_NAME_KEYS = {"valid_from", "valid_to", "note"}
ID_KEYS = {"scheme", "id", "source"}
OPTIONAL_ID_KEYS = {"line", "note"}


def read_crosswalks(region_ids: list[str], parties: Path = PARTIES_FILE, lineage: Path = LINEAGE_FILE) -> dict:
    return _parties(parties) | _regions(region_ids, lineage)


def _parties(path: Path) -> dict[str, list[dict]]:
    content = read_yaml(path, strict=True, stage="extract")
    if not isinstance(content, dict) or set(content) != {"sources", "parties"}:
        raise _error(path, "party_identifiers", "the file must have 'sources' and 'parties'")
    sources = content["sources"]
    names, identifiers = [], []
    for entry in content["parties"]:
        party = entry.get("party_id") if isinstance(entry, dict) else None
        if not isinstance(party, str) or set(entry) != {"party_id", "names", "identifiers"}:
            raise _error(path, "party_identifiers", f"a party needs party_id, names and identifiers: {entry!r}")
        for name in entry["names"]:
            where = f"{party}, name {name.get('party_name')!r}" if isinstance(name, dict) else party
            if not isinstance(name, dict) or not NAME_KEYS <= set(name) <= NAME_KEYS | OPTIONAL_NAME_KEYS:
                raise _error(path, "party_names_history", f"{where}: needs {', '.join(sorted(NAME_KEYS))}")
            for key in ("valid_from", "valid_to"):
                if name.get(key) is not None and not isinstance(name[key], datetime.date):
                    raise _error(path, "party_names_history", f"{where}: {key} must be a date")
            names.append(
                {
                    "party_id": party,
                    "party_name": name["party_name"],
                    "valid_from": name.get("valid_from"),
                    "valid_to": name.get("valid_to"),
                    "source_url": name["url"],
                    "source_publisher_name": name["publisher"],
                    "source_quote_text": _quote(path, "party_names_history", where, name["quote"]),
                    "note_text": name.get("note"),
                }
            )
        for ident in entry["identifiers"]:
            if not isinstance(ident, dict) or not ID_KEYS <= set(ident) <= ID_KEYS | OPTIONAL_ID_KEYS:
                raise _error(path, "party_identifiers", f"{party}: an identifier needs {', '.join(sorted(ID_KEYS))}")
            if ident["source"] not in sources:
                raise _error(path, "party_identifiers", f"{party}: source {ident['source']!r} is not in 'sources'")
            if ident["id"] is None and not ident.get("note"):
                raise _error(
                    path,
                    "party_identifiers",
                    f"{party}, {ident['scheme']}: no id needs a note saying where it was looked for",
                )
            line = f", line {ident['line']}" if ident.get("line") else ""
            identifiers.append(
                {
                    "party_id": party,
                    "id_scheme": ident["scheme"],
                    "external_id": None if ident["id"] is None else str(ident["id"]),
                    "source_text": sources[ident["source"]] + line,
                    "note_text": ident.get("note"),
                }
            )
    return {"party_names_history": names, "party_identifiers": identifiers}


def _regions(region_ids: list[str], path: Path) -> dict[str, list[dict]]:
    content = read_yaml(path, strict=True, stage="extract")
    if not isinstance(content, dict) or set(content) != {"codes_changed", "codes", "reform"}:
        raise _error(path, "region_codes", "the file must have codes_changed, codes and reform")
    codes, reform = content["codes"], content["reform"]
    if sorted(codes) != sorted(region_ids):
        raise _error(path, "region_codes", f"every region must be coded once: {sorted(set(region_ids) ^ set(codes))}")
    source = "ISO Online Browsing Platform change history, as transcribed in amckenna41/iso3166-updates@e5392cc"
    rows = [
        {
            "region_id": region,
            "former_region_code": code["former"],
            "valid_from": code["since"],
            "valid_to": None if code["former"] is None else content["codes_changed"],
            "source_text": source,
        }
        for region, code in sorted(codes.items())
    ]
    lineage = []
    for region, carved in sorted(reform["carved"].items()):
        if carved["parent"] not in region_ids or region not in region_ids:
            raise _error(path, "region_lineage", f"{region} and its parent {carved['parent']} must be regions")
        lineage.append(
            {
                "region_id": region,
                "parent_region_id": carved["parent"],
                "decided_date": reform["decided"],
                "split_date": reform["in_force"],
                "areas_text": carved["areas"],
                "source_url": reform["url"],
                "source_publisher_name": reform["publisher"],
                "source_quote_text": _quote(path, "region_lineage", region, carved["quote"]),
            }
        )
    return {"region_codes": rows, "region_lineage": lineage}


def _quote(path: Path, table: str, where: str, quote) -> str:
    text = " ".join(str(quote).split())
    if not text or len(text) > MAX_QUOTE:
        raise _error(path, table, f"{where}: the quote must have 1 to {MAX_QUOTE} characters, not {len(text)}")
    return text


def _error(path: Path, table: str, message: str) -> PipelineError:
    return PipelineError("extract", f"{path}: {message}", table=table)
