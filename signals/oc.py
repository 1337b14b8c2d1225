"""Exact operating characteristics of a count-based toxicity stopping boundary.

A boundary is a list of looks n_1 < ... < n_K (cumulative evaluable subjects) and, per look,
r_k = the largest acceptable cumulative count of events. The trial stops at the first look
where the count x_k exceeds r_k; r_k >= n_k means the rule cannot stop at that look.

The probabilities are computed exactly by the forward recursion of Jennison & Turnbull (2000),
ch. 12 (the recursion behind clinfun's ``bdrycross.prob``, used by Ivanova, Qaqish & Schell
2005): carry the sub-distribution of the count over the paths that have not stopped yet,
convolve it with the binomial distribution of the new subjects, and remove the mass above the
boundary. Unlike a loop over count increments, this is valid for any user-given boundary,
including one that decreases or jumps by more than the number of new subjects.

This module also holds the result types shared by every boundary method.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

from signals.looks import validate_looks, whole_number


@dataclass(frozen=True)
class OCRow:
    """Operating characteristics of one boundary at one true event rate ``p``.

    ``p_cross``: probability of crossing at any look, the last one included ("declared too toxic").
    ``p_early_stop``: probability of crossing before the last look (the trial stops early).
    ``expected_n``: expected number of evaluable subjects when the trial stops or ends.
    """

    p: float
    p_cross: float
    p_early_stop: float
    expected_n: float

    def to_dict(self) -> dict[str, float]:
        return {
            "p": self.p,
            "p_cross": self.p_cross,
            "p_early_stop": self.p_early_stop,
            "expected_n": self.expected_n,
        }


@dataclass(frozen=True)
class Boundary:
    """A stopping boundary with its operating characteristics.

    ``stop_above[k]`` is r_k, the largest acceptable cumulative event count at ``looks[k]``;
    the rule stops when the count is greater than r_k. For ``kind == "toxbdry"`` this is the
    clinfun "hi" boundary (crossing probability below cP0 at pLo) and ``lo``/``lo_oc`` hold the
    companion "lo" boundary (crossing probability at or just above cP0).
    """

    kind: str
    looks: tuple[int, ...]
    stop_above: tuple[int, ...]
    oc: tuple[OCRow, ...]
    params: dict
    warnings: tuple[str, ...] = ()
    lo: tuple[int, ...] | None = None
    lo_oc: tuple[OCRow, ...] | None = None

    def boundary_at(self, n: int) -> int | None:
        """r at the largest look <= n, or None when n is below the first look.

        Between looks the rule of the last completed look applies; past the last look the last
        boundary applies. Rule evaluation uses :func:`signals.boundary_at_n.boundary_at_n`
        instead, which past the last look applies the method's own rule at n.
        """
        current: int | None = None
        for look, r in zip(self.looks, self.stop_above):
            if look > n:
                break
            current = r
        return current

    def to_dict(self) -> dict:
        """JSON-ready form: plain lists, floats and strings only."""
        result: dict = {
            "kind": self.kind,
            "looks": list(self.looks),
            "stop_above": list(self.stop_above),
        }
        if self.lo is not None:
            result["lo"] = list(self.lo)
            result["hi"] = list(self.stop_above)
        result["oc"] = [row.to_dict() for row in self.oc]
        if self.lo_oc is not None:
            result["lo_oc"] = [row.to_dict() for row in self.lo_oc]
        result["params"] = _json_ready(self.params)
        result["warnings"] = list(self.warnings)
        return result


def _json_ready(value):
    """Convert tuples, numpy scalars and arrays into plain JSON types, recursively."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_json_ready(item) for item in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@lru_cache(maxsize=4096)
def _new_subjects_pmf(new_subjects: int, p: float) -> np.ndarray:
    """Binomial(new_subjects, p) probabilities of 0..new_subjects events among the new subjects."""
    pmf = stats.binom.pmf(np.arange(new_subjects + 1), new_subjects, p)
    pmf.setflags(write=False)
    return pmf


def crossing_by_look(looks: Sequence[int], stop_above: Sequence[int], p: float) -> np.ndarray:
    """Probability of crossing the boundary first at each look (exact forward recursion).

    Inputs are assumed valid; :func:`crossing_probability` is the checked public entry point.
    """
    not_stopped = np.ones(1)  # sub-distribution of the count over paths still running
    previous_n = 0
    first_cross = np.zeros(len(looks))
    for index, (n_k, r_k) in enumerate(zip(looks, stop_above)):
        if not_stopped.size == 0:
            break  # every path has already stopped
        not_stopped = np.convolve(not_stopped, _new_subjects_pmf(n_k - previous_n, float(p)))
        # Counts 0..r_k continue; a negative r_k stops every path, r_k >= n_k stops none.
        continuing = max(min(r_k, n_k) + 1, 0)
        # Summing the removed tail directly keeps small crossing probabilities accurate.
        first_cross[index] = not_stopped[continuing:].sum()
        not_stopped = not_stopped[:continuing]
        previous_n = n_k
    return first_cross


def oc_row(looks: Sequence[int], stop_above: Sequence[int], p: float) -> OCRow:
    """Operating characteristics for already validated inputs."""
    first_cross = crossing_by_look(looks, stop_above, p)
    p_cross = min(float(first_cross.sum()), 1.0)
    p_early_stop = min(float(first_cross[:-1].sum()), 1.0)
    expected_n = float(np.dot(first_cross, looks) + looks[-1] * (1.0 - p_cross))
    return OCRow(p=float(p), p_cross=p_cross, p_early_stop=p_early_stop, expected_n=expected_n)


def oc_table(looks: Sequence[int], stop_above: Sequence[int], rates: Iterable[float]) -> tuple[OCRow, ...]:
    """Operating characteristics over a grid of true event rates (validated inputs)."""
    return tuple(oc_row(looks, stop_above, p) for p in rates)


def crossing_probability(looks: Iterable[int], stop_above: Iterable[int], p: float) -> OCRow:
    """Exact crossing probability, early-stop probability and expected N of a boundary at rate p.

    Works for any integer boundary, including ones that decrease or jump (see module docstring).
    """
    checked_looks = validate_looks(looks)
    try:
        checked_r = tuple(whole_number(value) for value in stop_above)
    except (TypeError, ValueError):
        raise ValueError(
            f"stop_above must be whole numbers, one per look; got {stop_above!r}"
        ) from None
    if len(checked_r) != len(checked_looks):
        raise ValueError(
            f"stop_above must have one value per look ({len(checked_looks)} looks); "
            f"got {len(checked_r)} values"
        )
    try:
        rate = float(p)
    except (TypeError, ValueError):
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"p must be an event rate in [0, 1]; got {p!r}")
    return oc_row(checked_looks, checked_r, rate)


def default_oc_grid(reference_rates: Iterable[float]) -> tuple[float, ...]:
    """Rates at which to report OC when the caller gives none.

    Half the lowest reference rate (a clearly acceptable rate), 7 evenly spaced rates from the
    lowest to the highest reference rate (or up to a clearly unacceptable rate when only one is
    given), and every reference rate exactly as given.
    """
    references = sorted(set(float(rate) for rate in reference_rates))
    low = references[0]
    high = references[-1]
    if high - low < 1e-9:
        high = min(low + max(0.15, low), low + (1.0 - low) / 2.0)
    candidates = [low / 2.0, *np.linspace(low, high, 7).tolist()]
    grid = set(references)
    for rate in candidates:
        # A spaced rate equal to a reference up to rounding noise would duplicate it.
        if all(abs(rate - reference) > 1e-9 for reference in references):
            grid.add(round(rate, 10))
    return tuple(sorted(grid))
