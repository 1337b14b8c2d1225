"""Calibrated boundaries (Pocock, Bayesian, SPRT): exactness, tightness, hand-checked values,
and non-decreasing boundaries for every method."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from signals.boundaries import bayes, crossing_probability, pocock, sprt, toxbdry
from signals.calibrated import pocock_boundary, sprt_boundary


def is_non_decreasing(values) -> bool:
    return all(later >= earlier for earlier, later in zip(values, values[1:]))


def never_above_n(looks, stop_above) -> bool:
    """r_k <= n_k: r_k = n_k already means "cannot stop", nothing larger is produced."""
    return all(r <= n for r, n in zip(stop_above, looks))


# ------------------------------------------------------------------------------------------
# Non-decreasing boundaries
# ------------------------------------------------------------------------------------------

LOOK_SCHEDULES = [range(1, 41), range(2, 31), (10, 20, 30, 40), tuple(range(5, 55, 5)), (20, 40, 60, 75)]
RATE_PAIRS = [(0.05, 0.2), (0.1, 0.3), (0.2, 0.35), (0.3, 0.5)]


@pytest.mark.slow  # a grid of calibrations: about 6 s
def test_toxbdry_boundaries_non_decreasing():
    """Pocock to moderate shapes (delta <= 0.3), both priorities: r_k never decreases in n.

    (delta = 0.5 can decrease; that case is reported as a warning, see test_boundaries.)
    """
    for (p_lo, p_hi), looks, delta, priority in itertools.product(
        RATE_PAIRS, LOOK_SCHEDULES, (0.0, 0.1, 0.2, 0.3), ("null", "alt")
    ):
        result = toxbdry(p_lo, p_hi, looks, delta=delta, priority=priority)
        for boundary in (result.stop_above, result.lo):
            assert is_non_decreasing(boundary), (p_lo, p_hi, looks, delta, priority, boundary)
            assert never_above_n(result.looks, boundary)
        assert not any("decreases" in warning for warning in result.warnings)


@pytest.mark.slow  # a grid of calibrations: about 6 s
def test_pocock_sprt_bayes_boundaries_non_decreasing():
    for (p0, p1), looks, alpha in itertools.product(RATE_PAIRS, LOOK_SCHEDULES, (0.01, 0.05, 0.1, 0.2)):
        for result in (
            pocock(p0, looks, alpha=alpha, p1=p1),
            sprt(p0, p1, looks, alpha=alpha),
            bayes(p1, looks, prior=(p0, 1.0 - p0), alpha=alpha, p0=p0),
        ):
            assert is_non_decreasing(result.stop_above), (result.kind, p0, p1, looks, alpha, result.stop_above)
            assert never_above_n(result.looks, result.stop_above)
    for p_max, looks, prior, threshold in itertools.product(
        (0.1, 0.2, 0.33), LOOK_SCHEDULES, ((1.0, 1.0), (0.5, 1.5), (0.2, 1.8), (3.0, 7.0)), (0.7, 0.8, 0.9, 0.95)
    ):
        result = bayes(p_max, looks, prior=prior, threshold=threshold)
        assert is_non_decreasing(result.stop_above), (p_max, looks, prior, threshold, result.stop_above)
        assert never_above_n(result.looks, result.stop_above)


# ------------------------------------------------------------------------------------------
# Pocock: the same nominal level a* at every look, calibrated exactly
# ------------------------------------------------------------------------------------------

POCOCK_CASES = [
    (0.2, range(1, 41), 0.05),
    (0.1, range(2, 31), 0.1),
    (0.3, (10, 20, 30, 40), 0.05),
    (0.15, tuple(range(5, 55, 5)), 0.1),
    (0.05, range(1, 61), 0.05),
]


@pytest.mark.parametrize(("p0", "looks", "alpha"), POCOCK_CASES)
def test_pocock_calibration_is_exact_and_tight(p0, looks, alpha):
    """Exact P(cross | p0) <= alpha; the next nominal level that changes the boundary exceeds alpha."""
    result = pocock(p0, looks, alpha=alpha)
    level = result.params["nominal_level"]
    next_level = result.params["next_nominal_level"]
    exact = crossing_probability(result.looks, result.stop_above, p0).p_cross
    assert exact <= alpha
    assert exact == pytest.approx(result.params["alpha_exact"], abs=1e-15)
    assert level < next_level
    # Every level in [a*, next level) gives the calibrated boundary ...
    assert pocock_boundary(p0, result.looks, level) == result.stop_above
    assert pocock_boundary(p0, result.looks, np.nextafter(next_level, 0.0)) == result.stop_above
    # ... and raising a* to the next level (any step that changes the rule) breaks alpha.
    raised = pocock_boundary(p0, result.looks, next_level)
    assert crossing_probability(result.looks, raised, p0).p_cross > alpha


@pytest.mark.parametrize(("p0", "looks", "alpha"), POCOCK_CASES)
def test_pocock_boundary_is_the_nominal_level_rule(p0, looks, alpha):
    """Ivanova's rule: b_k = r_k + 1 is the smallest count with P(Bin(n_k, p0) >= b_k) <= a*."""
    result = pocock(p0, looks, alpha=alpha)
    level = result.params["nominal_level"]
    for n_k, r_k in zip(result.looks, result.stop_above):
        if r_k < n_k:
            assert stats.binom.sf(r_k, n_k, p0) <= level  # P(X >= r_k + 1)
        if r_k > 0:
            assert stats.binom.sf(r_k - 1, n_k, p0) > level  # stopping one lower would exceed a*


def test_pocock_matches_toxbdry_on_published_cases():
    """toxbdry with delta = 0 searches the same family; its published hi boundaries are the
    exact Pocock optimum at alpha = cP0 = 0.1."""
    assert pocock(0.2, (20, 40, 60, 75), alpha=0.1).stop_above == (7, 12, 17, 21)
    continuous = toxbdry(0.1, 0.3, range(2, 31))
    assert pocock(0.1, range(2, 31), alpha=0.1).stop_above == continuous.stop_above


@pytest.mark.slow  # about 2.5 s
def test_pocock_is_at_least_as_aggressive_as_toxbdry_hi():
    """toxbdry stops after niter refinements, so its hi boundary can be more conservative than
    the exact optimum, never less."""
    for (p_lo, p_hi), looks, alpha in itertools.product(RATE_PAIRS, LOOK_SCHEDULES, (0.05, 0.1)):
        hi = toxbdry(p_lo, p_hi, looks, cp0=alpha)
        exact = pocock(p_lo, looks, alpha=alpha)
        assert hi.oc[0].p_cross <= exact.params["alpha_exact"] + 1e-15 <= alpha + 1e-15


def test_pocock_warns_when_no_boundary_can_stop():
    """p0 = 0.3 with 3 subjects: even "stop only at 3/3" has P = 0.027 > alpha = 0.01."""
    result = pocock(0.3, (1, 2, 3), alpha=0.01)
    assert result.stop_above == (1, 2, 3)
    assert result.oc[0].p_cross == 0.0
    assert any("can stop at these looks" in warning for warning in result.warnings)


# ------------------------------------------------------------------------------------------
# Bayesian beta-binomial rule (Thall, Simon & Estey 1995)
# ------------------------------------------------------------------------------------------


def test_bayes_fixed_threshold_hand_checked_values():
    """p_max = 0.2, prior Beta(0.4, 1.6), stop when Pr(p > 0.2 | x, n) > 0.9.

    Values worked out with scipy.stats.beta, one n at a time:
      n = 5:  Pr(p > 0.2 | 2/5) = 0.778,  Pr(. | 3/5) = 0.948   -> r = 2
      n = 10: Pr(. | 4/10) = 0.895,       Pr(. | 5/10) = 0.971  -> r = 4
      n = 20: Pr(. | 6/20) = 0.826,       Pr(. | 7/20) = 0.923  -> r = 6
      n = 40: Pr(. | 11/40) = 0.854,      Pr(. | 12/40) = 0.921 -> r = 11
      n = 1:  Pr(. | 1/1) = 0.824: one subject can never stop the trial -> r = 1
    """
    result = bayes(0.2, range(1, 41), prior=(0.4, 1.6), threshold=0.9)
    hand_checked = {1: 1, 5: 2, 10: 4, 20: 6, 40: 11}
    for n, r in hand_checked.items():
        assert result.boundary_at(n) == r


@pytest.mark.parametrize(
    ("p_max", "prior", "threshold"),
    [(0.2, (0.4, 1.6), 0.9), (0.3, (0.6, 1.4), 0.8), (0.1, (1.0, 1.0), 0.95), (0.25, (2.5, 7.5), 0.85)],
)
def test_bayes_fixed_threshold_matches_posterior_by_hand(p_max, prior, threshold):
    """Independent route: for each n, the smallest x with 1 - I_{p_max}(a + x, b + n - x) >
    threshold, found by scanning x upwards; r = that x - 1 (r = n if none)."""
    a, b = prior
    looks = tuple(range(1, 51))
    result = bayes(p_max, looks, prior=prior, threshold=threshold)
    for n, r in zip(looks, result.stop_above):
        first_stop = n + 1
        for x in range(n + 1):
            if 1.0 - stats.beta.cdf(p_max, a + x, b + n - x) > threshold:
                first_stop = x
                break
        assert r == min(first_stop - 1, n), (n, r, first_stop)


@pytest.mark.parametrize(
    ("p_max", "prior", "p0", "alpha", "looks"),
    [
        (0.3, (0.6, 1.4), 0.2, 0.1, range(1, 41)),
        (0.2, (0.2, 0.8), 0.2, 0.05, range(1, 41)),
        (0.35, (1.0, 1.0), 0.2, 0.05, (10, 20, 30, 40, 50)),
        (0.25, (0.4, 1.6), 0.15, 0.1, range(2, 61)),
    ],
)
def test_bayes_calibrated_threshold_is_exact_and_tight(p_max, prior, p0, alpha, looks):
    """Exact P(cross | p0) <= alpha at the calibrated threshold; any smaller threshold exceeds alpha."""
    result = bayes(p_max, looks, prior=prior, alpha=alpha, p0=p0)
    threshold = result.params["threshold"]
    assert result.params["calibrated"] is True
    exact = crossing_probability(result.looks, result.stop_above, p0).p_cross
    assert exact <= alpha
    assert exact == pytest.approx(result.params["alpha_exact"], abs=1e-15)
    # Re-running with the calibrated threshold as a fixed one gives the same rule.
    assert bayes(p_max, looks, prior=prior, threshold=threshold).stop_above == result.stop_above
    lowered = bayes(p_max, looks, prior=prior, threshold=float(np.nextafter(threshold, 0.0)))
    assert crossing_probability(lowered.looks, lowered.stop_above, p0).p_cross > alpha


def test_bayes_default_prior_has_mean_p_max_and_one_subject_of_information():
    """No prior given: Beta(p_max, 1 - p_max)."""
    default = bayes(0.3, range(1, 31), threshold=0.9)
    explicit = bayes(0.3, range(1, 31), prior=(0.3, 0.7), threshold=0.9)
    assert default.params["prior"] == [0.3, 0.7]
    assert default.stop_above == explicit.stop_above


def test_bayes_oc_includes_p0_and_p_max():
    """The default OC grid shows the false-stop probability at p0 next to the rate p_max."""
    result = bayes(0.3, range(1, 31), prior=(0.6, 1.4), threshold=0.8, p0=0.15)
    rates = [row.p for row in result.oc]
    assert 0.15 in rates and 0.3 in rates


# ------------------------------------------------------------------------------------------
# Truncated SPRT (Wald), upper line calibrated exactly
# ------------------------------------------------------------------------------------------

SPRT_CASES = [
    (0.2, 0.35, range(1, 41), 0.05),
    (0.1, 0.3, range(2, 31), 0.1),
    (0.2, 0.4, (10, 20, 30, 40), 0.05),
    (0.05, 0.2, range(1, 61), 0.05),
]


@pytest.mark.parametrize(("p0", "p1", "looks", "alpha"), SPRT_CASES)
def test_sprt_calibration_is_exact_and_tight(p0, p1, looks, alpha):
    """Exact P(cross | p0) <= alpha; lowering c to the next log-likelihood ratio exceeds alpha."""
    result = sprt(p0, p1, looks, alpha=alpha)
    exact = crossing_probability(result.looks, result.stop_above, p0).p_cross
    assert exact <= alpha
    assert exact == pytest.approx(result.params["alpha_exact"], abs=1e-15)
    lowered = sprt_boundary(p0, p1, result.looks, result.params["c_lower"])
    assert crossing_probability(result.looks, lowered, p0).p_cross > alpha
    assert result.params["c_lower"] < result.params["c"]


@pytest.mark.parametrize(("p0", "p1", "looks", "alpha"), SPRT_CASES)
def test_sprt_boundary_is_the_likelihood_ratio_line(p0, p1, looks, alpha):
    """Stop at x >= (c + n ln((1-p0)/(1-p1))) / ln(p1(1-p0)/(p0(1-p1))): r = ceil(line) - 1, capped at n."""
    result = sprt(p0, p1, looks, alpha=alpha)
    c = result.params["c"]
    g = np.log(p1 * (1 - p0) / (p0 * (1 - p1)))
    s = np.log((1 - p0) / (1 - p1))
    for n, r in zip(result.looks, result.stop_above):
        line = (c + n * s) / g
        assert r == min(int(np.ceil(line)) - 1, n)
