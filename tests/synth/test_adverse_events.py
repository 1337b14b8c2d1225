"""Tests of synth.adverse_events: the AE records follow CTCAE, the contract and the subjects' course."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.synth.conftest import ALLOWED_GRADES, ATTRIBUTION_SCALE, read_source

pytestmark = pytest.mark.slow

CUTOFF = date(2026, 6, 30)
ACTIONS = {"dose_not_changed", "dose_reduced", "drug_interrupted", "drug_withdrawn", "not_applicable"}
SERIOUS_CRITERIA = {"death", "life_threatening", "hospitalisation", "disability", "congenital_anomaly", "important_medical_event"}
OUTCOMES = {"recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"}


def test_clean_adverse_events_follow_ctcae_and_the_contract(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    subjects = read_source(clean_trial, "subjects")
    assert ae.height > 1000
    assert ae["ae_id"].is_unique().all()
    assert ae["ae_id"].to_list() == sorted(ae["ae_id"].to_list())
    assert set(ae["subject_id"]) <= set(subjects["subject_id"])

    for row in ae.iter_rows(named=True):
        term = row["ctcae_term"]
        assert term in ALLOWED_GRADES, term
        assert row["grade"] in ALLOWED_GRADES[term], (term, row["grade"])
        # "Other, specify" terms carry their specification, other terms none.
        assert (row["other_specify"] is not None) == term.endswith("Other, specify"), row["ae_id"]
        # Outcome fatal if and only if grade 5.
        assert (row["outcome"] == "fatal") == (row["grade"] == 5), row["ae_id"]
        assert row["outcome"] in OUTCOMES
        assert row["attribution_apatinib"] in ATTRIBUTION_SCALE
        assert row["attribution_anti_pd1"] in ATTRIBUTION_SCALE
        assert row["action_apatinib"] in ACTIONS and row["action_anti_pd1"] in ACTIONS
        # Seriousness: criteria and awareness date exactly when serious; death for grade 5.
        if row["serious"] == "Y":
            criteria = set(row["serious_criteria"].split(";"))
            assert criteria <= SERIOUS_CRITERIA
            assert row["awareness_date"] is not None
            assert row["onset_date"] <= row["awareness_date"] <= CUTOFF
        else:
            assert row["serious"] == "N"
            assert row["serious_criteria"] is None and row["awareness_date"] is None
        if row["grade"] == 5:
            assert row["serious"] == "Y" and "death" in row["serious_criteria"].split(";")
        if row["resolution_date"] is not None:
            assert row["onset_date"] <= row["resolution_date"] <= CUTOFF
        assert row["onset_date"] <= CUTOFF


def test_onsets_fall_between_first_dose_and_last_contact(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    exposure = read_source(clean_trial, "exposure")
    subjects = read_source(clean_trial, "subjects")
    first_dose = exposure.filter(pl.col("dose_mg") > 0).group_by("subject_id").agg(pl.col("start_date").min().alias("first_dose"))
    checked = ae.join(first_dose, on="subject_id").join(subjects, on="subject_id")
    assert checked.height == ae.height
    assert (checked["onset_date"] >= checked["first_dose"]).all()
    assert (checked["onset_date"] <= checked["last_contact_date"]).all()
    assert (checked["first_dose"] >= checked["enrolment_date"]).all()
    assert ((checked["first_dose"] - checked["enrolment_date"]).dt.total_days() <= 14).all()


def test_fatal_events_match_the_subjects_deaths(clean_trial: Path) -> None:
    ae = read_source(clean_trial, "adverse_events")
    subjects = read_source(clean_trial, "subjects")
    fatal = ae.filter(pl.col("grade") == 5).join(subjects, on="subject_id")
    assert fatal["subject_id"].is_unique().all()
    for row in fatal.iter_rows(named=True):
        assert row["death_date"] is not None and row["death_cause"] == "adverse_event"
        assert row["resolution_date"] == row["death_date"]
    dead = subjects.filter(pl.col("death_date").is_not_null())
    assert (dead["death_date"] == dead["last_contact_date"]).all()
    assert dead["death_cause"].is_not_null().all()
    assert subjects.filter(pl.col("death_date").is_null())["death_cause"].is_null().all()
