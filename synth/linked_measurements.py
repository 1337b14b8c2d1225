"""Measurements forced by AEs linked to a lab test or vital sign, so that both agree.

A linked AE (an ALT increase, hypertension, ...) gives a measurement on its onset day in
its grade's range, and later scheduled visits during the event one grade lower. Labs and
vitals draw the rest of their values around these.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth.days import NEVER
from synth.profile import AeProfile
from synth.treatment import TreatmentCourse


def visit_end_rel(course: TreatmentCourse) -> np.ndarray:
    """Last day of on-treatment visits: end of treatment, or last contact when ongoing; before death."""
    end = np.where(course.end_of_treatment_rel < NEVER, course.end_of_treatment_rel, course.last_contact_rel)
    return np.minimum(end, course.death_rel - 1)


def linked_rows(records: pl.DataFrame, profile: AeProfile, measures: set[str], course: TreatmentCourse,
                visit_days_fn, rng: np.random.Generator) -> pl.DataFrame:
    """Rows forced by AEs linked to a measurement.

    Each linked AE gives an (unscheduled) measurement on its onset day in the range of its
    grade, and scheduled visits later in the event a value in the range of one grade lower
    (at least grade 1): the abnormality persists while the AE lasts, improving.
    """
    term_measure = pl.Series(
        [measure if measure in measures else None for measure in profile.linked_measure], dtype=pl.String
    )
    linked = records.with_columns(term_measure.gather(records["term"]).alias("measure")).filter(
        pl.col("measure").is_not_null()
    )
    if linked.height == 0:
        return pl.DataFrame(schema={
            "subject": pl.Int64, "day_rel": pl.Int64, "term": pl.Int64, "measure": pl.String,
            "grade": pl.Int64, "position": pl.Float64, "position_diastolic": pl.Float64,
        })
    visit_end = visit_end_rel(course)[linked["subject"].to_numpy()]
    linked = linked.with_columns(
        pl.Series("persist_until", np.minimum(linked["resolution_rel"].to_numpy(), visit_end)),
    )
    onset_rows = linked.select(
        "subject", pl.col("onset_rel").alias("day_rel"), "term", "measure", pl.col("grade").clip(1, 4)
    )
    later = visit_days_fn(linked)  # subject, day_rel, term, measure, grade
    rows = pl.concat([onset_rows, later.with_columns((pl.col("grade") - 1).clip(1, 4))])
    return rows.with_columns(
        pl.Series("position", rng.random(rows.height)),
        pl.Series("position_diastolic", rng.random(rows.height)),
    )


def later_visits(linked: pl.DataFrame, interval: int) -> pl.DataFrame:
    """Scheduled visit days (multiples of `interval`) after onset and up to persist_until."""
    return (
        linked.with_columns(
            (pl.col("onset_rel") // interval + 1).alias("first_visit"),
            (pl.col("persist_until") // interval).alias("last_visit"),
        )
        .filter(pl.col("last_visit") >= pl.col("first_visit"))
        .with_columns(pl.int_ranges("first_visit", pl.col("last_visit") + 1).alias("visit"))
        .explode("visit")
        .select("subject", (pl.col("visit") * interval).alias("day_rel"), "term", "measure", "grade")
    )
