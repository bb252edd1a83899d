"""The station-level forensic tests on synthetic sets: how often each fires on clean data (its false-positive
rate at the 5 % and 1 % levels, against the nominal level) and how often it detects each planted anomaly,
by the share of eligible stations planted. 10,223 stations, as in 2023; clean sets on seeds 1, 2, ...,
planted sets on seeds 10001, 10002, ... (so that no planted set shares its seed with a clean one); two
processes.

`--write` puts the tables into docs/scale.md between its `forensics` markers."""

from __future__ import annotations

import argparse
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.stations.synth import LEADER_GAP_PP, TURNOUT_GAP_PP  # noqa: E402

STATIONS = 10_223
FRACTIONS = (0.005, 0.01, 0.02, 0.05)
KINDS = ("whole_pct", "two_decimal_pct", "stuffing", "digits", "final_favours_leader", "commission_two_decimal_pct")
COMMISSION_FRACTIONS = (0.05, 0.1, 0.2, 0.4)  # of the territorial commissions (about 170 with 10,000 valid votes)
GAPS = (TURNOUT_GAP_PP, LEADER_GAP_PP)
NO_GAPS = (0.0, 0.0)
REVERSED = (TURNOUT_GAP_PP, -LEADER_GAP_PP)  # rural stations turning out more but voting less for the leader
WHOLE_SET = {"commission_two_decimal_pct"}  # its 'changed' counts every station of a changed commission, of all
PLANTED_SEEDS = 10_000


def one(job: tuple[dict, int, int, tuple[float, float]]) -> dict:
    """The p-value of every test on one synthetic set, and the share of eligible stations changed."""
    import numpy as np

    from pipeline.stations import read_release
    from pipeline.stations.forensics import run
    from pipeline.stations.synth import generate

    anomalies, seed, stations, gaps = job
    election = generate(read_release(ROOT / "processed"), stations, seed, anomalies, preliminary=True, gaps=gaps)
    valid = election.votes.sum(axis=1)
    rows = run(
        np, election.registered, election.cast, valid, election.votes[:, election.leader],
        np.array([int(r[3:]) for r in election.counted_in]), commission=np.array(election.commission),
        preliminary_leader=election.preliminary_votes[:, election.leader], seed=seed,
    )  # fmt: skip
    eligible = int(((valid >= 100) & ~election.is_abroad).sum())
    return {
        "p": {row["test_id"]: row["p_value"] for row in rows},
        "holm": {row["test_id"]: row["adjusted_p_value"] for row in rows},
        "statistic": {row["test_id"]: row["statistic"] for row in rows},
        "changed": len(election.planted) / (len(valid) if anomalies.keys() & WHOLE_SET else eligible),
    }


def quantile(results: list[dict], test: str, level: float) -> float:
    """The smallest value with at least `level` of the values at or below it (so that at most 1 - level
    of them exceed it)."""
    values = sorted(r["statistic"][test] for r in results if r["statistic"][test] is not None)
    return values[max(0, math.ceil(level * len(values)) - 1)]


def any_fired(results: list[dict], key: str, level: float) -> int:
    """Sets in which at least one calibrated test's p-value (raw, or Holm-adjusted) is below the level."""
    from pipeline.stations.forensics import ROLES

    return sum(any(p is not None and p < level for t, p in r[key].items() if ROLES[t] == "calibrated") for r in results)


def above(results: list[dict], test: str, limit: float) -> tuple[int, int]:
    """(sets whose statistic exceeds the limit, sets the test could run on)."""
    tested = [r["statistic"][test] for r in results if r["statistic"][test] is not None]
    return sum(value > limit for value in tested), len(tested)


def median(results: list[dict], test: str) -> str:
    values = sorted(r["statistic"][test] for r in results if r["statistic"][test] is not None)
    return f"{values[len(values) // 2]:.3g}" if values else "n/a"


def fired(results: list[dict], test: str, level: float) -> tuple[int, int]:
    """(sets whose p-value is below the level, sets the test could run on)."""
    tested = [r["p"][test] for r in results if r["p"][test] is not None]
    return sum(p < level for p in tested), len(tested)


def share(count: int, sets: int) -> str:
    return f"{count}/{sets}" if sets else "n/a"


def main() -> None:
    from pipeline.forensics.distributions import clopper_pearson_upper
    from pipeline.stations.forensics import ROLES, TESTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", type=int, default=200, help="clean sets (default 200)")
    parser.add_argument("--planted", type=int, default=20, help="sets per anomaly and share (default 20)")
    parser.add_argument("--stations", type=int, default=STATIONS, help=f"stations per set (default {STATIONS:,})")
    parser.add_argument("--fractions", default=",".join(map(str, FRACTIONS)), help="shares of stations planted")
    parser.add_argument("--kinds", default=",".join(KINDS), help="anomalies to plant (default: all)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    fractions = [float(f) for f in args.fractions.split(",")]
    planted_seeds = range(PLANTED_SEEDS + 1, PLANTED_SEEDS + args.planted + 1)
    with ProcessPoolExecutor(2) as pool:
        clean = list(pool.map(one, [({}, seed, args.stations, GAPS) for seed in range(1, args.clean + 1)]))
        flat = list(pool.map(one, [({}, seed, args.stations, NO_GAPS) for seed in range(1, args.clean + 1)]))
        reversed_ = list(pool.map(one, [({}, seed, args.stations, REVERSED) for seed in range(1, args.clean + 1)]))
        planted = {
            (kind, fraction): list(
                pool.map(one, [({kind: fraction}, seed, args.stations, GAPS) for seed in planted_seeds])
            )
            for kind in args.kinds.split(",")
            for fraction in (COMMISSION_FRACTIONS if kind.startswith("commission") else fractions)
        }
    lines = [
        f"False positives: of {args.clean} clean synthetic sets of {args.stations:,} stations (seeds 1 to "
        f"{args.clean}), how many gave each test a p-value below the level, with the 95 % Clopper-Pearson "
        "interval of the rate at 5 %, on the generator's urban and rural stations (rural ones turning out "
        f"{GAPS[0]:g} points more and voting {GAPS[1]:g} points more for the leader); then, on the same seeds, "
        f"with no urban-rural difference, and with the leader's gap reversed ({REVERSED[1]:g} points). A "
        "calibrated test fires at about the level (10 sets in 200 at 5 %, 2 at 1 %); a conservative one less "
        "often. The role is what `python -m pipeline stations` says a p-value can be read as: 'calibrated' "
        "where the interval's lower end is at most 5 %.",
        "",
        "| test | role | sets tested | below 5 % | rate | 95 % interval | below 1 % | below 5 %, no gap | "
        "below 5 %, leader's gap reversed | median statistic | median, no gap | median, reversed |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for test in TESTS:
        five, sets = fired(clean, test, 0.05)
        one_pct, _ = fired(clean, test, 0.01)
        interval = (
            f"{1 - clopper_pearson_upper(sets - five, sets):.1%} to {clopper_pearson_upper(five, sets):.1%}"
            if sets
            else "n/a"
        )
        rate = f"{five / sets:.1%}" if sets else "n/a"
        lines.append(
            f"| {test} | {ROLES[test]} | {sets} | {five} | {rate} | {interval} | {one_pct} | "
            f"{share(*fired(flat, test, 0.05))} | {share(*fired(reversed_, test, 0.05))} | {median(clean, test)} | "
            f"{median(flat, test)} | {median(reversed_, test)} |"
        )
    calibrated = sum(1 for t in TESTS if ROLES[t] == "calibrated")
    lines += [
        "",
        f"Family: the {calibrated} calibrated tests together. Of the {args.clean} clean sets, "
        f"{any_fired(clean, 'p', 0.05)} gave at least one of them a p-value below 5 %, and "
        f"{any_fired(clean, 'holm', 0.05)} after Holm's adjustment over them (`adjusted_p_value`, which "
        "`python -m pipeline stations` prints beside each p-value).",
    ]
    limits = {test: quantile(clean, test, 0.95) for test in TESTS if ROLES[test] == "descriptive"}
    lines += [
        "",
        f"Detection: of {args.planted} synthetic sets per anomaly and share (seeds {planted_seeds[0]} to "
        f"{planted_seeds[-1]}), how many gave each test a p-value below 5 %. 'Asked' is the share of the "
        "eligible stations (at least 100 valid votes, in Kazakhstan) chosen, or for commission_two_decimal_pct "
        "of the territorial commissions with at least 10,000 valid votes; 'changed' the mean share of those "
        "stations whose votes the anomaly changed (a count already on its grid is left as it is), or for "
        "commission_two_decimal_pct the share of all stations in a changed commission. final_favours_leader "
        "changes preliminary protocols only. For a descriptive test, whose p-value fires on clean sets, the "
        "cell counts the sets whose statistic exceeds the 95th percentile of the clean sets' instead ("
        + ", ".join(f"{test} above {limit:.3g}" for test, limit in limits.items())
        + "): a calibration against this generator, which holds only as far as real stations resemble it.",
        "",
        "| anomaly | asked | changed | " + " | ".join(TESTS) + " |",
        "|---|---:|---:|" + "---:|" * len(TESTS),
    ]
    for (kind, fraction), results in planted.items():
        changed = sum(r["changed"] for r in results) / len(results)
        cells = " | ".join(
            share(*(above(results, test, limits[test]) if test in limits else fired(results, test, 0.05)))
            for test in TESTS
        )
        lines.append(f"| {kind} | {fraction:.1%} | {changed:.2%} | {cells} |")
    print("\n".join(lines))
    if args.write:
        doc = ROOT / "docs" / "scale.md"
        text = doc.read_text(encoding="utf-8")
        head, _, rest = text.partition("<!-- forensics -->")
        _, _, tail = rest.partition("<!-- /forensics -->")
        doc.write_text(
            head + "<!-- forensics -->\n" + "\n".join(lines) + "\n<!-- /forensics -->" + tail, encoding="utf-8"
        )
        print(f"written into {doc}")


if __name__ == "__main__":
    main()
