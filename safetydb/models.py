"""Build every model of a data cut: configuration tables, SQL models, CTCAE lab grades.

The lab grades are the one step outside SQL: CTCAE grading criteria are data read by the
evaluator in ``ctcae.grading``; its results go back into the store as ``lab_grades``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ctcae.grading import criteria_table, grade_frame, supported_versions
from safetydb.store import DERIVED_MODELS, STAGING_MODELS, TABLE_MODELS, ModelParameters, SafetyStore
from validators.trial_config import TrialConfig

LAB_GRADE_SCHEMA = {
    "source_row": pl.Int64,
    "subject_id": pl.String,
    "test_code": pl.String,
    "ctcae_term": pl.String,
    "grade": pl.Int64,
    "gradable": pl.Boolean,
    "is_baseline": pl.Boolean,
    "on_treatment": pl.Boolean,
}


def model_parameters(config: TrialConfig, cut_id: str, cut_date: date) -> ModelParameters:
    return ModelParameters(
        cut_id=cut_id,
        cut_date=cut_date,
        cycle_days=config.model.trial.cycle_length_days,
        teae_end_days=config.teae_end_days,
        acute_days=config.model.windows.acute_days,
        related_levels=list(config.model.attribution.related_levels),
    )


def aesi_terms_frame(config: TrialConfig) -> pl.DataFrame:
    """The trial's AESI sets as rows: match on a CTCAE term or on an "Other, specify" text."""
    rows = []
    for aesi, definition in config.model.aesi.items():
        rows += [{"aesi": aesi, "label": definition.label, "match_on": "term", "value": t} for t in definition.terms]
        rows += [
            {"aesi": aesi, "label": definition.label, "match_on": "other_specify", "value": t}
            for t in definition.other_specify
        ]
    schema = {"aesi": pl.String, "label": pl.String, "match_on": pl.String, "value": pl.String}
    return pl.DataFrame(rows, schema=schema)


def lab_grades(labs: pl.DataFrame, version: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CTCAE grades of lab results, and the (test, term) pairs graded; empty when the trial's
    CTCAE version has no grading criteria."""
    if version not in supported_versions():
        empty_terms = pl.DataFrame(schema={"test_code": pl.String, "ctcae_term": pl.String})
        return pl.DataFrame(schema=LAB_GRADE_SCHEMA), empty_terms
    graded = grade_frame(labs, version=version).select(list(LAB_GRADE_SCHEMA)).cast(LAB_GRADE_SCHEMA)
    terms = criteria_table(version).select("test_code", "ctcae_term").unique().sort("test_code", "ctcae_term")
    return graded, terms


def build_cut_models(store: SafetyStore, config: TrialConfig, cut_id: str, cut_date: date) -> None:
    parameters = model_parameters(config, cut_id, cut_date)
    store.register_table("aesi_terms", aesi_terms_frame(config))
    store.run_models(STAGING_MODELS + DERIVED_MODELS, parameters)
    graded, terms = lab_grades(store.model("int_labs_for_grading"), config.model.trial.ctcae_version)
    store.register_table("lab_grades", graded)
    store.register_table("lab_terms", terms)
    store.run_models(TABLE_MODELS, parameters)
