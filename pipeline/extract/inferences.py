"""Values the extractor infers where the article leaves them implicit: each a named, documented function
that records its row of `extraction_inferences` (table, record, column, the value, and why)."""

from __future__ import annotations

from pipeline.extract.context import ELECTION_DAY, Extraction


def national_totals_row(ctx: Extraction, registered: int) -> None:
    """The party-list table's totals row has no label: it is the unlabelled row whose registered voters
    exceed every region's."""
    ctx.infer(
        "national_ballots",
        {"country_code": "KZ"},
        "country_code",
        "KZ",
        f"A row of the party-list table has no label; its registered voters ({registered:,}) exceed every "
        "region's, so it is the national totals row.",
    )


def region_by_elimination(ctx: Extraction, region_id: str, registered_text: str) -> None:
    """A row of the party-list table lost its region name: it is the one region without a row."""
    ctx.infer(
        "region_ballots",
        {"region_id": region_id},
        "region_id",
        region_id,
        f"A row of the party-list table (registered voters {registered_text}) has an empty region cell; "
        f"{region_id} is the only region without a row, so the row is taken to be it.",
    )


def national_turnout_row(ctx: Extraction) -> None:
    """The turnout table's unlabelled row (voter counts beside the percentages) is the national one."""
    ctx.infer(
        "national_turnout_by_hour",
        {"reported_at": "*"},
        "voters_count",
        "the national row",
        "The turnout table's row without a region label gives voter counts with the percentages, so it is "
        "taken as the national figures (every row of this table).",
    )


def region_from_rowspan(ctx: Extraction, district_number: int, region_id: str) -> None:
    """A district row without a region cell belongs to the region named above it (a rowspan)."""
    ctx.infer(
        "districts",
        {"district_number": district_number},
        "region_id",
        region_id,
        "The region cell spans several district rows in the article (a rowspan); the district takes the "
        "region named on the row above.",
    )


def boycott_from_party_table(ctx: Extraction, key: dict, result_text: str) -> None:
    """'Did not participate' in the party table's 2021 column is the boycott the infobox names."""
    ctx.infer(
        "parties",
        key,
        "status_2021",
        "boycotted",
        f"The party table says {result_text!r} for 2021; the infobox says the party boycotted that election.",
    )


def no_seats_when_boycotted(ctx: Extraction, key: dict, last_election: str) -> int:
    """A party the infobox says boycotted 2021 won no seats then (its 2021 share stays null: a boycott
    is not a 0 % result); returns the 0."""
    ctx.infer(
        "national_results",
        key,
        "seats_2021_count",
        0,
        f"The infobox's 'Last Election' says {last_election!r}: a party that did not stand won no seats "
        "(its 2021 vote share is null, not 0).",
    )
    return 0


def no_list_seats(ctx: Extraction, party_id: str) -> None:
    """A party the Results prose says 'failed to surpass the 5% electoral threshold' won no list seats."""
    ctx.infer(
        "national_results",
        {"party_id": party_id},
        "list_seats_count",
        0,
        "The Results prose says the party 'failed to surpass the 5% electoral threshold', so it won no "
        "party-list seats.",
    )


def independents_district_count(ctx: Extraction, key: dict, count: int) -> None:
    """The independents' row of the candidates table keeps one figure: the district candidates."""
    ctx.infer(
        "party_candidates",
        key,
        "district_candidates_count",
        count,
        "The independents' row keeps one figure after a collapsed colspan; it is the single-member district "
        "count (independents cannot stand on party lists, and the prose gives 359 registered independent "
        "district candidates).",
    )


def days_without_year(ctx: Extraction, table: str) -> None:
    """The timetable writes its days without the year: every one is in the election's year."""
    ctx.infer(
        table,
        {"event_name": "*"},
        "start_date",
        ELECTION_DAY.year,
        "The timetable gives days without the year; the calendar runs from the dissolution on 19 January to "
        f"election day on 19 March {ELECTION_DAY.year}, so every day is in {ELECTION_DAY.year}.",
    )


def debate_day_from_prose(ctx: Extraction, key: dict, day: str, organiser: str, stated: str) -> None:
    """The debates table lost each debate's day; the Debates prose gives it."""
    ctx.infer(
        "debates",
        key,
        "starts_at",
        day,
        f"The table lost the debate's day; the Debates prose says the {organiser} debate was held on {stated}.",
    )


def participation_codes(ctx: Extraction) -> None:
    """The debates table's P and R codes: the party's leader, or a representative."""
    ctx.infer(
        "debate_participants",
        {"debate_id": "*"},
        "participation_code",
        "P/R",
        "The table does not explain its codes. 'P' is read as the party's leader and 'R' as a representative: "
        "the prose has QHP chairman Ertisbaev speak in the KTK debate (QHP 'P') and QHP member Oksana "
        "Äubäkirova stand in for him in the Khabar debate (QHP 'R').",
    )
