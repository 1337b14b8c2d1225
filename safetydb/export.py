"""Write the toxicity tables of a cut as CSV and Parquet, one file pair per table model."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from safetydb.efficacy import efficacy_tables
from safetydb.exposure_rates import exposure_adjusted_rates
from safetydb.incidence import cumulative_incidence
from safetydb.store import TABLE_MODELS, SafetyStore
from safetydb.time_to_modification import time_to_modification
from trial.config import TrialConfig

# A cell starting with one of these is read as a formula by spreadsheets (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Spreadsheets show such a cell as the text after the apostrophe and run nothing. Only text
    columns change; numbers stay numbers. Parquet files keep the raw values.
    """
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    starts_with_trigger = lambda column: pl.any_horizontal(  # noqa: E731
        [pl.col(column).str.starts_with(trigger) for trigger in FORMULA_TRIGGERS]
    ).fill_null(False)
    return frame.with_columns(
        [pl.when(starts_with_trigger(c)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text_columns]
    )


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Every CSV toxwatch writes goes through here, formula triggers neutralised."""
    neutralise_formulas(frame).write_csv(path)


# Tables computed in Python from a model (estimators SQL does not offer), exported beside the SQL ones.
COMPUTED_TABLES = (
    "t_cumulative_incidence", "cumulative_incidence_curves", "t_time_to_modification", "t_eair",
    "t_best_response", "efficacy_subjects", "t_survival", "km_curves",
)


def table_frames(store: SafetyStore, *, config: TrialConfig | None = None) -> dict[str, pl.DataFrame]:
    """Every table built in ``store``: the SQL table models and the computed tables (``config``
    sets how efficacy is derived, ``[efficacy]``; without it, the defaults)."""
    tables = {name: store.model(name) for name in TABLE_MODELS}
    tables["t_cumulative_incidence"], tables["cumulative_incidence_curves"] = cumulative_incidence(store)
    tables["t_time_to_modification"] = time_to_modification(store)
    tables["t_eair"] = exposure_adjusted_rates(store)
    tables |= efficacy_tables(store, config.model.efficacy if config is not None else None)
    return tables


def write_tables(store: SafetyStore, folder: Path, *, config: TrialConfig | None = None) -> dict[str, pl.DataFrame]:
    """Export every table built in ``store`` (``table_frames``) as CSV and Parquet."""
    tables = table_frames(store, config=config)
    write_frames(tables, folder)
    return tables


def write_frames(tables: dict[str, pl.DataFrame], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_parquet(folder / f"{name}.parquet")
        write_csv(frame, folder / f"{name}.csv")


# The tables of a trial with two or more arms, arm by arm: tables/by_arm/<table>, each row led by
# its arm (ARM_ID, ARM_LABEL) and the arms pooled last under TOTAL_ARM.
BY_ARM_FOLDER = "by_arm"
ARM_ID, ARM_LABEL = "arm_id", "arm"
TOTAL_ARM = ("total", "All arms")


def tables_by_arm(per_arm: list[tuple[str, str, dict[str, pl.DataFrame]]]) -> dict[str, pl.DataFrame]:
    """One frame per table from each arm's tables ((arm id, label, tables), in report order)."""
    names = [name for name in per_arm[0][2]] if per_arm else []
    return {
        name: pl.concat(
            [
                tables[name].select(pl.lit(arm_id).alias(ARM_ID), pl.lit(label).alias(ARM_LABEL), pl.all())
                for arm_id, label, tables in per_arm
            ],
            how="diagonal_relaxed",
        )
        for name in names
    }


# Tables that compare the arms with one another, computed from the tables by arm once every arm's
# are built; written to tables/by_arm/ only.
ARM_COMPARISON_TABLES = ("t_ae_risk_difference",)


def arm_comparison_tables(by_arm: dict[str, pl.DataFrame], config: TrialConfig) -> dict[str, pl.DataFrame]:
    """``ARM_COMPARISON_TABLES`` from the tables by arm (``tables_by_arm``'s output)."""
    from safetydb.risk_difference import ae_risk_differences

    reference = config.reference_arm
    return {
        "t_ae_risk_difference": ae_risk_differences(
            by_arm["t_soc_term"], by_arm["t_overview"], [(arm.id, arm.shown) for arm in config.arms],
            reference=reference.id if reference is not None else None, total=TOTAL_ARM[0],
        ),
    }


def read_tables(folder: Path) -> dict[str, pl.DataFrame]:
    names = TABLE_MODELS + COMPUTED_TABLES
    return {name: pl.read_parquet(folder / f"{name}.parquet") for name in names if (folder / f"{name}.parquet").exists()}
