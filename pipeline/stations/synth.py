"""Synthetic polling-station returns that sum exactly to the published regional totals, with optional
planted anomalies whose answers are known. SYNTHETIC: for testing the station-level path and scoring its
forensic tests; nothing here is an election result.

How a set is drawn (numpy, seeded: the same arguments give the same arrays):
- stations per region in proportion to its registered voters (at least one each); about 0.7 % of the
  stations are abroad, counted in Astana's totals (an assumption of the generator, not a fact);
- station sizes skewed (log-normal weights; one station in twelve is small, about 1/25 of the typical
  size); registered voters, ballots cast and invalid ballots allocated by largest remainder so that every
  region's sums are its published figures, a station's turnout drawn around its region's (beta);
- votes: each station's shares drawn around its region's (Dirichlet), then whole votes allocated option by
  option by largest remainder within what the station has left, so that both every station's valid
  votes and every region's option totals are exact;
- anomalies, at a chosen fraction of the stations with at least 100 valid votes: the leader's votes of a
  planted station are rewritten (see `ANOMALIES`), and the difference is taken from (or given to) the
  leader's votes at the region's other stations, so the regional totals stay the published ones; only
  the stations whose votes changed are listed (a count already on the grid of a percentage is not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ABROAD_SHARE = 0.0067  # 68 of 10,223 stations were abroad in 2023 (an approximate share)
ABROAD_COUNTED_IN = "KZ-71"  # the generator adds returns from abroad to Astana's totals (an assumption)
TURNOUT_CONCENTRATION = 25.0  # beta(k T, k (1 - T)) around the region's turnout T
SHARE_CONCENTRATION = 300.0  # Dirichlet(k s) around the region's shares s
STATIONS_PER_COMMISSION = 60
ANOMALIES = {
    "whole_pct": "the leader's votes rewritten so that its share of the valid votes is a whole percentage",
    "two_decimal_pct": "the leader's share rewritten to a percentage with two decimals",
    "stuffing": "extra ballots for the leader (a fifth to three fifths of the voters who did not vote)",
    "digits": "the last digit of the leader's votes replaced by 0 or 5",
}


@dataclass
class Election:
    """A synthetic set of station returns: one entry per station, votes as stations x options."""

    options: list[str]
    leader: int  # column of the option with the most votes nationally
    station_id: list[str]
    region_id: list[str | None]
    counted_in: list[str]
    commission: list[int]
    number: list[int]
    is_abroad: object  # numpy bool array
    registered: object  # numpy int64 arrays from here on
    issued: object
    cast: object
    invalid: object
    votes: object
    planted: dict[int, str] = field(default_factory=dict)  # station index -> anomaly kind


def allocate(np, total: int, weights, cap=None):
    """Whole numbers summing to `total`, in proportion to `weights` (largest remainder, ties to the first),
    none above `cap`; what a capped entry cannot take goes to the others."""
    weights = np.asarray(weights, dtype=float)
    out = np.zeros(len(weights), dtype=np.int64)
    room = None if cap is None else np.asarray(cap, dtype=np.int64).copy()
    remaining = int(total)
    while remaining > 0:
        free = np.ones(len(weights), bool) if room is None else room > 0
        if not free.any():
            raise ValueError(f"cannot allocate {remaining} more: every entry is at its cap")
        w = np.where(free, weights, 0.0)
        w = w if w.sum() > 0 else free.astype(float)
        exact = remaining * w / w.sum()
        base = np.floor(exact).astype(np.int64)
        if room is not None:
            base = np.minimum(base, room)
        fraction = np.where(free & ((room is None) or (base < room)), exact - np.floor(exact), -1.0)
        left = remaining - int(base.sum())
        order = np.argsort(-fraction, kind="stable")[:left]
        base[order[fraction[order] >= 0]] += 1
        out += base
        remaining -= int(base.sum())
        if room is not None:
            room -= base
    return out


def generate(release: dict, stations: int, seed: int, anomalies: dict[str, float] | None = None) -> Election:
    """A synthetic set of `stations` station returns summing to the release's regional totals. `release`
    holds the published rows of region_ballots and party_list_results; `anomalies` maps a kind of
    ANOMALIES to the fraction of the stations to plant it at."""
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    ballots = {r["region_id"]: r for r in release["region_ballots"]}
    regions = sorted(ballots)
    if stations < len(regions):
        raise ValueError(f"at least {len(regions)} stations are needed, one per region")
    national: dict[str, int] = {}
    for row in release["party_list_results"]:
        national[row["option_id"]] = national.get(row["option_id"], 0) + row["votes"]
    options = sorted(national)
    leader = options.index(max(options, key=lambda o: (national[o], o)))
    cell = {(r["region_id"], r["option_id"]): r["votes"] for r in release["party_list_results"]}
    abroad = int(round(stations * ABROAD_SHARE)) if stations >= 10 * len(regions) else 0
    registered_by_region = np.array([ballots[r]["registered_voters_count"] for r in regions], float)
    per_region = allocate(np, stations - abroad - len(regions), registered_by_region) + 1

    parts: dict[str, list] = {k: [] for k in ("id", "region", "counted", "commission", "number", "abroad")}
    arrays: dict[str, list] = {k: [] for k in ("registered", "cast", "invalid", "votes")}
    for index, region in enumerate(regions):
        domestic = int(per_region[index])
        here_abroad = abroad if region == ABROAD_COUNTED_IN else 0
        count = domestic + here_abroad
        size = rng.lognormal(0.0, 0.9, count)
        size[rng.random(count) < 1 / 12] *= 0.04
        size[domestic:] *= 0.3
        row = ballots[region]
        registered = allocate(np, row["registered_voters_count"] - count, size) + 1
        turnout = row["ballots_cast_count"] / row["registered_voters_count"]
        drawn = rng.beta(TURNOUT_CONCENTRATION * turnout, TURNOUT_CONCENTRATION * (1 - turnout), count)
        cast = allocate(np, row["ballots_cast_count"], registered * drawn, cap=registered)
        invalid = allocate(np, row["invalid_ballots_count"], cast * rng.lognormal(0.0, 0.5, count), cap=cast)
        totals = np.array([cell[(region, o)] for o in options], float)
        shares = rng.gamma(SHARE_CONCENTRATION * totals / totals.sum() + 1e-9, size=(count, len(options)))
        shares /= shares.sum(axis=1, keepdims=True)
        room = cast - invalid
        expected = room[:, None] * shares
        votes = np.zeros((count, len(options)), dtype=np.int64)
        order = np.argsort(totals, kind="stable")  # the largest option last: it takes what is left
        for column in order[:-1]:
            votes[:, column] = allocate(np, int(totals[column]), expected[:, column], cap=room)
            room = room - votes[:, column]
        votes[:, order[-1]] = room
        arrays["registered"].append(registered)
        arrays["cast"].append(cast)
        arrays["invalid"].append(invalid)
        arrays["votes"].append(votes)
        code = region.removeprefix("KZ-")
        per_commission = max(STATIONS_PER_COMMISSION, -(-domestic // 999))  # (commission numbers go to 999)
        for station in range(count):
            if station < domestic:
                commission, number = station // per_commission + 1, station % per_commission + 1
                parts["id"].append(f"{code}/{commission}/{number}")
                parts["region"].append(region)
            else:
                commission, number = 0, station - domestic + 1
                parts["id"].append(f"ab/0/{number}")
                parts["region"].append(None)
            parts["counted"].append(region)
            parts["commission"].append(commission)
            parts["number"].append(number)
            parts["abroad"].append(station >= domestic)

    registered, cast, invalid = (np.concatenate(arrays[k]) for k in ("registered", "cast", "invalid"))
    election = Election(
        options=options,
        leader=leader,
        station_id=parts["id"],
        region_id=parts["region"],
        counted_in=parts["counted"],
        commission=parts["commission"],
        number=parts["number"],
        is_abroad=np.array(parts["abroad"], bool),
        registered=registered,
        issued=cast,  # set below
        cast=cast,
        invalid=invalid,
        votes=np.concatenate(arrays["votes"]),
    )
    for kind, fraction in sorted((anomalies or {}).items()):
        _plant(np, rng, election, kind, fraction)
    election.cast = election.votes.sum(axis=1) + election.invalid
    election.issued = election.cast + rng.binomial(election.registered - election.cast, 0.003)
    return election


def _plant(np, rng, election: Election, kind: str, fraction: float) -> None:
    """Rewrite the leader's votes at `fraction` of the stations (with at least 100 valid votes, not
    already planted), then restore each region's total of the leader's votes from its other stations."""
    if kind not in ANOMALIES:
        raise ValueError(f"unknown anomaly {kind!r}; expected one of {', '.join(ANOMALIES)}")
    votes, leader = election.votes, election.leader
    valid = votes.sum(axis=1)
    eligible = np.flatnonzero((valid >= 100) & ~election.is_abroad)
    eligible = eligible[[i not in election.planted for i in eligible]]
    chosen = np.sort(rng.choice(eligible, size=int(round(fraction * len(eligible))), replace=False))
    cast = valid + election.invalid
    old = votes[chosen, leader].copy()
    others = valid[chosen] - old
    cap = election.registered[chosen] - election.invalid[chosen] - others  # the most the leader can have
    if kind in ("whole_pct", "two_decimal_pct"):
        scale = 100 if kind == "whole_pct" else 10_000
        grid = np.rint(scale * old / valid[chosen])  # the station's share, rounded to the grid
        new = np.full(len(chosen), -1, dtype=np.int64)
        on_grid = np.rint(valid[chosen] * grid / scale) == old
        new[on_grid] = old[on_grid]  # already a percentage on the grid: left as it is
        base = np.floor(grid * others / np.maximum(scale - grid, 1)).astype(np.int64)
        for step in (0, 1, -1, 2, -2):  # a count whose share, rounded to the grid, reproduces it exactly
            candidate = np.maximum(base + step, 0)
            fits = (np.rint((others + candidate) * grid / scale) == candidate) & (candidate <= cap) & (new < 0)
            new[fits] = candidate[fits]
        keep = new >= 0
    elif kind == "stuffing":
        extra = np.rint(rng.uniform(0.2, 0.6, len(chosen)) * (election.registered[chosen] - cast[chosen]))
        new, keep = old + extra.astype(np.int64), np.ones(len(chosen), bool)
    else:  # digits
        new = old - old % 10 + np.where(rng.random(len(chosen)) < 0.5, 0, 5)
        keep = (old >= 10) & (new <= cap) & (new != old)
    keep &= new != old  # (a count already on the grid is left as it is, and not listed)
    chosen, new, old = chosen[keep], new[keep], old[keep]
    votes[chosen, leader] = new
    for index in chosen:
        election.planted[int(index)] = kind
    counted = np.array(election.counted_in)
    for region in sorted(set(counted[chosen])):
        here = counted == region
        delta = int((new - old)[counted[chosen] == region].sum())
        others_here = np.flatnonzero(here & ~np.isin(np.arange(len(valid)), list(election.planted)))
        current = votes[others_here, leader]
        room = election.registered[others_here] - election.invalid[others_here] - votes[others_here].sum(axis=1)
        available = int(current.sum()) if delta > 0 else int(room.sum())
        if abs(delta) > available:
            raise ValueError(
                f"cannot plant {kind} at {fraction:.1%} of the stations: the other stations of {region} can "
                f"{'give back' if delta > 0 else 'take'} {available:,} of the leader's votes, not {abs(delta):,} "
                "(the region's total must stay the published one); choose a smaller fraction or more stations"
            )
        if delta > 0:
            votes[others_here, leader] -= allocate(np, delta, current, cap=current)
        elif delta < 0:
            votes[others_here, leader] += allocate(np, -delta, current, cap=room)


def write(election: Election, folder, *, description: dict) -> None:
    """Write the set as Parquet into `folder` (which must exist and be empty), each file marked synthetic
    in its key-value metadata, with a datapackage.json that says so."""
    import json

    import duckdb
    import numpy as np
    import pandas as pd

    from pipeline import metadata

    package = metadata.load_stations()
    stations = len(election.station_id)
    frames = {
        "stations": pd.DataFrame(
            {
                "station_id": election.station_id,
                "region_id": election.region_id,
                "counted_in_region_id": election.counted_in,
                "territorial_commission_number": election.commission,
                "station_number": election.number,
                "is_abroad": election.is_abroad,
            }
        ),
        "station_ballots": pd.DataFrame(
            {
                "station_id": election.station_id,
                "protocol_version": "final",
                "registered_voters_count": election.registered,
                "ballots_issued_count": election.issued,
                "ballots_cast_count": election.cast,
                "invalid_ballots_count": election.invalid,
            }
        ),
        "station_votes": pd.DataFrame(
            {
                "station_id": np.repeat(np.array(election.station_id, dtype=object), len(election.options)),
                "protocol_version": "final",
                "region_id": np.repeat(np.array(election.counted_in, dtype=object), len(election.options)),
                "option_id": np.tile(np.array(election.options, dtype=object), stations),
                "votes": election.votes.reshape(-1),
            }
        ),
        "planted_anomalies": pd.DataFrame(
            {
                "station_id": [election.station_id[i] for i in sorted(election.planted)],
                "anomaly_kind": [election.planted[i] for i in sorted(election.planted)],
            },
            dtype=object,
        ),
    }
    con = duckdb.connect()
    con.execute("SET threads = 1")  # one writer: the row groups come out in the same order every time
    resources = []
    for resource in package.resources:
        frame = frames[resource.name]  # noqa: F841 (read by DuckDB by name)
        columns = ", ".join(f"CAST({f.name} AS {metadata.DUCKDB_TYPES[f.type]}) AS {f.name}" for f in resource.fields)
        path = folder / f"{resource.name}.parquet"
        con.execute(
            f"COPY (SELECT {columns} FROM frame) TO {metadata.sql_string(path)} "
            "(FORMAT parquet, COMPRESSION zstd, KV_METADATA {synthetic: 'true', generator: 'python -m pipeline synth'})"
        )
        resources.append(
            {
                "name": resource.name,
                "path": path.name,
                "format": "parquet",
                "title": resource.title,
                "description": resource.description,
                "schema": metadata.table_schema(resource),
            }
        )
    con.close()
    descriptor = {
        "name": "kz-election-2023-stations-synthetic",
        "title": "SYNTHETIC polling-station returns (not election results)",
        "description": "Synthetic data drawn by `python -m pipeline synth` to sum to the published regional "
        "totals of kz-election-2023; for testing the station-level path and its forensic tests. No row is "
        "an election result.",
        "synthetic": True,
        "generator": description,
        "resources": resources,
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n")
    intro = (
        "SYNTHETIC data (python -m pipeline synth), not election results. Generated from `schemas/stations/` "
        "and `schemas/fields.yaml`; every table is a Parquet file of this folder. A key into `regions` or "
        "`vote_options` refers to the published release."
    )
    (folder / "data_dictionary.md").write_text(metadata.data_dictionary(package, intro=intro), encoding="utf-8")
