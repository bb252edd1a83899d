"""Tables computed from the extracted ones: the seat allocation recomputed from the law, and the
signed seat changes and swings the infobox prints without their sign. Pure functions on records."""

from __future__ import annotations

from fractions import Fraction

from pipeline.common.errors import PipelineError
from pipeline.common.yamlfile import read_yaml
from pipeline.metadata.codes import CODES


def electoral_rules() -> dict:
    """The electoral rules (schemas/codes/electoral_rules.yaml): seats, threshold, runner-up rule."""
    return read_yaml(CODES / "electoral_rules.yaml")


def allocate_seats(
    parties: list[dict], *, seats: int, threshold_pct: float, base_votes: int, runner_up_min_seats: int = 2
) -> list[dict]:
    """Largest-remainder (Hare) allocation of `seats` among the parties passing the threshold.

    `parties`: dicts with party_id, votes, list_registered_date (date) and ballot_number.
    A party passes with at least `threshold_pct` percent of `base_votes`. The Hare quota is the
    passing parties' votes divided by `seats`; each gets the whole part of votes / quota, and the
    seats left go to the largest remainders, ties to the list registered earlier (then the lower
    ballot number). If only one party passes, the party with the next most votes takes part too
    and is given at least `runner_up_min_seats` seats, taken from the passing party.
    Exact fractions are used so that ties are real ties, not floating-point accidents.
    """
    if seats <= 0 or base_votes <= 0:
        raise ValueError("seats and base_votes must be positive")
    rows = [
        {
            **p,
            "vote_share_pct": float(Fraction(100 * p["votes"], base_votes)),
            "has_passed_threshold": Fraction(100 * p["votes"], base_votes)
            >= Fraction(threshold_pct).limit_denominator(),
        }
        for p in parties
    ]
    passing = [r for r in rows if r["has_passed_threshold"]]
    if not passing:
        raise ValueError("no party passes the threshold")
    by_votes = sorted(rows, key=lambda r: (-r["votes"], r["list_registered_date"], r["ballot_number"]))
    runner_up = None
    if len(passing) == 1 and len(rows) > 1:
        runner_up = next(r for r in by_votes if not r["has_passed_threshold"])
    taking_part = passing + ([runner_up] if runner_up else [])
    quota = Fraction(sum(r["votes"] for r in taking_part), seats)
    for r in rows:
        share = Fraction(r["votes"]) / quota if r in taking_part else None
        r["quota_votes"] = float(quota) if share is not None else None
        r["integer_seats_count"] = int(share) if share is not None else 0
        r["_remainder"] = share - int(share) if share is not None else None
        r["remainder"] = float(r["_remainder"]) if share is not None else None
        r["remainder_seats_count"] = 0
        r["minimum_rule_seats_count"] = 0
    left = seats - sum(r["integer_seats_count"] for r in rows)
    order = sorted(taking_part, key=lambda r: (-r["_remainder"], r["list_registered_date"], r["ballot_number"]))
    for r in order[:left]:
        r["remainder_seats_count"] = 1
    for r in rows:
        r["seats_count"] = r["integer_seats_count"] + r["remainder_seats_count"]
    if runner_up and runner_up["seats_count"] < runner_up_min_seats:
        top_up = runner_up_min_seats - runner_up["seats_count"]
        runner_up["minimum_rule_seats_count"] = top_up
        runner_up["seats_count"] += top_up
        passing[0]["minimum_rule_seats_count"] = -top_up
        passing[0]["seats_count"] -= top_up
    for r in rows:
        del r["_remainder"]
    return rows


def seat_allocation(tables: dict[str, list[dict]]) -> list[dict]:
    """The seat_allocation rows: the law applied to the published national votes."""
    rules = electoral_rules()
    votes = {r["option_id"]: r["votes"] for r in tables["national_party_list_results"]}
    registered = {r["party_id"]: r["list_registered_date"] for r in tables["party_candidates"] if r["party_id"]}
    ballot = {r["party_id"]: r["ballot_number"] for r in tables["parties"]}
    published = {r["party_id"]: r["list_seats_count"] for r in tables["national_results"]}
    parties = [
        {"party_id": p, "votes": votes[p], "list_registered_date": registered[p], "ballot_number": ballot[p]}
        for p in ballot
    ]
    base = sum(votes.values())  # votes for all options, 'against all' included: the base of the published shares
    rows = allocate_seats(
        parties,
        seats=rules["list_seats_total_count"],
        threshold_pct=rules["threshold_pct"],
        base_votes=base,
        runner_up_min_seats=rules["runner_up_min_seats_count"],
    )
    columns = [
        "party_id",
        "votes",
        "vote_share_pct",
        "has_passed_threshold",
        "quota_votes",
        "integer_seats_count",
        "remainder",
        "remainder_seats_count",
        "minimum_rule_seats_count",
    ]
    return [
        {
            **{c: r[c] for c in columns},
            "vote_share_pct": round(r["vote_share_pct"], 6),
            "remainder": None if r["remainder"] is None else round(r["remainder"], 6),
            "quota_votes": None if r["quota_votes"] is None else round(r["quota_votes"], 3),
            "allocated_seats_count": r["seats_count"],
            "published_seats_count": published[r["party_id"]],
        }
        for r in rows
    ]


# The regional figures the article gives for the final party-list result: each option's votes and each
# region's ballots (the regional forensic tests read these, and the published shares).
REGIONAL_CELLS = (
    ("party_list_results", ("region_id", "option_id"), "votes"),
    ("region_ballots", ("region_id",), "ballots_cast_count"),
    ("region_ballots", ("region_id",), "invalid_ballots_count"),
    ("region_ballots", ("region_id",), "registered_voters_count"),
)


def _search_order(search: dict) -> tuple:
    return search["searched_date"], search["search_id"]


def latest_searches(tables: dict[str, list[dict]], election: str | None = None) -> dict[tuple[str, str], dict]:
    """The latest search (report_searches row) for each quantity it looked for: (table, column) -> row;
    the searches for one election of elections/ (`election`), or else those for the pinned article's."""
    return {
        (s["published_table_name"], s["published_column_name"]): s
        for s in sorted(tables["report_searches"], key=_search_order)
        if s["election_id"] == election
    }


def report_coverage(tables: dict[str, list[dict]]) -> list[dict]:
    """The report_coverage rows: for every regional cell, the independent figures that give it and whether
    one agrees with the article's value, and for one none gives, the latest search that looked for it
    (report_searches)."""
    from pipeline.extract.errata import format_key
    from pipeline.extract.independent import agrees, figures_by_cell

    figures = figures_by_cell(tables["independent_reports"])
    searches = latest_searches(tables)
    rows = []
    for table, key, column in REGIONAL_CELLS:
        for record in tables[table]:
            record_key = format_key({c: record[c] for c in key})
            found = figures.get((table, record_key, column), [])
            search = searches.get((table, column)) if not found else None
            rows.append(
                {
                    "region_id": record["region_id"],
                    "published_table_name": table,
                    "published_record_key": record_key,
                    "published_column_name": column,
                    "reports_count": len(found),
                    "publishers_count": len({f["publisher_id"] for f in found}),
                    "coverage_status": (
                        "not_found"
                        if not found
                        else "agrees"
                        if any(agrees(f, record[column]) for f in found)
                        else "disagrees"
                    ),
                    "search_id": search["search_id"] if search else None,
                }
            )
    return sorted(
        rows, key=lambda r: (r["published_table_name"], r["published_record_key"], r["published_column_name"])
    )


# The quantities of a district's full result are the enum of quantity_name (schemas/fields.yaml); those the
# article gives are district_results' votes at these candidate ranks.
ARTICLE_RANKS = {"winner_votes": 1, "runner_up_votes": 2}


def district_coverage(tables: dict[str, list[dict]]) -> list[dict]:
    """The district_coverage rows: for every district and quantity of its full result, whether the article
    gives it, the independent figures that give it (only the article's cells can be keyed: district_results'
    votes) and whether one agrees, and for what none gives the latest search for district results."""
    from pipeline import metadata
    from pipeline.extract.errata import format_key
    from pipeline.extract.independent import agrees, figures_by_cell

    figures = figures_by_cell(tables["independent_reports"])
    searched = [s for (table, _), s in latest_searches(tables).items() if table == "district_results"]
    latest = max(searched, key=_search_order)["search_id"] if searched else None
    votes = {(r["district_number"], r["candidate_rank"]): r["votes"] for r in tables["district_results"]}
    quantities = metadata.load().resource("district_coverage").field("quantity_name").constraints["enum"]
    if not ARTICLE_RANKS.keys() <= set(quantities):
        raise PipelineError("derive", f"district_coverage: {sorted(ARTICLE_RANKS)} must be values of quantity_name")
    rows = []
    for district in tables["districts"]:
        number = district["district_number"]
        for quantity in quantities:
            found, rank = [], ARTICLE_RANKS.get(quantity)
            if rank is not None:
                key = format_key({"district_number": number, "candidate_rank": rank})
                found = figures.get(("district_results", key, "votes"), [])
            status = "not_found"
            if found:
                value = votes.get((number, rank))  # (a report of a rank the article lacks cannot agree)
                status = "agrees" if value is not None and any(agrees(f, value) for f in found) else "disagrees"
            rows.append(
                {
                    "district_number": number,
                    "region_id": district["region_id"],
                    "quantity_name": quantity,
                    "is_given_by_article": rank is not None and (number, rank) in votes,
                    "reports_count": len(found),
                    "publishers_count": len({f["publisher_id"] for f in found}),
                    "coverage_status": status,
                    "search_id": None if found else latest,
                }
            )
    return rows


def complete_national_results(tables: dict[str, list[dict]]) -> list[dict]:
    """Add district seats (counted from the district winners) and the signed seat change and swing."""
    district_seats = {}
    for r in tables["district_results"]:
        if r["candidate_rank"] == 1 and r["candidate_party_id"]:
            district_seats[r["candidate_party_id"]] = district_seats.get(r["candidate_party_id"], 0) + 1
    out = []
    for r in tables["national_results"]:
        seats, previous = r["seats_count"], r["seats_2021_count"]
        share, previous_share = r["vote_share_pct"], r["vote_share_2021_pct"]
        out.append(
            {
                **r,
                "district_seats_count": district_seats.get(r["party_id"], 0),
                "seat_change_count": None if seats is None or previous is None else seats - previous,
                "swing_pp": None if share is None or previous_share is None else round(share - previous_share, 2),
            }
        )
    return out


def chamber_seats(tables: dict[str, list[dict]]) -> list[dict]:
    """The chamber as elected: each party's list and district seats, and the independents elected in
    districts (those whose affiliation the article gives counted beside their party, not in its seats)."""
    winners = [r for r in tables["district_results"] if r["candidate_rank"] == 1]
    affiliated: dict[str, int] = {}
    for r in winners:
        if r["is_independent"] and r["affiliation_party_id"]:
            affiliated[r["affiliation_party_id"]] = affiliated.get(r["affiliation_party_id"], 0) + 1
    rows = [
        {
            "seat_holder_id": r["party_id"],
            "party_id": r["party_id"],
            "list_seats_count": r["list_seats_count"],
            "district_seats_count": r["district_seats_count"],
            "seats_count": r["list_seats_count"] + r["district_seats_count"],
            "published_seats_count": r["seats_count"],
            "affiliated_independents_count": affiliated.get(r["party_id"], 0),
        }
        for r in tables["national_results"]
    ]
    independents = sum(1 for r in winners if r["is_independent"])
    rows.append(
        {
            "seat_holder_id": "independent",
            "party_id": None,
            "list_seats_count": 0,
            "district_seats_count": independents,
            "seats_count": independents,
            "published_seats_count": None,
            "affiliated_independents_count": None,
        }
    )
    return rows


def derive(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The extracted tables with the derived ones added (seat allocation, the chamber, signed changes, rules)."""
    tables = dict(tables)
    tables["electoral_rules"] = [electoral_rules()]
    tables["report_coverage"] = report_coverage(tables)
    tables["district_coverage"] = district_coverage(tables)
    from pipeline.derive.elections import election_tables

    tables |= election_tables(tables)
    try:
        tables["national_results"] = complete_national_results(tables)
        tables["seat_allocation"] = seat_allocation(tables)
        tables["chamber_seats"] = chamber_seats(tables)
    except (KeyError, ValueError) as error:
        raise PipelineError(
            "derive", f"cannot compute the derived tables: missing or bad input {error}.", table="seat_allocation"
        ) from None
    return tables


def snapshot_tables(snapshot, *, earlier: bool = False) -> dict[str, list[dict]]:
    """The tables built from a snapshot (pipeline.raw.snapshot.Snapshot): extracted, then the derived
    tables added (`earlier`: the snapshot of an earlier release, see extract.run). Taken from the build
    cache when the same bytes were built before with the same reviewed files (sources/, elections/,
    errata/, schemas/) and code; a snapshot that fails to extract is never cached."""
    from pipeline import extract
    from pipeline.common import cache

    data = snapshot.path.read_bytes()
    reviewed = cache.files("sources", "elections", "errata", "schemas")
    parsing = [data, snapshot.path.name, snapshot.format, *_front_end_versions(snapshot.format)]
    name = cache.key("tables", *parsing, str(earlier), *reviewed) + ".pickle"
    tables = cache.recall("tables", name)
    if tables is cache.MISSING:
        document = cache.computed(  # the snapshot parsed before (an erratum or a report changed)
            "document", parsing, lambda: extract.parse_bytes(data, snapshot.path.name, snapshot.format)
        )
        tables = derive(extract.extract_document(document, earlier=earlier))
        cache.remember("tables", name, tables)
    return tables


def _front_end_versions(fmt: str) -> list[str]:
    """The versions of the libraries that parse a snapshot of this format (an HTML snapshot: pandas,
    Beautiful Soup and its CSS selectors, lxml and the libxml2 it runs; a text snapshot: the code alone, in
    every key)."""
    if fmt != "html":
        return []
    from importlib import metadata as distributions

    from lxml import etree

    names = ("pandas", "beautifulsoup4", "soupsieve", "lxml")
    return [*(f"{name} {distributions.version(name)}" for name in names), f"libxml2 {etree.LIBXML_VERSION}"]
