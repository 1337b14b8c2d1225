"""Tests of synth.tumour: the tumour assessments agree with the course the other files show.

Checked against the subjects and exposure files the generator wrote (an independent route to
the course), never against the generator's own arrays. The rules pinned:

* a subject whose treatment ended for progression has PD on the end-of-treatment date;
* PD is a subject's last assessment, and comes only after treatment ended (progression ends
  treatment, unless toxicity, withdrawal or death ended it before);
* a subject who died of disease progression had PD on or before the death;
* nobody is assessed after death, after last contact, after the data cutoff or before enrolment;
* scheduled assessments ("Week N") are within 7 days of day 7 x N after the first dose;
* a response (PR or CR), once seen, is seen at every later evaluable assessment before PD.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import synth.trial as synth_trial
from synth import generate_trial
from synth.draws import STAGES
from synth.profile import load_parameters
from tests.synth.conftest import BUNDLED_DIR, read_source

CUTOFF = date(2026, 6, 30)
RECIST = ["CR", "PR", "SD", "PD", "NE"]


@pytest.fixture(scope="module")
def assessed(clean_trial: Path) -> pl.DataFrame:
    """Every assessment with its subject's row and first dose."""
    assessments = read_source(clean_trial, "tumour_assessments")
    subjects = read_source(clean_trial, "subjects")
    first_dose = read_source(clean_trial, "exposure").group_by("subject_id").agg(pl.col("start_date").min().alias("first_dose"))
    return assessments.join(subjects, on="subject_id", how="left").join(first_dose, on="subject_id", how="left")


def test_columns_and_codes_are_the_contracts(clean_trial: Path) -> None:
    assessments = read_source(clean_trial, "tumour_assessments")
    assert assessments.columns == ["subject_id", "visit", "assessment_date", "overall_response", "new_lesions", "method"]
    assert set(assessments["overall_response"]) <= set(RECIST)
    assert set(assessments["new_lesions"].drop_nulls()) <= {"Y", "N"}
    assert set(assessments["method"]) <= {"CT", "MRI", "PET-CT", "other"}
    # One imaging method per subject, as RECIST 1.1 asks.
    assert assessments.group_by("subject_id").agg(pl.col("method").n_unique())["method"].max() == 1


def test_every_subject_whose_treatment_ended_for_progression_has_pd_on_that_date(clean_trial: Path, assessed) -> None:
    subjects = read_source(clean_trial, "subjects")
    progressed = subjects.filter(pl.col("end_of_treatment_reason") == "progression")
    assert progressed.height > 100  # most of the 400 subjects progress within two years
    pd = assessed.filter(pl.col("overall_response") == "PD").select("subject_id", "assessment_date")
    on_end = progressed.join(pd, left_on=["subject_id", "end_of_treatment_date"], right_on=["subject_id", "assessment_date"], how="inner")
    assert on_end.height == progressed.height


def test_pd_is_last_and_only_after_treatment_ended(assessed) -> None:
    pd = assessed.filter(pl.col("overall_response") == "PD")
    assert pd["subject_id"].is_unique().all()
    last = assessed.group_by("subject_id").agg(pl.col("assessment_date").max().alias("last"))
    joined = pd.join(last, on="subject_id")
    assert (joined["assessment_date"] == joined["last"]).all()
    # Progression ends treatment, unless something else ended it before.
    assert pd["end_of_treatment_date"].null_count() == 0
    assert (pd["end_of_treatment_date"] <= pd["assessment_date"]).all()
    other_reason = pd.filter(pl.col("end_of_treatment_reason") != "progression")
    assert (other_reason["end_of_treatment_date"] < other_reason["assessment_date"]).all()


def test_a_death_from_progression_follows_a_pd(clean_trial: Path, assessed) -> None:
    subjects = read_source(clean_trial, "subjects")
    died_of_disease = subjects.filter(pl.col("death_cause") == "disease_progression")
    assert died_of_disease.height > 0
    pd = assessed.filter(pl.col("overall_response") == "PD").select("subject_id", pl.col("assessment_date").alias("pd"))
    joined = died_of_disease.join(pd, on="subject_id", how="left")
    assert joined["pd"].null_count() == 0
    assert (joined["pd"] <= joined["death_date"]).all()


def test_nobody_is_assessed_outside_follow_up(assessed) -> None:
    assert assessed["enrolment_date"].null_count() == 0  # every assessment is of a known subject
    assert assessed.filter(pl.col("assessment_date") > pl.col("death_date")).is_empty()
    assert assessed.filter(pl.col("assessment_date") > pl.col("last_contact_date")).is_empty()
    assert assessed["assessment_date"].max() <= CUTOFF
    assert assessed.filter(pl.col("assessment_date") <= pl.col("first_dose")).is_empty()
    assert assessed.filter(pl.col("assessment_date") < pl.col("enrolment_date")).is_empty()


def test_scheduled_assessments_are_every_eight_weeks_within_seven_days(assessed) -> None:
    scheduled = assessed.filter(pl.col("visit") != "Unscheduled").with_columns(
        pl.col("visit").str.strip_prefix("Week ").cast(pl.Int64).alias("week")
    )
    assert set(scheduled["week"].unique().to_list()) <= set(range(8, 105, 8))
    offset = (pl.col("assessment_date") - pl.col("first_dose") - pl.duration(weeks=pl.col("week"))).dt.total_days()
    assert scheduled.select(offset.abs().max()).item() <= 7
    # Only the scan that shows progression is ever unscheduled.
    assert set(assessed.filter(pl.col("visit") == "Unscheduled")["overall_response"]) == {"PD"}
    gaps = assessed.sort("subject_id", "assessment_date").select(
        pl.col("assessment_date").diff().over("subject_id").dt.total_days().alias("gap")
    )["gap"].drop_nulls()
    assert gaps.min() >= 21


def test_a_response_once_seen_stays_until_progression(assessed) -> None:
    ordered = assessed.sort("subject_id", "assessment_date").filter(~pl.col("overall_response").is_in(["NE", "PD"]))
    responding = pl.col("overall_response").is_in(["CR", "PR"])
    seen = ordered.with_columns(responding.cum_max().over("subject_id").alias("seen_before"))
    assert seen.filter(pl.col("seen_before") & ~responding).is_empty()


def test_best_responses_are_near_the_published_shares(assessed) -> None:
    """About 40% CR or PR (Mo 2024, 38.5%), CR about 5%; a few assessments not evaluable."""
    rank = {code: position for position, code in enumerate(RECIST)}
    best = assessed.group_by("subject_id").agg(pl.col("overall_response").replace_strict(rank).min().alias("best"))
    share = best.select((pl.col("best") <= 1).mean()).item()
    complete = best.select((pl.col("best") == 0).mean()).item()
    assert 0.30 <= share <= 0.50
    assert 0.01 <= complete <= 0.10
    not_evaluable = assessed.select((pl.col("overall_response") == "NE").mean()).item()
    assert 0.005 <= not_evaluable <= 0.08


def test_the_tumour_stage_is_appended_to_the_streams() -> None:
    """The ten stages before it keep their positions (typed by hand), so their draws are unchanged."""
    assert STAGES[:10] == (
        "subjects", "course", "events", "attribution", "actions", "details", "exposure", "labs", "vitals", "errors",
    )
    assert "tumour" in STAGES[10:]


def test_other_tumour_parameters_change_only_the_tumour_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate_trial(40, 5, tmp_path / "as_is", error_rate=0.02)
    params = copy.deepcopy(load_parameters())
    params["tumour"] |= {"responder_probability": 0.9, "assessment_interval_days": 42, "not_evaluable_probability": 0.2}
    monkeypatch.setattr(synth_trial, "load_parameters", lambda: params)
    generate_trial(40, 5, tmp_path / "changed", error_rate=0.02)

    def digest(folder: Path) -> dict[str, str]:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.csv"))}

    as_is, changed = digest(tmp_path / "as_is"), digest(tmp_path / "changed")
    assert as_is.pop("tumour_assessments.csv") != changed.pop("tumour_assessments.csv")
    assert as_is == changed


def test_the_bundled_sample_has_an_error_of_each_kind() -> None:
    """With error_rate 0.02 the 60-subject sample has a response that is no RECIST code, an
    assessment before enrolment, an unknown subject and two responses on one date."""
    assessments = read_source(BUNDLED_DIR, "tumour_assessments")
    subjects = read_source(BUNDLED_DIR, "subjects")
    assert not assessments["overall_response"].is_in(RECIST).all()
    joined = assessments.join(subjects.select("subject_id", "enrolment_date"), on="subject_id", how="left")
    assert joined["enrolment_date"].null_count() >= 1  # a subject that does not exist
    assert joined.filter(pl.col("assessment_date") < pl.col("enrolment_date")).height >= 1
    per_date = assessments.group_by("subject_id", "assessment_date").agg(pl.col("overall_response").n_unique())
    assert per_date["overall_response"].max() == 2


def test_the_bundled_sample_is_plausible() -> None:
    """Counted with plain Polars from the shipped files: every subject of the 60 is assessed, and
    every one whose treatment ended for progression has PD that day, unless that PD row is one
    whose subject_id was mistyped into an unknown subject (an injected error)."""
    assessments = read_source(BUNDLED_DIR, "tumour_assessments")
    subjects = read_source(BUNDLED_DIR, "subjects")
    assert subjects.join(assessments, on="subject_id", how="anti").is_empty()
    progressed = subjects.filter(pl.col("end_of_treatment_reason") == "progression")
    pd = assessments.filter(pl.col("overall_response") == "PD")
    missing = progressed.join(pd, left_on=["subject_id", "end_of_treatment_date"], right_on=["subject_id", "assessment_date"], how="anti")
    mistyped = pd.filter(~pl.col("subject_id").is_in(subjects["subject_id"].implode()))
    assert missing.height <= mistyped.height
    assert assessments["assessment_date"].max() <= CUTOFF
