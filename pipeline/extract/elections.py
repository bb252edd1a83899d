"""The elections the package holds (elections/*/election.yaml) -> the tables `elections` and
`election_options`. An election is a folder: its election.yaml describes it and lists its ballot's options;
its reports/ hold the figures (read with the other independent reports, pipeline/extract/independent.py).
The election whose figures come from the pinned article takes its options from the article's vote_options
(pipeline/derive/elections.py), so its election.yaml lists none."""

from __future__ import annotations

import datetime
from pathlib import Path

from pipeline import ROOT, metadata
from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml

ELECTIONS = ROOT / "elections"
ELECTION_KEYS = {"election_id", "election_date", "election_kind", "election_title", "region_scheme_year", "data_origin"}
OPTION_KEYS = {"option_id", "option_kind", "party_id", "ballot_name"}
ARTICLE = "article"  # data_origin of the election the pinned article gives


def election_folders(root: Path = ELECTIONS) -> list[Path]:
    """The folders of elections/, each holding an election.yaml, in name order."""
    return sorted(p.parent for p in root.glob("*/election.yaml"))


def report_files(root: Path = ELECTIONS) -> list[Path]:
    """Every election's report files (elections/*/reports/*.yaml), in name order."""
    return sorted(root.glob("*/reports/*.yaml"))


def read_elections(package: metadata.Package, root: Path = ELECTIONS) -> dict[str, list[dict]]:
    """The tables elections and election_options from every folder of `root`, each entry checked against
    the schemas' constraints by validation later, and here for what validation cannot see: the folder is
    named by its election_id, a date is a date, one election comes from the article, options are unique."""
    elections, options = [], []
    kinds = package.resource("elections").field("election_kind").constraints["enum"]
    option_kinds = package.resource("election_options").field("option_kind").constraints["enum"]
    for folder in election_folders(root):
        path = folder / "election.yaml"
        entry = read_yaml(path, strict=True, stage="extract")
        if (
            not isinstance(entry, dict)
            or not ELECTION_KEYS <= set(entry)
            or not set(entry) <= ELECTION_KEYS | {"options"}
        ):
            raise _error(path, f"needs exactly {', '.join(sorted(ELECTION_KEYS))} and, but for the article's, options")
        if entry["election_id"] != folder.name:
            raise _error(path, f"election_id {entry['election_id']!r} must be the folder's name, {folder.name!r}")
        if not isinstance(entry["election_date"], datetime.date):
            raise _error(path, "election_date must be a date (YYYY-MM-DD)")
        if entry["election_kind"] not in kinds:
            raise _error(path, f"election_kind must be one of {', '.join(kinds)}")
        origin = entry["data_origin"]
        listed = entry.get("options")
        if (origin == ARTICLE) != (listed is None):
            raise _error(path, "the article's election lists no options (they are the article's); any other lists them")
        elections.append(
            {
                "election_id": entry["election_id"],
                "election_date": entry["election_date"],
                "election_kind": entry["election_kind"],
                "election_title": " ".join(str(entry["election_title"]).split()),
                "region_scheme_year": entry["region_scheme_year"],
                "data_origin_text": "the pinned article (raw/)" if origin == ARTICLE else " ".join(str(origin).split()),
            }
        )
        seen = set()
        for number, option in enumerate(listed or [], start=1):
            where = f"option #{number}"
            if not isinstance(option, dict) or set(option) != OPTION_KEYS:
                raise _error(path, f"{where} needs exactly {', '.join(sorted(OPTION_KEYS))}")
            if option["option_id"] in seen:
                raise _error(path, f"{where}: option {option['option_id']!r} is listed twice")
            if option["option_kind"] not in option_kinds:
                raise _error(path, f"{where}: option_kind must be one of {', '.join(option_kinds)}")
            seen.add(option["option_id"])
            options.append({"election_id": entry["election_id"], **{k: option[k] for k in sorted(OPTION_KEYS)}})
    if sum(1 for e in elections if e["data_origin_text"].startswith("the pinned article")) != 1:
        raise PipelineError("extract", f"exactly one election of {root} must have data_origin: {ARTICLE}")
    return {"elections": elections, "election_options": options}


def _error(path: Path, message: str) -> PipelineError:
    return PipelineError("extract", f"{path}: {message}", table="elections")
