"""docs/forensics.md, the readable forensics report, from the forensics tables and the parameters."""

from __future__ import annotations

from pipeline.common import markdown
from pipeline.forensics.across import report_section as across_section
from pipeline.forensics.distributions import binomial_tail
from pipeline.forensics.provenance import phrase
from pipeline.forensics.rows import window_percent


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

    def whose(test_id: str) -> str:
        return phrase(tests[(test_id, "all")])

    regional = [t for t in forensic["forensic_tests"] if t["unit_level"] == "region"]
    given = sum(t["reported_cells_count"] for t in regional)
    regional_reported = (
        "none" if not given else f"{given} values in all, of {sum(t['input_cells_count'] for t in regional)}"
    )

    grid, window = params["grid"], params["grid"]["window_fraction"]
    family = [t for t in forensic["forensic_tests"] if t["test_role"] in ("primary", "exploratory")]
    tested = sum(1 for t in family if t["p_value"] is not None)
    windows = sorted(
        (t for t in forensic["forensic_tests"] if t["test_role"] == "robustness"),
        key=lambda t: float(window_percent(t["test_id"])),
    )
    calibration = forensic["forensic_calibration"]
    honest = next(r for r in calibration if r["scenario"] == "honest" and r["test_id"] == "share_grid_region")
    cells = tests[("share_grid_region", "all")]["units_count"]
    critical = next(k for k in range(cells + 1) if binomial_tail(k, cells, 2 * window) < params["alpha"])
    size = binomial_tail(critical, cells, 2 * window)

    def row(test_id: str, scenario: str, k: int) -> dict:
        return next(
            r
            for r in calibration
            if (r["test_id"], r["scenario"], r["back_computed_regions_count"]) == (test_id, scenario, k)
        )

    def rate(test_id: str, scenario: str, k: int, column: str = "rejection_rate") -> str:
        return f"{row(test_id, scenario, k)[column]:.1%}"

    def max_k(scenario: str) -> int:
        return max(r["back_computed_regions_count"] for r in calibration if r["scenario"] == scenario)

    def max_rate(test_id: str, scenario: str) -> str:
        rates = [r["rejection_rate"] for r in calibration if (r["test_id"], r["scenario"]) == (test_id, scenario)]
        return f"{max(rates):.1%}"

    def count(scenario: str, k: int) -> str:
        return f"{row('share_grid_region', scenario, k)['elections_count']:,}"

    valid_regions = len(forensic["forensic_region_rounding"])
    targets = sorted(
        {r["back_computed_regions_count"] for r in calibration if r["scenario"] == "national_targets"}, reverse=True
    )
    drawn = params["calibration"]["elections"]

    def left_out(k: int) -> str:
        kept = row("share_grid_region", "national_targets", k)["elections_count"]
        return (
            ""
            if kept == drawn
            else f" ({drawn - kept} of {drawn} drawn left out: a residual region would need a negative count)"
        )

    national = tests[("share_grid_national", "all")]
    by_size = [
        r["region_id"] for r in sorted(forensic["forensic_region_summary"], key=lambda r: -r["valid_votes_count"])
    ]
    tallied = sorted(
        (r["region_id"] for r in forensic["forensic_region_rounding"] if r["preferred_model"] == "tallied"),
        key=by_size.index,
    )  # (largest first, as the ordinals below)
    ordinals = ("first", "second", "third", "fourth", "fifth")
    places = [by_size.index(region) for region in tallied]
    largest = [ordinals[i] for i in places] if places and max(places) < len(ordinals) else []

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
            "whose numbers": f"{t['numbers_source']} ({t['reported_cells_count']} of {t['input_cells_count']} "
            "values also reported)",
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
        "**Whose numbers.** Every test reads the article's tables, as corrected by the reviewed errata; the "
        "column `numbers_source` of `forensic_tests` says for each test how many of the values it reads an "
        "independent report also gives, with the same value (`independent_reports`). For the regional tests "
        f"that is {regional_reported}: no publisher other than Wikipedia was found giving the regional results of "
        "the final count (table `report_coverage`: which of the 220 regional figures reports give; "
        "`report_searches`: what was searched, where and when), so the regional results below are properties "
        "of the article's table. They cannot tell counts the commission published with this pattern from a "
        "table compiled this way by the article's editors. One lead: qmonitor.kz "
        "(https://qmonitor.kz/politics/5068) writes that the commission's official message gave only absolute "
        "figures this time («только абсолютные цифры»), and that qmonitor computed the regional shares itself. "
        "Every one of the article's 160 regional shares is its count over the region's valid votes rounded to "
        "two decimals, as shares computed from the counts would be. The national counts differ: several "
        "publishers report all eight with the article's values, and the national test reads them.",
        "",
        "**Every test here is post hoc** (`is_post_hoc`): the article's Analysis section names the hundredths "
        "and the turnout, so every grid test was suggested by what it tests, and the parameters were set after "
        "reading the article. Within that, the family of tests (`test_role`): the primary tests are the "
        "regional grid (`share_grid_region`, and `share_grid_region_constrained`, the same count under a null "
        "that keeps each region's shares summing to 100), the reproducibility of counts among the shares on the "
        "grid (`counts_reproducible`) and the regional turnout grid (`turnout_grid_region`); the national grid "
        "and the two correlations (weighted and unweighted) are exploratory; the regional grid with other "
        "windows is a robustness check; the second digits and the poll errors are descriptive, outside the "
        "family. The parameters of any election not read yet are to be fixed before reading it.",
        "",
        f"- **The regional shares sit on the two-decimal grid.** Recomputed exactly from the published counts "
        f"(votes over valid votes, ballots cast less invalid), {share_grid['observed_value']:.0f} of the "
        f"{share_grid['units_count']} regional party-list shares lie within {window:.0%} of a step of the grid of "
        f"their published precision ({grid['region_share_step_pp']} pp), where {share_grid['expected_value']:.0f} "
        "would if their fractional parts were uniform: the exact tail under that null, with each region's "
        f"shares summing to 100, is {p('share_grid_region')} (whose numbers: {whose('share_grid_region')}). "
        "The window was chosen after reading the numbers; with windows of "
        + ", ".join(f"{window_percent(t['test_id'])} %" for t in windows)
        + " of a step, "
        + ", ".join(f"{t['observed_value']:.0f}" for t in windows)
        + " shares are on the grid, and the p-value is at most "
        f"{max(t['p_value'] for t in windows):.2g} for every one of them (the narrowest window is under half a "
        "vote wide in most regions, so it catches only part of the counts that are exactly a share's count). "
        f"A simulation of the same null averages "
        f"{tests[('share_grid_region_constrained', 'all')]['expected_value']:.0f} shares on the grid "
        f"({p('share_grid_region_constrained')}).",
        f"- **Among the shares on the grid, the counts are the ones the shares give back.** Of the "
        f"{tests[('counts_reproducible', 'all')]['units_count']} shares on the grid, "
        f"{tests[('counts_reproducible', 'all')]['observed_value']:.0f} have counts equal to their published share "
        "times the valid votes, rounded; if they were near the grid by chance about "
        f"{tests[('counts_reproducible', 'all')]['expected_value']:.0f} would ({p('counts_reproducible')}; "
        f"{whose('counts_reproducible')}). This is what separates counts computed from shares from shares that "
        "merely sit near the grid.",
        f"- **Regional turnouts**: {tests[('turnout_grid_region', 'all')]['observed_value']:.0f} of 20 lie on the "
        f"0.01 pp grid where 2 would by chance ({p('turnout_grid_region')}; {whose('turnout_grid_region')}). "
        f"**National shares** (exploratory): {tests[('share_grid_national', 'all')]['observed_value']:.0f} of 8 lie "
        f"on the 0.1 pp grid ({p('share_grid_national')}; {whose('share_grid_national')}).",
        "- **These are properties of the published numbers.** The regional counts are consistent with counts "
        "derived from two-decimal shares; counting votes would give this pattern with a probability below 1e-100 "
        "under the models above. The tests do not show who produced the numbers, at what stage, or why: a "
        "reporting process that computes counts from rounded percentages looks the same as one that changes "
        "results, and the tests cannot tell the two apart. Back-computation below the regional level (in "
        "territorial commissions, summed up to the regions) would not show here: the regional tests have no "
        "power against it.",
        f"- **Turnout against the leading party's share** (exploratory) is a scatter plot at this level "
        f"(weighted r = {tests[('turnout_share_correlation', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_share_correlation')}; unweighted r = "
        f"{tests[('turnout_share_correlation_unweighted', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_share_correlation_unweighted')}). For 'against all', weighted r = "
        f"{tests[('turnout_against_all_correlation', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_against_all_correlation')}, and unweighted r = "
        f"{tests[('turnout_against_all_correlation_unweighted', 'all')]['observed_value']:.2f}, "
        f"{p('turnout_against_all_correlation_unweighted')}: neither weighting was fixed before reading the "
        "numbers, so both are shown, and neither reaches the corrected level below. Aggregation to 20 regions "
        "can dilute or create such a correlation, so it is not the station-level fingerprint of Klimek et al.",
        f"- **Second digits** (descriptive, outside the family: regional totals have no valid null model for "
        "them): the regional counts' mean second digit is "
        f"{tests[('second_digit_region', 'all')]['observed_value']:.2f} against Benford's "
        f"{tests[('second_digit_region', 'all')]['expected_value']:.3f} ({p('second_digit_region')}). Mebane "
        "proposed the test for precinct counts, not regional totals; 160 counts can reveal only gross "
        "departures; honest counts need not follow Benford's law (Deckert, Myagkov and Ordeshook); and counts "
        "computed from shares carry whatever second digits the shares give, so the test has no power against "
        "back-computation.",
        f"- **Several tests**: the family holds {tested} tests with a p-value, and a level corrected for their number "
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
            f"{rate(test_id, 'honest', 0)} (upper bound {rate(test_id, 'honest', 0, 'rejection_rate_upper')})"
            for test_id in ("share_grid_national", "turnout_grid_region")
        )
        + " of them.",
        f"- **Regions back-computed, or national targets first?** Back-computing regions does not put the "
        f"national shares on their 0.1 grid: with every region balanced from its shares, the national grid test "
        f"rejects in {rate('share_grid_national', 'balanced', max_k('balanced'))} of "
        f"{count('balanced', max_k('balanced'))} synthetic elections (at most "
        f"{max_rate('share_grid_national', 'balanced')} at any k). When the national shares are set first on "
        "the grid and every region but the residual ones (drawn at random) is balanced from its shares "
        "('national_targets'), the national grid test, the regional grid test and the per-region scan reject in "
        + " and ".join(
            f"{rate('share_grid_national', 'national_targets', k)}, {rate('share_grid_region', 'national_targets', k)}"
            f" and {rate('region_rounding_scan', 'national_targets', k)} of {count('national_targets', k)} "
            f"elections with {valid_regions - k} residual region{'s' if valid_regions - k > 1 else ''}"
            f"{left_out(k)}"
            for k in targets
        )
        + ". Its national rate checks the construction, which puts every national share on the grid, not the "
        f"data. The published numbers have {national['observed_value']:g} of the {national['units_count']} "
        f"national shares on the grid and {len(tallied)} region{'s' if len(tallied) != 1 else ''} preferring "
        f"'tallied' ({', '.join(tallied) or 'none'}"
        + (f": the {' and '.join(largest)} largest by valid votes" if largest else "")
        + "), so the scenario matches them only in part. Which compilation produced the published numbers, and "
        "whether the commission's own counts carry these patterns, these synthetic elections cannot show. The "
        "scenario and its numbers of residual regions were chosen after reading the numbers.",
        "- **The district races are not tested.** A grid or reproducibility test of a district's counts needs "
        "its valid votes; the article gives only the winner's and the runner-up's votes and shares (table "
        "`district_coverage` says, district by district, what the article and the reports give and what was "
        "searched). The tests' "
        f"parameters are fixed now, before any such figure is read (`forensics/parameters.yaml`, `district`: "
        f"two-decimal grid, window {params['district']['window_fraction']:.0%} of a step, alpha "
        f"{params['district']['alpha']}).",
        "",
        "## The tests",
        "",
        *markdown.table(
            rows,
            ["test", "units", "statistic", "observed", "expected under the null", "p-value", "how", "whose numbers"],
        ),
        "",
        "## Calibration of the grid tests",
        "",
        *markdown.table(
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
        "## Across elections",
        "",
        *across_section(forensic["forensic_elections"], params),
        "",
        "## Regions tallied or computed from shares",
        "",
        *_rounding_section(forensic["forensic_region_rounding"], params, calibration),
        "",
        "## Regions",
        "",
        *markdown.table(
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


def _rounding_section(rows: list[dict], params: dict, calibration: list[dict]) -> list[str]:
    """The per-region rounding model: what it prefers where, its calibration, and its table."""
    scan = {
        (r["scenario"], r["back_computed_regions_count"]): r
        for r in calibration
        if r["test_id"] == "region_rounding_scan"
    }
    honest, one = scan[("honest", 0)], scan[("balanced", 1)]
    pooled = next(
        r
        for r in calibration
        if (r["test_id"], r["scenario"], r["back_computed_regions_count"]) == ("share_grid_region", "balanced", 1)
    )
    computed = [r for r in rows if r["preferred_model"] == "computed_from_shares"]
    rejected = [r for r in rows if r["adjusted_p_value"] < params["alpha"]]
    named = [r for r in computed if r["balancing_option_id"]]
    balancing = sorted({r["balancing_option_id"] for r in named})
    tallied = ", ".join(r["region_id"] for r in rows if r["preferred_model"] == "tallied") or "none"
    return [
        "For each region, a profile likelihood ratio of 'computed from shares with "
        f"{params['rounding']['share_decimals']} decimals, one option balancing the total' against 'tallied', on "
        "the counts' exact distances in votes from the counts such shares give (no window; "
        "`pipeline/forensics/rounding.py`): the product over the counts but the balancing one, maximised over "
        "which option balances (at most log10 8 above the ratio averaged over the options), with a count off its "
        f"share's count under 'computed' with probability {params['rounding']['slip']}, a parameter set after "
        "reading the numbers, which alone sets the ratio where no count fits. The null model 'tallied': each "
        "count's place within a step of the grid is uniform, independent of the others but for their sum, which "
        "fixes the last one; a count is then exactly a share's count with probability one in the votes a step is "
        "worth. The p-value is the bound P(at least k - 1 of the other seven counts on it), a binomial tail; "
        f"Holm's step-down adjusts it for the scan over {len(rows)} regions. Calibrated on the synthetic "
        f"elections of `forensic_calibration` (test `region_rounding_scan`): tallied honestly, the scan rejects "
        f"in {honest['rejection_rate']:.1%} of {honest['elections_count']:,} (95 % upper bound "
        f"{honest['rejection_rate_upper']:.1%}); with one region's counts compiled from its two-decimal shares "
        f"(balanced), in {one['rejection_rate']:.0%} of {one['elections_count']}, where the pooled grid test "
        f"detects it in {pooled['rejection_rate']:.0%}.",
        "",
        f"{len(computed)} of {len(rows)} regions prefer 'computed from shares', and {len(rejected)} reject "
        f"'tallied' at alpha {params['alpha']} after the adjustment; {tallied} prefer 'tallied'. Where exactly "
        f"one count is off its share's count ({len(named)} regions), the data name the balancing option: "
        f"{' and '.join(balancing) or 'none'}; where all or several are off, they do not. The p-values are "
        "nominal: the test, the decimals and the denominator were chosen after reading the article. The scan "
        "restates the regional grid result region by region (a count exactly a share's count is a share on the "
        "grid), so it is not independent evidence and stays outside the family of `forensic_tests`. Rejecting "
        "'tallied' is not evidence for one way of computing: any process that puts counts on the grid does "
        "the same (the commission's, or an editor rebuilding counts from shares), and counts computed from "
        "shares differ from whatever they were computed from by at most half a step, 4 to 30 votes here, so "
        "the pattern says nothing about the size of any change. The numbers are the article's table's (no "
        "independent report gives a regional count).",
        "",
        *markdown.table(
            rows,
            [
                "region_id",
                "vote_step",
                "exact_counts_count",
                "likelihood_ratio_log10",
                "preferred_model",
                "balancing_option_id",
                "p_value",
                "adjusted_p_value",
            ],
        ),
    ]
