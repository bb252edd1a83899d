"""The tables across elections: the 2023 election's options, and election_results and election_ballots,
whose 2023 rows are derived from the 2023 tables (so that the two cannot drift) and whose other rows come
from the independent reports in each election's folder (elections/*/reports), a value only where every
report that gives it agrees within their rounding."""

from __future__ import annotations

from pipeline.common.errors import PipelineError

RESULT_COLUMNS = ("votes", "vote_share_pct", "seats_count")
BALLOT_COLUMNS = (
    "registered_voters_count",
    "voters_count",
    "ballots_cast_count",
    "invalid_ballots_count",
    "turnout_pct",
)
COUNTRY = "KZ"


def article_election(tables: dict[str, list[dict]]) -> str:
    """The id of the election the pinned article gives."""
    (found,) = [e["election_id"] for e in tables["elections"] if e["data_origin_text"].startswith("the pinned")]
    return found


def election_tables(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """election_options (the article's election's added from vote_options), election_results and
    election_ballots."""
    from pipeline.extract.independent import figures_by_cell

    current = article_election(tables)
    options = [
        *tables["election_options"],
        *(
            {
                "election_id": current,
                "ballot_name": o["option_name"],
                "option_id": o["option_id"],
                "option_kind": o["option_kind"],
                "party_id": o["party_id"],
            }
            for o in tables["vote_options"]
            if o["option_kind"] in ("party", "against_all")
        ),
    ]
    cells = figures_by_cell(tables["independent_reports"])
    results = _article_results(tables, current, cells) + _reported(tables, "election_results", RESULT_COLUMNS, current)
    ballots = _article_ballots(tables, current, cells) + _reported(tables, "election_ballots", BALLOT_COLUMNS, current)
    return {
        "election_coverage": coverage(tables, results, ballots),
        "results_on_2021_regions": on_2021_regions(tables, results),
        "turnout_change": turnout_change(tables, ballots, current),
        "election_options": sorted(options, key=lambda r: (r["election_id"], r["option_id"])),
        "election_results": sorted(results, key=_result_key),
        "election_ballots": sorted(ballots, key=lambda r: (r["election_id"], r["area_id"], r["protocol_version"])),
    }


def _result_key(row: dict) -> tuple:
    return row["election_id"], row["area_id"], row["option_id"], row["protocol_version"]


def _article_results(tables: dict, election: str, cells: dict) -> list[dict]:
    """The 2023 rows from the article's tables: national and regional, final."""
    seats = {r["party_id"]: r["list_seats_count"] for r in tables["national_results"]}
    rows = []
    for r in tables["national_party_list_results"]:
        given = _given(cells, "national_party_list_results", f"option_id={r['option_id']}", ("votes", "vote_share_pct"))
        given += _given(cells, "national_results", f"party_id={r['option_id']}", ("list_seats_count",))
        rows.append(_result(election, COUNTRY, r, seats.get(r["option_id"]), given))
    for r in tables["party_list_results"]:
        key = f"region_id={r['region_id']}, option_id={r['option_id']}"
        rows.append(
            _result(
                election, r["region_id"], r, None, _given(cells, "party_list_results", key, ("votes", "vote_share_pct"))
            )
        )
    return rows


def _result(election: str, area: str, r: dict, seats, given: int) -> dict:
    return {
        "election_id": election,
        "area_id": area,
        "option_id": r["option_id"],
        "protocol_version": "final",
        "votes": r["votes"],
        "vote_share_pct": r["vote_share_pct"],
        "seats_count": seats,
        "result_source": "article",
        "reports_count": given,
    }


def _article_ballots(tables: dict, election: str, cells: dict) -> list[dict]:
    """The 2023 rows: final from national_ballots and region_ballots; preliminary, the commission's
    turnout at the close of election night (its last hourly figure, 22:00), from the turnout tables."""
    rows = []
    for table, area_column in (("national_ballots", "country_code"), ("region_ballots", "region_id")):
        for r in tables[table]:
            key = f"{area_column}={r[area_column]}"
            rows.append(
                {
                    "election_id": election,
                    "area_id": r[area_column],
                    "protocol_version": "final",
                    **{c: r.get(c) for c in BALLOT_COLUMNS},  # (2023: no voters_count in its ballots tables)
                    "result_source": "article",
                    "reports_count": _given(cells, table, key, BALLOT_COLUMNS),
                }
            )
    # Election night: the commission's last turnout of the day (22:00), its preliminary figure.
    night = max(r["reported_at"] for r in tables["national_turnout_by_hour"])
    stamp = f"reported_at={night:%Y-%m-%dT%H:%M:%S}"
    for table, area_column in (("national_turnout_by_hour", None), ("turnout_by_hour", "region_id")):
        for r in tables[table]:
            if r["reported_at"] != night:
                continue
            area = r[area_column] if area_column else COUNTRY
            key = f"{area_column}={area}, {stamp}" if area_column else stamp
            counts = {c: r.get(c) for c in BALLOT_COLUMNS}
            rows.append(
                {
                    "election_id": election,
                    "area_id": area,
                    "protocol_version": "preliminary",
                    **counts,
                    "result_source": "article",
                    "reports_count": _given(cells, table, key, ("voters_count", "turnout_pct")),
                }
            )
    return rows


def _given(cells: dict, table: str, key: str, columns) -> int:
    return sum(len(cells.get((table, key, c), [])) for c in columns)


def _reported(tables: dict, table: str, columns: tuple, current: str) -> list[dict]:
    """The rows of `table` for the elections built from reports: each cell's value from the figures that
    give it, every two of which must agree, each within its own rounding (a figure stands for the interval
    of half a unit of its last digit, times its multiplier, around it; two agree where their intervals
    overlap: else the build stops, naming them); the most precise figure's value, a count as a whole
    number."""
    from pipeline import metadata

    key_names = metadata.load().resource(table).primary_key
    by_row: dict[str, dict[str, list[dict]]] = {}
    for f in tables["independent_reports"]:
        if f["published_table_name"] == table:
            by_row.setdefault(f["published_record_key"], {}).setdefault(f["published_column_name"], []).append(f)
    rows = []
    for record_key, given in sorted(by_row.items()):
        key = _key(record_key, key_names, table)
        if key["election_id"] == current:
            raise PipelineError(
                "derive", f"{current}'s figures come from the article: report them against its own tables", table=table
            )
        row = {**key, **dict.fromkeys(columns), "result_source": "reports"}
        for column, figures in given.items():
            for i, a in enumerate(figures):
                for b in figures[i + 1 :]:
                    if abs(a["reported_value"] - b["reported_value"]) >= _half_unit(a) + _half_unit(b) - 1e-9 and (
                        a["reported_value"] != b["reported_value"]
                    ):
                        said = "; ".join(f"{f['report_id']}: {f['reported_text']}" for f in figures)
                        raise PipelineError(
                            "derive",
                            f"the reports disagree on {record_key}, {column}: {said}",
                            table=table,
                            column=column,
                        )
            best = min(figures, key=_half_unit)  # the most precise: the smallest rounding interval
            value = best["reported_value"]
            row[column] = int(round(value)) if _half_unit(best) >= 0.5 else value
        row["reports_count"] = sum(len(f) for f in given.values())
        rows.append(row)
    return rows


def _half_unit(figure: dict) -> float:
    """Half a unit of a figure's last digit, times its multiplier ('5 148' thousand: 500)."""
    return 0.5 * 10 ** -(figure["reported_decimals"] or 0) * (figure["reported_multiplier"] or 1)


def _key(record_key: str, names: list[str], table: str) -> dict:
    """A figure's record key ('election_id=..., area_id=...') as a mapping, its parts exactly the table's
    key, in its order (a value holding ', ' or '=' would break the parts: an error here)."""
    from pipeline.extract.errata import parse_key

    key = parse_key(record_key)
    if key is None or list(key) != list(names):
        raise PipelineError("derive", f"the record key {record_key!r} does not give {', '.join(names)}", table=table)
    return key


def on_2021_regions(tables: dict, results: list[dict]) -> list[dict]:
    """The regional rows of the elections held on the 2023 regions, each new region added to the region it
    was carved out of (region_lineage), with the share computed over the area's votes for all options."""
    parent = {r["region_id"]: r["parent_region_id"] for r in tables["region_lineage"]}
    on_2023 = {e["election_id"] for e in tables["elections"] if e["region_scheme_year"] == 2023}
    final = [
        r
        for r in results
        if r["election_id"] in on_2023 and r["area_id"] != COUNTRY and r["protocol_version"] == "final"
    ]
    # an area where an option's count is not given is left out: its shares would be of part of its votes
    incomplete = {(r["election_id"], parent.get(r["area_id"], r["area_id"])) for r in final if r["votes"] is None}
    votes: dict[tuple, int] = {}
    for r in final:
        if (r["election_id"], parent.get(r["area_id"], r["area_id"])) not in incomplete:
            key = (r["election_id"], parent.get(r["area_id"], r["area_id"]), r["option_id"])
            votes[key] = votes.get(key, 0) + r["votes"]
    totals: dict[tuple, int] = {}
    for (election, area, _), count in votes.items():
        totals[(election, area)] = totals.get((election, area), 0) + count
    return [
        {
            "election_id": election,
            "area_id": area,
            "option_id": option,
            "votes": count,
            "computed_share_pct": round(100 * count / totals[(election, area)], 6),
        }
        for (election, area, option), count in sorted(votes.items())
    ]


def turnout_change(tables: dict, ballots: list[dict], current: str) -> list[dict]:
    """The article's election's turnout against each earlier election of its kind, area by area on the
    earlier election's regions: a region carved out after the earlier election is added back to the one it
    came from (region_lineage), final turnout from the counts (ballots cast over registered voters), an
    election night's from the regions' turnout weighted by their final registered voters (the rolls of
    election night are not published). Only areas both elections give."""
    kinds = {e["election_id"]: e for e in tables["elections"]}
    lineage = tables["region_lineage"]
    ours = {(b["area_id"], b["protocol_version"]): b for b in ballots if b["election_id"] == current}
    registered = {area: b["registered_voters_count"] for (area, version), b in ours.items() if version == "final"}
    rows = []
    for earlier in sorted(kinds.values(), key=lambda e: e["election_id"]):
        if earlier["election_kind"] != kinds[current]["election_kind"] or earlier["election_id"] == current:
            continue
        parent = {r["region_id"]: r["parent_region_id"] for r in lineage if r["split_date"] > earlier["election_date"]}
        parts: dict[tuple, list[dict]] = {}
        for (area, version), b in ours.items():
            parts.setdefault((parent.get(area, area), version), []).append(b)
        for b in ballots:
            if b["election_id"] != earlier["election_id"] or b["turnout_pct"] is None:
                continue
            found = parts.get((b["area_id"], b["protocol_version"]), [])
            turnout = _added_turnout(found, registered)
            if turnout is None:
                continue
            rows.append(
                {
                    "election_id": current,
                    "earlier_election_id": earlier["election_id"],
                    "area_id": b["area_id"],
                    "protocol_version": b["protocol_version"],
                    "turnout_pct": turnout,
                    "earlier_turnout_pct": b["turnout_pct"],
                    "turnout_change_pp": round(turnout - b["turnout_pct"], 2),
                    "regions_added_count": len(found),
                }
            )
    return sorted(rows, key=lambda r: (r["earlier_election_id"], r["protocol_version"], r["area_id"]))


def _added_turnout(parts: list[dict], registered: dict) -> float | None:
    """One area's turnout from its parts: as published where it is one; else from the counts (final) or
    the turnouts weighted by registered voters (election night); None where a part lacks them."""
    if len(parts) == 1:
        return parts[0]["turnout_pct"]
    if not parts:
        return None
    if all(p["ballots_cast_count"] is not None and p["registered_voters_count"] for p in parts):
        cast, rolls = sum(p["ballots_cast_count"] for p in parts), sum(p["registered_voters_count"] for p in parts)
        return round(100 * cast / rolls, 2)
    weights = [registered.get(p["area_id"]) for p in parts]
    if any(w is None for w in weights) or any(p["turnout_pct"] is None for p in parts):
        return None
    return round(sum(p["turnout_pct"] * w for p, w in zip(parts, weights, strict=True)) / sum(weights), 2)


def coverage(tables: dict, results: list[dict], ballots: list[dict]) -> list[dict]:
    """For every election, level, protocol and quantity: the values held, their publishers (the article's
    election: none counted, its values are the article's), and for none held the latest search for it."""
    current = article_election(tables)  # (its figures are the article's: a missing one is not in the article)
    from pipeline import metadata
    from pipeline.derive import latest_searches

    searches = {
        (e["election_id"], *cell): s["search_id"]
        for e in tables["elections"]
        for cell, s in latest_searches(tables, e["election_id"]).items()
    }
    publishers: dict[tuple, set] = {}
    for f in tables["independent_reports"]:
        table = f["published_table_name"]
        if table in ("election_results", "election_ballots"):
            key = _key(f["published_record_key"], metadata.load().resource(table).primary_key, table)
            level = "national" if key["area_id"] == COUNTRY else "regional"
            cell = (
                key["election_id"],
                level,
                key["protocol_version"],
                f["published_table_name"],
                f["published_column_name"],
            )
            publishers.setdefault(cell, set()).add(f["publisher_id"])
    rows = []
    for election in sorted(e["election_id"] for e in tables["elections"]):
        for table, data, columns in (
            ("election_results", results, RESULT_COLUMNS),
            ("election_ballots", ballots, BALLOT_COLUMNS),
        ):
            for level in ("national", "regional"):
                for protocol in ("final", "preliminary"):
                    held = [
                        r
                        for r in data
                        if r["election_id"] == election
                        and (r["area_id"] == COUNTRY) == (level == "national")
                        and r["protocol_version"] == protocol
                    ]
                    for column in columns:
                        if level == "regional" and column == "seats_count":
                            continue  # seats are national
                        count = sum(1 for r in held if r[column] is not None)
                        cell = (election, level, protocol, table, column)
                        rows.append(
                            {
                                "election_id": election,
                                "level_name": level,
                                "protocol_version": protocol,
                                "published_table_name": table,
                                "published_column_name": column,
                                "values_count": count,
                                "publishers_count": len(publishers.get(cell, ())),
                                "search_id": None
                                if count or election == current
                                else searches.get((election, table, column)),
                            }
                        )
    return rows
