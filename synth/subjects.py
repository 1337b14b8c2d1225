"""The subjects file: one row per subject, from the cohort and the course treatment took."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from synth.cohort import Cohort
from synth.columns import date_column, text_column
from synth.contract import FEMALE, MALE, NO, YES, source_columns
from synth.days import absolute_days
from synth.treatment import TreatmentCourse


def subjects_source(cohort: Cohort, course: TreatmentCourse, params: dict[str, Any]) -> pl.DataFrame:
    """The subjects file's rows, with the end of treatment and death that toxicity left, not the natural ones."""
    types = np.array(params["recurrence"]["types"], dtype=object)
    first_dose = cohort.first_dose_day
    return pl.DataFrame({
        "subject_id": cohort.subject_id,
        "site_id": cohort.site_id,
        "arm": [params["trial"]["arm"]] * cohort.size,
        "sex": np.where(cohort.male, MALE, FEMALE),
        "age": cohort.age,
        "enrolment_date": date_column(cohort.enrolment_day, "enrolment_date"),
        "recurrence_type": text_column("recurrence_type", types[cohort.recurrence_type]),
        "prior_reirradiation": np.where(cohort.reirradiated, YES, NO),
        "end_of_treatment_date": date_column(
            absolute_days(first_dose, course.end_of_treatment_rel), "end_of_treatment_date"
        ),
        "end_of_treatment_reason": text_column("end_of_treatment_reason", course.end_of_treatment_reason),
        "last_contact_date": date_column(first_dose + course.last_contact_rel, "last_contact_date"),
        "death_date": date_column(absolute_days(first_dose, course.death_rel), "death_date"),
        "death_cause": text_column("death_cause", course.death_cause),
    }).select(source_columns("subjects"))
