"""Seeded random streams and the draws the generator makes from them.

Each stage draws from its own stream, keyed by the seed, the stage and a block number, so
changing one stage leaves the others' draws alone and the same seed gives the same files.
"""

from __future__ import annotations

import numpy as np

# A stage's position here is part of its stream's key: append new stages, never reorder.
STAGES = ("subjects", "course", "events", "attribution", "actions", "details", "exposure",
          "labs", "vitals", "errors", "tumour", "treatment")


def stage_rng(seed: int, stage: str, block: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, STAGES.index(stage), block])


def cumulative_rows(probabilities: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities, exactly 1.0 from the last positive category on.

    Pinning the tail to 1.0 means a category with zero probability (a grade the term does
    not allow, say) can never be drawn, whatever the floating-point rounding.
    """
    matrix = np.atleast_2d(probabilities).astype(np.float64)
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(matrix, axis=1)
    last_positive = matrix.shape[1] - 1 - np.argmax((matrix > 0)[:, ::-1], axis=1)
    columns = np.arange(matrix.shape[1])
    cumulative[columns[None, :] >= last_positive[:, None]] = 1.0
    return cumulative


def draw_categories(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category index per row of `cumulative` (rows of cumulative probabilities)."""
    uniform = rng.random(cumulative.shape[0])
    return (uniform[:, None] >= cumulative).sum(axis=1)


def lognormal(rng: np.random.Generator, median: np.ndarray | float, log_sd: np.ndarray | float,
              size: int) -> np.ndarray:
    return np.exp(np.log(median) + log_sd * rng.standard_normal(size))


def draw_days(rng: np.random.Generator, median: float, log_sd: float, size: int, *,
              rounding=np.round) -> np.ndarray:
    """Whole numbers of days (at least 1) from a lognormal with the given median."""
    return np.maximum(1, rounding(lognormal(rng, median, log_sd, size))).astype(np.int64)


def uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + rng.random(len(low)) * (high - low)
