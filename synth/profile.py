"""The generator's reference data in ``data/synth/``, read and checked.

``ae_profile.csv`` (one row per AE type: incidence, grades, timing, attribution,
seriousness, dose actions, linked measurement), ``lab_reference.csv`` (units, reference
ranges, spreads) and ``trial_parameters.toml`` (course of the trial, dosing, seriousness,
vitals, tumour assessments, error kinds). Every number the generator uses comes from these
files; they are checked when read so that a slip in the data stops the generator instead of
skewing it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ctcae.attribution import ATTRIBUTION_LEVELS
from ctcae.home import data_path
from synth.contract import AGENTS, IMAGING_METHODS, RECURRENCE_TYPES
from validators.schemas import OVERALL_RESPONSES, SERIOUS_CRITERIA

SYNTH_DATA_DIR = data_path("synth")
AE_PROFILE_PATH = SYNTH_DATA_DIR / "ae_profile.csv"
LAB_REFERENCE_PATH = SYNTH_DATA_DIR / "lab_reference.csv"
PARAMETERS_PATH = SYNTH_DATA_DIR / "trial_parameters.toml"


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
    """Scalar parameters of the generator (course, dosing, seriousness, vitals, errors).

    The coded values among them are written to the source files as they are, so they are
    checked against the validators' declarations: recurrence types and seriousness criteria
    must be allowed, and the attributions meant to be off the scale must really be off it.
    """
    with path.open("rb") as handle:
        params = tomllib.load(handle)
    unknown_types = [name for name in params["recurrence"]["types"] if name not in RECURRENCE_TYPES]
    if unknown_types:
        raise ValueError(f"{path.name}, recurrence.types: {unknown_types} not among {RECURRENCE_TYPES}")
    for grade_key, table in params["seriousness_criteria"].items():
        for label in table:
            unknown = [criterion for criterion in label.split(";") if criterion not in SERIOUS_CRITERIA]
            if unknown:
                raise ValueError(
                    f"{path.name}, seriousness_criteria.{grade_key}: {unknown} not among {SERIOUS_CRITERIA}"
                )
    on_scale = [value for value in params["errors"]["attribution_off_scale"] if value in ATTRIBUTION_LEVELS]
    if on_scale:
        raise ValueError(f"{path.name}, errors.attribution_off_scale: {on_scale} are on the attribution scale")
    tumour = params["tumour"]
    unknown_methods = [name for name in tumour["methods"] if name not in IMAGING_METHODS]
    if unknown_methods:
        raise ValueError(f"{path.name}, tumour.methods: {unknown_methods} not among {IMAGING_METHODS}")
    if len(tumour["method_weights"]) != len(tumour["methods"]):
        raise ValueError(f"{path.name}, tumour.method_weights: one weight per method")
    on_code = [value for value in tumour["responses_off_code"] if value in OVERALL_RESPONSES]
    if on_code:
        raise ValueError(f"{path.name}, tumour.responses_off_code: {on_code} are RECIST 1.1 responses")
    return params
