"""Tests of synth.subjects (and the cohort behind it): plausible subjects, IDs, codes and dates."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.synth.conftest import read_source


def test_subjects_are_plausible(clean_trial: Path) -> None:
    subjects = read_source(clean_trial, "subjects")
    assert subjects["subject_id"].is_unique().all()
    assert subjects["subject_id"].to_list() == sorted(subjects["subject_id"].to_list())
    assert subjects["subject_id"].str.contains(r"^NPC-\d{2}-\d{4}$").all()
    assert set(subjects["sex"]) == {"M", "F"}
    assert set(subjects["recurrence_type"]) <= {"local", "regional", "locoregional", "distant", "locoregional_distant"}
    assert set(subjects["prior_reirradiation"]) <= {"Y", "N"}
    reasons = set(subjects["end_of_treatment_reason"].drop_nulls())
    assert reasons <= {"progression", "toxicity", "death", "withdrawal", "completed"}
    assert {"progression", "toxicity"} <= reasons
    ended = subjects["end_of_treatment_date"].is_not_null()
    assert (ended == subjects["end_of_treatment_reason"].is_not_null()).all()
    # Enrolment over about 18 months from 2024-01-15.
    assert subjects["enrolment_date"].min() >= date(2024, 1, 15)
    assert subjects["enrolment_date"].max() <= date(2024, 1, 15) + timedelta(days=548)
    assert (subjects["last_contact_date"] >= subjects["enrolment_date"]).all()
