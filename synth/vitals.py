"""The vitals file: blood pressure, heart rate and weight every two weeks on treatment.

Blood pressure agrees with hypertension AEs, weight with anorexia and weight-loss AEs and
with progression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from synth.arrays import expand_counts
from synth.cohort import Cohort
from synth.columns import date_column
from synth.contract import source_columns
from synth.draws import stage_rng, uniform_between
from synth.linked_measurements import later_visits, linked_rows, visit_end_rel
from synth.profile import AeProfile
from synth.treatment import TreatmentCourse


def build_vitals(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse, profile: AeProfile,
                 seed: int, params: dict[str, Any]) -> pl.DataFrame:
    """Vitals at baseline and every 2 weeks on treatment (so at every cycle start too).

    Blood pressure agrees with hypertension AEs (the onset day gets a measurement in the
    grade's range; later visits during the event one grade lower); weight falls with
    anorexia and weight-loss AEs and drifts down after progression.
    """
    rng = stage_rng(seed, "vitals")
    vitals = params["vitals"]
    interval = params["dosing"]["anti_pd1_interval_days"]
    visit_end = visit_end_rel(course)
    visit_counts = 1 + np.maximum(0, visit_end // interval) + 1  # baseline + days 0, 14, ...
    owner, position = expand_counts(visit_counts)
    day = np.where(position == 0, cohort.baseline_rel[owner], (position - 1) * interval)
    visits = pl.DataFrame({"subject": owner, "day_rel": day}).unique(maintain_order=True)

    linked = linked_rows(records, profile, {"BP"}, course, lambda rows: later_visits(rows, interval), rng)
    onset_only = linked.select("subject", "day_rel")
    visits = pl.concat([visits, onset_only]).unique(maintain_order=True).sort("subject", "day_rel")
    subject = visits["subject"].to_numpy()
    size = len(subject)

    sbp_bounds = (vitals["sbp_min"], vitals["sbp_max_without_event"])
    dbp_bounds = (vitals["dbp_min"], vitals["dbp_max_without_event"])
    sbp_level = np.clip(vitals["sbp_mean"] + vitals["sbp_sd"] * rng.standard_normal(cohort.size), *sbp_bounds)
    dbp_level = np.clip(vitals["dbp_mean"] + vitals["dbp_sd"] * rng.standard_normal(cohort.size), *dbp_bounds)
    hr_level = vitals["heart_rate_mean"] + vitals["heart_rate_sd"] * rng.standard_normal(cohort.size)
    weight_level = np.where(
        cohort.male,
        vitals["weight_mean_male"] + vitals["weight_sd_male"] * rng.standard_normal(cohort.size),
        vitals["weight_mean_female"] + vitals["weight_sd_female"] * rng.standard_normal(cohort.size),
    )
    weight_level = np.maximum(weight_level, vitals["weight_min"])

    sbp = np.clip(sbp_level[subject] + vitals["sbp_visit_sd"] * rng.standard_normal(size), *sbp_bounds)
    dbp = np.clip(dbp_level[subject] + vitals["dbp_visit_sd"] * rng.standard_normal(size), *dbp_bounds)
    dbp = np.minimum(dbp, sbp - 25)
    heart_rate = hr_level[subject] + vitals["heart_rate_visit_sd"] * rng.standard_normal(size)
    heart_rate = np.clip(heart_rate, vitals["heart_rate_min"], vitals["heart_rate_max"])
    frame = visits.with_columns(pl.Series("sbp", sbp), pl.Series("dbp", dbp), pl.Series("heart_rate", heart_rate))

    if linked.height:
        term = linked["term"].to_numpy()
        grade_index = linked["grade"].to_numpy() - 1
        sbp_low, sbp_high = profile.linked_low[term, grade_index], profile.linked_high[term, grade_index]
        dbp_low = profile.linked_low_diastolic[term, grade_index]
        dbp_high = profile.linked_high_diastolic[term, grade_index]
        forced_sbp = sbp_low + linked["position"].to_numpy() * (sbp_high - sbp_low)
        forced_dbp = dbp_low + linked["position_diastolic"].to_numpy() * (dbp_high - dbp_low)
        forced = (
            pl.DataFrame({"subject": linked["subject"], "day_rel": linked["day_rel"], "forced_grade": linked["grade"],
                          "forced_sbp": forced_sbp, "forced_dbp": forced_dbp})
            .sort(["subject", "day_rel", "forced_grade"], descending=[False, False, True])
            .unique(subset=["subject", "day_rel"], keep="first", maintain_order=True)
        )
        frame = frame.join(forced, on=["subject", "day_rel"], how="left").sort("subject", "day_rel").with_columns(
            pl.coalesce("forced_sbp", "sbp").alias("sbp"),
            pl.coalesce("forced_dbp", "dbp").alias("dbp"),
        )

    weight_loss = _weight_loss_by_visit(
        frame.select("subject", "day_rel"), records, cohort, profile, rng, vitals, params["dosing"]["cycle_days"]
    )
    weight_noise = 1 + vitals["weight_visit_relative_sd"] * rng.standard_normal(size)
    weight = weight_level[subject] * (1 - weight_loss) * weight_noise
    first_dose = cohort.first_dose_day[subject]
    return pl.DataFrame({
        "subject_id": cohort.subject_id.gather(subject),
        "measure_date": date_column(first_dose + frame["day_rel"].to_numpy(), "measure_date"),
        "sbp_mmhg": np.round(frame["sbp"].to_numpy()).astype(np.int64),
        "dbp_mmhg": np.round(frame["dbp"].to_numpy()).astype(np.int64),
        "heart_rate_bpm": np.round(frame["heart_rate"].to_numpy()).astype(np.int64),
        "weight_kg": np.round(weight, 1),
    }).select(source_columns("vitals"))


def _weight_loss_by_visit(visits: pl.DataFrame, records: pl.DataFrame, cohort: Cohort, profile: AeProfile,
                          rng: np.random.Generator, vitals: dict[str, Any], cycle_days: int) -> np.ndarray:
    """Fraction of baseline weight lost at each visit (visits sorted by subject and day).

    A weight-linked AE sets a loss in its grade's range from its onset on; after
    progression the weight drifts down. The larger of the two applies.
    """
    is_weight_term = pl.Series([measure == "WEIGHT" for measure in profile.linked_measure])
    events = records.filter(is_weight_term.gather(records["term"]))
    term = events["term"].to_numpy()
    grade_index = events["grade"].to_numpy() - 1
    loss = uniform_between(rng, profile.linked_low[term, grade_index], profile.linked_high[term, grade_index])
    event_loss = pl.DataFrame({"subject": events["subject"], "onset_rel": events["onset_rel"], "loss": loss})

    visit_frame = visits.with_row_index("visit_row")
    per_visit = (
        visit_frame.join(event_loss, on="subject", how="inner")
        .filter(pl.col("day_rel") >= pl.col("onset_rel"))
        .group_by("visit_row")
        .agg(pl.col("loss").max())
    )
    event_part = np.zeros(visits.height)
    event_part[per_visit["visit_row"].to_numpy()] = per_visit["loss"].to_numpy()

    subject = visits["subject"].to_numpy()
    since_progression = visits["day_rel"].to_numpy() - cohort.progression_rel[subject]
    drift = since_progression / cycle_days * vitals["weight_loss_per_cycle_after_progression"]
    drift = np.clip(drift, 0.0, vitals["weight_loss_max_after_progression"])
    return np.maximum(event_part, drift)
