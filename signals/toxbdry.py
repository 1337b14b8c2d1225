"""Repeated-significance-test toxicity boundary of Ivanova, Qaqish & Schell (2005).

This re-implements the search of clinfun's ``toxbdry`` (Seshan), as described in its
documentation and in the project's research note, so that its published examples are
reproduced exactly:

* At nominal level alpha each look k tests H0: p = pLo with level
  alpha_k = Phi(Phi^-1(alpha) / t_k**delta), t_k = n_k / n_K. delta = 0 is the Pocock shape
  (the same level at every look), delta = 0.5 the O'Brien-Fleming shape (Jennison & Turnbull
  2000, ch. 12).
* r_k(alpha) is the (1 - alpha_k) quantile of Binomial(n_k, pLo), computed like R's ``qbinom``.
* alpha is searched so that the exact crossing probability at the reference rate brackets the
  target: the "hi" boundary has crossing probability below the target, the "lo" boundary at or
  above it. With priority "null" the reference is pLo and the target cP0; with "alt" it is pHi
  and cP1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import stats

from signals.looks import validate_looks, validate_probability, whole_number
from signals.oc import Boundary, oc_row, oc_table

# R's qbinom shrinks p by this factor before searching so that a cumulative probability that
# equals p up to rounding still counts as reaching it ("left continuity fuzz").
_QBINOM_FUZZ = 1.0 - 64.0 * np.finfo(float).eps

# Expansion factor for the lower end of the alpha bracket, as in the published algorithm.
_EXPAND = 1.4
# Above this bracket width the search bisects; below it, it interpolates on the crossing probability.
_BISECT_WIDTH = 0.01


def binomial_quantile(prob: float, n: int, p: float) -> int:
    """Smallest x with P(Bin(n, p) <= x) >= prob, with R's qbinom left-continuity fuzz."""
    target = prob * _QBINOM_FUZZ
    if target >= 1.0:
        return n
    if target <= 0.0:
        return 0
    cumulative = stats.binom.cdf(np.arange(n + 1), n, p)
    reached = np.flatnonzero(cumulative >= target)
    return int(reached[0]) if reached.size else n


def nominal_levels(alpha: float, looks: Sequence[int], delta: float) -> np.ndarray:
    """Per-look significance levels alpha_k for overall nominal level alpha and shape delta."""
    if delta == 0.0:
        return np.full(len(looks), alpha)
    information = np.asarray(looks, dtype=float) / looks[-1]
    return stats.norm.cdf(stats.norm.ppf(alpha) / information**delta)


def boundary_for_level(alpha: float, looks: Sequence[int], p_lo: float, delta: float) -> tuple[int, ...]:
    """r_k = (1 - alpha_k) quantile of Binomial(n_k, pLo) at every look."""
    levels = nominal_levels(alpha, looks, delta)
    return tuple(binomial_quantile(1.0 - level, n_k, p_lo) for level, n_k in zip(levels, looks))


def toxbdry(
    p_lo: float,
    p_hi: float,
    looks: Iterable[int],
    *,
    cp0: float = 0.1,
    cp1: float = 0.9,
    ngrid: int = 6,
    niter: int = 10,
    delta: float = 0.0,
    priority: str = "null",
) -> Boundary:
    """Continuous or group-sequential toxicity boundary (Ivanova, Qaqish & Schell 2005).

    Stop when the cumulative number of toxicities exceeds r_k at look k. ``stop_above`` is the
    "hi" boundary, whose crossing probability at the reference rate is below the target
    (cP0 at pLo for priority "null"); ``lo`` is the neighbouring boundary at or above it. The
    OC grid is ``ngrid`` evenly spaced rates from pLo to pHi. When the maximum sample size is
    too small for both error targets the result carries clinfun's warning.
    """
    checked = _check_arguments(p_lo, p_hi, looks, cp0, cp1, ngrid, niter, delta, priority)
    p_lo, p_hi, looks, cp0, cp1, ngrid, niter, delta, priority = checked

    if priority == "null":
        reference_rate, target = p_lo, cp0
    else:
        reference_rate, target = p_hi, cp1

    def boundary(alpha: float) -> tuple[int, ...]:
        return boundary_for_level(alpha, looks, p_lo, delta)

    def crossing(r: Sequence[int], rate: float) -> float:
        return oc_row(looks, r, rate).p_cross

    # Bracket: alpha_hi gives the conservative boundary (crossing below target), alpha_lo the
    # aggressive one. Bonferroni cP0/K starts the conservative end.
    alpha_hi = cp0 / len(looks)
    alpha_lo = cp0
    r_hi = boundary(alpha_hi)
    r_lo = boundary(alpha_lo)
    if priority == "alt":
        # The conservative end must not already exceed the power target at pHi.
        while crossing(r_hi, p_hi) > cp1:
            alpha_lo, r_lo = alpha_hi, r_hi
            alpha_hi = alpha_hi / 2.0
            r_hi = boundary(alpha_hi)
    cross_lo = crossing(r_lo, reference_rate)
    while cross_lo < target:
        if all(r == 0 for r in r_lo):
            break  # already stopping at the first event everywhere: nothing more aggressive exists
        alpha_hi, r_hi = alpha_lo, r_lo
        alpha_lo = min(_EXPAND * alpha_lo, 1.0 - 1e-12)
        r_lo = boundary(alpha_lo)
        cross_lo = crossing(r_lo, reference_rate)
    cross_hi = crossing(r_hi, reference_rate)

    iterations = 1
    while sum(h - lo for h, lo in zip(r_hi, r_lo)) > 1 and iterations <= niter:
        if alpha_lo - alpha_hi > _BISECT_WIDTH or cross_lo == cross_hi:
            alpha = (alpha_hi + alpha_lo) / 2.0
        else:
            # Near the answer the crossing probability is close to linear in alpha.
            alpha = alpha_hi + (alpha_lo - alpha_hi) * (target - cross_hi) / (cross_lo - cross_hi)
        r_new = boundary(alpha)
        cross_new = crossing(r_new, reference_rate)
        if cross_new < target:
            alpha_hi, r_hi, cross_hi = alpha, r_new, cross_new
        else:
            alpha_lo, r_lo, cross_lo = alpha, r_new, cross_new
        iterations += 1

    rates = tuple(float(rate) for rate in np.linspace(p_lo, p_hi, ngrid))
    hi_oc = oc_table(looks, r_hi, rates)
    lo_oc = oc_table(looks, r_lo, rates)

    warnings: list[str] = []
    both_above_cp0 = hi_oc[0].p_cross > cp0 and lo_oc[0].p_cross > cp0
    both_below_cp1 = hi_oc[-1].p_cross < cp1 and lo_oc[-1].p_cross < cp1
    if both_above_cp0 or both_below_cp1:
        warnings.append(f"Max sample size {looks[-1]} may be small for the specified stopping probabilities")
    for name, r in (("hi", r_hi), ("lo", r_lo)):
        drops = [k for k in range(1, len(r)) if r[k] < r[k - 1]]
        if drops:
            k = drops[0]
            warnings.append(
                f"The {name} boundary decreases at {len(drops)} look(s), first from r={r[k - 1]} at "
                f"n={looks[k - 1]} to r={r[k]} at n={looks[k]}: with delta={delta} the per-look level "
                "rises steeply, so a count acceptable at one look can stop the trial at a later one; "
                "consider a smaller delta"
            )
    if all(r >= n for r, n in zip(r_hi, looks)):
        warnings.append("The hi boundary can never stop the trial at these looks")

    params = {
        "p_lo": p_lo,
        "p_hi": p_hi,
        "cp0": cp0,
        "cp1": cp1,
        "ngrid": ngrid,
        "niter": niter,
        "delta": delta,
        "priority": priority,
        "alpha_star_hi": alpha_hi,
        "alpha_star_lo": alpha_lo,
        "nominal_levels_hi": nominal_levels(alpha_hi, looks, delta).tolist(),
        "nominal_levels_lo": nominal_levels(alpha_lo, looks, delta).tolist(),
        "iterations": iterations - 1,
    }
    return Boundary(
        kind="toxbdry",
        looks=looks,
        stop_above=tuple(r_hi),
        oc=hi_oc,
        params=params,
        warnings=tuple(warnings),
        lo=tuple(r_lo),
        lo_oc=lo_oc,
    )


def _check_arguments(p_lo, p_hi, looks, cp0, cp1, ngrid, niter, delta, priority):
    rates_rule = "p_lo must be in (0, 1) and below p_hi, and p_hi in (0, 1)"
    try:
        lo_value, hi_value = float(p_lo), float(p_hi)
    except (TypeError, ValueError):
        raise ValueError(f"{rates_rule}; got p_lo={p_lo!r}, p_hi={p_hi!r}") from None
    if not 0.0 < lo_value < 1.0 or not lo_value < hi_value:
        raise ValueError(f"p_lo must be in (0, 1) and below p_hi; got p_lo={p_lo!r}, p_hi={p_hi!r}")
    if not hi_value < 1.0:
        raise ValueError(f"p_hi must be in (0, 1) and above p_lo; got p_hi={p_hi!r}")
    checked_looks = validate_looks(looks, min_looks=2)
    cp0_value = validate_probability(cp0, "cp0", detail=" (type-I error: crossing probability at p_lo)")
    cp1_value = validate_probability(
        cp1, "cp1", detail=" and above cp0 (power: crossing probability at p_hi)"
    )
    if not cp0_value < cp1_value:
        raise ValueError(f"cp1 must be above cp0; got cp0={cp0!r}, cp1={cp1!r}")
    try:
        ngrid_value = whole_number(ngrid)
    except (TypeError, ValueError):
        ngrid_value = 0
    if ngrid_value < 2:
        raise ValueError(f"ngrid must be an integer >= 2 (rates from p_lo to p_hi); got {ngrid!r}")
    try:
        niter_value = whole_number(niter)
    except (TypeError, ValueError):
        niter_value = 0
    if niter_value < 1:
        raise ValueError(f"niter must be a positive integer; got {niter!r}")
    try:
        delta_value = float(delta)
    except (TypeError, ValueError):
        delta_value = -1.0
    if not 0.0 <= delta_value <= 0.5:
        raise ValueError(f"delta must be in [0, 0.5] (0 = Pocock, 0.5 = O'Brien-Fleming); got {delta!r}")
    if priority not in ("null", "alt"):
        raise ValueError(f'priority must be "null" or "alt"; got {priority!r}')
    return (
        lo_value,
        hi_value,
        checked_looks,
        cp0_value,
        cp1_value,
        ngrid_value,
        niter_value,
        delta_value,
        priority,
    )
