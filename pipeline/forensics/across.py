"""The forensic tests across elections (forensic_elections): the 2023 results, tested after reading them,
beside the tests whose parameters were fixed in advance (forensics/parameters.yaml, out_of_sample) and run
on every other election as far as its counts are given by two independent publishers. A test that cannot
run says why. Every result is a property of the published numbers; none shows who produced them or why."""

from __future__ import annotations

from pipeline.common import markdown
from pipeline.extract.errata import parse_key
from pipeline.forensics.distributions import constrained_tail, grid_distance, holm
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
            else:
                rows.append(_not_run(election, test, "this test is not implemented for other elections yet"))
    family = [r for r in rows if r["is_fixed_in_advance"] and r["is_blind"] and r["p_value"] is not None]
    adjusted = {
        (r["election_id"], r["test_id"]): p_value(a)
        for r, a in zip(family, holm([r["p_value"] for r in family]), strict=True)
    }
    return [{**r, "adjusted_p_value": adjusted.get((r["election_id"], r["test_id"]))} for r in rows]


def _national_grid(np, tables: dict, election: str, settings: dict) -> dict:
    """The national 0.1-grid test on an election's final national counts, every option's count given by at
    least two publishers; the shares over the votes for every option (the valid votes)."""
    test = "share_grid_national"
    counts = {
        r["option_id"]: r["votes"]
        for r in tables["election_results"]
        if (r["election_id"], r["area_id"], r["protocol_version"]) == (election, "KZ", "final")
    }
    options = {o["option_id"] for o in tables["election_options"] if o["election_id"] == election}
    publishers: dict[str, set] = {}
    for f in tables["independent_reports"]:
        if (f["published_table_name"], f["published_column_name"]) != ("election_results", "votes"):
            continue
        key = parse_key(f["published_record_key"]) or {}
        if (key.get("election_id"), key.get("area_id"), key.get("protocol_version")) == (election, "KZ", "final"):
            publishers.setdefault(key["option_id"], set()).add(f["publisher_id"])
    enough = {o for o, names in publishers.items() if len(names) >= 2 or "cec" in names}
    missing = sorted(o for o in options if counts.get(o) is None or o not in enough)
    if missing:
        return _not_run(election, test, f"counts not given by two independent publishers: {', '.join(missing)}")
    if len(options) < settings["minimum_cells"]:
        return _not_run(election, test, f"fewer than {settings['minimum_cells']} options")
    values = np.array([counts[o] for o in sorted(options)], dtype=float)
    shares = 100 * values / values.sum()
    published = {
        r["option_id"]: r["vote_share_pct"]
        for r in tables["election_results"]
        if (r["election_id"], r["area_id"], r["protocol_version"]) == (election, "KZ", "final")
    }
    off = [
        o
        for o, share in zip(sorted(options), shares, strict=True)
        if published.get(o) is not None and abs(share - published[o]) > 0.05 + 1e-9
    ]
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
        + f" {sum(1 for r in rows if not r['is_run'])} planned tests have not run; the table says why for each.",
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
