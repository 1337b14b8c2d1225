"""Tests of synth.labs: contract codes, units and ranges, and agreement with lab-based AEs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.synth.conftest import UNITS, read_source

pytestmark = pytest.mark.slow


def alt_grade(value: float, uln: float) -> int:
    """CTCAE v5.0 ALT increased for a normal baseline: >ULN-3, >3-5, >5-20, >20 x ULN."""
    ratio = value / uln
    for grade, upper in ((0, 1.0), (1, 3.0), (2, 5.0), (3, 20.0)):
        if ratio <= upper:
            return grade
    return 4


def platelet_grade(value: float) -> int:
    """CTCAE v5.0 platelet count decreased: <LLN-75, <75-50, <50-25, <25 x10^9/L (LLN 125)."""
    for grade, lower in ((0, 125.0), (1, 75.0), (2, 50.0), (3, 25.0)):
        if value >= lower:
            return grade
    return 4


def test_labs_have_contract_codes_units_and_ranges(clean_trial: Path) -> None:
    labs = read_source(clean_trial, "labs")
    assert set(labs["test_code"]) == set(UNITS)
    for code, unit in UNITS.items():
        assert set(labs.filter(pl.col("test_code") == code)["unit"]) == {unit}, code
    assert labs["value"].is_not_null().all() and (labs["value"] >= 0).all()
    assert labs.filter(pl.col("test_code") != "UPROT_DIP")["uln"].is_not_null().all()
    alt = labs.filter(pl.col("test_code") == "ALT")
    assert set(alt["uln"]) == {40.0}
    platelets = labs.filter(pl.col("test_code") == "PLT")
    assert set(platelets["lln"]) == {125.0} and set(platelets["uln"]) == {350.0}
    assert set(labs.filter(pl.col("test_code") == "UPROT_DIP")["value"]) <= {0, 1, 2, 3, 4}
    # 24-hour urine protein only where the dipstick read 2+ or more that day.
    dipstick = labs.filter(pl.col("test_code") == "UPROT_DIP").select("subject_id", "collection_date", pl.col("value").alias("dip"))
    urine_24h = labs.filter(pl.col("test_code") == "UPROT_24H").join(dipstick, on=["subject_id", "collection_date"], how="left")
    assert urine_24h.height > 0 and (urine_24h["dip"] >= 2).all()
    # One result per subject, date and test.
    assert labs.select(pl.struct("subject_id", "collection_date", "test_code").is_unique().all()).item()


def test_lab_values_agree_with_lab_based_adverse_events(clean_trial: Path) -> None:
    """A lab-based AE has a result on its onset day in its grade's range.

    When a worse AE of the same subject starts that day (immune hepatitis with an ALT
    increase, say), the result may be worse than the lab-based AE's grade, never better.
    """
    ae = read_source(clean_trial, "adverse_events")
    labs = read_source(clean_trial, "labs")
    worst_that_day = ae.group_by("subject_id", "onset_date").agg(pl.col("grade").max().alias("worst_grade"))
    for term, test_code, grade_of in (
        ("Alanine aminotransferase increased", "ALT", lambda row: alt_grade(row["value"], row["uln"])),
        ("Platelet count decreased", "PLT", lambda row: platelet_grade(row["value"])),
    ):
        events = ae.filter(pl.col("ctcae_term") == term).join(worst_that_day, on=["subject_id", "onset_date"])
        results = labs.filter(pl.col("test_code") == test_code)
        matched = events.join(results, left_on=["subject_id", "onset_date"], right_on=["subject_id", "collection_date"])
        assert matched.height == events.height > 0, term
        for row in matched.iter_rows(named=True):
            if row["worst_grade"] == row["grade"]:
                assert grade_of(row) == row["grade"], (term, row["ae_id"], row["value"])
            else:
                assert row["grade"] <= grade_of(row) <= row["worst_grade"], (term, row["ae_id"], row["value"])
