"""The forensic tests across elections (forensic_elections): the 2023 results, tested after reading them,
beside the tests whose parameters were fixed in advance (forensics/parameters.yaml, out_of_sample) and run
on every other election as far as its counts are given by two independent publishers. A test that cannot
run says why. Every result is a property of the published numbers; none shows who produced them or why."""

from __future__ import annotations

from pipeline.common import markdown
from pipeline.extract.errata import parse_key
from pipeline.forensics.distributions import constrained_tail, grid_distance, holm, poisson_binomial_tail
from pipeline.forensics.rows import p_value, rounded

CURRENT_TESTS = ("share_grid_national", "share_grid_region", "counts_reproducible")


def elections_tests(np, tables: dict[str, list[dict]], tests_2023: list[dict], params: dict) -> list[dict]:
    """One row per election and test: the 2023 tests as run on the article (post hoc), then every test
    out_of_sample fixes for each other election, run or not, with Holm's adjustment over those that ran."""
    settings = params["out_of_sample"]
    current = next(e["election_id"] for e in tables["elections"] if e["data_origin_text"].startswith("the pinned"))
    known = {e["election_id"] for e in tables["elections"]}
    rows = [
        _row(current, t["test_id"], False, t["units_count"], t["observed_value"], t["expected_value"], t["p_value"],
             t["numbers_source"], t["reading_text"])
        for t in tests_2023
        if t["test_id"] in CURRENT_TESTS and t["subject_id"] == "all"
    ]  # fmt: skip
    known_outcome = params.get("out_of_sample_not_blind", {})
    regional = {r["election_id"] for r in tables["election_results"] if r["area_id"] != "KZ" and r["votes"] is not None}
    for election, planned in sorted(settings["elections"].items()):
        for test in planned:
            if election not in known:
                rows.append(_not_run(election, test, "the election's figures are not in the package yet"))
            elif test == "share_grid_national":
                row = _national_grid(np, tables, election, settings)
                why = known_outcome.get(election, {}).get(test)
                note = f" Not blind: {' '.join(why.split())}" if why else ""
                rows.append(row | {"is_blind": not why, "reading_text": row["reading_text"] + note})
            elif election not in regional:
                rows.append(_not_run(election, test, "the package holds no region's counts for this election"))
            elif test in ("share_grid_region", "counts_reproducible_region", "region_rounding_scan"):
                rows.append(_regional_grid(np, tables, election, settings, test))
            else:
                rows.append(_not_run(election, test, "this test is not implemented for other elections"))
    family = [r for r in rows if r["is_fixed_in_advance"] and r["is_blind"] and r["p_value"] is not None]
    adjusted = {
        (r["election_id"], r["test_id"]): p_value(a)
        for r, a in zip(family, holm([r["p_value"] for r in family]), strict=True)
    }
    return [{**r, "adjusted_p_value": adjusted.get((r["election_id"], r["test_id"]))} for r in rows]


def _final_counts(tables: dict, election: str) -> dict[str, dict[str, tuple]]:
    """An election's final results by area: {area: {option: (votes, published share)}}, a count kept only
    where two independent publishers give it (or the commission's own release)."""
    publishers: dict[tuple, set] = {}
    for f in tables["independent_reports"]:
        if (f["published_table_name"], f["published_column_name"]) != ("election_results", "votes"):
            continue
        key = parse_key(f["published_record_key"]) or {}
        if (key.get("election_id"), key.get("protocol_version")) == (election, "final"):
            publishers.setdefault((key["area_id"], key["option_id"]), set()).add(f["publisher_id"])
    out: dict[str, dict[str, tuple]] = {}
    for r in tables["election_results"]:
        if (r["election_id"], r["protocol_version"]) != (election, "final"):
            continue
        names = publishers.get((r["area_id"], r["option_id"]), set())
        enough = len(names) >= 2  # (two independent publishers, or one and the commission's own release)
        out.setdefault(r["area_id"], {})[r["option_id"]] = (r["votes"] if enough else None, r["vote_share_pct"])
    return out


def _regional_grid(np, tables: dict, election: str, settings: dict, test: str) -> dict:
    """The regional tests fixed in advance, with the 2023 tests' nulls, on the regions where two
    independent publishers give every option's final count and the counts give back the published shares
    (the shares are of the valid votes: every option, 'against all' included): the exact shares on the grid
    of the published decimals (two, or what the publishers give) under uniform fractional parts with each
    region's shares summing to 100, on the regions where the window of a grid step holds a whole vote (the
    null fails on smaller totals); among them the counts their published shares give back
    (Poisson-binomial tail); the rounding model region by region (Holm over the regions)."""
    options = sorted(o["option_id"] for o in tables["election_options"] if o["election_id"] == election)
    by_area = {a: cells for a, cells in _final_counts(tables, election).items() if a != "KZ"}
    lacking = {a: [o for o in options if (c.get(o) or (None,))[0] is None] for a, c in by_area.items()}
    complete = {a: c for a, c in by_area.items() if not lacking[a]}
    if not complete:
        named = "; ".join(f"{a}: {', '.join(lacking[a])}" for a in sorted(lacking))
        return _not_run(election, test, f"no region has every option's count from two independent publishers ({named})")
    window = settings["window_fraction"]
    off = [a for a in sorted(complete) if _shares_off(complete[a], options)]
    areas = [a for a in sorted(complete) if a not in off]
    if not areas:
        return _not_run(election, test, f"the counts do not give back the published shares in {', '.join(off)}")
    votes = np.array([[complete[a][o][0] for o in options] for a in areas], dtype=float)
    valid = votes.sum(axis=1)
    steps = np.array([_step(complete[a], options, settings["region_share_step_pp"]) for a in areas])
    worth = valid * steps / 100  # votes one step of a share is worth
    left = f"; left out: {', '.join(off)} (the counts do not give back the published shares)" if off else ""
    if test == "region_rounding_scan":
        where = f"{len(areas)} region{'s' if len(areas) != 1 else ''} ({', '.join(areas)}){left}"
        return _rounding_scan(np, election, settings, areas, options, votes, valid, where)
    large = worth * window * 2 >= 1  # the window of a step holds at least one whole vote
    small = [a for a, big in zip(areas, large, strict=True) if not big]
    if small:
        left += f"; left out: {', '.join(small)} (a grid step worth under {1 / (2 * window):g} votes)"
    votes, valid, steps, worth, areas = (
        votes[large],
        valid[large],
        steps[large],
        worth[large],
        [a for a, big in zip(areas, large, strict=True) if big],
    )
    if len(areas) * len(options) < settings["minimum_cells"]:
        return _not_run(election, test, f"fewer than {settings['minimum_cells']} counts{left}")
    where = f"{len(areas)} region{'s' if len(areas) != 1 else ''} ({', '.join(areas)}){left}"
    on = grid_distance(np, 100 * votes / valid[:, None] / steps[:, None], 1.0) <= window
    k, n = int(on.sum()), on.size
    if test == "share_grid_region":
        reading = (
            f"{k} of {n} exact regional shares in {where} lie within {window:.0%} of a step of the grid of their "
            f"published decimals (chance: {2 * window * n:.1f}); the parameters were fixed before these counts entered "
            "the package."
        )
        p = constrained_tail(np, k, len(areas), len(options), window)
        return _row(election, test, True, n, k, 2 * window * n, p, "reports", reading)
    published = np.array([[np.nan if complete[a][o][1] is None else complete[a][o][1] for o in options] for a in areas])
    given = on & ~np.isnan(published)
    if given.sum() < settings["minimum_cells"]:
        return _not_run(
            election, test, f"fewer than {settings['minimum_cells']} shares on the grid with a published share"
        )
    back = np.rint(np.nan_to_num(published) / 100 * valid[:, None]) == votes
    kr = int((back & given).sum())
    # a share near the grid by chance gives its count back when its rounding error, uniform within the
    # window, falls within half a vote: probability min(1, 0.5 / (window x votes a step is worth))
    chance = (np.minimum(1.0, 0.5 / (window * worth))[:, None] * np.ones_like(votes))[given]
    reading = (
        f"Of the {int(given.sum())} shares on the grid with a published share in {where}, {kr} have counts their "
        f"published shares give back exactly ({chance.sum():.1f} would by chance)."
    )
    p = poisson_binomial_tail(np, kr, chance)
    return _row(election, test, True, int(given.sum()), kr, float(chance.sum()), p, "reports", reading)


def _shares_off(cells: dict, options: list[str]) -> list[str]:
    """The options of an area whose published share its counts do not give back, each within half a unit
    of the share's last decimal (none: the shares are of the valid votes, every option's count)."""
    valid = sum(cells[o][0] for o in options)
    return [
        o
        for o in options
        if cells[o][1] is not None
        and abs(100 * cells[o][0] / valid - cells[o][1]) > 0.5 * 10 ** -_decimals(cells[o][1]) + 1e-9
    ]


def _decimals(share: float) -> int:
    text = repr(float(share))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _step(cells: dict, options: list[str], step: float) -> float:
    """The grid of a region's published shares: `step` (two decimals), or a coarser one where every share is
    published with fewer decimals (the parameters: 'the grid of what it gives')."""
    given = [_decimals(cells[o][1]) for o in options if cells[o][1] is not None]
    return max(step, 10.0 ** -max(given)) if given else step


def _rounding_scan(np, election, settings, areas, options, votes, valid, where) -> dict:
    """The 2023 rounding model region by region ('tallied' against 'computed from two-decimal shares, one
    option balancing'), each region's exact binomial tail, the scan rejecting where a Holm-adjusted p-value
    is below alpha; the row's p-value is the smallest adjusted one."""
    from types import SimpleNamespace

    from pipeline.forensics.rounding import region_rounding

    d = SimpleNamespace(regions=areas, options=options, votes=votes, valid=valid)
    scanned = region_rounding(d, {"rounding": settings["rounding"]})
    p = min(r["adjusted_p_value"] for r in scanned)
    rejected = [r["region_id"] for r in scanned if r["adjusted_p_value"] < settings["alpha"]]
    computed = sum(1 for r in scanned if r["preferred_model"] == "computed_from_shares")
    named = f": {', '.join(rejected)}" if rejected else ""
    reading = (
        f"In {where}, {computed} prefer 'computed from shares' to 'tallied'; the scan (Holm over the regions, "
        f"alpha {settings['alpha']}) rejects 'tallied' in {len(rejected)}{named}."
    )
    return _row(election, "region_rounding_scan", True, len(areas), len(rejected), None, p, "reports", reading)


def _national_grid(np, tables: dict, election: str, settings: dict) -> dict:
    """The national 0.1-grid test on an election's final national counts, every option's count given by at
    least two publishers; the shares over the votes for every option (the valid votes)."""
    test = "share_grid_national"
    options = {o["option_id"] for o in tables["election_options"] if o["election_id"] == election}
    cells = _final_counts(tables, election).get("KZ", {})
    counts = {o: cells[o][0] for o in cells}
    missing = sorted(o for o in options if counts.get(o) is None)
    if missing:
        return _not_run(election, test, f"counts not given by two independent publishers: {', '.join(missing)}")
    if len(options) < settings["minimum_cells"]:
        return _not_run(election, test, f"fewer than {settings['minimum_cells']} options")
    values = np.array([counts[o] for o in sorted(options)], dtype=float)
    shares = 100 * values / values.sum()
    off = _shares_off(cells, sorted(options))
    if off:  # the options, or the denominator, are not those the published shares are of
        return _not_run(election, test, f"the counts do not give back the published shares of {', '.join(off)}")
    window, step = settings["window_fraction"], settings["national_share_step_pp"]
    on = int((grid_distance(np, shares, step) <= window).sum())
    n = len(values)
    p = constrained_tail(np, on, 1, n, window)
    reading = (
        f"{on} of {n} exact national shares lie within {window:.0%} of a {step} pp step of the grid "
        f"(chance: {2 * window * n:.1f} of {n}); the parameters were fixed before these counts entered the package."
    )
    return _row(election, test, True, n, on, 2 * window * n, p, "reports", reading)


def _row(election, test, fixed, n, observed, expected, p, source, reading) -> dict:
    return {
        "election_id": election,
        "test_id": test,
        "is_fixed_in_advance": fixed,
        "is_blind": fixed,
        "is_run": True,
        "units_count": n,
        "observed_value": rounded(observed),
        "expected_value": rounded(expected),
        "p_value": p_value(p),
        "numbers_source": source,
        "reading_text": reading,
    }


def _not_run(election: str, test: str, why: str) -> dict:
    return {
        "election_id": election,
        "test_id": test,
        "is_fixed_in_advance": True,
        "is_blind": True,
        "is_run": False,
        "units_count": None,
        "observed_value": None,
        "expected_value": None,
        "p_value": None,
        "numbers_source": None,
        "reading_text": f"Not run: {why}.",
    }


def report_section(rows: list[dict], params: dict) -> list[str]:
    """docs/forensics.md's section on every election (forensic_elections): which tests were fixed in
    advance, and what they found."""
    ran = [r for r in rows if r["is_fixed_in_advance"] and r["is_run"]]
    blind = [r for r in ran if r["is_blind"]]
    settings = params["out_of_sample"]
    found = "; ".join(f"{r['election_id']}, {r['test_id']}: {r['reading_text']} p = {r['p_value']:.3g}" for r in ran)
    return [
        f"The 2023 tests above were designed after reading the numbers they test. On {settings['fixed_on']} the "
        "parameters of the same tests were fixed for every other election (`forensics/parameters.yaml`, "
        "`out_of_sample`), in a commit made before any of those elections' counts entered the repository; a test "
        "runs where two independent publishers give every count it reads, and the counts give back the published "
        "shares. A test is blind where nothing in the repository could tell its outcome when its parameters were "
        "fixed; only blind tests form the family Holm's adjustment counts (over those that ran, so an adjusted "
        "p-value changes as tests are added: a departure from the parameter file's wording, 'every test of every "
        "election', which cannot adjust a test that has not run). "
        + (f"Fixed in advance and run: {found}. " if ran else "No test fixed in advance has run yet. ")
        + (
            f"{len(blind)} of them blind."
            if blind
            else "None of them is blind, so none is confirmatory: the family is empty so far."
        )
        + f" {sum(1 for r in rows if not r['is_run'])} planned tests have not run; the table below lists the national "
        "ones and those of the elections where a test ran, and `forensic_elections` says why for each.",
        "",
        *markdown.table(
            [
                {
                    "election": r["election_id"],
                    "test": r["test_id"],
                    "fixed in advance": ("yes" if r["is_blind"] else "yes, not blind")
                    if r["is_fixed_in_advance"]
                    else "no (post hoc)",
                    "observed": "" if r["observed_value"] is None else f"{r['observed_value']:g} of {r['units_count']}",
                    "expected": "" if r["expected_value"] is None else f"{r['expected_value']:g}",
                    "p-value": "" if r["p_value"] is None else f"{r['p_value']:.3g}",
                    "whose numbers": r["numbers_source"] or "",
                    "note": "" if r["is_run"] else r["reading_text"],
                }
                for r in rows
                if r["is_run"]
                or r["election_id"] in {e["election_id"] for e in ran}
                or r["test_id"] == "share_grid_national"
            ],
            ["election", "test", "fixed in advance", "observed", "expected", "p-value", "whose numbers", "note"],
        ),
    ]
