"""Planted anomalies for the synthetic station returns (pipeline/stations/synth.py): each rewrites some
stations' votes so that the answer is known, and keeps every published regional total exact. SYNTHETIC."""

from __future__ import annotations

from pipeline.stations.synth import allocate

ANOMALIES = {
    "whole_pct": "the leader's votes rewritten so that its share of the valid votes is a whole percentage",
    "two_decimal_pct": "the leader's share rewritten to a percentage with two decimals",
    "stuffing": "extra ballots for the leader (a fifth to three fifths of the voters who did not vote)",
    "digits": "the last digit of the leader's votes replaced by 0 or 5",
    "commission_two_decimal_pct": "the leader's share of a territorial commission's valid votes rewritten to a "
    "percentage with two decimals (at one of its stations); the fraction is of the commissions",
    "final_favours_leader": "the final protocol gives the leader 2 to 8 % more votes than the preliminary one "
    "did, taken from the preliminary protocol's invalid ballots",
}
MAX_FRACTION = {"commission_two_decimal_pct": 0.5}  # (the others: 0.2 of the stations)
ON_PRELIMINARY = {"final_favours_leader"}  # planted on the preliminary protocols (the final ones stay as drawn)


def plant(np, rng, election, kind: str, fraction: float) -> None:
    """Plant `kind` at `fraction` of the eligible stations (of the commissions, for a commission kind)."""
    if kind not in ANOMALIES:
        raise ValueError(f"unknown anomaly {kind!r}; expected one of {', '.join(ANOMALIES)}")
    if kind == "commission_two_decimal_pct":
        _plant_commissions(np, rng, election, fraction)
    elif kind == "final_favours_leader":
        _plant_preliminary(np, rng, election, fraction)
    else:
        _plant(np, rng, election, kind, fraction)


def _on_grid_count(np, old, others, scale: int, cap):
    """For each count `old` with `others` other valid votes: the nearest count whose share of the valid
    votes, rounded to 1/scale, gives it back exactly (old itself when it already does), or -1 where none
    within two votes of the grid's count fits under `cap`."""
    valid = others + old
    grid = np.rint(scale * old / valid)
    new = np.full(len(old), -1, dtype=np.int64)
    on_grid = np.rint(valid * grid / scale) == old
    new[on_grid] = old[on_grid]
    base = np.floor(grid * others / np.maximum(scale - grid, 1)).astype(np.int64)
    for step in (0, 1, -1, 2, -2):  # a count whose share, rounded to the grid, reproduces it exactly
        candidate = np.maximum(base + step, 0)
        fits = (np.rint((others + candidate) * grid / scale) == candidate) & (candidate <= cap) & (new < 0)
        new[fits] = candidate[fits]
    return new


def _plant(np, rng, election, kind: str, fraction: float) -> None:
    """Rewrite the leader's votes at `fraction` of the stations (with at least 100 valid votes, not
    already planted), then restore each region's total of the leader's votes from its other stations."""
    votes, leader = election.votes, election.leader
    valid = votes.sum(axis=1)
    eligible = np.flatnonzero((valid >= 100) & ~election.is_abroad)
    eligible = eligible[[i not in election.planted for i in eligible]]
    chosen = np.sort(rng.choice(eligible, size=int(round(fraction * len(eligible))), replace=False))
    cast = valid + election.invalid
    old = votes[chosen, leader].copy()
    others = valid[chosen] - old
    cap = election.registered[chosen] - election.invalid[chosen] - others  # the most the leader can have
    if kind in ("whole_pct", "two_decimal_pct"):
        new = _on_grid_count(np, old, others, 100 if kind == "whole_pct" else 10_000, cap)
        keep = new >= 0
    elif kind == "stuffing":
        extra = np.rint(rng.uniform(0.2, 0.6, len(chosen)) * (election.registered[chosen] - cast[chosen]))
        new, keep = old + extra.astype(np.int64), np.ones(len(chosen), bool)
    else:  # digits
        new = old - old % 10 + np.where(rng.random(len(chosen)) < 0.5, 0, 5)
        keep = (old >= 10) & (new <= cap) & (new != old)
    keep &= new != old  # (a count already on the grid is left as it is, and not listed)
    chosen, new, old = chosen[keep], new[keep], old[keep]
    votes[chosen, leader] = new
    for index in chosen:
        election.planted[int(index)] = kind
    _restore(np, election, chosen, new - old, kind, fraction)


def _restore(np, election, chosen, delta, kind: str, fraction: float, exclude=None) -> None:
    """Give back (or take) the leader's votes changed at the `chosen` stations (by `delta`) at the other
    stations of the same counted region, none planted and none in `exclude`, so that the region's total of
    the leader's votes stays the published one."""
    votes, leader = election.votes, election.leader
    counted = np.array(election.counted_in)
    untouched = ~np.isin(np.arange(len(votes)), list(election.planted))
    if exclude is not None:
        untouched &= ~exclude
    for region in sorted(set(counted[chosen])):
        change = int(delta[counted[chosen] == region].sum())
        others_here = np.flatnonzero((counted == region) & untouched)
        current = votes[others_here, leader]
        room = election.registered[others_here] - election.invalid[others_here] - votes[others_here].sum(axis=1)
        available = int(current.sum()) if change > 0 else int(room.sum())
        if abs(change) > available:
            raise ValueError(
                f"cannot plant {kind} at {fraction:.1%}: the other stations of {region} can "
                f"{'give back' if change > 0 else 'take'} {available:,} of the leader's votes, not {abs(change):,} "
                "(the region's total must stay the published one); choose a smaller fraction or more stations"
            )
        if change > 0:
            votes[others_here, leader] -= allocate(np, change, current, cap=current)
        elif change < 0:
            votes[others_here, leader] += allocate(np, -change, current, cap=room)


def _plant_commissions(np, rng, election, fraction: float) -> None:
    """The leader's votes of chosen territorial commissions (at least 10,000 valid votes, in Kazakhstan, not
    a region's first, from which the totals can always be restored) rewritten, at the commission's largest
    station, so that its share of the commission's valid votes is a two-decimal percentage; restored in the
    region from stations of other commissions. Every station of a changed commission is listed."""
    votes, leader = election.votes, election.leader
    valid = votes.sum(axis=1)
    key = np.array([f"{c}/{n}" for c, n in zip(election.counted_in, election.commission, strict=True)], dtype=object)
    domestic = ~election.is_abroad
    names, codes = np.unique(key, return_inverse=True)
    commission_valid = np.bincount(codes, valid)
    commission_leader = np.bincount(codes, votes[:, leader]).astype(np.int64)
    first = np.bincount(codes, np.array(election.commission) == 1) > 0  # kept: the totals are restored from it
    eligible = np.flatnonzero(
        (commission_valid >= 10_000) & (np.bincount(codes, domestic) == np.bincount(codes)) & ~first
    )
    chosen = np.sort(rng.choice(eligible, size=int(round(fraction * len(eligible))), replace=False))
    biggest = np.array([np.flatnonzero(codes == c)[np.argmax(valid[codes == c])] for c in chosen], dtype=np.int64)
    old = commission_leader[chosen]
    others = commission_valid[chosen].astype(np.int64) - old
    cap = old + (election.registered[biggest] - election.invalid[biggest] - valid[biggest])
    new = _on_grid_count(np, old, others, 10_000, cap)
    keep = (new >= 0) & (new != old) & (new - old >= -votes[biggest, leader])
    chosen, biggest, delta = chosen[keep], biggest[keep], (new - old)[keep]
    votes[biggest, leader] += delta
    changed = np.isin(codes, chosen)
    for index in np.flatnonzero(changed):
        election.planted[int(index)] = "commission_two_decimal_pct"
    _restore(np, election, biggest, delta, "commission_two_decimal_pct", fraction, exclude=changed)


def _plant_preliminary(np, rng, election, fraction: float) -> None:
    """The preliminary protocols of chosen stations (at least 100 valid votes, in Kazakhstan) give the
    leader 2 to 8 % fewer votes than the final ones, counted as invalid instead: the final protocol
    favours the leader. The final protocols, and so every total, stay as they are."""
    votes, leader = election.preliminary_votes, election.leader
    valid = election.votes.sum(axis=1)
    corrected = (votes != election.votes).any(axis=1) | (election.preliminary_invalid != election.invalid)
    eligible = np.flatnonzero((valid >= 100) & ~election.is_abroad & ~corrected)  # (not a clerical correction)
    eligible = eligible[[i not in election.planted for i in eligible]]
    chosen = np.sort(rng.choice(eligible, size=int(round(fraction * len(eligible))), replace=False))
    moved = np.maximum(1, np.rint(rng.uniform(0.02, 0.08, len(chosen)) * votes[chosen, leader])).astype(np.int64)
    moved = np.minimum(moved, votes[chosen, leader])
    votes[chosen, leader] -= moved
    election.preliminary_invalid[chosen] += moved
    for index in chosen[moved > 0]:
        election.planted[int(index)] = "final_favours_leader"
