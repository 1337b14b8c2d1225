"""The labs file: a baseline and every cycle start on treatment, agreeing with lab-based AEs.

Written block by block of subjects, so that 100,000 subjects (tens of millions of results)
never sit in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from synth.arrays import expand_counts
from synth.cohort import Cohort
from synth.columns import date_column
from synth.contract import FEMALE, MALE, source_columns
from synth.draws import stage_rng, uniform_between
from synth.errors import inject_lab_errors
from synth.linked_measurements import later_visits, linked_rows, visit_end_rel
from synth.profile import AeProfile
from synth.treatment import TreatmentCourse

LAB_BLOCK_SUBJECTS = 10_000


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
        for sex_row, sex in ((0, FEMALE), (1, MALE)):
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
    (see `linked_rows`). 24-hour urine protein is measured when the dipstick reads >= 2+.
    """
    cycle = params["dosing"]["cycle_days"]
    table = build_lab_table(lab_reference)
    scheduled_tests = table.test_codes[:-1]
    visit_end = visit_end_rel(course)
    linked_all = linked_rows(records, profile, set(scheduled_tests), course,
                             lambda linked: later_visits(linked, cycle), stage_rng(seed, "labs", block=10**6))
    linked_all = linked_all.with_columns((pl.col("subject") // LAB_BLOCK_SUBJECTS).alias("block"))
    rows_written = 0
    with path.open("wb") as handle:
        for block_start in range(0, cohort.size, LAB_BLOCK_SUBJECTS):
            block = block_start // LAB_BLOCK_SUBJECTS
            block_subjects = np.arange(block_start, min(block_start + LAB_BLOCK_SUBJECTS, cohort.size))
            rng = stage_rng(seed, "labs", block)
            frame = _lab_block(block_subjects, cohort, visit_end, linked_all.filter(pl.col("block") == block),
                               profile, table, rng, params["labs"], cycle)
            frame = inject_lab_errors(frame, error_rate, params, rng)
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
    owner_position, visit_number = expand_counts(visit_counts)
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
    value = np.concatenate([value, uniform_between(rng, band[:, 0], band[:, 1])])
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
        "collection_date": date_column(cohort.first_dose_day[subject] + day, "collection_date"),
        "test_code": pl.Series(table.test_codes).gather(test),
        "value": rounded,
        "unit": pl.Series(table.units).gather(test),
        "lln": lln,
        "uln": uln,
    }).with_columns(pl.col("lln").fill_nan(None), pl.col("uln").fill_nan(None)).select(source_columns("labs"))
