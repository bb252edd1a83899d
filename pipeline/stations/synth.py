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
# Urban and rural stations differ (an assumption of the generator, set before any calibration ran): in the
# three cities every station is urban; elsewhere URBAN_COMMISSION_SHARE of the territorial commissions are
# towns and the others rural districts, a TOWN_SHARE of whose stations are in the district's town. Rural
# stations are smaller, and turn out and vote for the leader more: TURNOUT_GAP_PP and LEADER_GAP_PP are the
# rural-minus-urban differences of the stations' expected turnout and leader's share, within a region. The
# published regional figures are the only Kazakh evidence: the three cities' mean turnout is 21 points below
# the other regions', and across the 20 regions the leader's share rises 0.12 points per point of turnout.
CITIES = ("KZ-71", "KZ-75", "KZ-79")
URBAN_COMMISSION_SHARE = 0.4
TOWN_SHARE = 0.15
URBAN_SIZE = 1.5  # an urban station's registered voters, relative to a rural one's (before the skew)
TURNOUT_GAP_PP = 20.0
LEADER_GAP_PP = 2.5  # 0.12 x 20: the regions' slope over the cities' turnout gap
# Preliminary protocols (with `preliminary=True`): the same as the final ones but at CORRECTION_SHARE of the
# stations, whose final protocol corrects 1 to CORRECTION_VOTES votes from one option (or the invalid
# ballots) to another, each direction as likely (clerical corrections, symmetric: an assumption).
CORRECTION_SHARE = 0.02
CORRECTION_VOTES = 10


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
    urban: object = None  # numpy bool array: the generator's urban stations (not written)
    preliminary_votes: object = None  # with preliminary protocols: votes and invalid ballots in them
    preliminary_invalid: object = None
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


def generate(
    release: dict,
    stations: int,
    seed: int,
    anomalies: dict[str, float] | None = None,
    *,
    preliminary: bool = False,
    gaps: tuple[float, float] = (TURNOUT_GAP_PP, LEADER_GAP_PP),
) -> Election:
    """A synthetic set of `stations` station returns summing to the release's regional totals. `release`
    holds the published rows of region_ballots and party_list_results; `anomalies` maps a kind of
    ANOMALIES to the fraction of the stations to plant it at; `preliminary` adds preliminary protocols (an
    anomaly planted on them adds them anyway); `gaps` are the rural-minus-urban turnout and leader's share
    in points ((0, 0): no urban and rural difference)."""
    import numpy as np

    from pipeline.stations.plant import ON_PRELIMINARY, plant

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
    arrays: dict[str, list] = {k: [] for k in ("registered", "cast", "invalid", "votes", "urban")}
    for index, region in enumerate(regions):
        domestic = int(per_region[index])
        here_abroad = abroad if region == ABROAD_COUNTED_IN else 0
        count = domestic + here_abroad
        per_commission = max(STATIONS_PER_COMMISSION, -(-domestic // 999))  # (commission numbers go to 999)
        urban = np.ones(count, bool)
        if region not in CITIES:
            towns = round(URBAN_COMMISSION_SHARE * -(-domestic // per_commission))
            urban[:domestic] = (np.arange(domestic) // per_commission < towns) | (rng.random(domestic) < TOWN_SHARE)
        rural = (~urban).astype(float) - (~urban).mean()  # centred: the region's mean stays its own
        size = rng.lognormal(0.0, 0.9, count) * np.where(urban, URBAN_SIZE, 1.0)
        size[rng.random(count) < 1 / 12] *= 0.04
        size[domestic:] *= 0.3
        row = ballots[region]
        registered = allocate(np, row["registered_voters_count"] - count, size) + 1
        turnout = row["ballots_cast_count"] / row["registered_voters_count"]
        turnout = np.clip(turnout + gaps[0] / 100 * rural, 0.02, 0.98)
        drawn = rng.beta(TURNOUT_CONCENTRATION * turnout, TURNOUT_CONCENTRATION * (1 - turnout))
        cast = allocate(np, row["ballots_cast_count"], registered * drawn, cap=registered)
        invalid = allocate(np, row["invalid_ballots_count"], cast * rng.lognormal(0.0, 0.5, count), cap=cast)
        totals = np.array([cell[(region, o)] for o in options], float)
        target = np.tile(totals / totals.sum(), (count, 1))
        top = int(totals.argmax())
        lead = np.clip(target[:, top] + gaps[1] / 100 * rural, 0.01, 0.99)
        target *= ((1 - lead) / (1 - target[:, top]))[:, None]
        target[:, top] = lead
        shares = rng.gamma(SHARE_CONCENTRATION * target + 1e-9)
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
        arrays["urban"].append(urban)
        code = region.removeprefix("KZ-")
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
        urban=np.concatenate(arrays["urban"]),
    )
    anomalies = anomalies or {}
    for kind, fraction in sorted(anomalies.items()):
        if kind not in ON_PRELIMINARY:
            plant(np, rng, election, kind, fraction)
    election.cast = election.votes.sum(axis=1) + election.invalid
    election.issued = election.cast + rng.binomial(election.registered - election.cast, 0.003)
    if preliminary or any(kind in ON_PRELIMINARY for kind in anomalies):
        _preliminary(np, rng, election)
        for kind, fraction in sorted(anomalies.items()):
            if kind in ON_PRELIMINARY:
                plant(np, rng, election, kind, fraction)
    return election


def _preliminary(np, rng, election: Election) -> None:
    """Preliminary protocols: the final ones, but at CORRECTION_SHARE of the stations 1 to CORRECTION_VOTES
    votes counted for another option or as invalid (what the final protocol then corrects). Two columns of
    the votes and invalid ballots holding at least one vote are chosen at random, then which of them gives
    by a fair coin: a correction is as likely to raise any column's count as to lower it, and by as much
    (a column that is empty is never chosen, and the votes moved are capped by the smaller of the two)."""
    table = np.column_stack([election.votes, election.invalid])  # options, then the invalid ballots
    chosen = np.flatnonzero(rng.random(len(table)) < CORRECTION_SHARE)
    keys = np.where(table[chosen] > 0, rng.random((len(chosen), table.shape[1])), np.inf)
    pair = np.argsort(keys, axis=1, kind="stable")[:, :2]
    usable = np.isfinite(np.take_along_axis(keys, pair, axis=1)).all(axis=1)  # two columns with votes
    chosen, pair = chosen[usable], pair[usable]
    flip = rng.random(len(chosen)) < 0.5
    give = np.where(flip, pair[:, 0], pair[:, 1])
    take = np.where(flip, pair[:, 1], pair[:, 0])
    smaller = np.minimum(table[chosen, give], table[chosen, take])  # the same cap whichever way it goes
    moved = np.minimum(rng.integers(1, CORRECTION_VOTES + 1, len(chosen)), smaller)
    table[chosen, give] -= moved
    table[chosen, take] += moved
    election.preliminary_votes, election.preliminary_invalid = table[:, :-1].copy(), table[:, -1].copy()


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
    protocols = [("final", election.votes, election.invalid)]
    if election.preliminary_votes is not None:
        protocols.append(("preliminary", election.preliminary_votes, election.preliminary_invalid))
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
        "station_ballots": pd.concat(
            pd.DataFrame(
                {
                    "station_id": election.station_id,
                    "protocol_version": version,
                    "registered_voters_count": election.registered,
                    "ballots_issued_count": election.issued,
                    "ballots_cast_count": election.cast,
                    "invalid_ballots_count": invalid,
                }
            )
            for version, _, invalid in protocols
        ),
        "station_votes": pd.concat(
            pd.DataFrame(
                {
                    "station_id": np.repeat(np.array(election.station_id, dtype=object), len(election.options)),
                    "protocol_version": version,
                    "region_id": np.repeat(np.array(election.counted_in, dtype=object), len(election.options)),
                    "option_id": np.tile(np.array(election.options, dtype=object), stations),
                    "votes": votes.reshape(-1),
                }
            )
            for version, votes, _ in protocols
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
