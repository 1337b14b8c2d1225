"""Realistic data-entry errors, injected on request so that validation has something to query.

A fraction of the AE rows get one error each (a grade CTCAE does not allow, a misspelt
term, a resolution before the onset, ...), a few lab rows a unit or sign slip and a few
exposure rows an impossible date or dose. The kinds and their wording are data in
``trial_parameters.toml`` where they can be.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from synth.cohort import Cohort
from synth.contract import ADJUSTMENT_HELD, OUTCOME_FATAL, OUTCOME_RECOVERED, YES
from synth.days import EPOCH
from synth.draws import stage_rng
from synth.profile import AeProfile


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
    rng = stage_rng(seed, "errors")
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
    overwrite("outcome", rows, [OUTCOME_RECOVERED if grade == 5 else OUTCOME_FATAL for grade in current("grade", rows)])
    rows = chosen["serious_incomplete"]
    overwrite("serious", rows, [YES] * len(rows))
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


def inject_lab_errors(labs: pl.DataFrame, error_rate: float, params: dict[str, Any],
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
    rng = stage_rng(seed, "errors", block=1)
    count = max(1, int(round(error_rate * params["errors"]["exposure_rate_factor"] * exposure.height)))
    rows = np.sort(rng.choice(exposure.height, size=min(count, exposure.height), replace=False))
    end = exposure["end_date"].clone()
    dose = exposure["dose_mg"].clone()
    reason = exposure["adjustment_reason"].clone()
    is_held = (exposure["adjustment"] == ADJUSTMENT_HELD).to_numpy()
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
