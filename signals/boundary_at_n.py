"""The boundary of a planned design at any number n of evaluable subjects.

A boundary is planned for looks n_1 < ... < n_K, and n_K is the planned size. A data cut can
fall anywhere: before the first look, at a look, between two looks, or past the planned size
(a trial that over-recruits, or a 500-subject synthetic trial monitored with a 60-subject
design). The rule that applies at n:

* before the first look: none (``signals.rule_status`` stops a boundary rule there only when the
  count already exceeds the first look's boundary, a crossing that is then certain);
* at a look: the planned boundary r_k;
* between two looks: the boundary of the last look passed. The design only tests at its looks;
  keeping the last tested boundary until the next look is today's behaviour, and the statement
  of the rule says so.
* past the planned size: the same rule evaluated at the actual n, never the last boundary
  reused. A count acceptable among 60 subjects says nothing about 500: reusing r_60 = 25 at
  n = 499 would stop a trial whose observed rate (127/499 = 25%) is far below p_max. Per method:

  - ``bayes``: the posterior rule itself, stop when Pr(p > p_max | x, n) > threshold;
  - ``toxbdry``: the nominal level alpha_K of the last look, applied at n: r(n) is the
    (1 - alpha_K) quantile of Binomial(n, p0), as at every planned look;
  - ``pocock``: the calibrated nominal level a* (the same at every look), applied at n;
  - ``sprt``: the likelihood-ratio line at n, stop when x*g - n*s >= c.

  Each continuation keeps the per-look test of the design; the overall error rates computed
  for the plan no longer hold (every extra look is one more test), so a rule evaluated past its
  planned size carries a warning.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass

from signals.calibrated import bayes_boundary_at, pocock_boundary, sprt_boundary
from signals.looks import whole_number
from signals.oc import Boundary
from signals.toxbdry import binomial_quantile

BEFORE_FIRST_LOOK = "before_first_look"
AT_LOOK = "at_look"
BETWEEN_LOOKS = "between_looks"
BEYOND_PLANNED_SIZE = "beyond_planned_size"


@dataclass(frozen=True)
class BoundaryAtN:
    """The boundary that applies at n evaluable subjects, and which part of the plan it comes from.

    ``stop_above`` is r(n): the rule stops when the count exceeds it; None before the first look.
    ``look`` is the planned look whose boundary applies (None before the first look and past
    the planned size); ``next_look`` the next planned look (None at or past the last one).
    ``nominal_level`` is the per-look significance level of toxbdry and Pocock boundaries.
    """

    n: int
    stop_above: int | None
    basis: str
    look: int | None
    next_look: int | None
    planned_size: int
    nominal_level: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def check_sample_size(n, *, name: str = "n") -> int:
    """A number of evaluable subjects: a whole number >= 0."""
    try:
        value = whole_number(n)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number of evaluable subjects >= 0; got {n!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be a whole number of evaluable subjects >= 0; got {n!r}")
    return value


def boundary_at_n(boundary: Boundary, n: int) -> BoundaryAtN:
    """The boundary in force at n evaluable subjects (see the module docstring for the choice)."""
    n = check_sample_size(n)
    looks = boundary.looks
    planned_size = looks[-1]
    if n > planned_size:
        return BoundaryAtN(
            n=n,
            stop_above=boundary_beyond_planned_size(boundary, n),
            basis=BEYOND_PLANNED_SIZE,
            look=None,
            next_look=None,
            planned_size=planned_size,
            nominal_level=nominal_level_of_look(boundary, len(looks) - 1),
        )
    passed = bisect_right(looks, n)  # number of looks at or below n
    if passed == 0:
        return BoundaryAtN(
            n=n,
            stop_above=None,
            basis=BEFORE_FIRST_LOOK,
            look=None,
            next_look=looks[0],
            planned_size=planned_size,
            nominal_level=None,
        )
    index = passed - 1
    return BoundaryAtN(
        n=n,
        stop_above=boundary.stop_above[index],
        basis=AT_LOOK if looks[index] == n else BETWEEN_LOOKS,
        look=looks[index],
        next_look=looks[index + 1] if index + 1 < len(looks) else None,
        planned_size=planned_size,
        nominal_level=nominal_level_of_look(boundary, index),
    )


def nominal_level_of_look(boundary: Boundary, index: int) -> float | None:
    """Per-look significance level of a toxbdry (hi) or Pocock boundary; None for other kinds."""
    if boundary.kind == "toxbdry":
        return float(boundary.params["nominal_levels_hi"][index])
    if boundary.kind == "pocock":
        return float(boundary.params["nominal_level"])
    return None


def boundary_beyond_planned_size(boundary: Boundary, n: int) -> int:
    """r(n) for n past the last planned look: the method's own rule evaluated at n."""
    if boundary.kind == "bayes":
        return bayes_boundary_beyond_planned_size(boundary, n)
    if boundary.kind == "toxbdry":
        return toxbdry_boundary_beyond_planned_size(boundary, n)
    if boundary.kind == "pocock":
        return pocock_boundary_beyond_planned_size(boundary, n)
    if boundary.kind == "sprt":
        return sprt_boundary_beyond_planned_size(boundary, n)
    raise ValueError(f"boundary.kind must be bayes, toxbdry, pocock or sprt; got {boundary.kind!r}")


def bayes_boundary_beyond_planned_size(boundary: Boundary, n: int) -> int:
    """Largest count at n whose posterior Pr(p > p_max | x, n) does not exceed the threshold."""
    params = boundary.params
    return bayes_boundary_at(params["p_max"], tuple(params["prior"]), params["threshold"], n)


def toxbdry_boundary_beyond_planned_size(boundary: Boundary, n: int) -> int:
    """(1 - alpha_K) quantile of Binomial(n, p0), alpha_K the nominal level of the last look."""
    last_level = boundary.params["nominal_levels_hi"][-1]
    return binomial_quantile(1.0 - last_level, n, boundary.params["p_lo"])


def pocock_boundary_beyond_planned_size(boundary: Boundary, n: int) -> int:
    """Smallest r with P(Bin(n, p0) > r) <= a*, the calibrated nominal level of every look."""
    return pocock_boundary(boundary.params["p0"], (n,), boundary.params["nominal_level"])[0]


def sprt_boundary_beyond_planned_size(boundary: Boundary, n: int) -> int:
    """Largest count at n whose log-likelihood ratio x*g - n*s stays below c."""
    params = boundary.params
    return sprt_boundary(params["p0"], params["p1"], (n,), params["c"])[0]


# Past the planned size the chart needs the boundary's shape, not every n: at most this many
# points are computed there (evenly spaced, the actual n always included), so a trial of many
# thousands of subjects costs milliseconds, not minutes.
MAX_POINTS_PAST_PLAN = 120


def boundary_curve_to(boundary: Boundary, n: int) -> list[dict]:
    """(n, r) at every planned look, then past the planned size up to ``n``: at every n when
    there are at most MAX_POINTS_PAST_PLAN of them, else at that many evenly spaced n ending at n.

    ``planned`` tells the two apart, so a chart can show where the design ends.
    """
    n = check_sample_size(n)
    curve = [
        {"n": look, "r": r, "planned": True} for look, r in zip(boundary.looks, boundary.stop_above)
    ]
    first_extra = boundary.looks[-1] + 1
    extra_count = n - first_extra + 1
    if extra_count <= 0:
        return curve
    if extra_count <= MAX_POINTS_PAST_PLAN:
        extras = range(first_extra, n + 1)
    else:
        step = extra_count / MAX_POINTS_PAST_PLAN
        extras = sorted({first_extra + round(step * (i + 1)) - 1 for i in range(MAX_POINTS_PAST_PLAN)} | {n})
    for extra in extras:
        curve.append({"n": extra, "r": boundary_beyond_planned_size(boundary, extra), "planned": False})
    return curve
