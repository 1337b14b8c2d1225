"""Write the toxicity tables of a cut as CSV and Parquet, one file pair per table model."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safetydb.incidence import cumulative_incidence
from safetydb.store import TABLE_MODELS, SafetyStore

# Tables computed in Python from a model (estimators SQL does not offer), exported beside the SQL ones.
COMPUTED_TABLES = ("t_cumulative_incidence", "cumulative_incidence_curves")


def write_tables(store: SafetyStore, folder: Path) -> dict[str, pl.DataFrame]:
    """Export every table built in ``store``: the SQL table models and the computed tables."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {name: store.model(name) for name in TABLE_MODELS}
    tables["t_cumulative_incidence"], tables["cumulative_incidence_curves"] = cumulative_incidence(store)
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
        frame.write_csv(folder / f"{name}.csv")
    return tables


def read_tables(folder: Path) -> dict[str, pl.DataFrame]:
    names = TABLE_MODELS + COMPUTED_TABLES
    return {name: pl.read_parquet(folder / f"{name}.parquet") for name in names if (folder / f"{name}.parquet").exists()}
