"""Operating characteristics checked by routes independent of the forward recursion.

* Exact: enumerate all 2^N Bernoulli sequences (N <= 12), find where each first crosses, and
  weight it by p^events (1-p)^(N-events). Later outcomes marginalise out, so this equals the
  probability of the stopped path. Boundaries include ones that decrease, jump, are negative
  (stop at once) or exceed n (cannot stop), which a loop over count increments would get wrong.
* Monte Carlo: 200,000 simulated trials per rate with a fixed seed; every OC value must agree
  within 4 standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from signals.boundaries import bayes, crossing_probability, pocock, sprt, toxbdry


def enumerated_oc(looks, stop_above, p):
    """(p_cross, p_early_stop, expected_n) by full enumeration of the 2^N outcome sequences."""
    total_n = looks[-1]
    codes = np.arange(2**total_n)
    outcomes = (codes[:, None] >> np.arange(total_n)) & 1  # one row per sequence
    events = outcomes.sum(axis=1)
    weights = p**events * (1.0 - p) ** (total_n - events)
    p_cross = p_early = expected_n = 0.0
    for outcome, weight in zip(outcomes, weights):
        stopped_at = None
        for index, (n_k, r_k) in enumerate(zip(looks, stop_above)):
            if outcome[:n_k].sum() > r_k:
                stopped_at = index
                break
        if stopped_at is None:
            expected_n += weight * total_n
        else:
            p_cross += weight
            p_early += weight if stopped_at < len(looks) - 1 else 0.0
            expected_n += weight * looks[stopped_at]
    return p_cross, p_early, expected_n


HAND_MADE_BOUNDARIES = [
    ((1, 2, 3, 4, 5, 6), (0, 1, 1, 2, 2, 2)),  # ordinary continuous monitoring
    ((3, 6, 9, 12), (2, 1, 3, 1)),  # decreasing: an earlier acceptable count stops later
    ((2, 8, 10), (0, 5, 2)),  # jumps by more than the new subjects, then drops
    ((4, 8), (-1, 8)),  # negative r: every path stops at the first look
    ((3, 9), (-3, 4)),  # any negative r means the same
    ((5, 10, 12), (5, 10, 3)),  # cannot stop until the last look
    ((1, 12), (1, 0)),  # r >= n at the first look, then stop on any event
]


@pytest.mark.parametrize(("looks", "stop_above"), HAND_MADE_BOUNDARIES)
@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.83])
def test_recursion_matches_enumeration_for_hand_made_boundaries(looks, stop_above, p):
    """Rule: stop at the first look k with count > r_k, for any integer r (exact agreement)."""
    row = crossing_probability(looks, stop_above, p)
    p_cross, p_early, expected_n = enumerated_oc(looks, stop_above, p)
    assert row.p_cross == pytest.approx(p_cross, abs=1e-12)
    assert row.p_early_stop == pytest.approx(p_early, abs=1e-12)
    assert row.expected_n == pytest.approx(expected_n, abs=1e-10)


def test_recursion_matches_enumeration_for_random_boundaries():
    """Random looks (N <= 10) and random r_k in [-1, n_k + 1], unordered, at random rates."""
    rng = np.random.default_rng(20240611)
    for _ in range(40):
        total_n = int(rng.integers(2, 11))
        look_count = int(rng.integers(1, total_n + 1))
        looks = tuple(sorted(rng.choice(np.arange(1, total_n), size=look_count - 1, replace=False).tolist()))
        looks = looks + (total_n,)
        stop_above = tuple(int(rng.integers(-1, n_k + 2)) for n_k in looks)
        p = float(rng.uniform(0.01, 0.99))
        row = crossing_probability(looks, stop_above, p)
        p_cross, p_early, expected_n = enumerated_oc(looks, stop_above, p)
        assert row.p_cross == pytest.approx(p_cross, abs=1e-12), (looks, stop_above, p)
        assert row.p_early_stop == pytest.approx(p_early, abs=1e-12), (looks, stop_above, p)
        assert row.expected_n == pytest.approx(expected_n, abs=1e-10), (looks, stop_above, p)


# ------------------------------------------------------------------------------------------
# Monte Carlo
# ------------------------------------------------------------------------------------------

TRIALS = 200_000
CHUNK = 50_000


def simulate(looks, stop_above, p, seed):
    """Simulated (crossed, stopped early, subjects used) per trial, vectorised over trials."""
    rng = np.random.default_rng(seed)
    look_index = np.asarray(looks) - 1
    limits = np.asarray(stop_above)
    crossed_all, early_all, used_all = [], [], []
    for _ in range(TRIALS // CHUNK):
        events = rng.random((CHUNK, looks[-1])) < p
        counts = np.cumsum(events, axis=1, dtype=np.int16)[:, look_index]
        over = counts > limits
        crossed = over.any(axis=1)
        first = over.argmax(axis=1)
        crossed_all.append(crossed)
        early_all.append(crossed & (first < len(looks) - 1))
        used_all.append(np.where(crossed, np.asarray(looks)[first], looks[-1]))
    return np.concatenate(crossed_all), np.concatenate(early_all), np.concatenate(used_all)


def assert_agrees_with_simulation(looks, stop_above, row, seed):
    crossed, early, used = simulate(looks, stop_above, row.p, seed)
    for exact, sample in ((row.p_cross, crossed), (row.p_early_stop, early)):
        standard_error = np.sqrt(max(exact * (1.0 - exact), 1e-12) / TRIALS)
        assert abs(sample.mean() - exact) <= 4 * standard_error, (row, sample.mean())
    standard_error = max(used.std() / np.sqrt(TRIALS), 1e-9)
    assert abs(used.mean() - row.expected_n) <= 4 * standard_error, (row, used.mean())


def pick_rows(rows, rates):
    """The OC rows at the given rates."""
    return [row for row in rows if any(abs(row.p - rate) < 1e-9 for rate in rates)]


SIMULATED_DESIGNS = [
    pytest.param(lambda: toxbdry(0.2, 0.35, (20, 40, 60, 75)), (0.2, 0.29, 0.35), id="toxbdry-4-looks"),
    pytest.param(lambda: toxbdry(0.1, 0.3, range(2, 31)), (0.1, 0.3), id="toxbdry-continuous"),
    pytest.param(lambda: toxbdry(0.1, 0.3, range(1, 31), delta=0.3), (0.1, 0.3), id="toxbdry-delta-0.3"),
    pytest.param(lambda: pocock(0.2, range(1, 41), alpha=0.05, p1=0.35), (0.2, 0.35), id="pocock"),
    pytest.param(
        lambda: bayes(0.2, range(1, 41), prior=(0.4, 1.6), threshold=0.9, p0=0.1), (0.1, 0.2), id="bayes-fixed"
    ),
    pytest.param(
        lambda: bayes(0.3, range(1, 41), prior=(0.6, 1.4), alpha=0.1, p0=0.2), (0.2, 0.3), id="bayes-calibrated"
    ),
    pytest.param(lambda: sprt(0.2, 0.35, range(1, 41), alpha=0.05), (0.2, 0.35), id="sprt"),
    pytest.param(lambda: sprt(0.1, 0.3, (10, 20, 30, 40), alpha=0.1), (0.1, 0.3), id="sprt-4-looks"),
]


@pytest.mark.slow  # 200k simulated trials per design: about 4 s in all (the exact checks above stay fast)
@pytest.mark.parametrize(("make", "rates"), SIMULATED_DESIGNS)
def test_oc_agrees_with_monte_carlo(make, rates):
    """p_cross, p_early_stop and expected_n agree with 200k simulated trials within 4 SE."""
    result = make()
    rows = pick_rows(result.oc, rates)
    assert len(rows) == len(rates)
    for offset, row in enumerate(rows):
        assert_agrees_with_simulation(result.looks, result.stop_above, row, seed=1000 + offset)
    if result.lo is not None:
        for offset, row in enumerate(pick_rows(result.lo_oc, rates)):
            assert_agrees_with_simulation(result.looks, result.lo, row, seed=2000 + offset)


def test_user_boundary_that_decreases_agrees_with_monte_carlo():
    """A user-supplied boundary that drops and jumps (R's a:b counting down would break here)."""
    looks = (5, 10, 15, 30)
    stop_above = (3, 2, 9, 6)
    for offset, p in enumerate((0.1, 0.25)):
        row = crossing_probability(looks, stop_above, p)
        assert_agrees_with_simulation(looks, stop_above, row, seed=3000 + offset)
