"""The package's own reference lists (schemas/codes): regions and vote options, and name lookup."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline import ROOT
from pipeline.extract.cells import header_key
from pipeline.yamlfile import read_yaml

CODES = ROOT / "schemas" / "codes"


def _load(path: Path) -> list[dict]:
    return read_yaml(path)


@dataclass
class Reference:
    regions: list[dict]
    options: list[dict]

    @classmethod
    def load(cls, codes: Path = CODES) -> Reference:
        return cls(regions=_load(codes / "regions.yaml"), options=_load(codes / "options.yaml"))

    @cached_property
    def region_by_name(self) -> dict[str, str]:
        """Exact names (canonical and aliases), keyed by header_key, to region_id."""
        index: dict[str, str] = {}
        for region in self.regions:
            for name in [region["region_name"], *region["aliases"]]:
                key = header_key(name)
                if index.setdefault(key, region["region_id"]) != region["region_id"]:
                    raise ValueError(f"region name {name!r} is ambiguous in schemas/codes/regions.yaml")
        return index

    @cached_property
    def option_by_name(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for option in self.options:
            for name in option["names"]:
                key = header_key(name)
                if index.setdefault(key, option["option_id"]) != option["option_id"]:
                    raise ValueError(f"option name {name!r} is ambiguous in schemas/codes/options.yaml")
        return index

    @cached_property
    def party_ids(self) -> list[str]:
        return [o["option_id"] for o in self.options if o["option_kind"] == "party"]

    def names_of(self, option_id: str) -> list[str]:
        return next(o["names"] for o in self.options if o["option_id"] == option_id)

    def region_id(self, name: str) -> str | None:
        return self.region_by_name.get(header_key(name))

    def option_id(self, name: str) -> str | None:
        return self.option_by_name.get(header_key(name))

    def region_rows(self) -> list[dict]:
        return [{k: r[k] for k in ("region_id", "region_name", "region_kind")} for r in self.regions]

    def alias_rows(self) -> list[dict]:
        return [{"alias_name": alias, "region_id": r["region_id"]} for r in self.regions for alias in r["aliases"]]

    def option_rows(self) -> list[dict]:
        return [
            {
                "option_id": o["option_id"],
                "option_name": o.get("option_name", o["names"][0]),
                "option_kind": o["option_kind"],
                "party_id": o["option_id"] if o["option_kind"] == "party" else None,
            }
            for o in self.options
        ]
