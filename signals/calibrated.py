"""Stopping boundaries whose constant is calibrated on the exact type-I error.

Three families, all "stop when the cumulative event count x_k exceeds r_k at look k":

* Pocock-type nominal-level rule (Ivanova, Qaqish & Schell 2005; Jennison & Turnbull 2000):
  stop at look k when P(Bin(n_k, p0) >= x_k) <= a*, the same nominal level a* at every look.
* Bayesian beta-binomial rule (Thall, Simon & Estey 1995, with the standard-therapy rate fixed
  at p_max): stop when Pr(p > p_max | x, n) > threshold under the Beta(a + x, b + n - x)
  posterior.
* Truncated sequential probability ratio test (Wald 1947), upper line only: stop when the
  log-likelihood ratio of H1: p = p1 against H0: p = p0 reaches c. A safety rule never stops
  for being safe, so Wald's lower line is not used; the truncation is the last look.

Each rule is monotone in its constant and the event counts are integers, so the boundary as a
function of the constant is a step function with finitely many breakpoints (the tail
probabilities, posterior probabilities or log-likelihood ratios of the reachable (x, n) pairs).
The calibration bisects over the sorted breakpoints, which gives the exact optimum: the
boundary with the largest crossing probability at the reference rate that does not exceed
alpha. The next breakpoint in the aggressive direction is also reported, with its exact
crossing probability (> alpha), as evidence that the calibration is tight.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import stats

from signals.looks import validate_looks, validate_probability, validate_rates
from signals.oc import Boundary, default_oc_grid, oc_row, oc_table


def _first_true(count: int, predicate: Callable[[int], bool]) -> int:
    """Smallest i in [0, count) with predicate(i), or count when there is none.

    The predicate must be false up to some index and true from there on (it is monotone in
    the calibrated constant), so bisection finds the switch with about log2(count) calls.
    """
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _never_stops(looks: Sequence[int], r: Sequence[int]) -> bool:
    return all(value >= n for value, n in zip(r, looks))


def _oc_rates(oc_rates: Iterable[float] | None, references: Iterable[float]) -> tuple[float, ...]:
    if oc_rates is None:
        return default_oc_grid(references)
    return validate_rates(oc_rates)


# --------------------------------------------------------------------------------------------
# Pocock-type nominal-level rule
# --------------------------------------------------------------------------------------------


def pocock_boundary(p0: float, looks: Sequence[int], level: float) -> tuple[int, ...]:
    """r_k = smallest r with P(Bin(n_k, p0) > r) <= level, i.e. stop when x_k >= r_k + 1.

    When even P(X = n_k) exceeds the level, r_k = n_k: the rule cannot stop at that look.
    """
    boundary = []
    for n_k in looks:
        upper_tail = stats.binom.sf(np.arange(n_k + 1), n_k, p0)  # P(X > r) for r = 0..n_k
        allowed = np.flatnonzero(upper_tail <= level)
        boundary.append(int(allowed[0]) if allowed.size else n_k)
    return tuple(boundary)


def pocock(
    p0: float,
    looks: Iterable[int],
    *,
    alpha: float = 0.05,
    p1: float | None = None,
    oc_rates: Iterable[float] | None = None,
) -> Boundary:
    """Pocock-type continuous monitoring rule (Ivanova, Qaqish & Schell 2005).

    At every look the count is tested against H0: p = p0 at the same nominal level a*:
    stop at look k when P(Bin(n_k, p0) >= x_k) <= a*. The level a* is calibrated so that the
    exact probability of ever crossing under p0 is at most ``alpha`` and as large as possible.

    ``params["nominal_level"]`` is a*, the largest per-look tail probability actually used;
    every level in [a*, ``params["next_nominal_level"]``) gives the same boundary, and the next
    level gives exact type-I error ``params["alpha_at_next_level"]`` > alpha.
    ``p1`` (optional) is an unacceptable rate reported in the OC grid.
    """
    p0 = validate_probability(p0, "p0", detail=" (acceptable event rate)")
    checked_looks = validate_looks(looks)
    alpha = validate_probability(alpha, "alpha", detail=" (target type-I error at p0)")
    if p1 is not None:
        p1 = validate_probability(p1, "p1", detail=" and above p0 (unacceptable event rate)")
        if not p1 > p0:
            raise ValueError(f"p1 must be above p0; got p0={p0!r}, p1={p1!r}")
    rates = _oc_rates(oc_rates, [p0] + ([p1] if p1 is not None else []))

    # Breakpoints: the boundary only changes when the level passes some P(Bin(n_k, p0) > r).
    # Level 0 is the rule that never stops (always feasible).
    tails = [stats.binom.sf(np.arange(n_k), n_k, p0) for n_k in checked_looks]
    levels = np.unique(np.concatenate([np.zeros(1), *tails]))

    def alpha_at(index: int) -> float:
        return oc_row(checked_looks, pocock_boundary(p0, checked_looks, levels[index]), p0).p_cross

    # Crossing probability increases with the level: the chosen level is the one just before
    # the first level that breaks alpha. Level 0 never stops, so it never breaks alpha.
    first_too_high = _first_true(len(levels), lambda i: alpha_at(i) > alpha)
    chosen = first_too_high - 1
    level = float(levels[chosen])
    r = pocock_boundary(p0, checked_looks, level)
    exact_alpha = oc_row(checked_looks, r, p0).p_cross
    if first_too_high < len(levels):
        next_level: float | None = float(levels[first_too_high])
        alpha_next: float | None = alpha_at(first_too_high)
    else:
        next_level, alpha_next = None, None

    warnings = []
    if _never_stops(checked_looks, r):
        warnings.append(
            f"No Pocock boundary with type-I error <= {alpha} can stop at these looks: even the "
            "least aggressive one (stop only when every subject so far has an event) exceeds it; "
            "raise alpha or add subjects"
        )
    params = {
        "p0": p0,
        "p1": p1,
        "alpha": alpha,
        "nominal_level": level,
        "next_nominal_level": next_level,
        "alpha_exact": exact_alpha,
        "alpha_at_next_level": alpha_next,
        "stop_at_or_above": [value + 1 for value in r],
    }
    return Boundary(
        kind="pocock",
        looks=checked_looks,
        stop_above=r,
        oc=oc_table(checked_looks, r, rates),
        params=params,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------
# Bayesian beta-binomial rule
# --------------------------------------------------------------------------------------------


def posterior_tail(p_max: float, prior: tuple[float, float], x: np.ndarray, n: int) -> np.ndarray:
    """Pr(p > p_max | x events in n) under the Beta(a + x, b + n - x) posterior."""
    a, b = prior
    return stats.beta.sf(p_max, a + x, b + n - x)


def bayes_boundary_at(p_max: float, prior: tuple[float, float], threshold: float, n: int) -> int:
    """r at one sample size n: the largest count whose posterior tail does not exceed the threshold.

    The same comparison as :func:`bayes` makes at its looks, for any n, so that a rule evaluated
    beyond its planned looks still stops exactly when Pr(p > p_max | x, n) > threshold.
    Returns n when no count at n exceeds the threshold (the rule cannot stop at n).
    """
    # The tail grows with x, so the first count above the threshold is found by bisection:
    # about log2(n) posterior evaluations instead of n + 1.
    first_stopping = _first_true(n + 1, lambda x: float(posterior_tail(p_max, prior, np.array([x]), n)[0]) > threshold)
    return first_stopping - 1 if first_stopping <= n else n


def _bayes_boundary_from_tails(tails_by_look: Sequence[np.ndarray], threshold: float) -> tuple[int, ...]:
    """r_k = (smallest x whose posterior tail exceeds the threshold) - 1; n_k when none does."""
    boundary = []
    for tails in tails_by_look:
        stopping = np.flatnonzero(tails > threshold)
        boundary.append(int(stopping[0]) - 1 if stopping.size else len(tails) - 1)
    return tuple(boundary)


def bayes(
    p_max: float,
    looks: Iterable[int],
    *,
    prior: tuple[float, float] | None = None,
    threshold: float | None = None,
    alpha: float | None = None,
    p0: float | None = None,
    oc_rates: Iterable[float] | None = None,
) -> Boundary:
    """Bayesian toxicity monitoring rule (Thall, Simon & Estey 1995).

    With a Beta(a, b) prior on the event rate p, stop at look k when
    Pr(p > p_max | x_k, n_k) > threshold, the posterior being Beta(a + x_k, b + n_k - x_k).
    Without ``prior`` the weak prior Beta(p_max, 1 - p_max) is used: mean p_max and an
    effective sample size of one subject, in line with the small effective sample size
    (a + b of 1-2) that Thall, Simon & Estey suggest for the experimental arm.

    Give either ``threshold`` (a fixed posterior probability, typically 0.8-0.95), or ``alpha``
    and ``p0``: then the threshold is the smallest one whose exact crossing probability under
    p0 is at most alpha. A fixed threshold can have a large false-stop probability at an
    acceptable rate, so report the OC at p0 as well (pass ``p0`` with ``threshold`` to include
    it in the default OC grid).
    """
    p_max = validate_probability(p_max, "p_max", detail=" (the largest acceptable event rate)")
    checked_looks = validate_looks(looks)
    prior_values = (p_max, 1.0 - p_max) if prior is None else _check_prior(prior)
    if threshold is not None and alpha is not None:
        raise ValueError(
            "threshold and alpha cannot both be given: give threshold for a fixed rule, "
            "or alpha and p0 to calibrate the threshold"
        )
    if threshold is None and (alpha is None or p0 is None):
        raise ValueError(
            "threshold is required unless alpha and p0 are both given (to calibrate it); "
            f"got threshold=None, alpha={alpha!r}, p0={p0!r}"
        )
    if threshold is not None:
        threshold = validate_probability(threshold, "threshold", detail=" (posterior probability)")
    if alpha is not None:
        alpha = validate_probability(alpha, "alpha", detail=" (target type-I error at p0)")
    if p0 is not None:
        p0 = validate_probability(p0, "p0", detail=" (acceptable event rate for the type-I error)")
    rates = _oc_rates(oc_rates, [p_max] + ([p0] if p0 is not None else []))

    tails_by_look = [posterior_tail(p_max, prior_values, np.arange(n_k + 1), n_k) for n_k in checked_looks]
    calibration: dict = {}
    if threshold is None:
        threshold, calibration = _calibrate_threshold(checked_looks, tails_by_look, alpha, p0)
    r = _bayes_boundary_from_tails(tails_by_look, threshold)

    warnings = []
    if _never_stops(checked_looks, r):
        warnings.append(
            "The posterior probability never exceeds the threshold at these looks, so the rule "
            "cannot stop; lower the threshold or add subjects"
        )
    if threshold < 0.5:
        warnings.append(
            f"Threshold {threshold:.4g} is below 0.5: the rule can stop while the rate is more "
            "likely below p_max than above it"
        )
    params = {
        "p_max": p_max,
        "prior": list(prior_values),
        "threshold": threshold,
        "calibrated": bool(calibration),
        "alpha": alpha,
        "p0": p0,
        **calibration,
        "stop_at_or_above": [value + 1 for value in r],
    }
    return Boundary(
        kind="bayes",
        looks=checked_looks,
        stop_above=r,
        oc=oc_table(checked_looks, r, rates),
        params=params,
        warnings=tuple(warnings),
    )


def _calibrate_threshold(looks, tails_by_look, alpha: float, p0: float) -> tuple[float, dict]:
    """Smallest threshold whose boundary has exact crossing probability <= alpha under p0.

    The rule stops on tail > threshold, so a threshold equal to a breakpoint already excludes
    that (x, n) pair; the optimum is therefore a breakpoint itself. The largest breakpoint
    gives the rule that never stops, which is always feasible.
    """
    breakpoints = np.unique(np.concatenate(tails_by_look))

    def alpha_at(index: int) -> float:
        r = _bayes_boundary_from_tails(tails_by_look, float(breakpoints[index]))
        return oc_row(looks, r, p0).p_cross

    chosen = _first_true(len(breakpoints), lambda i: alpha_at(i) <= alpha)
    threshold = float(breakpoints[chosen])
    calibration = {
        "alpha_exact": alpha_at(chosen),
        # Any threshold below the chosen one adds the (x, n) pair whose posterior equals it.
        "alpha_below_threshold": alpha_at(chosen - 1) if chosen > 0 else None,
    }
    return threshold, calibration


def _check_prior(prior) -> tuple[float, float]:
    rule = "prior must be (a, b): two positive finite Beta parameters, e.g. (0.4, 1.6)"
    try:
        a, b = (float(value) for value in prior)
    except (TypeError, ValueError):
        raise ValueError(f"{rule}; got {prior!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0):
        raise ValueError(f"{rule}; got {prior!r}")
    return a, b


# --------------------------------------------------------------------------------------------
# Truncated SPRT
# --------------------------------------------------------------------------------------------


def sprt_slopes(p0: float, p1: float) -> tuple[float, float]:
    """(g, s): the log-likelihood ratio of x events in n subjects is x*g - n*s."""
    g = math.log(p1 * (1.0 - p0) / (p0 * (1.0 - p1)))
    s = math.log((1.0 - p0) / (1.0 - p1))
    return g, s


def sprt_boundary(p0: float, p1: float, looks: Sequence[int], c: float) -> tuple[int, ...]:
    """r_k = (smallest x with x*g - n_k*s >= c) - 1, i.e. stop on or above the line (c + n s)/g.

    The comparison is made on the log-likelihood ratio itself, so a calibrated c that equals
    the ratio of some (x, n) behaves the same here as in the calibration.
    """
    g, s = sprt_slopes(p0, p1)
    boundary = []
    for n_k in looks:
        llr = np.arange(n_k + 1) * g - n_k * s
        stopping = np.flatnonzero(llr >= c)
        boundary.append(int(stopping[0]) - 1 if stopping.size else n_k)
    return tuple(boundary)


def sprt(
    p0: float,
    p1: float,
    looks: Iterable[int],
    *,
    alpha: float = 0.05,
    oc_rates: Iterable[float] | None = None,
) -> Boundary:
    """Truncated Wald SPRT for H0: p = p0 against H1: p = p1 > p0, stopping for toxicity only.

    With g = ln[p1(1-p0) / (p0(1-p1))] and s = ln[(1-p0)/(1-p1)], the log-likelihood ratio of
    x events in n subjects is x*g - n*s. Stop at look k when it reaches c, i.e. when
    x_k >= b(n_k) = (c + n_k*s)/g. Wald's c = ln((1-beta)/alpha) is only approximate; here c is
    calibrated so that the exact crossing probability under p0 is at most alpha, with the
    boundary as aggressive as possible (as in Martens & Logan's truncated SPRT).

    ``params["c"]`` lies midway between the two log-likelihood ratios that bracket the
    calibrated boundary, so it is robust to rounding; ``params["c_lower"]`` is the next lower
    breakpoint, whose exact type-I error ``params["alpha_at_c_lower"]`` exceeds alpha.
    """
    p0 = validate_probability(p0, "p0", detail=" and below p1 (acceptable event rate)")
    p1 = validate_probability(p1, "p1", detail=" and above p0 (unacceptable event rate)")
    if not p1 > p0:
        raise ValueError(f"p1 must be above p0; got p0={p0!r}, p1={p1!r}")
    checked_looks = validate_looks(looks)
    alpha = validate_probability(alpha, "alpha", detail=" (target type-I error at p0)")
    rates = _oc_rates(oc_rates, [p0, p1])
    g, s = sprt_slopes(p0, p1)

    # Breakpoints: the log-likelihood ratios of every reachable (x, n). A c equal to a
    # breakpoint stops that pair; +inf is the rule that never stops (always feasible).
    ratios = [np.arange(n_k + 1) * g - n_k * s for n_k in checked_looks]
    breakpoints = np.append(np.unique(np.concatenate(ratios)), np.inf)

    def alpha_at(index: int) -> float:
        r = sprt_boundary(p0, p1, checked_looks, float(breakpoints[index]))
        return oc_row(checked_looks, r, p0).p_cross

    chosen = _first_true(len(breakpoints), lambda i: alpha_at(i) <= alpha)
    upper = float(breakpoints[chosen])
    lower = float(breakpoints[chosen - 1]) if chosen > 0 else None
    if lower is None:
        c = upper  # cannot happen for alpha < 1: the lowest ratio stops every path at once
    elif math.isinf(upper):
        c = lower + 1.0  # never stops: any c above the largest ratio
    else:
        c = (lower + upper) / 2.0
    r = sprt_boundary(p0, p1, checked_looks, c)

    warnings = []
    if _never_stops(checked_looks, r):
        warnings.append(
            f"No SPRT line with type-I error <= {alpha} can stop at these looks; "
            "raise alpha or add subjects"
        )
    params = {
        "p0": p0,
        "p1": p1,
        "alpha": alpha,
        "c": c,
        "g": g,
        "s": s,
        "line_intercept": c / g,
        "line_slope": s / g,
        "alpha_exact": oc_row(checked_looks, r, p0).p_cross,
        "c_lower": lower,
        "alpha_at_c_lower": alpha_at(chosen - 1) if chosen > 0 else None,
        "stop_at_or_above": [value + 1 for value in r],
    }
    return Boundary(
        kind="sprt",
        looks=checked_looks,
        stop_above=r,
        oc=oc_table(checked_looks, r, rates),
        params=params,
        warnings=tuple(warnings),
    )
