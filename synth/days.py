"""Day arithmetic of the generator: whole days as integers, so millions of dates vectorise.

Absolute days are epoch day numbers (days since 1970-01-01); relative days count from the
subject's first dose (day 0). NEVER stands for "does not happen within the data": it
compares later than any real day, and becomes an empty cell when written.
"""

from __future__ import annotations

from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)

# Sentinel for "this never happens within the data" in day arithmetic.
NEVER = 10**8


def day_number(value: date) -> int:
    return (value - EPOCH).days


def absolute_days(first_dose_day: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Relative days to epoch day numbers, keeping NEVER as NEVER."""
    return np.where(relative < NEVER, first_dose_day + relative, NEVER)
