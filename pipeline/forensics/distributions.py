"""The null distributions and statistics of the forensic tests: exact and Monte Carlo tails, the grid
distance of a share, a weighted correlation, the Clopper-Pearson bound."""

from __future__ import annotations

import functools
import math


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


def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """The upper end of the two-sided Clopper-Pearson interval of a binomial proportion x / n (bisection
    on the binomial distribution function, in logs)."""
    if x >= n:
        return 1.0
    target = (1 - confidence) / 2

    # log C(n, j), computed once (the same operations in the same order as inside the sum: the same floats)
    coefficients = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in range(x + 1)]

    def cdf(p: float) -> float:  # P(X <= x)
        log_p, log_q = math.log(p), math.log1p(-p)
        return sum(math.exp(c + j * log_p + (n - j) * log_q) for j, c in enumerate(coefficients))

    low, high = x / n, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) > target else (low, middle)
    return high


def grid_distance(np, values, step: float):
    """Distance to the nearest multiple of `step`, in steps (0 to 0.5)."""
    scaled = values / step
    nearest = np.rint(scaled)
    np.subtract(scaled, nearest, out=scaled)
    return np.abs(scaled, out=scaled)


def weighted_r(np, x, y, w):
    """Weighted Pearson correlation of the rows of x and y (weights w)."""
    w = w / w.sum()
    mx, my = (x * w).sum(axis=-1, keepdims=True), (y * w).sum(axis=-1, keepdims=True)
    cov = ((x - mx) * (y - my) * w).sum(axis=-1)
    return cov / np.sqrt(((x - mx) ** 2 * w).sum(axis=-1) * ((y - my) ** 2 * w).sum(axis=-1))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment, in the order given: the k-th smallest p-value times the number not yet
    stepped past, never below an earlier one, at most 1. Rejecting where the adjusted value is below alpha
    keeps the chance of any false rejection in the family below alpha. Ties give equal values whatever
    their order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
