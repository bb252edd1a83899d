"""The per-region rounding model (forensic_region_rounding): for each region, the likelihood of its counts
under "tallied" against "computed from shares with d decimals, one option balancing the total", on exact
vote distances (no window), and a scan over the regions with the family-wise error controlled (Holm).

A count computed from a share with d decimals is round(k * u) for a whole k, where u = valid votes *
10^-(d + 2) is the number of votes one step of the share is worth: its distance in votes from the nearest
such count is 0. A tallied count's exact share has a fractional part in steps that is uniform, so its
distance is 0 with probability 1/u and any distance from 1 to u/2 with probability 2/u. Under "computed",
each count but the balancing one is at distance 0, except with the small probability `slip` (another
rounding, a typing error) that it is a count like any other; the balancing option (the valid votes less the
others) is a count like any other. The likelihood ratio is the product over the counts other than the
balancing one, maximised over which option balances (of the options that do not fit, the largest count);
the p-value under "tallied" is the exact binomial
tail of the counts at distance 0 among all of the region's counts (probability 1/u each)."""

from __future__ import annotations

import math

from pipeline.forensics.distributions import binomial_tail, holm
from pipeline.forensics.rows import p_value, rounded


def region_rounding(d, params: dict) -> list[dict]:
    """One row per region (d: regions.Regions)."""
    model = params["rounding"]
    decimals, slip = model["share_decimals"], model["slip"]
    rows = []
    for i, region in enumerate(d.regions):
        valid = int(d.valid[i])
        step = valid * 10 ** -(decimals + 2)  # votes per step of a share with `decimals` decimals
        counts = [int(c) for c in d.votes[i]]
        distances = [abs(c - round(round(c / step) * step)) for c in counts]
        exact = sum(1 for x in distances if x == 0)
        # each count's log ratio "computed" / "tallied" (distance 0: (1 - slip) u + slip; else slip)
        hit, miss = math.log10((1 - slip) * step + slip), math.log10(slip)
        terms = [hit if x == 0 else miss for x in distances]
        misses = [j for j, x in enumerate(distances) if x != 0]
        ratio = sum(terms) - min(terms)  # the profile ratio: the option that fits worst is left out
        rows.append(
            {
                "region_id": region,
                "share_decimals": decimals,
                "vote_step": rounded(step, 4),
                "exact_counts_count": exact,
                "likelihood_ratio_log10": rounded(ratio, 4),
                "preferred_model": "computed_from_shares" if ratio > 0 else "tallied",
                "balancing_option_id": d.options[misses[0]] if len(misses) == 1 else None,
                "p_value": p_value(binomial_tail(max(exact - 1, 0), len(counts) - 1, min(1.0, 1 / step))),
            }
        )
    return _holm(rows)


def _holm(rows: list[dict]) -> list[dict]:
    """Holm's step-down adjustment of the regions' p-values: rejecting where the adjusted p-value is below
    alpha keeps the chance of any false rejection among the 20 regions below alpha."""
    adjusted = holm([row["p_value"] for row in rows])
    return [row | {"adjusted_p_value": p_value(a)} for row, a in zip(rows, adjusted, strict=True)]
