"""The calibration of the grid tests on synthetic elections of the real shape (forensic_calibration)."""

from __future__ import annotations

from pipeline.forensics.distributions import binomial_tail, clopper_pearson_upper, constrained_tail, grid_distance
from pipeline.forensics.rows import rounded


def calibrated(np, valid, national_shares, params: dict, turnouts, registered) -> list[dict]:
    """calibrate, taken from the build cache when it ran before on the same valid votes, national shares,
    turnouts and registered voters, with the same parameters, numpy and code: a change to the article that
    leaves these alone (most do) does not simulate the same elections again."""
    from pipeline.common import cache

    arrays = [np.asarray(a, dtype=float).tobytes() for a in (valid, national_shares, turnouts, registered)]
    parts = [*arrays, cache.fingerprint(params), np.__version__]
    return cache.computed(
        "calibration", parts, lambda: calibrate(np, valid, national_shares, params, turnouts, registered)
    )


def calibrate(np, valid, national_shares, params: dict, turnouts=None, registered=None) -> list[dict]:
    """The grid test on synthetic elections of the real shape (the 20 regions' valid votes, the national
    shares, regional shares spread around them as much as the real ones are): its rejection rate at alpha
    when every count is tallied (with a 95 % Clopper-Pearson upper bound), and its power when the counts of
    k regions are back-computed from two-decimal shares, plainly or 'balanced' (one count per region then
    set so that the region's counts still sum to its valid votes, as the published ones do: the compiler's
    reconstruction, the largest count the residual). The shares are taken over each region's valid votes, as
    the test takes them, not over the sum of the computed counts. A last scenario, 'national_targets', fixes
    the national shares first, on the national grid, then balances every region but the residual ones (one
    or two, chosen at random) from two-decimal shares and gives the residual regions what the targets leave:
    a compiler who starts from the national result. Every scenario that back-computes also reports the
    national grid test's rejection rate, so that the two kinds of compilation can be told apart."""
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
    if not all(1 <= r < valid.size for r in settings["residual_regions"]):
        raise ValueError(f"residual_regions must be between 1 and {valid.size - 1}: {settings['residual_regions']}")
    scenarios += [("national_targets", valid.size - r, settings["elections"]) for r in settings["residual_regions"]]
    bounds = _scan_bounds(valid, national_shares.size, params)
    national_critical = _national_critical(np, national_shares.size, params)
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
            if scenario != "back_computed":  # the largest count absorbs the difference: the region sums to its total
                computed = _balance(np, computed, totals)
            if scenario == "national_targets":  # (an election whose residual regions cannot absorb it is left out)
                computed, feasible = _residual(np, counts, computed, mask, valid, params)
                counts, elections = computed[feasible], int(feasible.sum())
                if not elections:
                    raise ValueError(f"national_targets with {valid.size - k} residual regions: no feasible election")
            else:
                counts = np.where(mask[:, :, None], computed, counts)
        # the test's denominator: the region's valid votes (ballots cast less invalid), whatever the counts sum to
        exact = 100 * counts / valid[None, :, None]
        on_grid = (grid_distance(np, exact, step) <= window).sum(axis=(1, 2))
        tests = [
            ("share_grid_region", int((on_grid >= critical).sum())),
            ("region_rounding_scan", int(_scan_rejects(np, counts, valid, params, bounds).sum())),
        ]
        if k:  # (the honest elections' national rate comes from _calibrate_other_grids)
            national = 100 * counts.sum(axis=1) / valid.sum()
            national_on = (grid_distance(np, national, params["grid"]["national_share_step_pp"]) <= window).sum(axis=1)
            tests.append(("share_grid_national", int((national_on >= national_critical).sum())))
        for test_id, rejections in tests:
            rows.append(
                {
                    "test_id": test_id,
                    "scenario": scenario,
                    "back_computed_regions_count": k,
                    "elections_count": elections,
                    "alpha": alpha,
                    "rejection_rate": rounded(rejections / elections, 6),
                    "rejection_rate_upper": rounded(clopper_pearson_upper(rejections, elections), 6),
                }
            )
    if turnouts is not None:
        other = np.random.Generator(np.random.PCG64(params["seed"] + 2))  # (its own draws: scenarios may be added)
        rows += _calibrate_other_grids(np, other, valid, national_shares, params, turnouts, registered)
    return rows


def _balance(np, computed, totals):
    """The counts with each region's largest one changed so that the region's counts sum to its total."""
    largest = computed.argmax(axis=-1)[..., None]
    gap = totals - computed.sum(axis=-1, keepdims=True)
    np.put_along_axis(computed, largest, np.take_along_axis(computed, largest, axis=-1) + gap, axis=-1)
    return computed


def _residual(np, counts, computed, mask, valid, params: dict):
    """'national_targets': the national counts set from the honest national shares rounded to the national
    grid (balanced to the valid votes), the regions of `mask` balanced from their two-decimal shares (in
    `computed`), and the other, residual, regions given the honest counts plus what the targets still need,
    shared in proportion to their valid votes (each balanced to its valid votes; the last takes the rest).
    Returns the counts and, per election, whether they are all at least 0: where a residual region is too
    small to absorb what the targets need, the construction fails and the election is not one of this
    scenario's (never clipped, which would miss the targets or a region's total)."""
    total = valid.sum()
    scale = 100 / params["grid"]["national_share_step_pp"]
    national = counts.sum(axis=1)
    targets = _balance(
        np, np.rint(np.round(scale * national / total) / scale * total), np.full((len(counts), 1), total)
    )
    out = np.where(mask[:, :, None], computed, counts)
    need = targets - out.sum(axis=1)  # elections x options; sums to zero over the options
    residual = ~mask
    weights = np.where(residual, valid[None, :], 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    share = _balance(np, np.rint(need[:, None, :] * weights[:, :, None]), np.zeros((*mask.shape, 1)))
    last = (np.cumsum(residual, axis=1) == residual.sum(axis=1, keepdims=True)) & residual
    share = np.where(last[:, :, None], 0.0, share)
    share += last[:, :, None] * (need - share.sum(axis=1))[:, None, :]
    out = out + share
    return out, (out >= 0).all(axis=(1, 2))


def _national_critical(np, options: int, params: dict) -> int:
    """The national grid test's critical value: reject when this many shares or more are on the grid."""
    window = params["grid"]["window_fraction"]
    return next(k for k in range(options + 2) if constrained_tail(np, k, 1, options, window) < params["alpha"])


def _scan_bounds(valid, options: int, params: dict) -> list[list[float]]:
    """The per-region scan's p-value (rounding.py: the bound P(at least e - 1 of the other counts exactly a
    share's count)) for every region and number e of exact counts."""
    step = valid * 10.0 ** -(params["rounding"]["share_decimals"] + 2)
    return [[binomial_tail(max(e - 1, 0), options - 1, min(1.0, 1 / u)) for e in range(options + 1)] for u in step]


def _scan_rejects(np, counts, valid, params: dict, bounds: list[list[float]]):
    """Whether the per-region rounding scan (Holm over the regions) rejects 'tallied' in at least one region
    of each synthetic election."""
    step = valid * 10.0 ** -(params["rounding"]["share_decimals"] + 2)
    distance = np.abs(counts - np.rint(np.rint(counts / step[None, :, None]) * step[None, :, None]))
    exact = (distance == 0).sum(axis=2)  # elections x regions
    p = np.array(bounds)[np.arange(valid.size)[None, :], exact]
    return p.min(axis=1) <= params["alpha"] / valid.size  # Holm rejects something exactly when its first step does


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
    national_on = (grid_distance(np, national, params["grid"]["national_share_step_pp"]) <= window).sum(axis=1)
    national_critical = _national_critical(np, options, params)
    cast = rng.binomial(registered.astype(np.int64), turnouts, size=(elections, turnouts.size))
    turnout_on = (grid_distance(np, 100 * cast / registered, params["grid"]["turnout_step_pp"]) <= window).sum(axis=1)
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
                "rejection_rate": rounded(rejections / elections, 6),
                "rejection_rate_upper": rounded(clopper_pearson_upper(rejections, elections), 6),
            }
        )
    return rows
