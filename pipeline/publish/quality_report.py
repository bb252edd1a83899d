"""The readable quality report (docs/quality_report.md), generated from the published quality tables."""

from __future__ import annotations

from pipeline import metadata
from pipeline.checks.quality import outcome_summary
from pipeline.common import markdown

STATUS_ORDER = {"corrected": 0, "acknowledged": 1, "passed": 2}


def _turnout_bases(tables: dict) -> list[str]:
    (national,) = tables["national_ballots"]
    rolls = {int(national["registered_voters_count"]): "final roll"}
    for row in tables["voter_roll_reports"]:
        rolls.setdefault(int(row["registered_voters_count"]), f"roll of {row['as_of_date']:%d %B %Y}")
    columns = ["reported at", "voters", "published %"] + [f"{base:,} ({label})" for base, label in rolls.items()]
    rows = []
    for report in tables["national_turnout_by_hour"]:
        row = {
            "reported at": f"{report['reported_at']:%H:%M}",
            "voters": f"{report['voters_count']:,}",
            "published %": f"{report['turnout_pct']:.2f}",
        }
        for (base, _label), column in zip(rolls.items(), columns[3:], strict=True):
            share = 100 * report["voters_count"] / base
            row[column] = f"{share:.3f}" + (" ✓" if abs(share - report["turnout_pct"]) <= 0.005 + 1e-9 else "")
        rows.append(row)
    return markdown.table(rows, columns)


REPORTS_CHECKS = ("reports_agree", "reports_agree_with_each_other")


def _independent_reports(tables: dict, quality: list[dict]) -> list[str]:
    """Per family of figures (the published table they state), how many independent figures agree with
    the package, how many disagree, and what was decided for each disagreement."""
    figures, publishers = tables["independent_reports"], {p["publisher_id"]: p for p in tables["publishers"]}
    decided = [r for r in quality if r["check_id"] in REPORTS_CHECKS and r["status"] != "passed"]
    acknowledged = {r["record_key"] for r in decided if r["status"] == "acknowledged"}
    families: dict[str, dict] = {}
    for figure in figures:
        name = figure["published_table_name"] or "(not published by the package)"
        family = families.setdefault(name, {"figures": 0, "publishers": set(), "acknowledged": 0})
        family["figures"] += 1
        family["publishers"].add(figure["publisher_id"])
        family["acknowledged"] += (
            f"report_id={figure['report_id']}, quantity_id={figure['quantity_id']}" in acknowledged
        )
    rows = [
        {
            "published table": name,
            "figures reported": f["figures"],
            "publishers": len(f["publishers"]),
            "agree": f["figures"] - f["acknowledged"],
            "disagree, acknowledged": f["acknowledged"],
            "article values corrected": sum(r["status"] == "corrected" and r["table_name"] == name for r in decided),
        }
        for name, f in sorted(families.items())
    ]
    details = [
        {
            "status": r["status"],
            "check": r["check_id"],
            "figure": r["record_key"],
            "published": r["expected"],
            "reported": r["actual"],
            "decision": r["explanation"],
        }
        for r in sorted(decided, key=lambda r: (r["record_key"], r["check_id"]))
    ]
    return [
        f"## Independent reports ({len(figures)} figures from {len(publishers)} publishers)",
        "",
        "Every figure in `independent_reports` (news agencies and newspapers quoting the electoral commission, "
        "the pollsters' releases, observer missions; `sources/`) is compared with the value the package "
        "publishes for the same table, row and column by the check `reports_agree`, and with the other reports of "
        "the same quantity by `reports_agree_with_each_other`, within the rounding of "
        "both. A disagreement is corrected in the article (an erratum, when the evidence shows the article is "
        "wrong: the reports then agree with the corrected value) or acknowledged (when the report is the one in "
        "error, or gives a preliminary figure); each decision is listed below the counts.",
        "",
        *markdown.table(
            rows,
            [
                "published table",
                "figures reported",
                "publishers",
                "agree",
                "disagree, acknowledged",
                "article values corrected",
            ],
        ),
        "",
        *(
            markdown.table(details, ["status", "check", "figure", "published", "reported", "decision"])
            if details
            else []
        ),
        *([""] if details else []),
    ]


def quality_report(package: metadata.Package, tables: dict[str, list[dict]], quality: list[dict]) -> str:
    """docs/quality_report.md: every check, correction, acknowledgement, inference and gap."""
    findings = sorted(
        (r for r in quality if r["status"] != "passed"),
        key=lambda r: (STATUS_ORDER[r["status"]], r["check_id"], r["record_key"], r["column_name"]),
    )
    passed = sorted((r for r in quality if r["status"] == "passed"), key=lambda r: r["check_id"])
    errata, inferences, gaps = (tables[name] for name in ("errata", "extraction_inferences", "source_gaps"))
    lines = [
        f"# Quality report: {package.meta['title']}",
        "",
        "Generated by `python -m pipeline publish` from the tables `quality_checks`, `errata`, "
        "`extraction_inferences` and `source_gaps`; do not edit by hand.",
        "",
        f"Cross-checks (SQL in `pipeline/checks/`) on this release: {outcome_summary(quality)}. A finding is "
        "either corrected through `errata/errata.yaml` (the source's value is wrong, with the evidence) or "
        "acknowledged in `errata/acknowledged.yaml` with the reason it stays as published; any other finding "
        "stops the build.",
        "",
        "## Findings",
        "",
        *markdown.table(
            findings,
            [
                "status",
                "check_id",
                "severity",
                "table_name",
                "record_key",
                "column_name",
                "expected",
                "actual",
                "explanation",
            ],
        ),
        "",
        "## Checks that passed",
        "",
        *markdown.table(passed, ["check_id", "severity", "table_name", "message"]),
        "",
        "## Seat allocation recomputed from the law",
        "",
        "The 69 party-list seats, recomputed from the national votes (table `seat_allocation`):",
        "",
        *markdown.table(
            tables["seat_allocation"],
            [
                "party_id",
                "votes",
                "vote_share_pct",
                "has_passed_threshold",
                "integer_seats_count",
                "remainder",
                "remainder_seats_count",
                "allocated_seats_count",
                "published_seats_count",
            ],
        ),
        "",
        *_independent_reports(tables, quality),
        "## Which registered-voter total the national turnout reports use",
        "",
        "Each national report's percentage recomputed from its voter count over each registered-voter total the "
        "article states; a tick marks the totals that reproduce the published two decimals "
        "(check `turnout_national_base`).",
        "",
        *_turnout_bases(tables),
        "",
        f"## Corrections applied ({len(errata)})",
        "",
        *markdown.table(
            errata, ["erratum_id", "table_name", "record_key", "column_name", "value_before", "value_after", "evidence"]
        ),
        "",
        f"## Values inferred during extraction ({len(inferences)})",
        "",
        *markdown.table(inferences, ["table_name", "record_key", "column_name", "inferred_value", "reason"]),
        "",
        f"## Values the source does not give, published as null ({len(gaps)})",
        "",
        *markdown.table(gaps, ["table_name", "record_key", "column_name", "reason"]),
        "",
    ]
    return "\n".join(lines)
