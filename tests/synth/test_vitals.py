"""Tests of synth.vitals: blood pressure agrees with hypertension AEs, weight with weight loss."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.synth.conftest import read_source

pytestmark = pytest.mark.slow


def hypertension_grade(sbp: int, dbp: int) -> int:
    """CTCAE v5.0 hypertension by blood pressure alone (adult): 120-139/80-89, 140-159/90-99, >=160/100."""
    if sbp >= 160 or dbp >= 100:
        return 3
    if sbp >= 140 or dbp >= 90:
        return 2
    if sbp >= 130 or dbp >= 80:
        return 1
    return 0


def test_blood_pressure_agrees_with_hypertension_events(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events").filter(pl.col("ctcae_term") == "Hypertension")
    vitals = read_source(clean_trial, "vitals")
    matched = ae.join(vitals, left_on=["subject_id", "onset_date"], right_on=["subject_id", "measure_date"])
    assert matched.height == ae.height > 0
    for row in matched.filter(pl.col("grade") <= 3).iter_rows(named=True):
        assert hypertension_grade(row["sbp_mmhg"], row["dbp_mmhg"]) == row["grade"], row["ae_id"]
    # Outside hypertension events blood pressure stays below 140/90.
    assert (vitals["sbp_mmhg"] > vitals["dbp_mmhg"]).all()


def test_vitals_every_two_weeks_and_weight_falls_with_weight_loss(clean_trial: Path) -> None:
    vitals = read_source(clean_trial, "vitals")
    assert vitals.select(pl.struct("subject_id", "measure_date").is_unique().all()).item()
    assert vitals["weight_kg"].min() > 25 and vitals["heart_rate_bpm"].is_between(40, 160).all()
    per_subject = vitals.group_by("subject_id").agg(pl.len().alias("visits"))
    assert per_subject["visits"].median() >= 6
    weight_loss = read_source(clean_trial, "adverse_events").filter(pl.col("ctcae_term") == "Weight loss")
    baseline = vitals.sort("measure_date").group_by("subject_id").agg(pl.col("weight_kg").first().alias("baseline"))
    at_onset = weight_loss.join(vitals, left_on=["subject_id", "onset_date"], right_on=["subject_id", "measure_date"], how="inner")
    after = at_onset.join(baseline, on="subject_id")
    if after.height:
        assert (after["weight_kg"] < after["baseline"]).mean() > 0.8
