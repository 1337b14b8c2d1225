"""Polars columns of the source files from the generator's NumPy arrays.

The generator computes with object arrays (None for an empty cell) and epoch day numbers
(NEVER for an empty date); these turn them into the typed columns that are written.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth.days import NEVER


def text_column(name: str, values: np.ndarray) -> pl.Series:
    """A text column from an object array (None = empty cell)."""
    return pl.Series(name, values.tolist(), dtype=pl.String)


def date_column(days: np.ndarray | pl.Series, name: str) -> pl.Series:
    """Epoch day numbers as a Polars Date column; NEVER becomes an empty cell."""
    frame = pl.DataFrame({name: np.asarray(days, dtype=np.int64)})
    return frame.select(
        pl.when(pl.col(name) < NEVER).then(pl.col(name)).otherwise(None).cast(pl.Int32).cast(pl.Date)
    ).to_series()
