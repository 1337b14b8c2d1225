"""The cohort: subjects, their sites and baseline characteristics, and their natural course.

Subjects enrol over about 18 months, start treatment within two weeks of enrolment and, if
toxicity never intervened, would stay on it until progression, death, consent withdrawal,
two years of treatment or the data cutoff; they are followed for up to 24 months. Toxicity
is laid over this course later (synth.treatment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from synth.arrays import group_starts
from synth.contract import END_REASON_WITHDRAWAL, NATURAL_END_REASONS
from synth.days import EPOCH, NEVER, day_number
from synth.draws import cumulative_rows, draw_categories, stage_rng


@dataclass
class Cohort:
    """Per-subject arrays, indexed by subject index (subjects sorted by subject_id).

    Day values are absolute (epoch day numbers) where named ``*_day`` and relative to the
    subject's first dose (day 0) where named ``*_rel``.
    """

    subject_id: pl.Series
    site_id: pl.Series
    male: np.ndarray
    age: np.ndarray
    enrolment_day: np.ndarray
    first_dose_day: np.ndarray
    recurrence_type: np.ndarray  # index into parameters recurrence.types
    reirradiated: np.ndarray
    local_recurrence: np.ndarray
    baseline_rel: np.ndarray  # screening labs/vitals day, -7..0
    # natural course (without toxicity)
    cutoff_rel: np.ndarray
    horizon_rel: np.ndarray
    progression_rel: np.ndarray
    natural_end_rel: np.ndarray  # NEVER when still on treatment at the cutoff
    natural_end_reason: np.ndarray  # index into NATURAL_END_REASONS, -1 when ongoing
    natural_death_rel: np.ndarray  # NEVER when alive at the end of observation
    natural_death_other: np.ndarray  # death from another cause (not progression)
    withdrew: np.ndarray
    last_contact_alive_rel: np.ndarray

    @property
    def size(self) -> int:
        return len(self.male)


def draw_cohort(n_subjects: int, seed: int, data_cutoff: date, params: dict[str, Any]) -> Cohort:
    """Subjects, their sites, baseline characteristics and their course without toxicity."""
    rng = stage_rng(seed, "subjects")
    trial = params["trial"]
    enrolment = params["enrolment"]
    demographics = params["demographics"]
    recurrence = params["recurrence"]

    cutoff_day = day_number(data_cutoff)
    start_day = day_number(enrolment["start_date"])
    latest_enrolment = min(
        start_day + enrolment["duration_days"], cutoff_day - enrolment["min_days_before_cutoff"]
    )
    window = latest_enrolment - start_day
    if window < 1:
        raise ValueError(
            f"data_cutoff {data_cutoff} leaves no time to enrol: it must be later than "
            f"{date.fromordinal(EPOCH.toordinal() + start_day + enrolment['min_days_before_cutoff'] + 1)}"
        )

    site_count = round(n_subjects / trial["subjects_per_site"])
    site_count = int(np.clip(site_count, trial["min_sites"], trial["max_sites"]))
    site_shares = rng.dirichlet(np.full(site_count, trial["site_share_concentration"]))
    site = rng.choice(site_count, size=n_subjects, p=site_shares) + 1
    enrolment_offset = np.floor(window * rng.random(n_subjects) ** enrolment["ramp_exponent"]).astype(np.int64)
    enrolment_day = start_day + enrolment_offset
    first_dose_day = enrolment_day + rng.integers(0, enrolment["first_dose_max_delay_days"] + 1, n_subjects)
    male = rng.random(n_subjects) < demographics["male_fraction"]
    age = np.clip(
        np.round(demographics["age_mean"] + demographics["age_sd"] * rng.standard_normal(n_subjects)),
        demographics["age_min"], demographics["age_max"],
    ).astype(np.int64)
    recurrence_cumulative = cumulative_rows(np.array(recurrence["weights"]))
    recurrence_type = draw_categories(rng, np.repeat(recurrence_cumulative, n_subjects, axis=0))
    reirradiated = rng.random(n_subjects) < np.array(recurrence["reirradiation_probability"])[recurrence_type]
    local_codes = [recurrence["types"].index(name) for name in recurrence["local_types"]]
    local_recurrence = np.isin(recurrence_type, local_codes)
    baseline_rel = -rng.integers(0, enrolment["baseline_window_days"] + 1, n_subjects)

    # Screening numbers run per site in order of enrolment; subjects are then sorted by ID,
    # which (zero-padded) is the order of site, then screening number.
    by_site_and_date = np.lexsort((np.arange(n_subjects), enrolment_day, site))
    sequence = np.empty(n_subjects, dtype=np.int64)
    sequence[by_site_and_date] = np.arange(n_subjects) - group_starts(site[by_site_and_date]) + 1
    order = np.lexsort((sequence, site))
    width = max(4, len(str(int(sequence.max()))))
    identifiers = pl.DataFrame({"site": site[order], "sequence": sequence[order]}).select(
        pl.format(
            "{}-{}-{}",
            pl.lit(trial["id_prefix"]),
            pl.col("site").cast(pl.String).str.zfill(2),
            pl.col("sequence").cast(pl.String).str.zfill(width),
        ).alias("subject_id"),
        pl.format("S{}", pl.col("site").cast(pl.String).str.zfill(2)).alias("site_id"),
    )

    def sort(values: np.ndarray) -> np.ndarray:
        return values[order]

    cohort_core = {
        "subject_id": identifiers["subject_id"],
        "site_id": identifiers["site_id"],
        "male": sort(male), "age": sort(age), "enrolment_day": sort(enrolment_day),
        "first_dose_day": sort(first_dose_day), "recurrence_type": sort(recurrence_type),
        "reirradiated": sort(reirradiated), "local_recurrence": sort(local_recurrence),
        "baseline_rel": sort(baseline_rel),
    }
    course = _draw_natural_course(stage_rng(seed, "course"), cohort_core["first_dose_day"], cutoff_day, params)
    return Cohort(**cohort_core, **course)


def _draw_natural_course(rng: np.random.Generator, first_dose_day: np.ndarray, cutoff_day: int,
                         params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Progression, death, withdrawal and last contact of each subject, ignoring toxicity."""
    course = params["course"]
    size = len(first_dose_day)
    cutoff_rel = cutoff_day - first_dose_day
    horizon_rel = np.minimum(course["followup_days"], cutoff_rel)

    # Progression is found at a tumour assessment (every 6 weeks, +-3 days).
    raw_pfs = rng.exponential(course["pfs_median_days"] / math.log(2), size)
    interval = course["assessment_interval_days"]
    jitter = rng.integers(-course["assessment_jitter_days"], course["assessment_jitter_days"] + 1, size)
    progression_rel = np.ceil(np.maximum(raw_pfs, 1) / interval).astype(np.int64) * interval + jitter

    survival_after = rng.exponential(course["post_progression_survival_median_days"] / math.log(2), size)
    survival_after = np.maximum(course["min_post_progression_survival_days"], np.round(survival_after))
    disease_death_rel = progression_rel + survival_after.astype(np.int64)
    # Deaths from other causes; nobody dies of them in the first week of treatment.
    other_death = rng.exponential(365.25 / course["other_death_rate_per_year"], size)
    other_death_rel = np.maximum(7, np.round(other_death)).astype(np.int64)
    withdrew_draw = rng.random(size) < course["withdrawal_probability"]
    withdrawal_rel = np.where(
        withdrew_draw,
        rng.integers(course["withdrawal_min_day"], course["withdrawal_max_day"] + 1, size),
        NEVER,
    )
    completion_rel = np.full(size, course["max_treatment_days"], dtype=np.int64)

    candidates = np.stack([progression_rel, other_death_rel, withdrawal_rel, completion_rel], axis=1)
    reason = np.argmin(candidates, axis=1)  # order matches NATURAL_END_REASONS
    end_rel = candidates[np.arange(size), reason]
    ended = end_rel <= horizon_rel
    natural_end_rel = np.where(ended, end_rel, NEVER)
    natural_end_reason = np.where(ended, reason, -1)
    withdrew = ended & (reason == NATURAL_END_REASONS.index(END_REASON_WITHDRAWAL))

    death_rel = np.minimum(disease_death_rel, other_death_rel)
    death_observed = (death_rel <= horizon_rel) & ~withdrew
    natural_death_rel = np.where(death_observed, death_rel, NEVER)
    natural_death_other = death_observed & (other_death_rel < disease_death_rel)

    # Last contact while alive: on treatment, the last two-weekly visit before the cutoff;
    # after withdrawal, the withdrawal day; otherwise a follow-up contact near the horizon.
    visit_interval = params["dosing"]["anti_pd1_interval_days"]
    last_visit_rel = (horizon_rel // visit_interval) * visit_interval
    earliest_contact = np.maximum(
        np.minimum(natural_end_rel, horizon_rel), horizon_rel - course["followup_contact_max_lag_days"]
    )
    contact_window = horizon_rel - earliest_contact + 1
    followup_contact = earliest_contact + np.floor(rng.random(size) * contact_window).astype(np.int64)
    last_contact_alive_rel = np.where(withdrew, withdrawal_rel, followup_contact)
    last_contact_alive_rel = np.where(ended, last_contact_alive_rel, last_visit_rel)

    return {
        "cutoff_rel": cutoff_rel, "horizon_rel": horizon_rel, "progression_rel": progression_rel,
        "natural_end_rel": natural_end_rel, "natural_end_reason": natural_end_reason,
        "natural_death_rel": natural_death_rel, "natural_death_other": natural_death_other,
        "withdrew": withdrew, "last_contact_alive_rel": last_contact_alive_rel,
    }


def natural_stop_rel(cohort: Cohort) -> np.ndarray:
    """First day without treatment if toxicity never intervenes (exclusive end of dosing)."""
    return np.where(cohort.natural_end_rel < NEVER, cohort.natural_end_rel, cohort.last_contact_alive_rel + 1)
