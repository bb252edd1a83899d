"""The regional forensic tests on the article's table of results by region: the shares and turnouts on
the rounding grid, the counts their shares give back, turnout against the leader's share, the second
digits; and the per-region tables (forensic_region_shares, forensic_region_summary)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.forensics.distributions import (
    binomial_tail,
    constrained_tail,
    grid_distance,
    poisson_binomial_tail,
    weighted_r,
)
from pipeline.forensics.rows import rounded, test_row, window_id


@dataclass
class Regions:
    """The regions' counts, shares and turnouts as arrays (regions by options), and the national shares."""

    grid: object
    draws: object
    regions: object
    options: object
    votes: object
    published: object
    valid: object
    cast: object
    registered: object
    window: object
    chance: object
    shares: object
    distance: object
    on_grid: object
    reproduced: object
    reproducible: object
    turnout: object
    turnout_distance: object
    national_shares: object


def prepare(np, tables: dict[str, list[dict]], params: dict) -> Regions:
    """The arrays every test reads, from the validated tables."""
    grid = params["grid"]
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
    distance = grid_distance(np, shares, grid["region_share_step_pp"])
    on_grid = distance <= window
    reproduced = np.rint(published / 100 * valid[:, None])
    reproducible = reproduced == votes
    turnout = 100 * cast / registered
    turnout_distance = grid_distance(np, turnout, grid["turnout_step_pp"])
    national = {r["option_id"]: r["votes"] for r in tables["national_party_list_results"]}
    (nation,) = tables["national_ballots"]
    national_valid = nation["ballots_cast_count"] - nation["invalid_ballots_count"]
    national_shares = np.array([100 * national[o] / national_valid for o in options])
    return Regions(
        grid=grid,
        draws=draws,
        regions=regions,
        options=options,
        votes=votes,
        published=published,
        valid=valid,
        cast=cast,
        registered=registered,
        window=window,
        chance=chance,
        shares=shares,
        distance=distance,
        on_grid=on_grid,
        reproduced=reproduced,
        reproducible=reproducible,
        turnout=turnout,
        turnout_distance=turnout_distance,
        national_shares=national_shares,
    )


def grid_tests(np, d: Regions, params: dict, rng) -> list[dict]:
    """The grid tests: regional shares (exact tail and the constrained Monte Carlo null), national shares,
    regional turnouts, and the counts that their shares give back."""
    grid = d.grid
    draws = d.draws
    regions = d.regions
    options = d.options
    votes = d.votes
    valid = d.valid
    window = d.window
    chance = d.chance
    on_grid = d.on_grid
    reproducible = d.reproducible
    turnout_distance = d.turnout_distance
    national_shares = d.national_shares
    tests: list[dict] = []

    def add(*args, **kwargs):
        tests.append(test_row(*args, **kwargs))

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
    # share_grid_region_window_*: the same exact tail for other windows (1, 2, 5 and 10 % of a step),
    # chosen after reading the numbers: how much the result depends on the window.
    for fraction in params["grid"]["robustness_windows"]:
        near = int((d.distance <= fraction).sum())
        add(
            window_id(fraction),
            "region",
            n,
            f"regional shares within {fraction:.0%} of a 0.01 pp step of the grid",
            near,
            n * 2 * fraction,
            constrained_tail(np, near, len(regions), len(options), fraction),
            "exact tail P(X >= observed), the null of share_grid_region with this window",
            reading=f"{near} of {n} regional shares lie within {fraction:.0%} of a step of the grid, where "
            f"{n * 2 * fraction:.0f} are expected.",
        )
    steps = params["perturbation_grid_steps"]  # a grid step is valid / 10,000 votes
    reach = np.maximum(1, np.rint(steps * valid * grid["region_share_step_pp"] / 100)).astype(np.int64)
    shift = np.rint((2 * rng.random((draws, *votes.shape)) - 1) * reach[None, :, None])
    moved = votes[None] + shift
    moved_shares = moved * (100 / grid["region_share_step_pp"])  # in grid steps, computed in place
    moved_shares /= moved.sum(axis=2, keepdims=True)
    moved_on = grid_distance(np, moved_shares, 1.0) <= window
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
        interval="null_range_99",
    )

    national_on = grid_distance(np, national_shares, grid["national_share_step_pp"]) <= window
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

    return tests


def association_tests(np, d: Regions, params: dict, rng) -> list[dict]:
    """Turnout against the leader's and against-all shares (permutation), and the second digits."""
    draws = d.draws
    regions = d.regions
    options = d.options
    votes = d.votes
    registered = d.registered
    shares = d.shares
    turnout = d.turnout
    tests: list[dict] = []

    def add(*args, **kwargs):
        tests.append(test_row(*args, **kwargs))

    # turnout_share_correlation: weighted by registered voters, permutation p-value.
    for option, test_id in (
        (params["leading_option"], "turnout_share_correlation"),
        ("against_all", "turnout_against_all_correlation"),
    ):
        share = shares[:, options.index(option)]
        permuted = rng.permuted(np.tile(share, (draws, 1)), axis=1)
        # weighted by registered voters, and unweighted on the same permutations: both shown, as neither
        # was fixed before reading the numbers
        for suffix, weights, how in (
            ("", registered, "weighted by registered voters"),
            ("_unweighted", None, "unweighted"),
        ):
            weights = np.ones_like(registered) if weights is None else weights
            observed = weighted_r(np, turnout[None], share[None], weights)[0]
            null = weighted_r(np, np.tile(turnout, (draws, 1)), permuted, weights)
            add(
                test_id + suffix,
                "region",
                len(regions),
                f"correlation of turnout and the {option} share, {how}",
                float(observed),
                0.0,
                (1 + int((np.abs(null) >= abs(observed)).sum())) / (draws + 1),
                f"permutation, {draws} draws (two-sided)",
                draws,
                reading="With 20 regions this is a scatter plot, not a fingerprint: aggregation can dilute or "
                "create such a correlation.",
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
        f"Descriptive: regional totals have no valid null model for second digits (Benford's law is for "
        f"precinct counts), so this stays outside the family of tests; {digits.size} counts could reveal only "
        "gross departures.",
        interval="confidence_95",
    )

    return tests


def region_tables(d: Regions) -> tuple[list[dict], list[dict]]:
    """forensic_region_shares and forensic_region_summary."""
    regions = d.regions
    options = d.options
    votes = d.votes
    published = d.published
    valid = d.valid
    window = d.window
    shares = d.shares
    distance = d.distance
    on_grid = d.on_grid
    reproduced = d.reproduced
    reproducible = d.reproducible
    turnout = d.turnout
    turnout_distance = d.turnout_distance
    region_shares = [
        {
            "region_id": g,
            "option_id": o,
            "votes": int(votes[i, j]),
            "exact_share_pct": rounded(shares[i, j], 6),
            "vote_share_pct": float(published[i, j]),
            "grid_distance_steps": rounded(distance[i, j], 6),
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
            "exact_turnout_pct": rounded(turnout[i], 6),
            "turnout_grid_distance_steps": rounded(turnout_distance[i], 6),
            "is_turnout_on_grid": bool(turnout_distance[i] <= window),
        }
        for i, g in enumerate(regions)
    ]
    return region_shares, summary
