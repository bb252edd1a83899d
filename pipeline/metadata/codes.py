"""The package's own reference lists (schemas/codes): regions and vote options, and name lookup."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline import ROOT
from pipeline.common.yamlfile import read_yaml

CODES = ROOT / "schemas" / "codes"


def name_key(text: str) -> str:
    """The key names are matched by: Unicode NFC, case, spacing and punctuation ignored ('%' kept)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text).casefold() if ch.isalnum() or ch == "%")


def _name_index(items, file: str) -> dict[str, str]:
    """{name_key(name): id} for (id, names) pairs; a name that stands for two ids is an error."""
    index: dict[str, str] = {}
    for item_id, names in items:
        for name in names:
            if index.setdefault(name_key(name), item_id) != item_id:
                raise ValueError(f"the name {name!r} is ambiguous in schemas/codes/{file}.yaml")
    return index


def _load(path: Path) -> list[dict]:
    return read_yaml(path)


@dataclass
class Reference:
    """The package's reference lists (schemas/codes/): regions and vote options, and name lookup."""

    regions: list[dict]
    options: list[dict]

    @classmethod
    def load(cls, codes: Path = CODES) -> Reference:
        """The lists as schemas/codes/ gives them."""
        return cls(regions=_load(codes / "regions.yaml"), options=_load(codes / "options.yaml"))

    @cached_property
    def region_by_name(self) -> dict[str, str]:
        """Every region name (canonical and aliases), by name_key, to its region_id."""
        return _name_index(((r["region_id"], [r["region_name"], *r["aliases"]]) for r in self.regions), "regions")

    @cached_property
    def option_by_name(self) -> dict[str, str]:
        """Every name of a ballot or poll option, by name_key, to its option_id."""
        return _name_index(((o["option_id"], o["names"]) for o in self.options), "options")

    @cached_property
    def party_ids(self) -> list[str]:
        """The parties on the ballot, in ballot order."""
        return [o["option_id"] for o in self.options if o["option_kind"] == "party"]

    def names_of(self, option_id: str) -> list[str]:
        """Every name an option goes by in the article."""
        return next(o["names"] for o in self.options if o["option_id"] == option_id)

    def region_id(self, name: str) -> str | None:
        """The region_id a name (or known alias) stands for, or None."""
        return self.region_by_name.get(name_key(name))

    def option_id(self, name: str) -> str | None:
        """The option_id a party or option name stands for, or None."""
        return self.option_by_name.get(name_key(name))

    def region_rows(self) -> list[dict]:
        """The rows of the regions table."""
        return [{k: r[k] for k in ("region_id", "region_name", "region_kind")} for r in self.regions]

    def alias_rows(self) -> list[dict]:
        """The rows of the region_aliases table."""
        return [{"alias_name": alias, "region_id": r["region_id"]} for r in self.regions for alias in r["aliases"]]

    def option_rows(self) -> list[dict]:
        """The rows of the vote_options table."""
        return [
            {
                "option_id": o["option_id"],
                "option_name": o.get("option_name", o["names"][0]),
                "option_kind": o["option_kind"],
                "party_id": o["option_id"] if o["option_kind"] == "party" else None,
            }
            for o in self.options
        ]
