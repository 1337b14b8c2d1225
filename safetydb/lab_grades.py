"""CTCAE grades of lab results and blood pressure, derived once when a data cut is stored and kept with it.

Grading happens here, on the clean Polars frames, rather than in SQL: the criteria are data read
by the one evaluator in ``ctcae.grade_value``. Storing the grades with the cut means a past cut is
re-reported with the grades it was reported with.

Labs. Baseline = the subject's last result (with a value) of the same test on or before the first
dose (a dose > 0 in the exposure records). The baseline value feeds the criteria graded against baseline,
for results collected after the first dose. A result collected on or before the first dose (the
baseline itself included), or from a subject never dosed, is graded against the normal range:
CTCAE's "baseline normal / abnormal" branches describe a change from baseline and do not apply
to it (``ctcae.baseline``).

Vital signs. Systolic and diastolic pressure of one reading give the CTCAE Hypertension grade
(``ctcae.grade_value.grade_blood_pressure``: the worse of the two; grades 4-5 are clinical).
"""

from __future__ import annotations

import polars as pl

from ctcae.baseline import baseline_as_normal
from ctcae.criteria import lab_test_catalogue, normalise_unit, supported_versions
from ctcae.grade_frame import grade_frame
from ctcae.grade_value import grade_blood_pressure

ROW = "_row"
VITAL_GRADE_COLUMNS = {
    "toxicity_term": pl.String,
    "toxicity_grade": pl.Int64,
    "gradable": pl.Boolean,
}


def first_dose_dates(exposure: pl.DataFrame) -> pl.DataFrame:
    """Each dosed subject's first dose date: subject_id, _first_dose. A dose counts as in
    ``stg_exposure`` (administered): a record whose dose is missing is the planned dose given, and
    a placebo (planned dose 0) not held or discontinued is a dose given."""
    dose = pl.coalesce("dose_mg", "planned_dose_mg")
    adjustment = pl.col("adjustment") if "adjustment" in exposure.columns else pl.lit(None, dtype=pl.String)
    placebo = (pl.col("planned_dose_mg").fill_null(0) == 0) & ~adjustment.is_in(["held", "discontinued"]).fill_null(False)
    return (
        exposure.filter((dose > 0) | placebo.fill_null(False))
        .group_by("subject_id")
        .agg(pl.col("start_date").min().alias("_first_dose"))
    )


BASELINE_COLUMNS = ("subject_id", "test_code", "collection_date", ROW, "value", "unit")


def derive_lab_grades(labs: pl.DataFrame, first_dose: pl.DataFrame | None, *, version: str) -> pl.DataFrame:
    """Add baseline, is_baseline, toxicity_term, toxicity_grade and gradable to clean lab rows;
    ``first_dose`` is ``first_dose_dates`` of the exposure records (None: no subject dosed)."""
    return grade_labs(labs, first_dose, lab_baselines(labs, first_dose), version=version)


def lab_baselines(labs: pl.DataFrame, first_dose: pl.DataFrame | None) -> pl.DataFrame:
    """Each subject's baseline per test (BASELINE_COLUMNS): the last result with a value on or
    before the first dose. The baselines of a file's pieces, put together and passed through
    here again, are the baselines of the whole file."""
    first_dose = _first_dose_or_none(first_dose)
    return (
        labs.select(BASELINE_COLUMNS)
        .join(first_dose, on="subject_id", how="inner")
        .filter((pl.col("collection_date") <= pl.col("_first_dose")) & pl.col("value").is_not_null())
        .sort("collection_date", ROW)
        .group_by("subject_id", "test_code")
        .agg(pl.all().exclude("_first_dose").last())
        .select(BASELINE_COLUMNS)
    )


def grade_labs(labs: pl.DataFrame, first_dose: pl.DataFrame | None, baselines: pl.DataFrame, *, version: str) -> pl.DataFrame:
    """``derive_lab_grades`` with the baselines given (``lab_baselines`` of the whole file), so
    that a file can be graded a piece at a time."""
    with_first_dose = labs.join(_first_dose_or_none(first_dose), on="subject_id", how="left", maintain_order="left")
    pre_treatment = pl.col("_first_dose").is_null() | (pl.col("collection_date") <= pl.col("_first_dose"))
    baseline = baselines.select(
        "subject_id", "test_code",
        pl.col(ROW).alias("_baseline_row"), pl.col("value").alias("baseline"), pl.col("unit").alias("_baseline_unit"),
    )
    with_baseline = with_first_dose.join(baseline, on=["subject_id", "test_code"], how="left", maintain_order="left")
    with_baseline = with_baseline.with_columns(
        (pl.col(ROW) == pl.col("_baseline_row")).fill_null(False).alias("is_baseline"),
        pre_treatment.alias("_pre_treatment"),
        baseline_in_result_unit(with_baseline).alias("baseline"),
    ).drop("_baseline_row", "_first_dose", "_baseline_unit")

    if version not in supported_versions() or labs.is_empty():
        return with_baseline.drop("_pre_treatment").with_columns(
            pl.lit(None, dtype=pl.String).alias("toxicity_term"),
            pl.lit(None, dtype=pl.Int64).alias("toxicity_grade"),
            pl.lit(None, dtype=pl.Boolean).alias("gradable"),
        )
    # The baseline each result is graded against: its subject's baseline after the first dose,
    # the normal range on or before it.
    graded_against = (
        pl.when(pl.col("_pre_treatment"))
        .then(baseline_as_normal(version=version))
        .otherwise(pl.col("baseline"))
        .alias("baseline")
    )
    graded = grade_frame(
        with_baseline.select("test_code", "value", "unit", "lln", "uln", graded_against), version=version
    )
    return with_baseline.drop("_pre_treatment").with_columns(
        graded["ctcae_term"].alias("toxicity_term"),
        graded["grade"].cast(pl.Int64).alias("toxicity_grade"),
        graded["gradable"].alias("gradable"),
    )


def _first_dose_or_none(first_dose: pl.DataFrame | None) -> pl.DataFrame:
    if first_dose is None:
        return pl.DataFrame(schema={"subject_id": pl.String, "_first_dose": pl.Date})
    return first_dose


def baseline_in_result_unit(labs: pl.DataFrame) -> pl.Series:
    """Each row's baseline (``baseline``, recorded in ``_baseline_unit``) in the row's own unit,
    which the grader reads it in: converted through the catalogue's factors to the criterion unit
    (``ctcae.criteria.lab_test_catalogue``); missing when either unit is not one the test accepts
    (the row is then not gradable against baseline, never graded on a misread number)."""
    catalogue = lab_test_catalogue()
    factors = pl.DataFrame(
        [(code, unit, factor) for code, test in catalogue.items() for unit, factor in test.unit_factors.items()],
        schema={"test_code": pl.String, "_unit": pl.String, "_factor": pl.Float64},
        orient="row",
    )
    units = pl.concat([labs["unit"], labs["_baseline_unit"]]).drop_nulls().unique()
    spelling = pl.DataFrame({"_given": units, "_unit": [normalise_unit(unit) for unit in units]}, schema={"_given": pl.String, "_unit": pl.String})

    def factor_of(unit_column: str, name: str) -> pl.DataFrame:
        return (
            labs.select("test_code", pl.col(unit_column).alias("_given"))
            .join(spelling, on="_given", how="left", maintain_order="left")
            .join(factors, on=["test_code", "_unit"], how="left", maintain_order="left")
            .select(pl.col("_unit").alias(f"{name}_unit"), pl.col("_factor").alias(name))
        )

    frame = pl.concat([labs.select("baseline"), factor_of("unit", "_row"), factor_of("_baseline_unit", "_base")], how="horizontal")
    return frame.select(
        pl.when(pl.col("_row_unit").eq_missing(pl.col("_base_unit")))
        .then(pl.col("baseline"))
        .otherwise(pl.col("baseline") * pl.col("_base") / pl.col("_row"))
        .alias("baseline")
    ).to_series()


def derive_vital_grades(vitals: pl.DataFrame, *, version: str) -> pl.DataFrame:
    """Add toxicity_term, toxicity_grade and gradable (CTCAE Hypertension) to clean vital-sign rows.

    Each distinct (systolic, diastolic) pair is graded once by the evaluator and joined back.
    Grade columns already present are replaced.
    """
    vitals = vitals.drop(list(VITAL_GRADE_COLUMNS), strict=False)
    if version not in supported_versions() or vitals.is_empty():
        return vitals.with_columns(pl.lit(None, dtype=dtype).alias(name) for name, dtype in VITAL_GRADE_COLUMNS.items())
    readings = vitals.select("sbp_mmhg", "dbp_mmhg").unique()
    graded_rows = []
    for sbp, dbp in readings.iter_rows():
        result = grade_blood_pressure(sbp, dbp, version=version)
        graded_rows.append((sbp, dbp, result.ctcae_term, result.grade, result.gradable))
    grades = pl.DataFrame(
        graded_rows,
        schema={"sbp_mmhg": readings.schema["sbp_mmhg"], "dbp_mmhg": readings.schema["dbp_mmhg"]} | VITAL_GRADE_COLUMNS,
        orient="row",
    )
    return vitals.join(grades, on=["sbp_mmhg", "dbp_mmhg"], how="left", nulls_equal=True, maintain_order="left")
