"""Tests of synth.errors: every kind of injected data-entry error is present, at about the rate asked."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from synth import generate_trial
from tests.synth.conftest import ALLOWED_GRADES, ATTRIBUTION_SCALE, UNITS, read_source

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def erroneous_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("errors")
    generate_trial(300, 5, folder, error_rate=0.05)
    return folder


def test_injected_errors_are_present(erroneous_trial: Path) -> None:
    ae = read_source(erroneous_trial, "adverse_events")
    subjects = read_source(erroneous_trial, "subjects")
    labs = read_source(erroneous_trial, "labs")
    exposure = read_source(erroneous_trial, "exposure")
    known_term = pl.col("ctcae_term").is_in(list(ALLOWED_GRADES))

    def grade_allowed(row: dict) -> bool:
        return row["grade"] in ALLOWED_GRADES.get(row["ctcae_term"], {1, 2, 3, 4, 5})

    found = {
        "grade_not_allowed": sum(not grade_allowed(row) for row in ae.iter_rows(named=True)),
        "other_specify_missing": ae.filter(pl.col("ctcae_term").str.ends_with("Other, specify") & pl.col("other_specify").is_null()).height,
        "unknown_term": ae.filter(~known_term).height,
        "resolution_before_onset": ae.filter(pl.col("resolution_date") < pl.col("onset_date")).height,
        "fatal_outcome_mismatch": ae.filter((pl.col("grade") == 5) != (pl.col("outcome") == "fatal")).height,
        "serious_incomplete": ae.filter((pl.col("serious") == "Y") & (pl.col("awareness_date").is_null() | pl.col("serious_criteria").is_null())).height,
        "attribution_off_scale": ae.filter(
            ~pl.col("attribution_apatinib").is_in(list(ATTRIBUTION_SCALE)) | ~pl.col("attribution_anti_pd1").is_in(list(ATTRIBUTION_SCALE))
        ).height,
        "duplicate_ae_id": ae.height - ae["ae_id"].n_unique(),
        "unknown_subject": ae.filter(~pl.col("subject_id").is_in(subjects["subject_id"].to_list())).height,
        "onset_before_enrolment": ae.join(subjects, on="subject_id").filter(pl.col("onset_date") < pl.col("enrolment_date")).height,
    }
    assert all(count > 0 for count in found.values()), found
    # About error_rate of the rows carry an error (each error is one kind).
    assert sum(found.values()) <= 0.05 * ae.height * 1.5
    # Lab results entered in conventional units (bilirubin or creatinine in mg/dL,
    # hemoglobin in g/dL), with a lost value or a sign typo.
    wrong_units = [(code, unit) for code, unit in zip(labs["test_code"], labs["unit"]) if unit != UNITS[code]]
    assert wrong_units and set(wrong_units) <= {("BILI", "mg/dL"), ("CREAT", "mg/dL"), ("HGB", "g/dL")}
    assert labs.filter(pl.col("value").is_null()).height > 0
    assert labs.filter(pl.col("value") < 0).height > 0
    assert exposure.filter(pl.col("end_date") < pl.col("start_date")).height > 0
    assert exposure.filter(pl.col("dose_mg") > pl.col("planned_dose_mg")).height > 0
