"""Forensics step: election-forensics tests on the validated tables, with their null models explicit and
their calibration on synthetic elections (parameters: forensics/parameters.yaml, reviewed; set after
reading the article, so the tests it suggests are exploratory). Every result is a property of the
published numbers; none shows who produced them or why.

References: Klimek, Yegorov, Hanel and Thurner, 'Statistical detection of systematic election
irregularities', PNAS 109 (2012); Kobak, Shpilkin and Pshenichnikov, 'Integer percentages as electoral
falsification fingerprints', Annals of Applied Statistics 10 (2016); Mebane, 'Election forensics: the
second-digit Benford's law test and recent American presidential elections' (2006); Deckert, Myagkov and
Ordeshook, 'Benford's law and the detection of election fraud', Political Analysis 19 (2011).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import pickle
import signal
from pathlib import Path

from pipeline import ROOT
from pipeline.errors import PipelineError
from pipeline.yamlfile import read_yaml

PARAMETERS = ROOT / "forensics" / "parameters.yaml"
TABLES = ("forensic_tests", "forensic_region_shares", "forensic_region_summary", "poll_errors", "forensic_calibration")


def parameters(path: Path = PARAMETERS) -> dict:
    """The reviewed parameters."""
    return read_yaml(path)


def run(tables: dict[str, list[dict]], params: dict | None = None) -> dict[str, list[dict]]:
    """The forensics tables from the validated tables (numpy, seeded: byte-identical from run to run)."""
    import numpy as np

    params = params or parameters()
    grid = params["grid"]
    rng = np.random.Generator(np.random.PCG64(params["seed"]))
    draws = int(params["simulations"])
    ballots = {r["region_id"]: r for r in tables["region_ballots"]}
    regions = sorted(ballots)
    options = sorted({r["option_id"] for r in tables["party_list_results"]})
    cell = {(r["region_id"], r["option_id"]): r for r in tables["party_list_results"]}
    votes = np.array([[cell[(g, o)]["votes"] for o in options] for g in regions], dtype=float)
    published = np.array([[cell[(g, o)]["vote_share_pct"] for o in options] for g in regions], dtype=float)
    valid = np.array([ballots[g]["ballots_cast_count"] - ballots[g]["invalid_ballots_count"] for g in regions], float)
    cast = np.array([ballots[g]["ballots_cast_count"] for g in regions], float)
    registered = np.array([ballots[g]["registered_voters_count"] for g in regions], float)
    window = grid["window_fraction"]
    chance = 2 * window  # a uniform fractional part falls within the window of a grid point

    shares = 100 * votes / valid[:, None]
    distance = _grid_distance(np, shares, grid["region_share_step_pp"])
    on_grid = distance <= window
    reproduced = np.rint(published / 100 * valid[:, None])
    reproducible = reproduced == votes
    turnout = 100 * cast / registered
    turnout_distance = _grid_distance(np, turnout, grid["turnout_step_pp"])

    tests = []

    def add(test_id, level, n, statistic, observed, expected, p, method, count=None, low=None, high=None, reading=""):
        tests.append(
            {
                "test_id": test_id,
                "subject_id": "all",
                "unit_level": level,
                "units_count": n,
                "statistic_name": statistic,
                "observed_value": _r(observed),
                "expected_value": _r(expected),
                "interval_low": _r(low),
                "interval_high": _r(high),
                "p_value": _p(p),
                "p_value_method": method,
                "draws_count": count,
                "reading_text": reading,
            }
        )

    # share_grid_region: a binomial tail (cells taken as independent), and a Monte Carlo null that keeps
    # each region's shares summing to 100 (counts moved by several grid steps, shares recomputed).
    k, n = int(on_grid.sum()), on_grid.size
    add(
        "share_grid_region",
        "region",
        n,
        "regional shares within 5 % of a 0.01 pp step of the grid",
        k,
        n * chance,
        constrained_tail(np, k, len(regions), len(options), window),
        "exact tail P(X >= observed) under the null: in each region the fractional parts (in grid steps) of 7 "
        "shares uniform and independent, the 8th fixed by the sum of 100; computed by convolution over 20,000 "
        f"phase bins (the binomial approximation, which ignores the sum, gives {binomial_tail(k, n, chance):.3g})",
        reading=f"{k} of {n} exact regional shares lie on the two-decimal grid where {n * chance:.0f} are expected "
        "if their fractional parts are uniform.",
    )
    steps = params["perturbation_grid_steps"]  # a grid step is valid / 10,000 votes
    reach = np.maximum(1, np.rint(steps * valid * grid["region_share_step_pp"] / 100)).astype(np.int64)
    shift = np.rint((2 * rng.random((draws, *votes.shape)) - 1) * reach[None, :, None])
    moved = votes[None] + shift
    moved_shares = moved * (100 / grid["region_share_step_pp"])  # in grid steps, computed in place
    moved_shares /= moved.sum(axis=2, keepdims=True)
    moved_on = _grid_distance(np, moved_shares, 1.0) <= window
    simulated = moved_on.sum(axis=(1, 2))
    add(
        "share_grid_region_constrained",
        "region",
        n,
        f"regional shares on the grid when every count moves by up to {steps} grid steps and each region's shares "
        "still sum to 100",
        k,
        float(simulated.mean()),
        (1 + int((simulated >= k).sum())) / (draws + 1),
        f"Monte Carlo, {draws} draws: counts moved by a uniform amount of up to {steps} grid steps of their region, "
        "shares recomputed (fractional parts uniform, the sum to 100 kept); interval: 99 % range of the null",
        draws,
        float(np.quantile(simulated, 0.005)),
        float(np.quantile(simulated, 0.995)),
        f"Under the null with the regions' sum constraint, {simulated.mean():.0f} shares lie on the grid on average "
        f"(99 % range {np.quantile(simulated, 0.005):.0f} to {np.quantile(simulated, 0.995):.0f}); none of "
        f"{draws:,} draws reaches {k}.",
    )

    # share_grid_national at the national precision.
    national = {r["option_id"]: r["votes"] for r in tables["national_party_list_results"]}
    (nation,) = tables["national_ballots"]
    national_valid = nation["ballots_cast_count"] - nation["invalid_ballots_count"]
    national_shares = np.array([100 * national[o] / national_valid for o in options])
    national_on = _grid_distance(np, national_shares, grid["national_share_step_pp"]) <= window
    kn = int(national_on.sum())
    add(
        "share_grid_national",
        "nation",
        len(options),
        "national shares within 5 % of a 0.1 pp step of the grid",
        kn,
        len(options) * chance,
        constrained_tail(np, kn, 1, len(options), window),
        "exact tail under the null of uniform fractional parts with the shares summing to 100 (convolution); "
        "exploratory: the article's Analysis section reports this pattern, so the test is not independent of "
        "what suggested it",
        reading=f"{kn} of {len(options)} exact national shares lie on the one-decimal grid "
        f"({national_shares[options.index(params['leading_option'])]:.5f} % for {params['leading_option']}).",
    )

    kt = int((turnout_distance <= window).sum())
    add(
        "turnout_grid_region",
        "region",
        len(regions),
        "regional turnouts (ballots cast over registered) within 5 % of a 0.01 pp step",
        kt,
        len(regions) * chance,
        binomial_tail(kt, len(regions), chance),
        "binomial tail, X ~ Binomial(n, 0.10) (each region's turnout is one independent value)",
        reading=f"{kt} of {len(regions)} exact regional turnouts lie on the two-decimal grid.",
    )

    # counts_reproducible among the cells on the grid: a share near the grid by chance has its count recovered
    # from the rounded share with probability min(1, 100,000 / valid) (the rounding error, uniform within the
    # window, must also fall within half a vote); a count computed from the share always is.
    given = np.minimum(1.0, 100_000 / valid)[:, None] * np.ones_like(votes)
    kr = int((reproducible & on_grid).sum())
    add(
        "counts_reproducible",
        "region",
        int(on_grid.sum()),
        "counts equal to round(published share / 100 x valid votes), among the shares on the grid",
        kr,
        float(given[on_grid].sum()),
        poisson_binomial_tail(np, kr, given[on_grid]),
        "Poisson-binomial tail, each on-grid count reproducible with probability min(1, 100,000 / valid votes) "
        "if its share is near the grid by chance (cells taken as independent)",
        reading=f"Of the {int(on_grid.sum())} shares on the grid, {kr} have counts that their published shares "
        f"give back exactly; {given[on_grid].sum():.1f} would if they were near the grid by chance. This separates "
        "counts derived from shares from shares that merely sit near the grid.",
    )

    # turnout_share_correlation: weighted by registered voters, permutation p-value.
    for option, test_id in (
        (params["leading_option"], "turnout_share_correlation"),
        ("against_all", "turnout_against_all_correlation"),
    ):
        share = shares[:, options.index(option)]
        observed = _weighted_r(np, turnout[None], share[None], registered)[0]
        permuted = rng.permuted(np.tile(share, (draws, 1)), axis=1)
        null = _weighted_r(np, np.tile(turnout, (draws, 1)), permuted, registered)
        add(
            test_id,
            "region",
            len(regions),
            f"correlation of turnout and the {option} share, weighted by registered voters",
            float(observed),
            0.0,
            (1 + int((np.abs(null) >= abs(observed)).sum())) / (draws + 1),
            f"permutation, {draws} draws (two-sided)",
            draws,
            reading="With 20 regions this is a scatter plot, not a fingerprint: aggregation can dilute or create "
            "such a correlation.",
        )

    # second_digit_region: the mean second digit of the regional counts against Benford's law.
    digits = np.array([int(str(int(v))[1]) for v in votes.ravel() if v >= 10])
    benford = np.array([sum(math.log10(1 + 1 / (10 * j + d)) for j in range(1, 10)) for d in range(10)])
    benford_mean = float((benford * np.arange(10)).sum())
    # The mean of n digits depends only on how many of each digit there are: draw those counts (multinomial)
    # from Benford's law for the null, and from the observed frequencies for the bootstrap.
    values = np.arange(10)
    null_means = rng.multinomial(digits.size, benford / benford.sum(), size=draws) @ values / digits.size
    observed_frequencies = np.bincount(digits, minlength=10) / digits.size
    boot = rng.multinomial(digits.size, observed_frequencies, size=draws) @ values / digits.size
    observed_mean = float(digits.mean())
    add(
        "second_digit_region",
        "region",
        int(digits.size),
        "mean second digit of the regional vote counts",
        observed_mean,
        benford_mean,
        (1 + int((np.abs(null_means - benford_mean) >= abs(observed_mean - benford_mean)).sum())) / (draws + 1),
        f"Monte Carlo, {draws} draws of second digits from Benford's law (two-sided); interval: bootstrap 95 %",
        draws,
        float(np.quantile(boot, 0.025)),
        float(np.quantile(boot, 0.975)),
        f"{digits.size} counts can reveal only gross departures from Benford's second-digit law.",
    )

    poll_rows = _poll_errors(tables, national_shares, options)
    for poll_id in sorted({r["poll_id"] for r in poll_rows}):
        rows = [r for r in poll_rows if r["poll_id"] == poll_id]
        mae = sum(abs(r["error_pp"]) for r in rows) / len(rows)
        tests.append(
            {
                "test_id": "poll_error",
                "subject_id": poll_id,
                "unit_level": "poll",
                "units_count": len(rows),
                "statistic_name": "mean absolute error against the official national shares (pp)",
                "observed_value": _r(mae),
                "expected_value": None,
                "interval_low": None,
                "interval_high": None,
                "p_value": None,
                "p_value_method": "descriptive (no null model)",
                "draws_count": None,
                "reading_text": f"{rows[0]['poll_kind'].capitalize()} poll: the official shares of its options "
                f"differ from its own by {mae:.2f} points on average"
                + (
                    " (its shares rescaled to the respondents who named an option)."
                    if any(r["is_rescaled"] for r in rows)
                    else "."
                ),
            }
        )

    region_shares = [
        {
            "region_id": g,
            "option_id": o,
            "votes": int(votes[i, j]),
            "exact_share_pct": _r(shares[i, j], 6),
            "vote_share_pct": float(published[i, j]),
            "grid_distance_steps": _r(distance[i, j], 6),
            "is_on_grid": bool(on_grid[i, j]),
            "reproduced_votes": int(reproduced[i, j]),
            "is_count_reproducible": bool(reproducible[i, j]),
        }
        for i, g in enumerate(regions)
        for j, o in enumerate(options)
    ]
    summary = [
        {
            "region_id": g,
            "valid_votes_count": int(valid[i]),
            "shares_on_grid_count": int(on_grid[i].sum()),
            "counts_reproducible_count": int(reproducible[i].sum()),
            "exact_turnout_pct": _r(turnout[i], 6),
            "turnout_grid_distance_steps": _r(turnout_distance[i], 6),
            "is_turnout_on_grid": bool(turnout_distance[i] <= window),
        }
        for i, g in enumerate(regions)
    ]
    calibration = calibrate(np, valid, national_shares / 100, params, cast / registered, registered)
    return {
        "forensic_tests": tests,
        "forensic_region_shares": region_shares,
        "forensic_region_summary": summary,
        "poll_errors": poll_rows,
        "forensic_calibration": calibration,
    }


def calibrate(np, valid, national_shares, params: dict, turnouts=None, registered=None) -> list[dict]:
    """The grid test on synthetic elections of the real shape (the 20 regions' valid votes, the national
    shares, regional shares spread around them as much as the real ones are): its rejection rate at alpha
    when every count is tallied (with a 95 % Clopper-Pearson upper bound), and its power when the counts of
    k regions are back-computed from two-decimal shares, plainly or 'balanced' (one count per region then
    set so that the region's counts still sum to its valid votes, as the published ones do)."""
    rng = np.random.Generator(np.random.PCG64(params["seed"] + 1))
    settings = params["calibration"]
    alpha, window = params["alpha"], params["grid"]["window_fraction"]
    step = params["grid"]["region_share_step_pp"]
    n = valid.size * national_shares.size
    critical = next(k for k in range(n + 1) if binomial_tail(k, n, 2 * window) < alpha)  # reject when on-grid >= it
    scenarios = [("honest", 0, settings["honest_elections"])]
    scenarios += [
        (kind, k, settings["elections"])
        for kind in ("back_computed", "balanced")
        for k in settings["back_computed_regions"]
        if k
    ]
    rows = []
    for scenario, k, elections in scenarios:
        spread = np.exp(settings["share_noise_sd"] * rng.standard_normal((elections, valid.size, national_shares.size)))
        probabilities = national_shares * spread
        probabilities /= probabilities.sum(axis=2, keepdims=True)
        counts = rng.multinomial(valid.astype(np.int64), probabilities).astype(float)
        if k:
            chosen = rng.permuted(np.tile(np.arange(valid.size), (elections, 1)), axis=1)[:, :k]
            mask = np.zeros(counts.shape[:2], bool)
            np.put_along_axis(mask, chosen, True, axis=1)
            totals = counts.sum(axis=2, keepdims=True)
            computed = np.rint(np.round(100 * counts / totals, 2) / 100 * totals)  # from the two-decimal shares
            if scenario == "balanced":  # the largest count absorbs the difference: the region sums to its total
                largest = computed.argmax(axis=2)[..., None]
                gap = totals - computed.sum(axis=2, keepdims=True)
                np.put_along_axis(computed, largest, np.take_along_axis(computed, largest, axis=2) + gap, axis=2)
            counts = np.where(mask[:, :, None], computed, counts)
        exact = 100 * counts / counts.sum(axis=2, keepdims=True)
        on_grid = (_grid_distance(np, exact, step) <= window).sum(axis=(1, 2))
        rejections = int((on_grid >= critical).sum())
        rows.append(
            {
                "test_id": "share_grid_region",
                "scenario": scenario,
                "back_computed_regions_count": k,
                "elections_count": elections,
                "alpha": alpha,
                "rejection_rate": _r(rejections / elections, 6),
                "rejection_rate_upper": _r(clopper_pearson_upper(rejections, elections), 6),
            }
        )
    if turnouts is not None:
        rows += _calibrate_other_grids(np, rng, valid, national_shares, params, turnouts, registered)
    return rows


def _calibrate_other_grids(np, rng, valid, national_shares, params, turnouts, registered) -> list[dict]:
    """The false-positive rates of the national share grid and the regional turnout grid on honestly
    tallied synthetic elections (counts and ballots drawn by multinomial and binomial), at their critical
    values."""
    settings, alpha, window = params["calibration"], params["alpha"], params["grid"]["window_fraction"]
    elections = settings["honest_elections"]
    options = national_shares.size
    spread = np.exp(settings["share_noise_sd"] * rng.standard_normal((elections, valid.size, options)))
    probabilities = national_shares * spread
    probabilities /= probabilities.sum(axis=2, keepdims=True)
    counts = rng.multinomial(valid.astype(np.int64), probabilities).sum(axis=1).astype(float)
    national = 100 * counts / counts.sum(axis=1, keepdims=True)
    national_on = (_grid_distance(np, national, params["grid"]["national_share_step_pp"]) <= window).sum(axis=1)
    national_critical = next(k for k in range(options + 2) if constrained_tail(np, k, 1, options, window) < alpha)
    cast = rng.binomial(registered.astype(np.int64), turnouts, size=(elections, turnouts.size))
    turnout_on = (_grid_distance(np, 100 * cast / registered, params["grid"]["turnout_step_pp"]) <= window).sum(axis=1)
    turnout_critical = next(k for k in range(turnouts.size + 1) if binomial_tail(k, turnouts.size, 2 * window) < alpha)
    rows = []
    for test_id, on, critical in (
        ("share_grid_national", national_on, national_critical),
        ("turnout_grid_region", turnout_on, turnout_critical),
    ):
        rejections = int((on >= critical).sum())
        rows.append(
            {
                "test_id": test_id,
                "scenario": "honest",
                "back_computed_regions_count": 0,
                "elections_count": elections,
                "alpha": alpha,
                "rejection_rate": _r(rejections / elections, 6),
                "rejection_rate_upper": _r(clopper_pearson_upper(rejections, elections), 6),
            }
        )
    return rows


def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """The upper end of the two-sided Clopper-Pearson interval of a binomial proportion x / n (bisection
    on the binomial distribution function, in logs)."""
    if x >= n:
        return 1.0
    target = (1 - confidence) / 2

    def cdf(p: float) -> float:  # P(X <= x)
        return sum(
            math.exp(
                math.lgamma(n + 1)
                - math.lgamma(j + 1)
                - math.lgamma(n - j + 1)
                + j * math.log(p)
                + (n - j) * math.log1p(-p)
            )
            for j in range(x + 1)
        )

    low, high = x / n, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) > target else (low, middle)
    return high


def _poll_errors(tables: dict, national_shares, options: list[str]) -> list[dict]:
    """Each poll's shares of the ballot options against the official ones. A poll that also counts the
    undecided (or those naming no option) is rescaled to the respondents who named an option, as the
    official shares are of valid votes; the published share is kept beside."""
    official = dict(zip(options, (float(round(s, 2)) for s in national_shares), strict=True))
    rows = []
    for kind, table in (("exit", "exit_polls"), ("opinion", "opinion_polls")):
        polls: dict[str, list[dict]] = {}
        for r in tables[table]:
            polls.setdefault(r["poll_id"], []).append(r)
        for poll_id, answers in polls.items():
            named = [r for r in answers if r["option_id"] in official]
            total = sum(r["share_pct"] for r in named)
            rescale = len(named) < len(answers) and abs(total - 100) > 0.5  # the undecided are in the base
            for r in named:
                decided = round(100 * r["share_pct"] / total, 2) if rescale else r["share_pct"]
                rows.append(
                    {
                        "poll_id": poll_id,
                        "poll_kind": kind,
                        "option_id": r["option_id"],
                        "poll_share_pct": r["share_pct"],
                        "decided_share_pct": decided,
                        "is_rescaled": rescale,
                        "official_share_pct": official[r["option_id"]],
                        "error_pp": round(decided - official[r["option_id"]], 2),
                    }
                )
    return sorted(rows, key=lambda r: (r["poll_id"], r["option_id"]))


def constrained_tail(np, k: int, groups: int, cells: int, window: float, bins: int = 20_000) -> float:
    """P(X >= k), X the number of values within `window` (in steps) of the grid among `groups` groups of
    `cells` shares that each sum to a whole number of steps (100 %): in a group, cells - 1 fractional parts
    uniform and independent, the last one fixed by the sum. The distribution of a group's count is computed
    by convolution over `bins` phases of the running sum; the groups are independent."""
    total = np.array([1.0])
    group = _group_distribution(cells, window, bins)
    for _ in range(groups):
        total = np.convolve(total, group)
    return float(min(1.0, total[k:].sum()))


@functools.lru_cache(maxsize=8)
def _group_distribution(cells: int, window: float, bins: int):
    import numpy as np

    phase = np.arange(bins) / bins
    near = (phase < window - 1e-12) | (phase >= 1 - window - 1e-12)
    near_kernel, far_kernel = np.fft.rfft(near / bins), np.fft.rfft(~near / bins)
    state = np.zeros((1, bins))
    state[0, 0] = 1.0
    for _ in range(cells - 1):
        spectra = np.fft.rfft(state, axis=1)
        grown = np.zeros((state.shape[0] + 1, bins))
        grown[1:] += np.fft.irfft(spectra * near_kernel, n=bins, axis=1)
        grown[:-1] += np.fft.irfft(spectra * far_kernel, n=bins, axis=1)
        state = grown
    group = np.zeros(cells + 1)
    group[1:] += state[:, near].sum(axis=1)  # the last share is near the grid when the running sum is
    group[:-1] += state[:, ~near].sum(axis=1)
    group = np.clip(group, 0, None)
    return group / group.sum()


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (sum of the terms)."""
    return min(1.0, sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)))


def poisson_binomial_tail(np, k: int, probabilities) -> float:
    """P(X >= k) for X the number of successes of independent trials with these probabilities (exact,
    by dynamic programming over the trials)."""
    distribution = np.zeros(len(probabilities) + 1)
    distribution[0] = 1.0
    for p in probabilities:
        distribution[1:] = distribution[1:] * (1 - p) + distribution[:-1] * p
        distribution[0] *= 1 - p
    return float(min(1.0, distribution[k:].sum()))


def _grid_distance(np, values, step: float):
    """Distance to the nearest multiple of `step`, in steps (0 to 0.5)."""
    scaled = values / step
    nearest = np.rint(scaled)
    np.subtract(scaled, nearest, out=scaled)
    return np.abs(scaled, out=scaled)


def _weighted_r(np, x, y, w):
    """Weighted Pearson correlation of the rows of x and y (weights w)."""
    w = w / w.sum()
    mx, my = (x * w).sum(axis=-1, keepdims=True), (y * w).sum(axis=-1, keepdims=True)
    cov = ((x - mx) * (y - my) * w).sum(axis=-1)
    return cov / np.sqrt(((x - mx) ** 2 * w).sum(axis=-1) * ((y - my) ** 2 * w).sum(axis=-1))


def _p(value):
    """A p-value with six significant digits (a tiny one keeps its exponent), or None."""
    return None if value is None else float(f"{float(value):.6g}")


def _r(value, digits: int = 6):
    """A float rounded for publication (so that outputs do not depend on the last bit), or None."""
    return None if value is None else round(float(value), digits)


class Pending:
    """The forensics computed in a second process, forked before the extraction so that it imports numpy
    on the other core meanwhile; it receives the tables with `send`, and `result` waits for its tables.
    Where fork is not available, everything runs here, in `send`. The result is published only once the
    validation and the cross-checks have passed."""

    def __init__(self, params: dict | None = None):
        self._params = params or parameters()
        self._value, self._pid, self._received = None, None, False
        if not hasattr(os, "fork"):
            return
        results_read, results_write = os.pipe()
        tables_read, tables_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second process: it never returns into the caller's code
            code = 1
            try:
                os.close(results_read)
                os.close(tables_write)
                _child(tables_read, results_write, self._params)
                code = 0
            finally:
                os._exit(code)
        os.close(results_write)
        os.close(tables_read)
        self._pid, self._results, self._tables = pid, results_read, tables_write

    def send(self, tables: dict[str, list[dict]]) -> None:
        """Hand the tables to the second process (or compute here without one)."""
        if self._pid is None:
            self._value = run(tables, self._params)
            return
        with os.fdopen(self._tables, "wb") as stream:
            self._tables = None
            pickle.dump(tables, stream, protocol=pickle.HIGHEST_PROTOCOL)

    def result(self) -> dict[str, list[dict]]:
        """The forensics tables (a PipelineError if the second process failed)."""
        if self._pid is None:
            return self._value
        with os.fdopen(self._results, "rb") as stream:
            self._results = None
            data = stream.read()
        self._received = True
        self.close()
        status, value = pickle.loads(data) if data else ("error", "the forensics process ended without a result")
        if status != "ok":
            raise PipelineError("forensics", f"the forensics step failed: {value}.")
        self._value = value  # asked again (a release staged twice): the same tables
        return value

    def close(self) -> None:
        """End the second process: at once if the build stopped before it asked for the result."""
        if self._pid is None:
            return
        for fd in (self._tables, self._results):
            if fd is not None:
                os.close(fd)
        self._tables = self._results = None
        if not self._received:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)
        os.waitpid(self._pid, 0)
        self._pid = None


def _child(tables_read: int, results_write: int, params: dict) -> None:
    for fd in range(3, 1 << 12):  # every inherited descriptor but the two pipes: the build lock stays the parent's
        if fd not in (tables_read, results_write):
            with contextlib.suppress(OSError):
                os.close(fd)
    os.nice(10)  # the build comes first: this process takes the cores the build leaves idle
    import numpy  # noqa: F401 (imported while the parent extracts)

    with os.fdopen(tables_read, "rb") as stream:
        data = stream.read()
    if not data:  # the parent stopped before the forensics
        return
    try:
        answer = ("ok", run(pickle.loads(data), params))
    except Exception as error:  # reported by the parent as a clear error
        answer = ("error", f"{type(error).__name__}: {error}")
    with contextlib.suppress(OSError), os.fdopen(results_write, "wb") as stream:
        pickle.dump(answer, stream, protocol=pickle.HIGHEST_PROTOCOL)
