"""The readable quality report (docs/quality_report.md), generated from the published quality tables."""

from __future__ import annotations

import re

from pipeline import metadata
from pipeline.forensics import binomial_tail
from pipeline.quality import outcome_summary

STATUS_ORDER = {"corrected": 0, "acknowledged": 1, "passed": 2}


def _cell(value) -> str:
    return "" if value is None or value != value else str(value).replace("|", "/").replace("\n", " ")


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return out


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
    return _table(rows, columns)


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
        *_table(
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
        *(_table(details, ["status", "check", "figure", "published", "reported", "decision"]) if details else []),
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
        *_table(
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
        *_table(passed, ["check_id", "severity", "table_name", "message"]),
        "",
        "## Seat allocation recomputed from the law",
        "",
        "The 69 party-list seats, recomputed from the national votes (table `seat_allocation`):",
        "",
        *_table(
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
        *_table(
            errata, ["erratum_id", "table_name", "record_key", "column_name", "value_before", "value_after", "evidence"]
        ),
        "",
        f"## Values inferred during extraction ({len(inferences)})",
        "",
        *_table(inferences, ["table_name", "record_key", "column_name", "inferred_value", "reason"]),
        "",
        f"## Values the source does not give, published as null ({len(gaps)})",
        "",
        *_table(gaps, ["table_name", "record_key", "column_name", "reason"]),
        "",
    ]
    return "\n".join(lines)


README_START = "<!-- findings: generated by `python -m pipeline publish` from the release's tables; do not edit -->"
README_END = "<!-- /findings -->"


def _first_sentence(text: str) -> str:
    head = re.split(r"\.\s+(?=[A-Z'(])", text, maxsplit=1)[0]  # 'No. 12' is not a sentence's end
    return head.rstrip(".") + "."


def readme_findings(tables: dict[str, list[dict]], quality: list[dict]) -> str:
    """The README's summary of what the checks found: every correction, acknowledgement, inference and
    gap of the release, one line each (the quality report has the details)."""
    acknowledged = sorted(
        {r["explanation"].split(": ", 1)[0]: r for r in quality if r["status"] == "acknowledged"}.items()
    )
    lines = [
        README_START,
        f"- **Corrected** ({len(tables['errata'])}, table `errata`):",
        *(
            f"  - {e['erratum_id']}: `{e['table_name']}` [{e['record_key']}] {e['column_name']}: "
            f"`{e['value_before']}` → `{e['value_after']}`."
            for e in tables["errata"]
        ),
        f"- **Acknowledged** ({len(acknowledged)}, in `quality_checks`):",
        *(
            f"  - {ack_id} ({row['check_id']}): {_first_sentence(row['explanation'].split(': ', 1)[1])}"
            for ack_id, row in acknowledged
        ),
        f"- **Inferred** ({len(tables['extraction_inferences'])}, table `extraction_inferences`):",
        *(
            f"  - `{r['table_name']}` [{r['record_key']}] {r['column_name']} = {r['inferred_value']}."
            for r in tables["extraction_inferences"]
        ),
        f"- **Not given** ({len(tables['source_gaps'])}, table `source_gaps`, published as null):",
        *(f"  - `{r['table_name']}` [{r['record_key']}] {r['column_name']}." for r in tables["source_gaps"]),
        README_END,
    ]
    return "\n".join(lines)


def with_readme_findings(readme: str, summary: str) -> str | None:
    """The README text with its findings block replaced; None when it has no block (a --root elsewhere)."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return None
    return readme[:start] + summary + readme[end + len(README_END) :]


def forensics_report(forensic: dict[str, list[dict]], params: dict) -> str:
    """docs/forensics.md: each test with its null model, parameters, result and p-value; the calibration;
    the per-region table; and what the results show and cannot show."""
    tests = {(t["test_id"], t["subject_id"]): t for t in forensic["forensic_tests"]}

    def p(test_id: str) -> str:
        value = tests[(test_id, "all")]["p_value"]
        draws = tests[(test_id, "all")]["draws_count"]
        if draws and value <= 1 / draws:
            return f"p < {1 / draws:.4g}, none of {draws:,} draws as extreme"
        return f"p = {value:.3g}"

    grid, window = params["grid"], params["grid"]["window_fraction"]
    tested = sum(1 for t in forensic["forensic_tests"] if t["p_value"] is not None)
    calibration = forensic["forensic_calibration"]
    honest = next(r for r in calibration if r["scenario"] == "honest" and r["test_id"] == "share_grid_region")
    cells = tests[("share_grid_region", "all")]["units_count"]
    critical = next(k for k in range(cells + 1) if binomial_tail(k, cells, 2 * window) < params["alpha"])
    size = binomial_tail(critical, cells, 2 * window)

    def smallest(scenario: str) -> int:
        powered = [
            r
            for r in calibration
            if r["test_id"] == "share_grid_region" and r["scenario"] == scenario and r["rejection_rate"] >= 0.95
        ]
        return min(r["back_computed_regions_count"] for r in powered)

    rows = [
        {
            "test": t["test_id"] + ("" if t["subject_id"] == "all" else f" ({t['subject_id']})"),
            "units": t["units_count"],
            "statistic": t["statistic_name"],
            "observed": t["observed_value"],
            "expected under the null": t["expected_value"],
            "p-value": t["p_value"],
            "how": t["p_value_method"],
        }
        for t in forensic["forensic_tests"]
    ]
    summary = sorted(forensic["forensic_region_summary"], key=lambda r: (-r["shares_on_grid_count"], r["region_id"]))
    share_grid = tests[("share_grid_region", "all")]
    lines = [
        "# Forensics report",
        "",
        "Generated by `python -m pipeline publish` from the tables `forensic_tests`, `forensic_region_shares`, "
        "`forensic_region_summary`, `poll_errors` and `forensic_calibration`; do not edit by hand. Parameters: "
        "`forensics/parameters.yaml`, reviewed, and set after reading the article: seed "
        f"{params['seed']}, {params['simulations']:,} draws per simulation, alpha {params['alpha']}.",
        "",
        "## What the results show, and what they cannot",
        "",
        "The family of tests was defined with the step: the primary tests are the regional grid "
        "(`share_grid_region`, and `share_grid_region_constrained`, the same count under a null that keeps each "
        "region's shares summing to 100), the reproducibility of counts among the shares on the grid "
        "(`counts_reproducible`) and the regional turnout grid (`turnout_grid_region`). The national grid, the "
        "two correlations and the second-digit test are exploratory: the national grid test was suggested by "
        "the observation it tests (the article's Analysis section reports it), and the parameters were set "
        "after reading the article.",
        "",
        f"- **The regional shares sit on the two-decimal grid.** Recomputed exactly from the published counts "
        f"(votes over valid votes, ballots cast less invalid), {share_grid['observed_value']:.0f} of the "
        f"{share_grid['units_count']} regional party-list shares lie within {window:.0%} of a step of the grid of "
        f"their published precision ({grid['region_share_step_pp']} pp), where {share_grid['expected_value']:.0f} "
        "would if their fractional parts were uniform: the exact tail under that null, with each region's "
        f"shares summing to 100, is {p('share_grid_region')}. A simulation of the same null averages "
        f"{tests[('share_grid_region_constrained', 'all')]['expected_value']:.0f} shares on the grid "
        f"({p('share_grid_region_constrained')}).",
        f"- **Among the shares on the grid, the counts are the ones the shares give back.** Of the "
        f"{tests[('counts_reproducible', 'all')]['units_count']} shares on the grid, "
        f"{tests[('counts_reproducible', 'all')]['observed_value']:.0f} have counts equal to their published share "
        "times the valid votes, rounded; if they were near the grid by chance about "
        f"{tests[('counts_reproducible', 'all')]['expected_value']:.0f} would ({p('counts_reproducible')}). This "
        "is what separates counts computed from shares from shares that merely sit near the grid.",
        f"- **Regional turnouts**: {tests[('turnout_grid_region', 'all')]['observed_value']:.0f} of 20 lie on the "
        f"0.01 pp grid where 2 would by chance ({p('turnout_grid_region')}). **National shares** (exploratory): "
        f"{tests[('share_grid_national', 'all')]['observed_value']:.0f} of 8 lie on the 0.1 pp grid "
        f"({p('share_grid_national')}).",
        "- **These are properties of the published numbers.** The regional counts are consistent with counts "
        "derived from two-decimal shares; counting votes would give this pattern with a probability below 1e-100 "
        "under the models above. The tests do not show who produced the numbers, at what stage, or why: a "
        "reporting process that computes counts from rounded percentages looks the same as one that changes "
        "results, and the tests cannot tell the two apart. Back-computation below the regional level (in "
        "territorial commissions, summed up to the regions) would not show here: the regional tests have no "
        "power against it.",
        f"- **Turnout against the leading party's share** (exploratory) is a scatter plot at this level "
        f"(weighted r = {tests[('turnout_share_correlation', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_share_correlation')}; for 'against all' r = "
        f"{tests[('turnout_against_all_correlation', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_against_all_correlation')}, which does not reach even the uncorrected level "
        f"{params['alpha']}): aggregation to 20 regions can dilute or create such a correlation, so it is not the "
        "station-level fingerprint of Klimek et al.",
        f"- **Second digits** (exploratory): the regional counts' mean second digit is "
        f"{tests[('second_digit_region', 'all')]['observed_value']:.2f} against Benford's "
        f"{tests[('second_digit_region', 'all')]['expected_value']:.3f} ({p('second_digit_region')}). Mebane "
        "proposed the test for precinct counts, not regional totals; 160 counts can reveal only gross "
        "departures; honest counts need not follow Benford's law (Deckert, Myagkov and Ordeshook); and counts "
        "computed from shares carry whatever second digits the shares give, so the test has no power against "
        "back-computation.",
        f"- **Several tests**: {tested} tests with a p-value are reported, and a level corrected for their number "
        f"(Bonferroni: {params['alpha']} / {tested} = {params['alpha'] / tested:.5f}) applies to any one of them. "
        "The primary results stay far below it. The primary tests are not independent evidence of one another: "
        "the constrained null and the reproducibility test look at the same shares.",
        f"- **Calibration**: on {honest['elections_count']:,} synthetic elections of the same shape tallied "
        f"honestly, the grid test rejects at alpha {honest['alpha']} in {honest['rejection_rate']:.1%} of them "
        f"(95 % upper bound {honest['rejection_rate_upper']:.1%}; its exact size at its critical value is "
        f"{size:.2%}). When the counts of k regions are back-computed from two-decimal shares it detects it in "
        f"95 % of the elections from k = {smallest('back_computed')} on, and from k = {smallest('balanced')} on "
        "when each region's counts are balanced to sum to its valid votes, as the published ones do. The "
        "national and turnout grid tests reject honest elections in "
        + " and ".join(
            f"{r['rejection_rate']:.1%} (upper bound {r['rejection_rate_upper']:.1%})"
            for r in calibration
            if r["scenario"] == "honest" and r["test_id"] != "share_grid_region"
        )
        + " of them.",
        "",
        "## The tests",
        "",
        *_table(rows, ["test", "units", "statistic", "observed", "expected under the null", "p-value", "how"]),
        "",
        "## Calibration of the grid tests",
        "",
        *_table(
            calibration,
            [
                "test_id",
                "scenario",
                "back_computed_regions_count",
                "elections_count",
                "alpha",
                "rejection_rate",
                "rejection_rate_upper",
            ],
        ),
        "",
        "## Regions",
        "",
        *_table(
            summary,
            [
                "region_id",
                "valid_votes_count",
                "shares_on_grid_count",
                "counts_reproducible_count",
                "exact_turnout_pct",
                "is_turnout_on_grid",
            ],
        ),
        "",
        "## References",
        "",
        "- Klimek, Yegorov, Hanel and Thurner, 'Statistical detection of systematic election irregularities', "
        "PNAS 109(41), 2012.",
        "- Kobak, Shpilkin and Pshenichnikov, 'Integer percentages as electoral falsification fingerprints', "
        "Annals of Applied Statistics 10(1), 2016.",
        "- Mebane, 'Election forensics: the second-digit Benford's law test and recent American presidential "
        "elections', 2006.",
        "- Deckert, Myagkov and Ordeshook, 'Benford's law and the detection of election fraud', Political "
        "Analysis 19(3), 2011.",
        "",
    ]
    return "\n".join(lines)
