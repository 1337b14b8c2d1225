"""Input checks shared by the boundary methods, and the text form of a look schedule.

Every check raises ValueError naming the argument and saying what a valid value looks like,
so a protocol statistician can fix a CLI call or a trial configuration without reading code.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable

import numpy as np

LOOKS_RULE = "looks must be strictly increasing positive integers, e.g. (20, 40, 60, 75) or range(2, 31)"


def whole_number(value) -> int:
    """An int from an int-like value; floats only when they are whole. Booleans are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("a boolean is not a count")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(value)
    return operator.index(value)


def validate_looks(looks: Iterable[int], *, min_looks: int = 1) -> tuple[int, ...]:
    """Cumulative evaluable sample sizes at the looks, as a tuple of ints."""
    if isinstance(looks, (str, bytes)):
        raise ValueError(f"{LOOKS_RULE}; got the text {looks!r} (use parse_looks for text)")
    try:
        values = tuple(whole_number(value) for value in looks)
    except (TypeError, ValueError):
        raise ValueError(f"{LOOKS_RULE}; got {looks!r}") from None
    if not values or any(value <= 0 for value in values):
        raise ValueError(f"{LOOKS_RULE}; got {values!r}")
    if any(later <= earlier for earlier, later in zip(values, values[1:])):
        raise ValueError(f"{LOOKS_RULE}; got {values!r}")
    if len(values) < min_looks:
        raise ValueError(
            f"looks must contain at least {min_looks} looks for sequential monitoring; got {values!r}"
        )
    return values


def validate_probability(value, name: str, *, detail: str = "") -> float:
    """A probability strictly between 0 and 1 (an event rate, an error rate, a threshold)."""
    rule = f"{name} must be a number in (0, 1){detail}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{rule}; got {value!r}") from None
    if isinstance(value, (bool, np.bool_)) or not (0.0 < number < 1.0):
        raise ValueError(f"{rule}; got {value!r}")
    return number


def validate_rates(rates: Iterable[float], *, name: str = "oc_rates") -> tuple[float, ...]:
    """True event rates for operating characteristics: numbers in [0, 1], at least one."""
    rule = f"{name} must be event rates in [0, 1]"
    if isinstance(rates, (str, bytes)):
        raise ValueError(f"{rule}; got the text {rates!r}")
    try:
        values = tuple(float(rate) for rate in rates)
    except (TypeError, ValueError):
        raise ValueError(f"{rule}; got {rates!r}") from None
    if not values or any(not (0.0 <= rate <= 1.0) for rate in values):
        raise ValueError(f"{rule}; got {rates!r}")
    return values


_LOOK_PIECE = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


def parse_looks(text: str) -> tuple[int, ...]:
    """Parse a look schedule such as "20,40,60,75", "1-40", "2-30" or "5,10,15-20".

    A range "a-b" means every subject from a to b (continuous monitoring). The pieces must
    give strictly increasing positive integers.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f'looks text must be like "20,40,60,75" or "2-30"; got {text!r}')
    values: list[int] = []
    for piece in text.split(","):
        match = _LOOK_PIECE.match(piece.strip())
        if match is None:
            raise ValueError(
                f'looks text must be comma-separated integers or ranges like "15-20"; '
                f"could not read {piece.strip()!r} in {text!r}"
            )
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) is not None else start
        if end < start:
            raise ValueError(f"looks range {piece.strip()!r} must go upwards (write {end}-{start})")
        values.extend(range(start, end + 1))
    return validate_looks(values)
