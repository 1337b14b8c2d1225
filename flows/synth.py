"""Synthetic trial generator for the bundled apatinib + anti-PD-1 NPC trial.

`generate_trial` writes a complete trial folder: the five source files of the source contract
(docs/sources.md) and a copy of the bundled ``trial.toml``. A data manager and a safety
physician reading it should find it plausible:

* subjects enrol over ~18 months, start treatment within two weeks of enrolment and stay on
  it until progression, toxicity, death, consent withdrawal, two years of treatment or the
  data cutoff; they are followed for up to 24 months;
* adverse events follow the profile in ``data/synth/ae_profile.csv`` (incidence, grades,
  onset, duration, attribution per agent, seriousness, dose actions, linked lab or vital
  sign), with nasopharyngeal necrosis and hemorrhage concentrated in subjects with a
  nasopharyngeal (local) recurrence or re-irradiation;
* exposure follows the AE actions: apatinib holds, 250 -> 125 mg reductions and
  withdrawals; anti-PD-1 infusions every 14 days, skipped while held, never reduced;
* labs (every cycle start plus baseline) and vitals (every two weeks plus baseline) agree
  with the lab- and vital-based AEs;
* with ``error_rate > 0`` realistic data-entry errors are injected, so that validation has
  something to query.

Every number comes from the files in ``data/synth/``: ``ae_profile.csv`` (one row per AE
type), ``lab_reference.csv`` (units, reference ranges, spreads) and ``trial_parameters.toml``
(course of the trial, dosing, seriousness, vitals, error kinds). Their source notes cite
"note §x.y", the sections of the project's research note on stopping rules and the AE
profile, and the publications it quotes.

Draws are made per AE term, per lab test and per error kind for all subjects at once with
NumPy and Polars, so 100,000 subjects (about a million AE records) take well under two
minutes. The same seed gives byte-identical files.
"""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ctcae.home import data_path

SYNTH_DATA_DIR = data_path("synth")
AE_PROFILE_PATH = SYNTH_DATA_DIR / "ae_profile.csv"
LAB_REFERENCE_PATH = SYNTH_DATA_DIR / "lab_reference.csv"
PARAMETERS_PATH = SYNTH_DATA_DIR / "trial_parameters.toml"
BUNDLED_TRIAL_DIR = data_path("trials", "npc-apatinib-pd1")
BUNDLED_CONFIG_PATH = BUNDLED_TRIAL_DIR / "trial.toml"

DEFAULT_DATA_CUTOFF = date(2026, 6, 30)

# Canonical columns of the five source files, in order (docs/sources.md).
SOURCE_COLUMNS: dict[str, list[str]] = {
    "subjects": [
        "subject_id", "site_id", "arm", "sex", "age", "enrolment_date", "recurrence_type",
        "prior_reirradiation", "end_of_treatment_date", "end_of_treatment_reason",
        "last_contact_date", "death_date", "death_cause",
    ],
    "exposure": [
        "subject_id", "agent", "start_date", "end_date", "dose_mg", "planned_dose_mg",
        "route", "frequency", "adjustment", "adjustment_reason",
    ],
    "adverse_events": [
        "ae_id", "subject_id", "verbatim_term", "ctcae_term", "other_specify", "grade",
        "onset_date", "resolution_date", "serious", "serious_criteria", "outcome",
        "attribution_apatinib", "attribution_anti_pd1", "action_apatinib",
        "action_anti_pd1", "awareness_date", "expedited_report_date",
    ],
    "labs": ["subject_id", "collection_date", "test_code", "value", "unit", "lln", "uln"],
    "vitals": [
        "subject_id", "measure_date", "sbp_mmhg", "dbp_mmhg", "heart_rate_bpm", "weight_kg",
    ],
}
SOURCE_FILE_NAMES = {name: f"{name}.csv" for name in SOURCE_COLUMNS}

AGENTS = ("apatinib", "anti_pd1")
ATTRIBUTION_LEVELS = ("unrelated", "unlikely", "possible", "probable", "definite")
# "Related" = possible or better (the bundled config's attribution rule).
FIRST_RELATED_LEVEL = ATTRIBUTION_LEVELS.index("possible")
GRADES = (1, 2, 3, 4, 5)

# Dose actions an AE can intend for one agent, before the subject's history resolves them.
INTENT_NONE, INTENT_INTERRUPT, INTENT_REDUCE, INTENT_WITHDRAW = 0, 1, 2, 3

# AE action values of the source contract.
ACTION_NOT_CHANGED = "dose_not_changed"
ACTION_REDUCED = "dose_reduced"
ACTION_INTERRUPTED = "drug_interrupted"
ACTION_WITHDRAWN = "drug_withdrawn"
ACTION_NOT_APPLICABLE = "not_applicable"

# Natural end-of-treatment reasons, as codes into this tuple.
END_REASONS = ("progression", "death", "withdrawal", "completed")

# A subject's probability of any one AE type is capped here, whatever the multipliers.
MAX_INCIDENCE = 0.95

# Sentinel for "this never happens within the data" in day arithmetic.
NEVER = 10**8

LAB_BLOCK_SUBJECTS = 10_000
# Apatinib holds closer than this are one hold (no one- or two-day restart in between).
MIN_DOSING_DAYS_BETWEEN_HOLDS = 3
EPOCH = date(1970, 1, 1)


# --------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AeProfile:
    """The AE profile as arrays: one entry per AE type, per-grade values as (terms, 5)."""

    ctcae_term: list[str]
    other_specify: list[str | None]
    allowed: np.ndarray  # bool (T, 5): grade g allowed at column g - 1
    verbatim_terms: list[list[str]]
    incidence: np.ndarray
    local_multiplier: np.ndarray
    reirradiation_multiplier: np.ndarray
    grade_probability: np.ndarray  # (T, 5)
    onset_median: np.ndarray
    onset_log_sd: np.ndarray
    duration_median: np.ndarray
    duration_log_sd: np.ndarray
    recurrence_probability: np.ndarray
    recurrence_gap_median: np.ndarray
    attributed_to: list[str]
    attribution_weights: dict[str, np.ndarray]  # agent -> (T, 5) over ATTRIBUTION_LEVELS
    serious_probability: np.ndarray  # (T, 5)
    interrupt_probability: np.ndarray  # (T, 5)
    withdraw_probability: np.ndarray  # (T, 5)
    reduce_share: np.ndarray  # (T, 5)
    sequelae_probability: np.ndarray
    linked_measure: list[str | None]
    linked_scale: list[str | None]
    linked_low: np.ndarray  # (T, 5), NaN where no range; for BP the systolic range
    linked_high: np.ndarray
    linked_low_diastolic: np.ndarray  # (T, 5), BP only
    linked_high_diastolic: np.ndarray

    @property
    def size(self) -> int:
        return len(self.ctcae_term)


def _per_grade(text: str, *, term: str, column: str) -> list[float]:
    """Parse "a;b;c;d;e" into five floats, one per grade 1-5."""
    parts = str(text).split(";")
    if len(parts) != 5:
        raise ValueError(
            f"ae_profile.csv, term {term!r}, column {column}: expected 5 ';'-separated values, got {text!r}"
        )
    return [float(part) for part in parts]


def _parse_range(text: str) -> tuple[float, float]:
    low, high = text.split("-")
    return float(low), float(high)


def load_ae_profile(path: Path = AE_PROFILE_PATH) -> AeProfile:
    """Read and check the AE profile: probabilities sum to one, disallowed grades get zero."""
    frame = pl.read_csv(path, infer_schema=False)
    terms = frame["ctcae_term"].to_list()
    size = len(terms)

    def per_grade_matrix(column: str) -> np.ndarray:
        rows = [_per_grade(text, term=term, column=column) for term, text in zip(terms, frame[column])]
        return np.array(rows, dtype=np.float64)

    def floats(column: str) -> np.ndarray:
        return np.array([float(value) for value in frame[column]], dtype=np.float64)

    allowed = np.zeros((size, 5), dtype=bool)
    for row, text in enumerate(frame["allowed_grades"]):
        for grade in str(text).split(","):
            allowed[row, int(grade) - 1] = True

    grade_probability = per_grade_matrix("grade_probabilities")
    for row, term in enumerate(terms):
        if abs(grade_probability[row].sum() - 1.0) > 1e-9:
            raise ValueError(f"ae_profile.csv, term {term!r}: grade_probabilities must sum to 1")
        if np.any(grade_probability[row][~allowed[row]] > 0):
            raise ValueError(f"ae_profile.csv, term {term!r}: probability on a grade the term does not allow")

    attribution_weights = {}
    for agent in AGENTS:
        weights = per_grade_matrix(f"attribution_weights_{agent}")
        attribution_weights[agent] = weights / weights.sum(axis=1, keepdims=True)

    interrupt = per_grade_matrix("interrupt_probability_by_grade")
    withdraw = per_grade_matrix("withdraw_probability_by_grade")
    for row, term in enumerate(terms):
        if np.any(interrupt[row] + withdraw[row] > 1.0 + 1e-9):
            raise ValueError(f"ae_profile.csv, term {term!r}: interrupt + withdraw probability above 1")

    linked_low = np.full((size, 5), np.nan)
    linked_high = np.full((size, 5), np.nan)
    linked_low_diastolic = np.full((size, 5), np.nan)
    linked_high_diastolic = np.full((size, 5), np.nan)
    linked_measure: list[str | None] = []
    linked_scale: list[str | None] = []
    for row, (term, measure, scale, ranges) in enumerate(
        zip(terms, frame["linked_measure"], frame["linked_scale"], frame["linked_range_by_grade"])
    ):
        linked_measure.append(measure or None)
        linked_scale.append(scale or None)
        if not measure:
            continue
        parts = str(ranges).split(";")
        for grade_index, part in enumerate(parts[:5]):
            if not part:
                continue
            if measure == "BP":
                systolic, diastolic = part.split("/")
                linked_low[row, grade_index], linked_high[row, grade_index] = _parse_range(systolic)
                low, high = _parse_range(diastolic)
                linked_low_diastolic[row, grade_index], linked_high_diastolic[row, grade_index] = low, high
            else:
                linked_low[row, grade_index], linked_high[row, grade_index] = _parse_range(part)
        needs_range = (grade_probability[row, :4] > 0)
        if np.any(needs_range & np.isnan(linked_low[row, :4])):
            raise ValueError(f"ae_profile.csv, term {term!r}: linked_range_by_grade misses a grade that can occur")

    return AeProfile(
        ctcae_term=terms,
        other_specify=[value or None for value in frame["other_specify"]],
        allowed=allowed,
        verbatim_terms=[str(text).split("|") for text in frame["verbatim_terms"]],
        incidence=floats("incidence_full_course"),
        local_multiplier=floats("local_recurrence_multiplier"),
        reirradiation_multiplier=floats("reirradiation_multiplier"),
        grade_probability=grade_probability,
        onset_median=floats("onset_median_days"),
        onset_log_sd=floats("onset_log_sd"),
        duration_median=floats("duration_median_days"),
        duration_log_sd=floats("duration_log_sd"),
        recurrence_probability=floats("recurrence_probability"),
        recurrence_gap_median=floats("recurrence_gap_median_days"),
        attributed_to=frame["attributed_to"].to_list(),
        attribution_weights=attribution_weights,
        serious_probability=per_grade_matrix("serious_probability_by_grade"),
        interrupt_probability=interrupt,
        withdraw_probability=withdraw,
        reduce_share=per_grade_matrix("reduce_share_by_grade"),
        sequelae_probability=floats("sequelae_probability"),
        linked_measure=linked_measure,
        linked_scale=linked_scale,
        linked_low=linked_low,
        linked_high=linked_high,
        linked_low_diastolic=linked_low_diastolic,
        linked_high_diastolic=linked_high_diastolic,
    )


def load_lab_reference(path: Path = LAB_REFERENCE_PATH) -> pl.DataFrame:
    """Lab tests with unit, reference range and spread; one row per test, or per test and sex."""
    return pl.read_csv(
        path,
        schema_overrides={
            "lln": pl.Float64, "uln": pl.Float64, "baseline_median": pl.Float64,
            "subject_log_sd": pl.Float64, "visit_log_sd": pl.Float64,
            "no_event_min": pl.Float64, "no_event_max": pl.Float64, "decimals": pl.Int64,
        },
    )


def load_parameters(path: Path = PARAMETERS_PATH) -> dict[str, Any]:
    """Scalar parameters of the generator (course, dosing, seriousness, vitals, errors)."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


# --------------------------------------------------------------------------------------
# Random helpers
# --------------------------------------------------------------------------------------

# Each stage draws from its own stream, so changing one stage leaves the others' draws alone.
STAGES = ("subjects", "course", "events", "attribution", "actions", "details", "exposure",
          "labs", "vitals", "errors")


def _stage_rng(seed: int, stage: str, block: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, STAGES.index(stage), block])


def _cumulative_rows(probabilities: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities, exactly 1.0 from the last positive category on.

    Pinning the tail to 1.0 means a category with zero probability (a grade the term does
    not allow, say) can never be drawn, whatever the floating-point rounding.
    """
    matrix = np.atleast_2d(probabilities).astype(np.float64)
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(matrix, axis=1)
    last_positive = matrix.shape[1] - 1 - np.argmax((matrix > 0)[:, ::-1], axis=1)
    columns = np.arange(matrix.shape[1])
    cumulative[columns[None, :] >= last_positive[:, None]] = 1.0
    return cumulative


def _draw_categories(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category index per row of `cumulative` (rows of cumulative probabilities)."""
    uniform = rng.random(cumulative.shape[0])
    return (uniform[:, None] >= cumulative).sum(axis=1)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, log_sd: np.ndarray | float,
              size: int) -> np.ndarray:
    return np.exp(np.log(median) + log_sd * rng.standard_normal(size))


def _draw_days(rng: np.random.Generator, median: float, log_sd: float, size: int, *,
               rounding=np.round) -> np.ndarray:
    """Whole numbers of days (at least 1) from a lognormal with the given median."""
    return np.maximum(1, rounding(_lognormal(rng, median, log_sd, size))).astype(np.int64)


def _uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + rng.random(len(low)) * (high - low)


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For each row of a key-sorted array, the index of the first row with the same key."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    is_start = np.ones(len(sorted_keys), dtype=bool)
    is_start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    start_positions = np.flatnonzero(is_start)
    return start_positions[np.cumsum(is_start) - 1]


def _cumsum_within_groups(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each new key (keys sorted)."""
    running = np.cumsum(values)
    starts = _group_starts(sorted_keys)
    return running - running[starts] + values[starts]


def _per_subject_min(n_subjects: int, subject: np.ndarray, values: np.ndarray) -> np.ndarray:
    result = np.full(n_subjects, NEVER, dtype=np.int64)
    np.minimum.at(result, subject, values)
    return result


def _expand_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner row counts, the owner of every row and the row's position in its owner."""
    owners = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    positions = np.arange(counts.sum()) - np.repeat(offsets, counts)
    return owners, positions


def _day_number(value: date) -> int:
    return (value - EPOCH).days


def _absolute_days(first_dose_day: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Relative days to epoch day numbers, keeping NEVER as NEVER."""
    return np.where(relative < NEVER, first_dose_day + relative, NEVER)


def _text(name: str, values: np.ndarray) -> pl.Series:
    """A text column from an object array (None = empty cell)."""
    return pl.Series(name, values.tolist(), dtype=pl.String)


def _dates(days: np.ndarray | pl.Series, name: str) -> pl.Series:
    """Epoch day numbers as a Polars Date column; NEVER becomes an empty cell."""
    frame = pl.DataFrame({name: np.asarray(days, dtype=np.int64)})
    return frame.select(
        pl.when(pl.col(name) < NEVER).then(pl.col(name)).otherwise(None).cast(pl.Int32).cast(pl.Date)
    ).to_series()


# --------------------------------------------------------------------------------------
# Subjects and the natural course of treatment
# --------------------------------------------------------------------------------------


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
    natural_end_reason: np.ndarray  # index into END_REASONS, -1 when ongoing
    natural_death_rel: np.ndarray  # NEVER when alive at the end of observation
    natural_death_other: np.ndarray  # death from another cause (not progression)
    withdrew: np.ndarray
    last_contact_alive_rel: np.ndarray

    @property
    def size(self) -> int:
        return len(self.male)


def draw_cohort(n_subjects: int, seed: int, data_cutoff: date, params: dict[str, Any]) -> Cohort:
    """Subjects, their sites, baseline characteristics and their course without toxicity."""
    rng = _stage_rng(seed, "subjects")
    trial = params["trial"]
    enrolment = params["enrolment"]
    demographics = params["demographics"]
    recurrence = params["recurrence"]

    cutoff_day = _day_number(data_cutoff)
    start_day = _day_number(enrolment["start_date"])
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
    recurrence_cumulative = _cumulative_rows(np.array(recurrence["weights"]))
    recurrence_type = _draw_categories(rng, np.repeat(recurrence_cumulative, n_subjects, axis=0))
    reirradiated = rng.random(n_subjects) < np.array(recurrence["reirradiation_probability"])[recurrence_type]
    local_codes = [recurrence["types"].index(name) for name in recurrence["local_types"]]
    local_recurrence = np.isin(recurrence_type, local_codes)
    baseline_rel = -rng.integers(0, enrolment["baseline_window_days"] + 1, n_subjects)

    # Screening numbers run per site in order of enrolment; subjects are then sorted by ID,
    # which (zero-padded) is the order of site, then screening number.
    by_site_and_date = np.lexsort((np.arange(n_subjects), enrolment_day, site))
    sequence = np.empty(n_subjects, dtype=np.int64)
    sequence[by_site_and_date] = np.arange(n_subjects) - _group_starts(site[by_site_and_date]) + 1
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
    course = _draw_natural_course(_stage_rng(seed, "course"), cohort_core["first_dose_day"], cutoff_day, params)
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
    reason = np.argmin(candidates, axis=1)  # order matches END_REASONS
    end_rel = candidates[np.arange(size), reason]
    ended = end_rel <= horizon_rel
    natural_end_rel = np.where(ended, end_rel, NEVER)
    natural_end_reason = np.where(ended, reason, -1)
    withdrew = ended & (reason == END_REASONS.index("withdrawal"))

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


# --------------------------------------------------------------------------------------
# Adverse events: occurrence, grade, timing
# --------------------------------------------------------------------------------------


def draw_event_candidates(cohort: Cohort, profile: AeProfile, seed: int, params: dict[str, Any]) -> pl.DataFrame:
    """Every AE episode of every subject within the natural observation window.

    Drawn per term for all subjects at once: whether the subject has the term (incidence
    times the local-recurrence and re-irradiation multipliers), onset (lognormal), grade,
    duration, and recurrences that start after the previous episode resolved.
    """
    rng = _stage_rng(seed, "events")
    events_params = params["events"]
    collection_days = params["course"]["ae_collection_days_after_last_dose"]
    stop_rel = natural_stop_rel(cohort)
    window_end = np.minimum.reduce([
        stop_rel - 1 + collection_days,
        cohort.last_contact_alive_rel,
        cohort.natural_death_rel,
    ])
    grade_cumulative = _cumulative_rows(profile.grade_probability)
    pieces: list[dict[str, np.ndarray]] = []

    for term in range(profile.size):
        probability = profile.incidence[term] * np.where(
            cohort.local_recurrence, profile.local_multiplier[term], 1.0
        ) * np.where(cohort.reirradiated, profile.reirradiation_multiplier[term], 1.0)
        probability = np.clip(probability, 0.0, MAX_INCIDENCE)
        subject = np.flatnonzero(rng.random(cohort.size) < probability)
        count = len(subject)
        onset = _draw_days(rng, profile.onset_median[term], profile.onset_log_sd[term], count, rounding=np.floor)
        grade = _draw_categories(rng, np.repeat(grade_cumulative[term:term + 1], count, axis=0)) + 1
        duration = _draw_days(rng, profile.duration_median[term], profile.duration_log_sd[term], count)
        episode = np.ones(count, dtype=np.int64)
        episodes = [(subject, onset, grade, duration, episode)]

        for number in range(2, events_params["max_episodes"] + 1):
            previous_subject, previous_onset, previous_grade, previous_duration, _ = episodes[-1]
            count = len(previous_subject)
            recurs = (rng.random(count) < profile.recurrence_probability[term]) & (previous_grade < 5)
            gap_median = max(profile.recurrence_gap_median[term], 1.0)
            gap = _draw_days(rng, gap_median, events_params["recurrence_gap_log_sd"], count)
            new_grade = _draw_categories(rng, np.repeat(grade_cumulative[term:term + 1], count, axis=0)) + 1
            new_duration = _draw_days(rng, profile.duration_median[term], profile.duration_log_sd[term], count)
            keep = np.flatnonzero(recurs)
            # A recurrence is no worse than the episode before it; both grades are allowed,
            # so their minimum is allowed too.
            episodes.append((
                previous_subject[keep],
                previous_onset[keep] + previous_duration[keep] + gap[keep],
                np.minimum(previous_grade[keep], new_grade[keep]),
                new_duration[keep],
                np.full(len(keep), number, dtype=np.int64),
            ))

        for subject_part, onset_part, grade_part, duration_part, episode_part in episodes:
            inside = onset_part <= window_end[subject_part]
            pieces.append({
                "subject": subject_part[inside], "term": np.full(inside.sum(), term, dtype=np.int64),
                "episode": episode_part[inside], "onset": onset_part[inside],
                "grade": grade_part[inside], "duration": duration_part[inside],
            })

    columns = {key: np.concatenate([piece[key] for piece in pieces]) for key in pieces[0]}
    events = pl.DataFrame(columns).sort("subject", "onset", "term", "episode")
    if not profile.allowed[events["term"].to_numpy(), events["grade"].to_numpy() - 1].all():
        raise AssertionError("generated a grade the term does not allow")
    return events


def keep_events_until_first_death(events: pl.DataFrame, cohort: Cohort, seed: int,
                                  params: dict[str, Any]) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Keep one fatal event per subject at most and drop what would start after the death.

    Returns the events and, per subject, the onset of the fatal AE and the day of the death
    it caused (NEVER if none).
    """
    rng = _stage_rng(seed, "details", block=1)
    subject = events["subject"].to_numpy()
    onset = events["onset"].to_numpy()
    fatal = events["grade"].to_numpy() == 5
    first_fatal_onset = _per_subject_min(cohort.size, subject[fatal], onset[fatal])
    delay = rng.integers(0, params["events"]["fatal_event_max_days_to_death"] + 1, cohort.size)
    fatal_death_rel = np.where(
        first_fatal_onset < NEVER,
        np.minimum.reduce([first_fatal_onset + delay, cohort.horizon_rel, cohort.natural_death_rel]),
        NEVER,
    )
    # Only the earliest fatal event of a subject stays fatal; anything starting after the
    # first fatal onset (including another fatal event) did not happen.
    fatal_onset_of_row = first_fatal_onset[subject]
    earliest_fatal = fatal & (onset == fatal_onset_of_row)
    first_of_day = earliest_fatal & (_cumsum_within_groups(earliest_fatal.astype(np.int64), subject) == 1)
    same_day_not_fatal = (onset == fatal_onset_of_row) & ~fatal
    keep = (onset < fatal_onset_of_row) | first_of_day | same_day_not_fatal
    return events.filter(pl.Series(keep)), first_fatal_onset, fatal_death_rel


# --------------------------------------------------------------------------------------
# Attribution, dose actions and the end of treatment
# --------------------------------------------------------------------------------------


def draw_attribution(events: pl.DataFrame, profile: AeProfile, seed: int) -> dict[str, np.ndarray]:
    """5-level attribution per agent, drawn from the term's weights (index into ATTRIBUTION_LEVELS)."""
    rng = _stage_rng(seed, "attribution")
    term = events["term"].to_numpy()
    levels = {}
    for agent in AGENTS:
        cumulative = _cumulative_rows(profile.attribution_weights[agent])
        levels[agent] = _draw_categories(rng, cumulative[term])
    return levels


def draw_intended_actions(events: pl.DataFrame, attribution: dict[str, np.ndarray], profile: AeProfile,
                          seed: int, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """What each AE would do to each agent's dosing if the agent were still being given.

    A related agent is withdrawn or interrupted with the term's probabilities for the
    grade; an interrupted apatinib resumes at the reduced dose with the term's reduction
    share (anti-PD-1 is never reduced, only held). An unrelated agent is still interrupted
    now and then for a severe event. A fatal event ends all treatment.
    """
    rng = _stage_rng(seed, "actions")
    term = events["term"].to_numpy()
    grade_index = events["grade"].to_numpy() - 1
    severe = grade_index >= 2
    fatal = grade_index == 4
    unrelated_interrupt = params["dosing"]["unrelated_severe_interrupt_probability"]
    intents = {}
    for agent in AGENTS:
        related = attribution[agent] >= FIRST_RELATED_LEVEL
        withdraw_p = profile.withdraw_probability[term, grade_index]
        interrupt_p = profile.interrupt_probability[term, grade_index]
        uniform = rng.random(len(term))
        intent = np.full(len(term), INTENT_NONE, dtype=np.int64)
        intent[related & (uniform < withdraw_p + interrupt_p)] = INTENT_INTERRUPT
        intent[related & (uniform < withdraw_p)] = INTENT_WITHDRAW
        intent[~related & severe & (uniform < unrelated_interrupt)] = INTENT_INTERRUPT
        if agent == "apatinib":
            reduce = rng.random(len(term)) < profile.reduce_share[term, grade_index]
            intent[(intent == INTENT_INTERRUPT) & related & reduce] = INTENT_REDUCE
        intent[fatal] = INTENT_WITHDRAW
        intents[agent] = intent
    return intents


@dataclass
class TreatmentCourse:
    """Per-subject end of dosing per agent and the resulting end of treatment."""

    stop_rel: dict[str, np.ndarray]  # first day without the agent (exclusive end of dosing)
    withdrawal_rel: dict[str, np.ndarray]  # day the agent was withdrawn for an AE, NEVER if not
    end_of_treatment_rel: np.ndarray  # NEVER when still on treatment
    end_of_treatment_reason: np.ndarray  # object array of contract values, None when ongoing
    death_rel: np.ndarray
    death_cause: np.ndarray  # object array of contract values, None when alive
    last_contact_rel: np.ndarray


def resolve_treatment_course(
    events: pl.DataFrame, intents: dict[str, np.ndarray], fatal_onset_rel: np.ndarray,
    fatal_death_rel: np.ndarray, cohort: Cohort, seed: int, params: dict[str, Any],
) -> tuple[TreatmentCourse, dict[str, np.ndarray]]:
    """Turn intended actions into each subject's dosing history and the AEs' recorded actions.

    Apatinib is withdrawn at the first AE that intends it, or at the second reduction (only
    one reduction level exists below 250 mg). Anti-PD-1 is withdrawn at the first AE that
    intends it. When one agent is withdrawn, the other goes on with the configured
    probability. Treatment ends for toxicity only when both agents have been withdrawn.
    """
    rng = _stage_rng(seed, "actions", block=1)
    dosing = params["dosing"]
    subject = events["subject"].to_numpy()
    onset = events["onset"].to_numpy()
    natural_stop = natural_stop_rel(cohort)
    on_natural_treatment = onset < natural_stop[subject]

    reduce_rank = _cumsum_within_groups((intents["apatinib"] == INTENT_REDUCE).astype(np.int64), subject)
    candidate = {
        "apatinib": (intents["apatinib"] == INTENT_WITHDRAW)
        | ((intents["apatinib"] == INTENT_REDUCE) & (reduce_rank >= 2)),
        "anti_pd1": intents["anti_pd1"] == INTENT_WITHDRAW,
    }
    withdrawal = {
        agent: _per_subject_min(cohort.size, subject[candidate[agent] & on_natural_treatment],
                                onset[candidate[agent] & on_natural_treatment])
        for agent in AGENTS
    }
    # The other agent follows the first withdrawal unless the subject goes on with it.
    continue_draw = rng.random(cohort.size)
    apatinib_first = withdrawal["apatinib"] < withdrawal["anti_pd1"]
    anti_pd1_first = withdrawal["anti_pd1"] < withdrawal["apatinib"]
    follow_apatinib = apatinib_first & (continue_draw >= dosing["continue_other_after_apatinib_withdrawal"])
    follow_anti_pd1 = anti_pd1_first & (continue_draw >= dosing["continue_other_after_anti_pd1_withdrawal"])
    withdrawal["anti_pd1"] = np.where(follow_apatinib, withdrawal["apatinib"], withdrawal["anti_pd1"])
    withdrawal["apatinib"] = np.where(follow_anti_pd1, withdrawal["anti_pd1"], withdrawal["apatinib"])
    for agent in AGENTS:
        withdrawal[agent] = np.where(withdrawal[agent] < natural_stop, withdrawal[agent], NEVER)
    stop = {agent: np.minimum(natural_stop, withdrawal[agent]) for agent in AGENTS}

    both_withdrawn = (withdrawal["apatinib"] < NEVER) & (withdrawal["anti_pd1"] < NEVER)
    toxicity_end = np.maximum(withdrawal["apatinib"], withdrawal["anti_pd1"])
    death_rel = np.minimum(cohort.natural_death_rel, fatal_death_rel)
    died_of_event = fatal_death_rel < NEVER
    fatal_onset_ends_treatment = both_withdrawn & (toxicity_end == fatal_onset_rel)

    end_rel = np.where(both_withdrawn, toxicity_end, cohort.natural_end_rel)
    end_reason = np.full(cohort.size, None, dtype=object)
    natural_ended = cohort.natural_end_rel < NEVER
    end_reason[natural_ended] = np.array(END_REASONS, dtype=object)[cohort.natural_end_reason[natural_ended]]
    end_reason[both_withdrawn] = "toxicity"
    end_reason[fatal_onset_ends_treatment] = "death"
    # A natural death ("other" causes) that is also the end of treatment stays "death".

    death_cause = np.full(cohort.size, None, dtype=object)
    died = death_rel < NEVER
    death_cause[died] = "disease_progression"
    death_cause[died & cohort.natural_death_other] = "other"
    death_cause[died_of_event & (fatal_death_rel <= cohort.natural_death_rel)] = "adverse_event"
    last_contact_rel = np.where(died, death_rel, cohort.last_contact_alive_rel)

    # Recorded action per AE and agent.
    actions = {}
    for agent, other in (("apatinib", "anti_pd1"), ("anti_pd1", "apatinib")):
        agent_stop = stop[agent][subject]
        causes_withdrawal = (
            (onset == withdrawal[agent][subject])
            & (candidate[agent] | candidate[other] | (events["grade"].to_numpy() == 5))
        )
        action = np.full(len(onset), ACTION_NOT_CHANGED, dtype=object)
        intent = intents[agent]
        action[intent == INTENT_INTERRUPT] = ACTION_INTERRUPTED
        if agent == "apatinib":
            action[(intent == INTENT_REDUCE) & (reduce_rank == 1)] = ACTION_REDUCED
        action[onset >= agent_stop] = ACTION_NOT_APPLICABLE
        action[causes_withdrawal & (withdrawal[agent][subject] < NEVER)] = ACTION_WITHDRAWN
        actions[agent] = action

    course = TreatmentCourse(
        stop_rel=stop, withdrawal_rel=withdrawal, end_of_treatment_rel=end_rel,
        end_of_treatment_reason=end_reason, death_rel=death_rel, death_cause=death_cause,
        last_contact_rel=last_contact_rel,
    )
    return course, actions


def observation_end_rel(course: TreatmentCourse, params: dict[str, Any]) -> np.ndarray:
    """Last day an AE onset is collected: 30 days after the last dose, last contact, death."""
    collection_days = params["course"]["ae_collection_days_after_last_dose"]
    last_dose_stop = np.maximum(course.stop_rel["apatinib"], course.stop_rel["anti_pd1"])
    return np.minimum.reduce([last_dose_stop - 1 + collection_days, course.last_contact_rel, course.death_rel])


# --------------------------------------------------------------------------------------
# Adverse events: the records
# --------------------------------------------------------------------------------------


def build_adverse_events(events: pl.DataFrame, attribution: dict[str, np.ndarray], actions: dict[str, np.ndarray],
                         cohort: Cohort, course: TreatmentCourse, profile: AeProfile, seed: int,
                         params: dict[str, Any]) -> pl.DataFrame:
    """The AE records: terms, dates, seriousness, outcome, attribution and actions.

    Keeps the internal columns (subject index, term index, relative days) next to the
    contract columns; `adverse_events_source` selects the contract columns.
    """
    rng = _stage_rng(seed, "details")
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
        cumulative = _cumulative_rows(np.array(list(table.values())))
        rows = np.flatnonzero(serious & (grade == grade_value))
        picks = _draw_categories(rng, np.repeat(cumulative, len(rows), axis=0))
        criteria[rows] = labels[picks]

    delay_cumulative = _cumulative_rows(np.array(event_params["awareness_delay_weights"]))
    delay = _draw_categories(rng, np.repeat(delay_cumulative, size, axis=0))
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
        grade == 5, "fatal",
        np.where(resolved, np.where(sequelae, "recovered_with_sequelae", "recovered"),
                 np.where(subject_died, "not_recovered",
                          np.where(subject_withdrew, "unknown",
                                   np.where(recovering, "recovering", "not_recovered")))),
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
        _dates(first_dose + onset, "onset_date"),
        _dates(np.where(resolved, first_dose + resolution, NEVER), "resolution_date"),
        pl.Series("serious", np.where(serious, "Y", "N")),
        _text("serious_criteria", criteria),
        pl.Series("outcome", outcome),
        pl.Series("attribution_apatinib", np.array(ATTRIBUTION_LEVELS)[attribution["apatinib"]]),
        pl.Series("attribution_anti_pd1", np.array(ATTRIBUTION_LEVELS)[attribution["anti_pd1"]]),
        _text("action_apatinib", actions["apatinib"]),
        _text("action_anti_pd1", actions["anti_pd1"]),
        _dates(np.where(serious, first_dose + awareness, NEVER), "awareness_date"),
        _dates(np.where(reported, first_dose + report, NEVER), "expedited_report_date"),
    )
    return records


def adverse_events_source(records: pl.DataFrame) -> pl.DataFrame:
    return records.select(SOURCE_COLUMNS["adverse_events"])


# --------------------------------------------------------------------------------------
# Exposure
# --------------------------------------------------------------------------------------

# Exposure rows while they are built: subject index and days relative to the first dose.
EXPOSURE_WORK_COLUMNS = [
    "subject", "agent", "start_rel", "end_rel", "dose_mg", "planned_dose_mg", "adjustment", "adjustment_reason",
]


def build_exposure(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse, seed: int,
                   params: dict[str, Any]) -> pl.DataFrame:
    """Exposure rows of both agents, consistent with the AE actions."""
    rng = _stage_rng(seed, "exposure")
    apatinib = _apatinib_exposure(records, cohort, course, rng, params)
    anti_pd1 = _anti_pd1_exposure(records, course, rng, params)
    combined = pl.concat([apatinib, anti_pd1]).sort("subject", "agent", "start_rel")
    return combined.with_columns(cohort.subject_id.gather(combined["subject"]).alias("subject_id"))


def reconcile_reduction_actions(records: pl.DataFrame, exposure: pl.DataFrame) -> pl.DataFrame:
    """Record an interruption instead of a reduction when the reduced dose never started.

    That happens when apatinib is withdrawn, or treatment ends, during the hold that was to
    end in the reduction.
    """
    reduced_subjects = exposure.filter(
        (pl.col("agent") == "apatinib") & (pl.col("adjustment") == "reduced")
    )["subject"].unique()
    return records.with_columns(
        pl.when(
            (pl.col("action_apatinib") == ACTION_REDUCED) & ~pl.col("subject").is_in(reduced_subjects.implode())
        )
        .then(pl.lit(ACTION_INTERRUPTED))
        .otherwise(pl.col("action_apatinib"))
        .alias("action_apatinib")
    )


def _withdrawal_reasons(records: pl.DataFrame, agent: str) -> pl.DataFrame:
    """Per subject, the CTCAE term of the (first) AE that withdrew the agent."""
    return (
        records.filter(pl.col(f"action_{agent}") == ACTION_WITHDRAWN)
        .sort("subject", "onset_rel", "term")
        .group_by("subject", maintain_order=True)
        .agg(pl.col("ctcae_term").first().alias("reason"))
    )


def _discontinuation_rows(records: pl.DataFrame, course: TreatmentCourse, agent: str,
                          dose_mg: int) -> pl.DataFrame:
    withdrawn_subjects = np.flatnonzero(course.withdrawal_rel[agent] < NEVER)
    rows = pl.DataFrame({
        "subject": withdrawn_subjects,
        "start_rel": course.withdrawal_rel[agent][withdrawn_subjects],
    }).join(_withdrawal_reasons(records, agent), on="subject", how="left")
    return rows.select(
        "subject",
        pl.lit(agent).alias("agent"),
        "start_rel",
        pl.col("start_rel").alias("end_rel"),
        pl.lit(0).alias("dose_mg"),
        pl.lit(dose_mg).alias("planned_dose_mg"),
        pl.lit("discontinued").alias("adjustment"),
        pl.col("reason").fill_null("other").alias("adjustment_reason"),
    )


def _apatinib_exposure(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse,
                       rng: np.random.Generator, params: dict[str, Any]) -> pl.DataFrame:
    """Constant-dose intervals: 250 mg, holds (0 mg), 125 mg after the reduction, discontinuation.

    Each interrupting or reducing AE opens a hold 0-2 days after its onset; holds that
    overlap or nearly touch merge into one (named after its first AE). The subject resumes at
    125 mg after the hold that contains the reducing AE and stays there.
    """
    dosing = params["dosing"]
    full_dose = dosing["apatinib_dose_mg"]
    reduced_dose = dosing["apatinib_reduced_dose_mg"]
    last_dose_rel = course.stop_rel["apatinib"] - 1

    holding = records.filter(pl.col("action_apatinib").is_in([ACTION_INTERRUPTED, ACTION_REDUCED]))
    subject = holding["subject"].to_numpy()
    onset = holding["onset_rel"].to_numpy()
    is_reduction = (holding["action_apatinib"] == ACTION_REDUCED).to_numpy()
    start_delay = rng.integers(0, dosing["hold_start_max_delay_days"] + 1, len(onset))
    hold_start = np.maximum(1, np.minimum(onset + start_delay, last_dose_rel[subject]))
    reduction_hold = _lognormal(
        rng, dosing["apatinib_reduction_hold_median_days"], dosing["apatinib_reduction_hold_log_sd"], len(onset)
    )
    interruption_hold = _lognormal(
        rng, dosing["apatinib_hold_median_days"], dosing["apatinib_hold_log_sd"], len(onset)
    )
    length = np.where(is_reduction, reduction_hold, interruption_hold)
    length = np.clip(np.round(length), 1, dosing["apatinib_hold_max_days"]).astype(np.int64)
    hold_end = np.minimum(hold_start + length - 1, last_dose_rel[subject])
    holds = pl.DataFrame({
        "subject": subject, "start_rel": hold_start, "end_rel": hold_end,
        "reason": holding["ctcae_term"], "is_reduction": is_reduction,
    }).filter(pl.col("start_rel") <= pl.col("end_rel")).sort("subject", "start_rel", "end_rel")

    # Merge holds that overlap or would leave fewer than MIN_DOSING_DAYS_BETWEEN_HOLDS days
    # of dosing between them: a second AE during a hold prolongs it.
    holds = holds.with_columns(
        pl.col("end_rel").cum_max().shift(1).over("subject").alias("previous_end"),
    ).with_columns(
        (
            pl.col("previous_end").is_null()
            | (pl.col("start_rel") > pl.col("previous_end") + MIN_DOSING_DAYS_BETWEEN_HOLDS)
        ).cast(pl.Int64).cum_sum().over("subject").alias("hold_group"),
    )
    merged = holds.group_by("subject", "hold_group", maintain_order=True).agg(
        pl.col("start_rel").min(),
        pl.col("end_rel").max(),
        pl.col("reason").first(),
        pl.col("is_reduction").any(),
        pl.col("reason").filter(pl.col("is_reduction")).first().alias("reduction_reason"),
    ).sort("subject", "start_rel")

    reduction = (
        merged.filter(pl.col("is_reduction"))
        .group_by("subject", maintain_order=True)
        .agg((pl.col("end_rel").first() + 1).alias("reduced_from_rel"), pl.col("reduction_reason").first())
    )

    # Dosing intervals: before the first hold, between holds, after the last hold.
    after_holds = merged.with_columns(
        (pl.col("end_rel") + 1).alias("segment_start"),
        (pl.col("start_rel").shift(-1).over("subject") - 1).alias("segment_end"),
    )
    last_dose = pl.Series("last_dose_rel", last_dose_rel)
    after_holds = after_holds.with_columns(
        pl.col("segment_end").fill_null(last_dose.gather(after_holds["subject"])),
    ).select("subject", pl.col("segment_start").alias("start_rel"), pl.col("segment_end").alias("end_rel"))
    first_hold_start = merged.group_by("subject", maintain_order=True).agg(
        pl.col("start_rel").first().alias("first_hold")
    )
    initial = pl.DataFrame({"subject": np.arange(cohort.size), "start_rel": np.zeros(cohort.size, dtype=np.int64),
                            "last_dose_rel": last_dose_rel})
    initial = initial.join(first_hold_start, on="subject", how="left").select(
        "subject", "start_rel",
        pl.coalesce(pl.col("first_hold") - 1, pl.col("last_dose_rel")).alias("end_rel"),
    )
    dosing_intervals = (
        pl.concat([initial, after_holds])
        .filter(pl.col("start_rel") <= pl.col("end_rel"))
        .join(reduction, on="subject", how="left")
        .with_columns(
            pl.when(pl.col("reduced_from_rel").is_not_null() & (pl.col("start_rel") >= pl.col("reduced_from_rel")))
            .then(pl.lit(reduced_dose)).otherwise(pl.lit(full_dose)).alias("dose_mg"),
            pl.when(pl.col("start_rel") == pl.col("reduced_from_rel"))
            .then(pl.lit("reduced")).otherwise(pl.lit("none")).alias("adjustment"),
        )
        .with_columns(
            pl.when(pl.col("adjustment") == "reduced")
            .then(pl.col("reduction_reason"))
            .otherwise(None)
            .alias("adjustment_reason"),
        )
        .select("subject", "start_rel", "end_rel", "dose_mg", "adjustment", "adjustment_reason")
    )
    held_intervals = merged.select(
        "subject", "start_rel", "end_rel", pl.lit(0).alias("dose_mg"), pl.lit("held").alias("adjustment"),
        pl.col("reason").alias("adjustment_reason"),
    )
    intervals = pl.concat([dosing_intervals, held_intervals]).with_columns(
        pl.lit("apatinib").alias("agent"), pl.lit(full_dose).alias("planned_dose_mg"),
    ).select(EXPOSURE_WORK_COLUMNS)
    discontinued = _discontinuation_rows(records, course, "apatinib", full_dose)
    return pl.concat([intervals, discontinued.select(EXPOSURE_WORK_COLUMNS)]).with_columns(
        pl.lit("PO").alias("route"), pl.lit("QD").alias("frequency"),
    )


def _anti_pd1_exposure(records: pl.DataFrame, course: TreatmentCourse, rng: np.random.Generator,
                       params: dict[str, Any]) -> pl.DataFrame:
    """One row per scheduled infusion every 14 days; held infusions have dose 0.

    An interrupting AE skips the next scheduled infusion on or after its onset and any
    other within the hold (median 11 days).
    """
    dosing = params["dosing"]
    dose = dosing["anti_pd1_dose_mg"]
    interval = dosing["anti_pd1_interval_days"]
    stop = course.stop_rel["anti_pd1"]
    slot_counts = np.maximum(0, (stop + interval - 1) // interval)  # slots 14k < stop
    owners, slot = _expand_counts(slot_counts)
    slots = pl.DataFrame({"subject": owners, "slot": slot})

    holding = records.filter(pl.col("action_anti_pd1") == ACTION_INTERRUPTED)
    onset = holding["onset_rel"].to_numpy()
    hold_length = _lognormal(rng, dosing["anti_pd1_hold_median_days"], dosing["anti_pd1_hold_log_sd"], len(onset))
    first_slot = (onset + interval - 1) // interval
    last_slot = np.maximum(first_slot, np.floor((onset + hold_length) / interval).astype(np.int64))
    held = (
        pl.DataFrame({
            "subject": holding["subject"], "onset_rel": onset, "reason": holding["ctcae_term"],
            "first_slot": first_slot, "last_slot": last_slot,
        })
        .with_columns(pl.int_ranges("first_slot", pl.col("last_slot") + 1).alias("slot"))
        .explode("slot")
        .sort("subject", "slot", "onset_rel")
        .unique(subset=["subject", "slot"], keep="first", maintain_order=True)
        .select("subject", "slot", "reason")
    )
    infusions = (
        slots.join(held, on=["subject", "slot"], how="left")
        .sort("subject", "slot")
        .select(
            "subject",
            pl.lit("anti_pd1").alias("agent"),
            (pl.col("slot") * interval).alias("start_rel"),
            (pl.col("slot") * interval).alias("end_rel"),
            pl.when(pl.col("reason").is_null()).then(pl.lit(dose)).otherwise(pl.lit(0)).alias("dose_mg"),
            pl.lit(dose).alias("planned_dose_mg"),
            pl.when(pl.col("reason").is_null()).then(pl.lit("none")).otherwise(pl.lit("held")).alias("adjustment"),
            pl.col("reason").alias("adjustment_reason"),
        )
    )
    discontinued = _discontinuation_rows(records, course, "anti_pd1", dose)
    return pl.concat([infusions, discontinued.select(infusions.columns)]).with_columns(
        pl.lit("IV").alias("route"), pl.lit("Q2W").alias("frequency"),
    )


def exposure_source(exposure: pl.DataFrame, cohort: Cohort) -> pl.DataFrame:
    first_dose = pl.Series(cohort.first_dose_day).gather(exposure["subject"])
    return exposure.with_columns(
        _dates(first_dose + exposure["start_rel"], "start_date"),
        _dates(first_dose + exposure["end_rel"], "end_date"),
    ).select(SOURCE_COLUMNS["exposure"])


# --------------------------------------------------------------------------------------
# Subjects file
# --------------------------------------------------------------------------------------


def subjects_source(cohort: Cohort, course: TreatmentCourse, params: dict[str, Any]) -> pl.DataFrame:
    types = np.array(params["recurrence"]["types"], dtype=object)
    first_dose = cohort.first_dose_day
    return pl.DataFrame({
        "subject_id": cohort.subject_id,
        "site_id": cohort.site_id,
        "arm": [params["trial"]["arm"]] * cohort.size,
        "sex": np.where(cohort.male, "M", "F"),
        "age": cohort.age,
        "enrolment_date": _dates(cohort.enrolment_day, "enrolment_date"),
        "recurrence_type": _text("recurrence_type", types[cohort.recurrence_type]),
        "prior_reirradiation": np.where(cohort.reirradiated, "Y", "N"),
        "end_of_treatment_date": _dates(
            _absolute_days(first_dose, course.end_of_treatment_rel), "end_of_treatment_date"
        ),
        "end_of_treatment_reason": _text("end_of_treatment_reason", course.end_of_treatment_reason),
        "last_contact_date": _dates(first_dose + course.last_contact_rel, "last_contact_date"),
        "death_date": _dates(_absolute_days(first_dose, course.death_rel), "death_date"),
        "death_cause": _text("death_cause", course.death_cause),
    }).select(SOURCE_COLUMNS["subjects"])


# --------------------------------------------------------------------------------------
# Labs and vitals
# --------------------------------------------------------------------------------------


def visit_end_rel(course: TreatmentCourse) -> np.ndarray:
    """Last day of on-treatment visits: end of treatment, or last contact when ongoing; before death."""
    end = np.where(course.end_of_treatment_rel < NEVER, course.end_of_treatment_rel, course.last_contact_rel)
    return np.minimum(end, course.death_rel - 1)


def _linked_rows(records: pl.DataFrame, profile: AeProfile, measures: set[str], course: TreatmentCourse,
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


def _later_visits(linked: pl.DataFrame, interval: int) -> pl.DataFrame:
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


@dataclass(frozen=True)
class LabTable:
    """Lab reference values as (sex, test) arrays: row 0 female, row 1 male."""

    test_codes: list[str]  # scheduled tests in reference order, then UPROT_24H
    units: list[str]
    values: dict[str, np.ndarray]

    def lookup(self, column: str, male: np.ndarray, test_index: np.ndarray) -> np.ndarray:
        return self.values[column][male.astype(np.int64), test_index]


def build_lab_table(lab_reference: pl.DataFrame) -> LabTable:
    codes = lab_reference["test_code"].unique(maintain_order=True).to_list()
    scheduled = [code for code in codes if code != "UPROT_24H"]
    ordered = scheduled + ["UPROT_24H"]
    columns = [
        "lln", "uln", "baseline_median", "subject_log_sd", "visit_log_sd", "no_event_min", "no_event_max", "decimals",
    ]
    values = {column: np.full((2, len(ordered)), np.nan) for column in columns}
    units = []
    for index, code in enumerate(ordered):
        rows = lab_reference.filter(pl.col("test_code") == code)
        units.append(rows["unit"][0])
        for sex_row, sex in ((0, "F"), (1, "M")):
            match = rows.filter(pl.col("sex").is_in([sex, "all"])).row(0, named=True)
            for column in columns:
                if match[column] is not None:
                    values[column][sex_row, index] = match[column]
    return LabTable(test_codes=ordered, units=units, values=values)


# Lab rows are keyed by one integer (subject, day, test) so that the few AE-forced values
# can be merged into the scheduled ones without sorting millions of rows.
LAB_KEY_DAY_OFFSET = 64
LAB_KEY_DAYS = 4096
LAB_KEY_TESTS = 32


def _lab_key(subject: np.ndarray, day: np.ndarray, test: np.ndarray) -> np.ndarray:
    return (subject.astype(np.int64) * LAB_KEY_DAYS + (day + LAB_KEY_DAY_OFFSET)) * LAB_KEY_TESTS + test


def build_labs(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse, profile: AeProfile,
               lab_reference: pl.DataFrame, seed: int, params: dict[str, Any], error_rate: float,
               path: Path) -> int:
    """Write labs.csv block by block of subjects; returns the number of rows written.

    Scheduled draws: a baseline within 7 days before the first dose, then every cycle start
    (day 28, 56, ...) while on treatment. Each subject has a personal level per test and
    each visit a noise around it, kept inside a no-AE band; lab-based AEs override values
    (see `_linked_rows`). 24-hour urine protein is measured when the dipstick reads >= 2+.
    """
    cycle = params["dosing"]["cycle_days"]
    table = build_lab_table(lab_reference)
    scheduled_tests = table.test_codes[:-1]
    visit_end = visit_end_rel(course)
    linked_all = _linked_rows(records, profile, set(scheduled_tests), course,
                              lambda linked: _later_visits(linked, cycle), _stage_rng(seed, "labs", block=10**6))
    linked_all = linked_all.with_columns((pl.col("subject") // LAB_BLOCK_SUBJECTS).alias("block"))
    rows_written = 0
    with path.open("wb") as handle:
        for block_start in range(0, cohort.size, LAB_BLOCK_SUBJECTS):
            block = block_start // LAB_BLOCK_SUBJECTS
            block_subjects = np.arange(block_start, min(block_start + LAB_BLOCK_SUBJECTS, cohort.size))
            rng = _stage_rng(seed, "labs", block)
            frame = _lab_block(block_subjects, cohort, visit_end, linked_all.filter(pl.col("block") == block),
                               profile, table, rng, params["labs"], cycle)
            frame = _inject_lab_errors(frame, error_rate, params, rng)
            frame.write_csv(handle, include_header=(block == 0), float_scientific=False)
            rows_written += frame.height
    return rows_written


def _linked_values(rows: pl.DataFrame, profile: AeProfile, uln: np.ndarray) -> np.ndarray:
    """Values in the grade's range for AE-forced rows (x ULN or absolute)."""
    term = rows["term"].to_numpy()
    grade_index = rows["grade"].to_numpy() - 1
    low = profile.linked_low[term, grade_index]
    high = profile.linked_high[term, grade_index]
    scale_is_uln = np.array([profile.linked_scale[t] == "x_uln" for t in range(profile.size)])[term]
    value = low + rows["position"].to_numpy() * (high - low)
    return np.where(scale_is_uln, value * uln, value)


def _lab_block(block_subjects: np.ndarray, cohort: Cohort, visit_end: np.ndarray, linked: pl.DataFrame,
               profile: AeProfile, table: LabTable, rng: np.random.Generator, lab_params: dict[str, Any],
               cycle: int) -> pl.DataFrame:
    n_tests = len(table.test_codes) - 1
    uprot_24h_index = n_tests
    dipstick_index = table.test_codes.index("UPROT_DIP")
    visit_counts = 1 + np.maximum(0, visit_end[block_subjects] // cycle)
    owner_position, visit_number = _expand_counts(visit_counts)
    visit_subject = block_subjects[owner_position]
    visit_day = np.where(visit_number == 0, cohort.baseline_rel[visit_subject], visit_number * cycle)

    # Long format, one row per visit and test, generated in (subject, day, test) order.
    subject = np.repeat(visit_subject, n_tests)
    day = np.repeat(visit_day, n_tests)
    test = np.tile(np.arange(n_tests), len(visit_subject))
    male = cohort.male[subject]
    subject_level = rng.standard_normal((len(block_subjects), n_tests))
    level_row = subject_level[np.repeat(owner_position, n_tests), test]
    noise = rng.standard_normal(len(subject))
    with np.errstate(invalid="ignore"):
        log_deviation = (
            table.lookup("subject_log_sd", male, test) * level_row + table.lookup("visit_log_sd", male, test) * noise
        )
        value = table.lookup("baseline_median", male, test) * np.exp(log_deviation)
        value = np.clip(value, table.lookup("no_event_min", male, test), table.lookup("no_event_max", male, test))
    is_dipstick = test == dipstick_index
    trace = rng.random(is_dipstick.sum()) < lab_params["dipstick_trace_probability"]
    value[is_dipstick] = trace.astype(np.float64)
    key = _lab_key(subject, day, test)

    if linked.height:
        forced_subject = linked["subject"].to_numpy()
        forced_day = linked["day_rel"].to_numpy()
        forced_test = np.array([table.test_codes.index(code) for code in linked["measure"]], dtype=np.int64)
        forced_grade = linked["grade"].to_numpy()
        forced_uln = table.lookup("uln", cohort.male[forced_subject], forced_test)
        forced_value = _linked_values(linked, profile, forced_uln)
        # Dipstick readings are whole numbers within the grade's range (1+, 2-3+, 4+).
        forced_value = np.where(forced_test == dipstick_index, np.clip(np.floor(forced_value), 0, 4), forced_value)
        forced_key = _lab_key(forced_subject, forced_day, forced_test)
        # Where two AEs force the same value, the higher grade wins.
        order = np.lexsort((-forced_grade, forced_key))
        forced_key, forced_value = forced_key[order], forced_value[order]
        first = np.ones(len(forced_key), dtype=bool)
        first[1:] = forced_key[1:] != forced_key[:-1]
        forced_key, forced_value = forced_key[first], forced_value[first]
        forced_subject = forced_key // (LAB_KEY_DAYS * LAB_KEY_TESTS)
        forced_day = (forced_key // LAB_KEY_TESTS) % LAB_KEY_DAYS - LAB_KEY_DAY_OFFSET
        forced_test = forced_key % LAB_KEY_TESTS
        # Forced values on a scheduled visit replace it; the others are unscheduled draws.
        position = np.minimum(np.searchsorted(key, forced_key), len(key) - 1)
        on_visit = key[position] == forced_key
        value[position[on_visit]] = forced_value[on_visit]
        extra = ~on_visit
        subject = np.concatenate([subject, forced_subject[extra]])
        day = np.concatenate([day, forced_day[extra]])
        test = np.concatenate([test, forced_test[extra]])
        value = np.concatenate([value, forced_value[extra]])

    # 24-hour urine protein wherever the dipstick reads 2+ or more.
    high_dipstick = (test == dipstick_index) & (value >= 2)
    reading = value[high_dipstick].astype(np.int64)
    ranges = np.array([
        lab_params["uprot_24h_range_2plus"], lab_params["uprot_24h_range_3plus"], lab_params["uprot_24h_range_4plus"],
    ])
    band = ranges[np.clip(reading - 2, 0, 2)]
    subject = np.concatenate([subject, subject[high_dipstick]])
    day = np.concatenate([day, day[high_dipstick]])
    value = np.concatenate([value, _uniform_between(rng, band[:, 0], band[:, 1])])
    test = np.concatenate([test, np.full(len(reading), uprot_24h_index, dtype=np.int64)])

    order = np.argsort(_lab_key(subject, day, test), kind="stable")
    subject, day, test, value = subject[order], day[order], test[order], value[order]
    male = cohort.male[subject]
    scale = 10.0 ** table.lookup("decimals", male, test)
    rounded = np.round(value * scale) / scale
    lln = table.lookup("lln", male, test)
    uln = table.lookup("uln", male, test)
    return pl.DataFrame({
        "subject_id": cohort.subject_id.gather(subject),
        "collection_date": _dates(cohort.first_dose_day[subject] + day, "collection_date"),
        "test_code": pl.Series(table.test_codes).gather(test),
        "value": rounded,
        "unit": pl.Series(table.units).gather(test),
        "lln": lln,
        "uln": uln,
    }).with_columns(pl.col("lln").fill_nan(None), pl.col("uln").fill_nan(None))


def build_vitals(records: pl.DataFrame, cohort: Cohort, course: TreatmentCourse, profile: AeProfile,
                 seed: int, params: dict[str, Any]) -> pl.DataFrame:
    """Vitals at baseline and every 2 weeks on treatment (so at every cycle start too).

    Blood pressure agrees with hypertension AEs (the onset day gets a measurement in the
    grade's range; later visits during the event one grade lower); weight falls with
    anorexia and weight-loss AEs and drifts down after progression.
    """
    rng = _stage_rng(seed, "vitals")
    vitals = params["vitals"]
    interval = params["dosing"]["anti_pd1_interval_days"]
    visit_end = visit_end_rel(course)
    visit_counts = 1 + np.maximum(0, visit_end // interval) + 1  # baseline + days 0, 14, ...
    owner, position = _expand_counts(visit_counts)
    day = np.where(position == 0, cohort.baseline_rel[owner], (position - 1) * interval)
    visits = pl.DataFrame({"subject": owner, "day_rel": day}).unique(maintain_order=True)

    linked = _linked_rows(records, profile, {"BP"}, course, lambda rows: _later_visits(rows, interval), rng)
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
        "measure_date": _dates(first_dose + frame["day_rel"].to_numpy(), "measure_date"),
        "sbp_mmhg": np.round(frame["sbp"].to_numpy()).astype(np.int64),
        "dbp_mmhg": np.round(frame["dbp"].to_numpy()).astype(np.int64),
        "heart_rate_bpm": np.round(frame["heart_rate"].to_numpy()).astype(np.int64),
        "weight_kg": np.round(weight, 1),
    })


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
    loss = _uniform_between(rng, profile.linked_low[term, grade_index], profile.linked_high[term, grade_index])
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


# --------------------------------------------------------------------------------------
# Data-entry errors
# --------------------------------------------------------------------------------------

AE_ERROR_KINDS = (
    "grade_not_allowed", "other_specify_missing", "misspelt_term", "resolution_before_onset",
    "fatal_outcome_mismatch", "serious_incomplete", "attribution_off_scale",
    "onset_before_enrolment", "duplicate_ae_id", "unknown_subject",
)


def _misspell(term: str, misspellings: dict[str, str]) -> str:
    if term in misspellings:
        return misspellings[term]
    middle = len(term) // 2
    return term[:middle - 1] + term[middle] + term[middle - 1] + term[middle + 1:]


def inject_ae_errors(records: pl.DataFrame, cohort: Cohort, profile: AeProfile, error_rate: float,
                     seed: int, params: dict[str, Any]) -> pl.DataFrame:
    """Corrupt `error_rate` of the AE rows with typical data-entry errors.

    The kinds are spread evenly over the chosen rows in a seed-dependent order; a kind that
    needs a particular row (an "Other, specify" term, a term with a disallowed grade) is
    given only to rows that qualify.
    """
    if error_rate <= 0 or records.height == 0:
        return records
    rng = _stage_rng(seed, "errors")
    error_params = params["errors"]
    size = records.height
    n_errors = max(1, int(round(error_rate * size)))
    kind_order = rng.permutation(len(AE_ERROR_KINDS))
    kind_counts = np.bincount(kind_order[np.arange(n_errors) % len(AE_ERROR_KINDS)], minlength=len(AE_ERROR_KINDS))

    term = records["term"].to_numpy()
    # Per term, the lowest grade below 5 that CTCAE does not allow (0 if it allows 1-4).
    disallowed_low = np.zeros(profile.size, dtype=np.int64)
    for term_index in range(profile.size):
        for grade in (4, 3, 2, 1):
            if not profile.allowed[term_index, grade - 1]:
                disallowed_low[term_index] = grade
    eligible = {
        "grade_not_allowed": disallowed_low[term] > 0,
        "other_specify_missing": records["other_specify"].is_not_null().to_numpy(),
        "duplicate_ae_id": np.arange(size) > 0,
    }
    used = np.zeros(size, dtype=bool)
    chosen: dict[str, np.ndarray] = {}
    for kind_index, kind in enumerate(AE_ERROR_KINDS):
        pool = np.flatnonzero(eligible.get(kind, np.ones(size, dtype=bool)) & ~used)
        count = min(kind_counts[kind_index], len(pool))
        rows = np.sort(rng.choice(pool, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)
        used[rows] = True
        chosen[kind] = rows

    columns = {name: records[name].clone() for name in (
        "ae_id", "subject_id", "ctcae_term", "other_specify", "grade", "onset_date", "resolution_date",
        "serious", "serious_criteria", "outcome", "attribution_apatinib", "attribution_anti_pd1", "awareness_date",
    )}

    def overwrite(column: str, rows: np.ndarray, values: list) -> None:
        if len(rows):
            columns[column] = columns[column].scatter(rows, pl.Series(values, dtype=columns[column].dtype))

    def current(column: str, rows: np.ndarray) -> list:
        return columns[column].gather(rows).to_list()

    misspellings = error_params["misspellings"]
    off_scale = error_params["attribution_off_scale"]
    subject_of_row = records["subject"].to_numpy()

    rows = chosen["grade_not_allowed"]
    overwrite("grade", rows, [int(disallowed_low[term[row]]) for row in rows])
    rows = chosen["other_specify_missing"]
    overwrite("other_specify", rows, [None] * len(rows))
    rows = chosen["misspelt_term"]
    overwrite("ctcae_term", rows, [_misspell(text, misspellings) for text in current("ctcae_term", rows)])
    rows = chosen["resolution_before_onset"]
    days_early = rng.integers(1, 21, len(rows))
    overwrite("resolution_date", rows, [
        onset - timedelta(days=int(days)) for onset, days in zip(current("onset_date", rows), days_early)
    ])
    rows = chosen["fatal_outcome_mismatch"]
    overwrite("outcome", rows, ["recovered" if grade == 5 else "fatal" for grade in current("grade", rows)])
    rows = chosen["serious_incomplete"]
    overwrite("serious", rows, ["Y"] * len(rows))
    overwrite("awareness_date", rows[0::2], [None] * len(rows[0::2]))
    overwrite("serious_criteria", rows[1::2], [None] * len(rows[1::2]))
    rows = chosen["attribution_off_scale"]
    for column, part in (("attribution_apatinib", rows[0::2]), ("attribution_anti_pd1", rows[1::2])):
        overwrite(column, part, [off_scale[i] for i in rng.integers(0, len(off_scale), len(part))])
    rows = chosen["onset_before_enrolment"]
    enrolment = cohort.enrolment_day[subject_of_row[rows]] - rng.integers(1, 31, len(rows))
    overwrite("onset_date", rows, [EPOCH + timedelta(days=int(day)) for day in enrolment])
    rows = chosen["duplicate_ae_id"]
    overwrite("ae_id", rows, current("ae_id", rows - 1))
    rows = chosen["unknown_subject"]
    # Site 00 does not exist: a mistyped site number.
    overwrite("subject_id", rows, [re.sub(r"-\d+-", "-00-", text, count=1) for text in current("subject_id", rows)])

    return records.with_columns(list(columns.values()))


def _inject_lab_errors(labs: pl.DataFrame, error_rate: float, params: dict[str, Any],
                       rng: np.random.Generator) -> pl.DataFrame:
    """A few lab rows in conventional units, with a lost minus-sign typo, or without a value."""
    if error_rate <= 0 or labs.height == 0:
        return labs
    conversions = params["errors"]["conventional_units"]
    count = max(1, int(round(error_rate * params["errors"]["lab_rate_factor"] * labs.height)))
    convertible = labs["test_code"].is_in(list(conversions)).to_numpy()
    per_kind = [count - 2 * (count // 3), count // 3, count // 3]
    used = np.zeros(labs.height, dtype=bool)
    values = labs["value"].clone()
    units = labs["unit"].clone()
    for kind, kind_count in enumerate(per_kind):
        eligible = convertible if kind == 0 else np.ones(labs.height, dtype=bool)
        pool = np.flatnonzero(eligible & ~used)
        rows = np.sort(rng.choice(pool, size=min(kind_count, len(pool)), replace=False))
        used[rows] = True
        if len(rows) == 0:
            continue
        old_values = values.gather(rows).to_list()
        if kind == 0:
            conversion = [conversions[code] for code in labs["test_code"].gather(rows).to_list()]
            new_units = [item["unit"] for item in conversion]
            new_values = [round(value / item["factor"], 2) for value, item in zip(old_values, conversion)]
            units = units.scatter(rows, pl.Series(new_units, dtype=pl.String))
        elif kind == 1:
            new_values = [-value if value else -1.0 for value in old_values]
        else:
            new_values = [None] * len(rows)
        values = values.scatter(rows, pl.Series(new_values, dtype=pl.Float64))
    return labs.with_columns(values, units)


def inject_exposure_errors(exposure: pl.DataFrame, error_rate: float, seed: int,
                           params: dict[str, Any]) -> pl.DataFrame:
    """A few exposure rows with the end before the start, a tenfold dose, or a hold without reason."""
    if error_rate <= 0 or exposure.height == 0:
        return exposure
    rng = _stage_rng(seed, "errors", block=1)
    count = max(1, int(round(error_rate * params["errors"]["exposure_rate_factor"] * exposure.height)))
    rows = np.sort(rng.choice(exposure.height, size=min(count, exposure.height), replace=False))
    end = exposure["end_date"].clone()
    dose = exposure["dose_mg"].clone()
    reason = exposure["adjustment_reason"].clone()
    is_held = (exposure["adjustment"] == "held").to_numpy()
    kind = np.arange(len(rows)) % 3
    # End before start; a tenfold dose (an extra zero); a hold without its reason (only for
    # a held row, otherwise another tenfold dose).
    end_rows = rows[kind == 0]
    reason_rows = rows[(kind == 2) & is_held[rows]]
    dose_rows = np.setdiff1d(rows, np.concatenate([end_rows, reason_rows]))
    if len(end_rows):
        shift = rng.integers(1, 11, len(end_rows))
        starts = exposure["start_date"].gather(end_rows).to_list()
        new_end = [start - timedelta(days=int(days)) for start, days in zip(starts, shift)]
        end = end.scatter(end_rows, pl.Series(new_end, dtype=pl.Date))
    if len(dose_rows):
        dose = dose.scatter(dose_rows, exposure["planned_dose_mg"].gather(dose_rows) * 10)
    if len(reason_rows):
        reason = reason.scatter(reason_rows, pl.Series([None] * len(reason_rows), dtype=pl.String))
    return exposure.with_columns(end, dose, reason)


# --------------------------------------------------------------------------------------
# The whole trial
# --------------------------------------------------------------------------------------


def generate_trial(n_subjects: int, seed: int, out_dir: Path, *, data_cutoff: date = DEFAULT_DATA_CUTOFF,
                   error_rate: float = 0.0) -> dict[str, int]:
    """Write a complete synthetic trial folder and return the rows written per source.

    Writes subjects.csv, exposure.csv, adverse_events.csv, labs.csv and vitals.csv (the
    source contract, docs/sources.md) into `out_dir` and copies the bundled trial.toml
    next to them, unless `out_dir` is the bundled trial folder itself. Nothing is dated
    after `data_cutoff`. `error_rate` is the fraction of AE rows given a data-entry error
    (a few lab and exposure rows get one too); 0 gives clean data.
    """
    if not isinstance(n_subjects, int) or n_subjects < 1:
        raise ValueError(f"n_subjects must be a positive integer, got {n_subjects!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0.0 <= error_rate <= 0.5:
        raise ValueError(f"error_rate must be between 0 and 0.5, got {error_rate!r}")
    if not BUNDLED_CONFIG_PATH.exists():
        raise FileNotFoundError(f"bundled trial config not found: {BUNDLED_CONFIG_PATH}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    params = load_parameters()
    profile = load_ae_profile()
    lab_reference = load_lab_reference()

    cohort = draw_cohort(n_subjects, seed, data_cutoff, params)
    candidates = draw_event_candidates(cohort, profile, seed, params)
    candidates, fatal_onset_rel, fatal_death_rel = keep_events_until_first_death(candidates, cohort, seed, params)
    attribution = draw_attribution(candidates, profile, seed)
    intents = draw_intended_actions(candidates, attribution, profile, seed, params)
    course, actions = resolve_treatment_course(
        candidates, intents, fatal_onset_rel, fatal_death_rel, cohort, seed, params
    )

    # Onsets after the subject's collection window (30 days after the last dose, last
    # contact, death) are not recorded.
    collection_end = observation_end_rel(course, params)
    observed = candidates["onset"].to_numpy() <= collection_end[candidates["subject"].to_numpy()]
    observed_mask = pl.Series(observed)
    candidates = candidates.filter(observed_mask)
    attribution = {agent: levels[observed] for agent, levels in attribution.items()}
    actions = {agent: values[observed] for agent, values in actions.items()}

    records = build_adverse_events(candidates, attribution, actions, cohort, course, profile, seed, params)
    exposure = build_exposure(records, cohort, course, seed, params)
    records = reconcile_reduction_actions(records, exposure)

    counts = {}
    subjects = subjects_source(cohort, course, params)
    counts["subjects"] = _write(subjects, out_dir / SOURCE_FILE_NAMES["subjects"])
    exposure_rows = inject_exposure_errors(exposure_source(exposure, cohort), error_rate, seed, params)
    counts["exposure"] = _write(exposure_rows, out_dir / SOURCE_FILE_NAMES["exposure"])
    ae_rows = adverse_events_source(inject_ae_errors(records, cohort, profile, error_rate, seed, params))
    counts["adverse_events"] = _write(ae_rows, out_dir / SOURCE_FILE_NAMES["adverse_events"])
    counts["labs"] = build_labs(records, cohort, course, profile, lab_reference, seed, params, error_rate,
                                out_dir / SOURCE_FILE_NAMES["labs"])
    vitals = build_vitals(records, cohort, course, profile, seed, params)
    counts["vitals"] = _write(vitals, out_dir / SOURCE_FILE_NAMES["vitals"])

    if out_dir.resolve() != BUNDLED_TRIAL_DIR.resolve():
        shutil.copyfile(BUNDLED_CONFIG_PATH, out_dir / "trial.toml")
    return counts


def _write(frame: pl.DataFrame, path: Path) -> int:
    frame.write_csv(path, float_scientific=False)
    return frame.height
