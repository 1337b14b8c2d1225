"""The tumour-assessments file: RECIST 1.1 time-point responses every 8 weeks while on study.

Assessments follow the course the cohort and treatment already took (``synth.cohort``,
``synth.treatment``); nothing here changes it:

* scheduled assessments every ``assessment_interval_days`` from the first dose, each within
  ``assessment_window_days`` of its day, from week 8 on, while the subject is on study: up to
  progression, death, last contact, the follow-up horizon and the data cutoff (so after the end
  of treatment too, while followed);
* progression is the course's: an assessment on the day of progression says PD (it takes the
  slot of a scheduled visit within the window, or is unscheduled, and a scheduled one due just
  before it is not done). A subject whose treatment ended for progression therefore has PD on
  the end-of-treatment date; nobody else has PD unless the course reaches progression while
  the subject is followed;
* a drawn share of the subjects responds (PR, a few CR), from a drawn visit on, and the
  response is seen at every later assessment until progression; the others have SD; a few
  scheduled assessments are not evaluable (NE).

With ``error_rate > 0`` a few rows get a data-entry error (a response that is no RECIST code,
a date before enrolment, a mistyped subject, a second assessment of the same date with another
response) so that validation has something to query. Every number comes from the ``[tumour]``
table of ``data/synth/trial_parameters.toml``; every draw from the "tumour" stream.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import polars as pl

from synth.arrays import expand_counts
from synth.cohort import Cohort
from synth.columns import date_column, text_column
from synth.contract import (
    NO, RESPONSE_CR, RESPONSE_NE, RESPONSE_PD, RESPONSE_PR, RESPONSE_SD, YES, source_columns,
)
from synth.days import NEVER
from synth.draws import cumulative_rows, draw_categories, stage_rng
from synth.treatment import TreatmentCourse

UNSCHEDULED = "Unscheduled"
TUMOUR_ERROR_KINDS = ("response_off_code", "assessment_before_enrolment", "unknown_subject", "second_response_same_date")


def follow_up_end_rel(cohort: Cohort, course: TreatmentCourse) -> np.ndarray:
    """Last day a subject can be assessed: last contact (the death day for those who died), the
    follow-up horizon and the data cutoff, whichever comes first."""
    return np.minimum.reduce([course.last_contact_rel, course.death_rel, cohort.horizon_rel, cohort.cutoff_rel])


def progression_seen_rel(cohort: Cohort, course: TreatmentCourse) -> np.ndarray:
    """The day progression is shown at an assessment, or NEVER when the subject is not followed
    up to it. A subject whose treatment ended for progression ended it on this day."""
    progression = cohort.progression_rel
    return np.where(progression <= follow_up_end_rel(cohort, course), progression, NEVER)


def build_tumour_assessments(cohort: Cohort, course: TreatmentCourse, seed: int, params: dict[str, Any],
                             error_rate: float = 0.0) -> pl.DataFrame:
    """The rows of tumour_assessments.csv, sorted by subject and date."""
    rng = stage_rng(seed, "tumour")
    tumour = params["tumour"]
    interval = tumour["assessment_interval_days"]
    window = tumour["assessment_window_days"]
    size = cohort.size

    follow_up_end = follow_up_end_rel(cohort, course)
    progression = progression_seen_rel(cohort, course)
    # The scheduled visit whose window holds the day of progression: the PD assessment takes its slot.
    nearest_visit = np.rint(cohort.progression_rel / interval).astype(np.int64)
    progression_slot = np.where(
        (progression < NEVER) & (nearest_visit >= 1) & (np.abs(cohort.progression_rel - nearest_visit * interval) <= window),
        nearest_visit, 0,
    )

    # Per-subject draws, made for every subject so that each subject's draws do not depend on the others' courses.
    responder = rng.random(size) < tumour["responder_probability"]
    complete = responder & (rng.random(size) < tumour["complete_response_share"])
    onset_cumulative = cumulative_rows(np.array(tumour["response_onset_visit_weights"], dtype=np.float64))
    onset_visit = draw_categories(rng, np.repeat(onset_cumulative, size, axis=0)) + 1
    method_cumulative = cumulative_rows(np.array(tumour["method_weights"], dtype=np.float64))
    method = np.array(tumour["methods"], dtype=object)[draw_categories(rng, np.repeat(method_cumulative, size, axis=0))]
    new_lesions_at_progression = rng.random(size) < tumour["progression_new_lesion_probability"]

    # Scheduled visits 1..n, kept while within follow-up and before progression: before its
    # slot, and not just before the scan that shows it (that scan was done instead).
    candidate_counts = np.maximum(0, np.minimum(follow_up_end, progression) + window) // interval
    owner, position = expand_counts(candidate_counts)
    visit = position + 1
    day = visit * interval + rng.integers(-window, window + 1, len(visit))
    slot = progression_slot[owner]
    before_progression = day <= progression[owner] - tumour["min_days_before_progression_scan"]
    kept = (day <= follow_up_end[owner]) & before_progression & ((slot == 0) | (visit < slot))
    owner, visit, day = owner[kept], visit[kept], day[kept]

    # A response is first seen at the drawn visit, or at the subject's last scheduled one if earlier.
    scheduled_count = np.bincount(owner, minlength=size)
    first_response = np.minimum(onset_visit, np.maximum(scheduled_count, 1))[owner]
    responding = responder[owner] & (visit >= first_response)
    response = np.full(len(owner), RESPONSE_SD, dtype=object)
    response[responding] = np.where(complete[owner][responding], RESPONSE_CR, RESPONSE_PR)
    not_evaluable = rng.random(len(owner)) < tumour["not_evaluable_probability"]
    response[not_evaluable] = RESPONSE_NE
    new_lesions = np.where(not_evaluable, None, NO).astype(object)
    label = np.array([f"Week {weeks}" for weeks in (visit * interval // 7)], dtype=object)

    progressed = np.flatnonzero(progression < NEVER)
    pd_label = np.array(
        [f"Week {slot * interval // 7}" if slot else UNSCHEDULED for slot in progression_slot[progressed]], dtype=object
    )
    rows = pl.DataFrame({
        "subject": np.concatenate([owner, progressed]).astype(np.int64),
        "day_rel": np.concatenate([day, progression[progressed]]).astype(np.int64),
        "visit": pl.Series(np.concatenate([label, pd_label]).tolist(), dtype=pl.String),
        "overall_response": pl.Series(
            np.concatenate([response, np.full(len(progressed), RESPONSE_PD, dtype=object)]).tolist(), dtype=pl.String
        ),
        "new_lesions": pl.Series(
            np.concatenate([new_lesions, np.where(new_lesions_at_progression[progressed], YES, NO).astype(object)]).tolist(),
            dtype=pl.String,
        ),
    }).sort("subject", "day_rel")
    subject = rows["subject"].to_numpy()
    assessments = pl.DataFrame({
        "subject_id": cohort.subject_id.gather(subject),
        "visit": rows["visit"],
        "assessment_date": date_column(cohort.first_dose_day[subject] + rows["day_rel"].to_numpy(), "assessment_date"),
        "overall_response": rows["overall_response"],
        "new_lesions": rows["new_lesions"],
        "method": text_column("method", method[subject]),
    })
    assessments = inject_tumour_errors(assessments, cohort, error_rate, seed, params)
    return assessments.select(source_columns("tumour_assessments"))


def inject_tumour_errors(assessments: pl.DataFrame, cohort: Cohort, error_rate: float, seed: int,
                         params: dict[str, Any]) -> pl.DataFrame:
    """A few rows with a response that is no RECIST 1.1 code, a date before the subject's
    enrolment, a mistyped subject (site 00), or a second assessment of the same date with
    another response (added after the row it repeats); the kinds take turns over the rows."""
    if error_rate <= 0 or assessments.height == 0:
        return assessments
    rng = stage_rng(seed, "tumour", block=1)
    tumour = params["tumour"]
    count = max(1, int(round(error_rate * tumour["error_rate_factor"] * assessments.height)))
    rows = np.sort(rng.choice(assessments.height, size=min(count, assessments.height), replace=False))
    kind = rng.permutation(len(TUMOUR_ERROR_KINDS))[np.arange(len(rows)) % len(TUMOUR_ERROR_KINDS)]

    def chosen(name: str) -> np.ndarray:
        return rows[kind == TUMOUR_ERROR_KINDS.index(name)]

    response = assessments["overall_response"].clone()
    off_code = chosen("response_off_code")
    if len(off_code):
        values = tumour["responses_off_code"]
        response = response.scatter(off_code, pl.Series([values[i] for i in rng.integers(0, len(values), len(off_code))]))

    assessment_date = assessments["assessment_date"].clone()
    early = chosen("assessment_before_enrolment")
    if len(early):
        subject_index = {subject_id: index for index, subject_id in enumerate(cohort.subject_id.to_list())}
        owners = np.array([subject_index[subject_id] for subject_id in assessments["subject_id"].gather(early).to_list()])
        early_days = cohort.enrolment_day[owners] - rng.integers(1, 31, len(early))
        assessment_date = assessment_date.scatter(early, date_column(early_days, "assessment_date"))

    subject_id = assessments["subject_id"].clone()
    mistyped = chosen("unknown_subject")
    if len(mistyped):
        subject_id = subject_id.scatter(
            mistyped, pl.Series([re.sub(r"-\d+-", "-00-", text, count=1) for text in subject_id.gather(mistyped).to_list()])
        )

    corrupted = assessments.with_columns(subject_id, assessment_date, response).with_row_index("_order")
    repeated = chosen("second_response_same_date")
    if not len(repeated):
        return corrupted.drop("_order")
    # The second entry of the visit: its response differs from the first (SD for a response, PR otherwise).
    seconds = corrupted[repeated.tolist()].with_columns(
        pl.when(pl.col("overall_response").is_in([RESPONSE_PR, RESPONSE_CR]))
        .then(pl.lit(RESPONSE_SD))
        .otherwise(pl.lit(RESPONSE_PR))
        .alias("overall_response")
    )
    return pl.concat([corrupted, seconds]).sort("_order", maintain_order=True).drop("_order")
