"""SDTM findings read as toxwatch's sources: VS -> vitals, RS -> tumour assessments.

* vitals (VS): the contract has one row per measurement, a column per vital sign; VS has one
  record per test. The tests of ``data/cdisc/vital_sign_tests.csv`` (systolic and diastolic blood
  pressure, pulse, weight) are laid side by side per subject and measurement: the same ``VSDTC``
  (date and time, as given), ``VSGRPID``, ``VSTPTNUM`` and ``VSPOS``; where a test comes twice in
  one measurement, its n-th record goes with the n-th of the others, so every record lands in one
  row and no value is dropped. A row's ``_row`` is the row of its first record. Records of other
  tests (height, temperature, ...) are not vital signs the contract reads.
* tumour assessments (RS): one row per RECIST overall response record (``RSTESTCD`` OVRLRESP),
  row for row; ``new_lesions`` is the result of the subject's new-lesion progression record
  (``RSTESTCD`` NEWLPROG) of the same date, visit and ``RSGRPID`` (the first, if several). The
  other RS records (target and non-target response) are what the overall response sums up, and
  are not read.

Which variable feeds which column is documented in docs/sources.md ("SDTM domains").
"""

from __future__ import annotations

import polars as pl

from readers.cdisc import column_or_null, date_part, first_present, folded, map_shipped, whole_number_text
from trial.config import TrialConfig
from validators.read import ROW

VITAL_SIGN_TESTS = "vital_sign_tests.csv"  # data/cdisc/: VSTESTCD -> the vitals column it fills
VITALS_COLUMNS = ("sbp_mmhg", "dbp_mmhg", "heart_rate_bpm", "weight_kg")
# The variables that tell one measurement from another, besides the subject.
MEASUREMENT_VARIABLES = ("VSDTC", "VSGRPID", "VSTPTNUM", "VSPOS")
OVERALL_RESPONSE = "OVRLRESP"  # RSTESTCD of the RECIST 1.1 time-point (overall) response
NEW_LESION_PROGRESSION = "NEWLPROG"  # RSTESTCD of "new lesion progression" (Y/N)
# What ties a new-lesion result to its overall response: subject, date, visit and RSGRPID.
ASSESSMENT_KEYS = ["USUBJID", "_date", "_visit", "_group"]


def vitals(config: TrialConfig, vs: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One row per measurement of a subject (module docstring), in the order of its first record."""
    keys = ["USUBJID", *[f"_key_{variable}" for variable in MEASUREMENT_VARIABLES]]
    records = vs.select(
        ROW,
        pl.col("USUBJID"),
        *[column_or_null(vs, variable).alias(f"_key_{variable}") for variable in MEASUREMENT_VARIABLES],
        map_shipped(pl.col("VSTESTCD"), VITAL_SIGN_TESTS, otherwise=pl.lit(None, dtype=pl.String)).alias("_column"),
        whole_number_text(first_present(vs, "VSSTRESN", "VSSTRESC")).alias("_value"),
    ).filter(pl.col("_column").is_not_null())
    # The n-th record of a test in a measurement goes with the n-th record of each other test.
    records = records.with_columns(pl.int_range(pl.len()).over([*keys, "_column"]).alias("_occurrence"))
    frame = (
        records.group_by([*keys, "_occurrence"])
        .agg(
            pl.col(ROW).min(),
            *[pl.col("_value").filter(pl.col("_column") == column).first().alias(column) for column in VITALS_COLUMNS],
        )
        .sort(ROW)
        .select(
            ROW,
            pl.col("USUBJID").alias("subject_id"),
            date_part(pl.col("_key_VSDTC")).alias("measure_date"),
            *VITALS_COLUMNS,
        )
    )
    return frame, {"USUBJID", "VSTESTCD", "VSSTRESN", "VSSTRESC", *MEASUREMENT_VARIABLES}


def tumour_assessments(config: TrialConfig, rs: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """One row per overall response record of RS, with the new-lesion result of its date and visit."""
    dated = rs.with_columns(
        folded(pl.col("RSTESTCD")).alias("_test"),
        date_part(column_or_null(rs, "RSDTC")).alias("_date"),
        column_or_null(rs, "VISIT").alias("_visit"),
        column_or_null(rs, "RSGRPID").alias("_group"),
        first_present(rs, "RSSTRESC", "RSORRES").alias("_result"),
    )
    new_lesions = (
        dated.filter(pl.col("_test") == NEW_LESION_PROGRESSION)
        .sort(ROW)
        .unique(ASSESSMENT_KEYS, keep="first", maintain_order=True)
        .select(*ASSESSMENT_KEYS, pl.col("_result").alias("new_lesions"))
    )
    frame = (
        dated.filter(pl.col("_test") == OVERALL_RESPONSE)
        .join(new_lesions, on=ASSESSMENT_KEYS, how="left", nulls_equal=True, maintain_order="left")
        .select(
            ROW,
            pl.col("USUBJID").alias("subject_id"),
            pl.col("_visit").alias("visit"),
            pl.col("_date").alias("assessment_date"),
            pl.col("_result").alias("overall_response"),
            "new_lesions",
        )
    )
    return frame, {"USUBJID", "RSTESTCD", "RSDTC", "VISIT", "RSGRPID", "RSSTRESC", "RSORRES"}
