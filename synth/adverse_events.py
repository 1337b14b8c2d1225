"""The adverse-event records: terms, dates, seriousness, outcome, attribution and actions.

Seriousness criteria, sponsor awareness and expedited-report dates, outcomes and the
investigator's verbatim wording are drawn here; the records keep the generator's internal
columns (subject and term index, relative days) next to the contract columns until
`adverse_events_source` selects the file's columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ctcae.attribution import ATTRIBUTION_LEVELS
from synth.cohort import Cohort
from synth.columns import date_column, text_column
from synth.contract import (
    NO, OUTCOME_FATAL, OUTCOME_NOT_RECOVERED, OUTCOME_RECOVERED, OUTCOME_RECOVERED_WITH_SEQUELAE,
    OUTCOME_RECOVERING, OUTCOME_UNKNOWN, YES, source_columns,
)
from synth.days import NEVER
from synth.draws import cumulative_rows, draw_categories, stage_rng
from synth.profile import AeProfile
from synth.treatment import TreatmentCourse

GRADES = (1, 2, 3, 4, 5)


def build_adverse_events(events: pl.DataFrame, attribution: dict[str, np.ndarray], actions: dict[str, np.ndarray],
                         cohort: Cohort, course: TreatmentCourse, profile: AeProfile, seed: int,
                         params: dict[str, Any]) -> pl.DataFrame:
    """The AE records: terms, dates, seriousness, outcome, attribution and actions.

    Keeps the internal columns (subject index, term index, relative days) next to the
    contract columns; `adverse_events_source` selects the contract columns.
    """
    rng = stage_rng(seed, "details")
    event_params = params["events"]
    subject = events["subject"].to_numpy()
    term = events["term"].to_numpy()
    grade = events["grade"].to_numpy()
    onset = events["onset"].to_numpy()
    size = len(onset)

    # Resolution: onset + duration, unless that is after the subject's last contact; a
    # fatal event resolves on the day of death.
    censor = np.minimum(course.last_contact_rel, course.death_rel)[subject]
    resolution = onset + events["duration"].to_numpy()
    resolution = np.where(grade == 5, course.death_rel[subject], resolution)
    resolved = resolution <= censor
    resolution = np.where(resolved, resolution, NEVER)

    serious = (rng.random(size) < profile.serious_probability[term, grade - 1]) | (grade == 5)
    criteria = np.full(size, None, dtype=object)
    for grade_value in GRADES:
        table = params["seriousness_criteria"][f"grade_{grade_value}"]
        labels = np.array(list(table.keys()), dtype=object)
        cumulative = cumulative_rows(np.array(list(table.values())))
        rows = np.flatnonzero(serious & (grade == grade_value))
        picks = draw_categories(rng, np.repeat(cumulative, len(rows), axis=0))
        criteria[rows] = labels[picks]

    delay_cumulative = cumulative_rows(np.array(event_params["awareness_delay_weights"]))
    delay = draw_categories(rng, np.repeat(delay_cumulative, size, axis=0))
    late = rng.random(size) < event_params["awareness_late_probability"]
    first_late_day = len(event_params["awareness_delay_weights"])
    late_delay = rng.integers(first_late_day, event_params["awareness_late_max_days"] + 1, size)
    delay = np.where(late, late_delay, delay)
    awareness = np.where(serious, np.minimum(onset + delay, cohort.cutoff_rel[subject]), NEVER)
    shortest, longest = event_params["expedited_report_delay_days"]
    report_delay = rng.integers(shortest, longest + 1, size)
    late_report = rng.random(size) < event_params["expedited_report_late_probability"]
    report_delay = np.where(late_report, rng.integers(16, event_params["expedited_report_late_max_days"] + 1, size), report_delay)
    reported = serious & (awareness + report_delay <= cohort.cutoff_rel[subject])
    report = np.where(reported, awareness + report_delay, NEVER)

    sequelae = rng.random(size) < profile.sequelae_probability[term]
    recovering = rng.random(size) < event_params["ongoing_recovering_probability"]
    subject_died = course.death_rel[subject] < NEVER
    subject_withdrew = cohort.withdrew[subject]
    outcome = np.where(
        grade == 5, OUTCOME_FATAL,
        np.where(resolved, np.where(sequelae, OUTCOME_RECOVERED_WITH_SEQUELAE, OUTCOME_RECOVERED),
                 np.where(subject_died, OUTCOME_NOT_RECOVERED,
                          np.where(subject_withdrew, OUTCOME_UNKNOWN,
                                   np.where(recovering, OUTCOME_RECOVERING, OUTCOME_NOT_RECOVERED)))),
    )

    verbatim_flat = [text for texts in profile.verbatim_terms for text in texts]
    verbatim_counts = np.array([len(texts) for texts in profile.verbatim_terms])
    verbatim_offsets = np.cumsum(verbatim_counts) - verbatim_counts
    verbatim_index = verbatim_offsets[term] + np.floor(rng.random(size) * verbatim_counts[term]).astype(np.int64)

    first_dose = cohort.first_dose_day[subject]
    ae_id_width = max(6, len(str(size)))
    records = pl.DataFrame({
        "subject": subject, "term": term, "episode": events["episode"].to_numpy(),
        "onset_rel": onset, "resolution_rel": resolution, "grade": grade,
    }).with_columns(
        pl.format("AE-{}", (pl.int_range(1, pl.len() + 1)).cast(pl.String).str.zfill(ae_id_width)).alias("ae_id"),
        cohort.subject_id.gather(subject).alias("subject_id"),
        pl.Series("verbatim_term", verbatim_flat).gather(verbatim_index),
        pl.Series("ctcae_term", profile.ctcae_term).gather(term),
        pl.Series("other_specify", profile.other_specify, dtype=pl.String).gather(term),
        date_column(first_dose + onset, "onset_date"),
        date_column(np.where(resolved, first_dose + resolution, NEVER), "resolution_date"),
        pl.Series("serious", np.where(serious, YES, NO)),
        text_column("serious_criteria", criteria),
        pl.Series("outcome", outcome),
        pl.Series("attribution_apatinib", np.array(ATTRIBUTION_LEVELS)[attribution["apatinib"]]),
        pl.Series("attribution_anti_pd1", np.array(ATTRIBUTION_LEVELS)[attribution["anti_pd1"]]),
        text_column("action_apatinib", actions["apatinib"]),
        text_column("action_anti_pd1", actions["anti_pd1"]),
        date_column(np.where(serious, first_dose + awareness, NEVER), "awareness_date"),
        date_column(np.where(reported, first_dose + report, NEVER), "expedited_report_date"),
    )
    return records


def adverse_events_source(records: pl.DataFrame) -> pl.DataFrame:
    """The adverse-events file's columns, without the generator's internal ones."""
    return records.select(source_columns("adverse_events"))
