"""Write the toxicity tables of a cut as CSV and Parquet, one file pair per table model."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safetydb.store import TABLE_MODELS, SafetyStore


def write_tables(store: SafetyStore, folder: Path) -> dict[str, pl.DataFrame]:
    """Export every table model built in ``store``; return the frames by table name."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name in TABLE_MODELS:
        frame = store.model(name)
        frame.write_parquet(folder / f"{name}.parquet")
        frame.write_csv(folder / f"{name}.csv")
        tables[name] = frame
    return tables


def read_tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(folder / f"{name}.parquet") for name in TABLE_MODELS if (folder / f"{name}.parquet").exists()}
