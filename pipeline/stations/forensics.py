"""Station-level forensic tests: where the regional tests are weak, the literature's main tools. Every
result is a property of the numbers tested; none shows who produced them or why. Each test states its
null model; the tests' calibration (false positives on clean synthetic data, detection of planted
anomalies) is measured by bench/station_forensics.py and written in docs/scale.md.

- whole_pct_leader, whole_pct_turnout (Kobak, Shpilkin and Pshenichnikov 2016): how many stations report
  a leader's share (turnout) that is a whole percentage, i.e. a count equal to round(n k / 100) for a
  whole k. Null: each station's count drawn from a binomial with its own n and observed share, so that
  small stations hit whole percentages by chance as often as they would; each station's chance is
  estimated from R seeded redraws, and the number of stations on the grid, a sum of independent trials
  (Poisson-binomial), is compared with its mean by a z-score whose variance includes the redraws' own
  noise. Stations below 100 (valid votes, registered voters) are left out: every count of theirs is a
  whole percentage.
- two_decimal_pct_leader: the same on the grid of two-decimal percentages; only stations with at least
  10,000 valid votes can show it (below that every count is on the grid): usually none.
- two_decimal_pct_leader_commission: the same on the territorial commissions' totals (a counted region's
  stations of one commission number), the level at which a grid would be written into a higher
  commission's protocol; commissions below 10,000 valid votes are left out.
- turnout_leader_correlation, turnout_leader_correlation_commission (after Klimek, Yegorov, Hanel and
  Thurner 2012, whose two-dimensional histogram of turnout and the leader's share is `histogram`): the
  correlation of turnout and the leader's share across stations, within each region (each territorial
  commission). Null: the two are independent within them (Fisher's z, one-sided: stuffing raises both
  together). DESCRIPTIVE: urban and rural stations differ in both, so honest returns correlate; on the
  generator's urban and rural stations both fire on nearly every clean set (docs/scale.md), so the
  p-value measures a correlation, not its cause. Their detection is calibrated against the generator's
  clean sets instead, and holds only as far as real stations resemble it.
- final_vs_preliminary_leader: the stations whose final protocol gives the leader another count than
  their preliminary one; a sign test of how many raise it. Null: a correction is as likely to lower the
  leader's count as to raise it (exact binomial tail, one half, one-sided). Real corrections need not be
  symmetric (a recount of the largest pile may find more of it), so a low p-value shows that corrections
  favour the leader, not why.
- last_digit_leader (after Beber and Scacco 2012): the last digits of the leader's votes of at least 100.
  Null: uniform, which holds when the counts' distribution is smooth over spans of ten votes.
- No second-digit test (Mebane 2006): it needs a null for the second digits of the counts, and none
  we could build is calibrated. Benford's law is not one for vote counts (Deckert, Myagkov and Ordeshook
  2011); binomial redraws of every station fired on every set drawn from their own null (the redraws
  widen the counts' distribution, which moves their second digits); a density smooth within each block
  of counts sharing their leading digit fired on 10 to 17 % of such sets at the 5 % level. Measured in
  docs/scale.md.
"""

from __future__ import annotations

import math

REDRAWS = 20
MIN_COUNT = {
    "whole_pct_leader": 100,
    "whole_pct_turnout": 100,
    "two_decimal_pct_leader": 10_000,
    "two_decimal_pct_leader_commission": 10_000,
}
TESTS = (
    "whole_pct_leader",
    "whole_pct_turnout",
    "two_decimal_pct_leader",
    "two_decimal_pct_leader_commission",
    "turnout_leader_correlation",
    "turnout_leader_correlation_commission",
    "final_vs_preliminary_leader",
    "last_digit_leader",
)
# What a p-value can be read as, from the calibration on 200 clean synthetic sets with urban and rural
# stations (docs/scale.md; tests/test_stations.py holds the table there to this rule): 'calibrated' where the
# rate below 5 % is consistent with 5 % or less (the lower end of its 95 % Clopper-Pearson interval is at
# most 5 %), 'descriptive' where it is not: the null model is wrong for such returns, and the p-value
# measures a correlation, not its cause.
ROLES = {
    "whole_pct_leader": "calibrated",
    "whole_pct_turnout": "calibrated",
    "two_decimal_pct_leader": "calibrated",
    "two_decimal_pct_leader_commission": "calibrated",
    "turnout_leader_correlation": "descriptive",
    "turnout_leader_correlation_commission": "descriptive",
    "final_vs_preliminary_leader": "calibrated",
    "last_digit_leader": "calibrated",
}


def station_arrays(con) -> dict | None:
    """From a connection holding the station tables: per station with a final protocol, in station_id
    order, registered voters, ballots cast, valid votes, the leader's votes and the counted region; the
    leader is the option with the most votes over all stations. Regions as their ISO numbers."""
    found = con.execute(
        "SELECT option_id FROM station_votes WHERE protocol_version = 'final' "
        "GROUP BY option_id ORDER BY sum(votes) DESC, option_id LIMIT 1"
    ).fetchone()
    if found is None:
        return None  # no final protocol: nothing to test
    (leader,) = found
    arrays = con.execute(  # (the vote rows carry the counted region: the cross-check stations_in_their_region)
        "SELECT b.registered_voters_count AS registered, b.ballots_cast_count AS cast, "
        "b.ballots_cast_count - b.invalid_ballots_count AS valid, v.votes AS leader, "
        "CAST(substr(v.region_id, 4) AS INTEGER) AS region, s.territorial_commission_number AS commission, "
        "coalesce(p.votes, -1) AS preliminary_leader "
        "FROM station_ballots AS b JOIN station_votes AS v USING (station_id, protocol_version) "
        "JOIN stations AS s USING (station_id) "
        "LEFT JOIN station_votes AS p ON p.station_id = b.station_id AND p.protocol_version = 'preliminary' "
        "AND p.option_id = v.option_id "
        "WHERE b.protocol_version = 'final' AND v.option_id = ? ORDER BY b.station_id",
        [leader],
    ).fetchnumpy()
    names = ("registered", "cast", "valid", "leader", "region", "commission", "preliminary_leader")
    return {"leader_option_id": leader, **{k: arrays[k] for k in names}}


def run(
    np,
    registered,
    cast,
    valid,
    leader,
    region,
    *,
    commission=None,
    preliminary_leader=None,
    seed: int = 2023,
    redraws: int = REDRAWS,
) -> list[dict]:
    """Every test on the stations' arrays; one row per test, in TESTS order: statistic, p-value (None where
    no station qualifies), stations tested, the null and the role. `commission` is each station's
    territorial commission number (its tests are skipped without it); `preliminary_leader` the leader's
    votes in each station's preliminary protocol, -1 where it has none."""
    rng = np.random.Generator(np.random.PCG64(seed))
    registered, cast, valid, leader = (np.asarray(a, dtype=np.int64) for a in (registered, cast, valid, leader))
    region = np.asarray(region, dtype=np.int64)
    group = None if commission is None else region * 1000 + np.asarray(commission, dtype=np.int64)
    rows = [
        _grid_test(np, rng, "whole_pct_leader", leader, valid, 100, redraws),
        _grid_test(np, rng, "whole_pct_turnout", cast, registered, 100, redraws),
        _grid_test(np, rng, "two_decimal_pct_leader", leader, valid, 10_000, redraws),
        _commission_grid(np, rng, leader, valid, group, redraws),
        _correlation(np, "turnout_leader_correlation", cast, registered, leader, valid, region, "regions"),
        _correlation(
            np, "turnout_leader_correlation_commission", cast, registered, leader, valid, group, "commissions"
        ),
        _protocols(np, leader, preliminary_leader),
        _last_digit(np, leader),
    ]
    rows = [{**row, "role": ROLES[row["test_id"]]} for row in rows]
    return _holm(rows)


def _holm(rows: list[dict]) -> list[dict]:
    """Each calibrated test's p-value adjusted by Holm's step-down over the calibrated tests that ran (the
    family a reader scans), as adjusted_p_value; None for a descriptive test or one that did not run."""
    from pipeline.forensics.distributions import holm

    family = [row for row in rows if row["role"] == "calibrated" and row["p_value"] is not None]
    adjusted = {
        row["test_id"]: float(f"{a:.6g}") for row, a in zip(family, holm([r["p_value"] for r in family]), strict=True)
    }
    return [{**row, "adjusted_p_value": adjusted.get(row["test_id"])} for row in rows]


def _commission_grid(np, rng, leader, valid, group, redraws: int) -> dict:
    """The two-decimal grid test on the territorial commissions' totals (each counted region's stations of
    one commission number; abroad its own group)."""
    test = "two_decimal_pct_leader_commission"
    if group is None:
        return _row(test, None, None, 0, "no territorial commission numbers")
    _, codes = np.unique(group, return_inverse=True)
    totals = np.bincount(codes, leader).astype(np.int64), np.bincount(codes, valid).astype(np.int64)
    row = _grid_test(np, rng, test, *totals, 10_000, redraws)
    row["null_model"] = row["null_model"].replace("stations", "commissions").replace("station", "commission")
    return row


def _protocols(np, leader, preliminary) -> dict:
    """Sign test: of the stations whose final protocol gives the leader a different count than their
    preliminary one, how many give it more. Null: a correction is as likely to lower the leader's count as
    to raise it (binomial, one half); one-sided (the final protocol favouring the leader)."""
    test = "final_vs_preliminary_leader"
    preliminary = None if preliminary is None else np.asarray(preliminary, dtype=np.int64)
    if preliminary is None or not (preliminary >= 0).any():
        return _row(test, None, None, 0, "no preliminary protocols")
    changed = (preliminary >= 0) & (preliminary != leader)
    n, up = int(changed.sum()), int((leader[changed] > preliminary[changed]).sum())
    if n == 0:
        return _row(test, None, None, int((preliminary >= 0).sum()), "no station's leader count changed")
    return _row(test, up / n, binomial_upper(up, n), n, f"{up} of {n} corrections raise the leader's count; null: half")


def binomial_upper(k: int, n: int) -> float:
    """P(X >= k) for X binomial(n, 1/2), summed exactly in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    logs = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) - n * math.log(2) for j in range(k, n + 1)]
    return min(1.0, _exp_sum(logs))


def _on_grid(np, count, n, scale: int):
    """Whether each count equals round(n k / scale) for the whole k nearest to scale * count / n."""
    k = np.rint(scale * count / n)
    return np.rint(n * k / scale) == count


def _redraw(np, rng, n, count):
    return rng.binomial(n, np.clip(count / n, 0.0, 1.0))


def _grid_test(np, rng, test: str, count, n, scale: int, redraws: int) -> dict:
    mask = n >= MIN_COUNT[test]
    count, n = count[mask], n[mask]
    if len(n) == 0:
        return _row(test, None, None, 0, "no station is large enough for this grid to be rarer than any count")
    observed = int(_on_grid(np, count, n, scale).sum())
    hits = np.zeros(len(n))
    for _ in range(redraws):
        hits += _on_grid(np, _redraw(np, rng, n, count), n, scale)
    chance = hits / redraws  # each station's chance of a count on the grid
    mean = float(chance.sum())
    # the count of stations on the grid is a sum of independent trials (Poisson-binomial): its variance from
    # the stations' chances, unbiased for the R redraws each chance is estimated from
    # (times 1 + 1/R: the mean itself is estimated from the redraws, independently of the observed count)
    variance = float((chance * (1 - chance)).sum()) * redraws / (redraws - 1) * (1 + 1 / redraws)
    spread = max(math.sqrt(variance), 0.5)
    z = (observed - mean) / spread
    return _row(
        test,
        z,
        _upper_normal(z),
        len(n),
        f"{observed} stations on the grid against {mean:.1f} (sd {spread:.1f}) expected from {redraws} binomial "
        "redraws of every station",
    )


def _correlation(np, test: str, cast, registered, leader, valid, groups, within: str) -> dict:
    if groups is None:
        return _row(test, None, None, 0, "no territorial commission numbers")
    mask = (registered > 0) & (valid > 0)
    turnout, share, groups = cast[mask] / registered[mask], leader[mask] / valid[mask], groups[mask]
    _, codes = np.unique(groups, return_inverse=True)  # (regions as numbers: fast)
    counts = np.bincount(codes)
    turnout = turnout - (np.bincount(codes, turnout) / counts)[codes]
    share = share - (np.bincount(codes, share) / counts)[codes]
    df = len(turnout) - len(counts) - 1
    if df < 3 or not turnout.any() or not share.any():
        return _row(test, None, None, len(turnout), "too few stations")
    r = float((turnout * share).sum() / math.sqrt((turnout**2).sum() * (share**2).sum()))
    z = math.atanh(max(min(r, 0.999999), -0.999999)) * math.sqrt(df - 1)
    return _row(test, r, _upper_normal(z), len(turnout), f"independence within {within}")


def _last_digit(np, count) -> dict:
    count = count[count >= 100]
    if len(count) < 50:
        return _row("last_digit_leader", None, None, len(count), "fewer than 50 counts of at least 100")
    observed = np.bincount(count % 10, minlength=10).astype(float)
    expected = observed.sum() / 10
    statistic = float(((observed - expected) ** 2).sum() / expected)
    return _row("last_digit_leader", statistic, chi2_sf(statistic, 9), len(count), "uniform last digits")


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with `df` (whole) degrees of freedom, by its closed forms, the terms
    summed in log space (no overflow; a p-value below about 1e-308 is 0.0)."""
    if x <= 0:
        return 1.0
    if df % 2 == 0:  # sum over j < df/2 of exp(-x/2) (x/2)^j / j!
        logs = [-x / 2 + j * math.log(x / 2) - math.lgamma(j + 1) for j in range(df // 2)]
        return min(1.0, _exp_sum(logs))
    # erfc(sqrt(x/2)) + sum over 1 <= k <= (df-1)/2 of sqrt(2/pi) exp(-x/2) x^(k-1/2) / (1 * 3 * ... * (2k-1)),
    # where 1 * 3 * ... * (2k-1) = (2k)! / (2^k k!)
    logs = [
        0.5 * math.log(2 / math.pi) - x / 2 + (k - 0.5) * math.log(x)
        - (math.lgamma(2 * k + 1) - k * math.log(2) - math.lgamma(k + 1))
        for k in range(1, (df - 1) // 2 + 1)
    ]  # fmt: skip
    return min(1.0, math.erfc(math.sqrt(x / 2)) + (_exp_sum(logs) if logs else 0.0))


def _exp_sum(logs: list[float]) -> float:
    """exp of the log of a sum of exp(logs), without overflow."""
    top = max(logs)
    return math.exp(top) * math.fsum(math.exp(v - top) for v in logs)


def chi2_sf_9(x: float) -> float:
    """P(X >= x) for X chi-square with 9 degrees of freedom."""
    return chi2_sf(x, 9)


def _upper_normal(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _row(test: str, statistic, p_value, stations: int, null: str) -> dict:
    return {
        "test_id": test,
        "statistic": None if statistic is None else round(float(statistic), 6),
        "p_value": None if p_value is None else float(f"{p_value:.6g}"),
        "stations_tested": int(stations),
        "null_model": null,
    }


def histogram(np, registered, cast, valid, leader) -> list[dict]:
    """The turnout x leader's-share histogram (Klimek et al.): stations and valid votes per cell of one
    percentage point (turnout_pct 54 holds turnouts from 54 % to just under 55 %; 100 % is its own cell)."""
    registered, cast, valid, leader = (np.asarray(a, dtype=np.int64) for a in (registered, cast, valid, leader))
    mask = (registered > 0) & (valid > 0)
    turnout = (100 * cast[mask]) // registered[mask]
    share = (100 * leader[mask]) // valid[mask]
    cell = turnout * 101 + share
    stations = np.bincount(cell, minlength=101 * 101)
    votes = np.bincount(cell, weights=valid[mask], minlength=101 * 101)
    return [
        {"turnout_pct": int(c // 101), "leader_share_pct": int(c % 101), "stations": int(stations[c]),
         "valid_votes": int(votes[c])}
        for c in np.flatnonzero(stations)
    ]  # fmt: skip
