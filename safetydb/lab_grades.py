"""CTCAE grades of lab results, derived once when a data cut is stored and kept with it.

Grading happens here, on the clean Polars frame, rather than in SQL: the criteria are data read
by the evaluator in ``ctcae.grading``. Storing the grades with the cut means a past cut is
re-reported with the grades it was reported with.

Baseline = the subject's last result of the same test on or before the first dose (a dose > 0
in the exposure records); the baseline value feeds the criteria graded against baseline.
"""

from __future__ import annotations

import polars as pl

from ctcae.grading import grade_frame, supported_versions

ROW = "_row"
GRADE_COLUMNS = {
    "baseline": pl.Float64,
    "is_baseline": pl.Boolean,
    "toxicity_term": pl.String,
    "toxicity_grade": pl.Int64,
    "gradable": pl.Boolean,
}


def derive_lab_grades(labs: pl.DataFrame, exposure: pl.DataFrame, *, version: str) -> pl.DataFrame:
    """Add baseline, is_baseline, toxicity_term, toxicity_grade and gradable to clean lab rows."""
    first_dose = (
        exposure.filter(pl.col("dose_mg") > 0)
        .group_by("subject_id")
        .agg(pl.col("start_date").min().alias("_first_dose"))
    )
    pre_dose = labs.select("subject_id", "test_code", "collection_date", "value", ROW).join(
        first_dose, on="subject_id", how="inner"
    ).filter(pl.col("collection_date") <= pl.col("_first_dose"))
    baseline = (
        pre_dose.sort("collection_date", ROW)
        .group_by("subject_id", "test_code")
        .agg(pl.col(ROW).last().alias("_baseline_row"), pl.col("value").last().alias("baseline"))
    )
    with_baseline = labs.join(baseline, on=["subject_id", "test_code"], how="left", maintain_order="left")
    with_baseline = with_baseline.with_columns(
        (pl.col(ROW) == pl.col("_baseline_row")).fill_null(False).alias("is_baseline")
    ).drop("_baseline_row")

    if version not in supported_versions() or labs.is_empty():
        return with_baseline.with_columns(
            pl.lit(None, dtype=pl.String).alias("toxicity_term"),
            pl.lit(None, dtype=pl.Int64).alias("toxicity_grade"),
            pl.lit(None, dtype=pl.Boolean).alias("gradable"),
        )
    graded = grade_frame(with_baseline.select("test_code", "value", "unit", "lln", "uln", "baseline"), version=version)
    return with_baseline.with_columns(
        graded["ctcae_term"].alias("toxicity_term"),
        graded["grade"].cast(pl.Int64).alias("toxicity_grade"),
        graded["gradable"].alias("gradable"),
    )
