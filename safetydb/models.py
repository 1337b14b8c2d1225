"""Build every model of a data cut: the configuration tables the SQL reads, then the SQL models."""

from __future__ import annotations

from datetime import date

import polars as pl

from ctcae.criteria import criteria_table, supported_versions
from safetydb.store import (
    DERIVED_MODELS,
    RECONCILIATION_COLUMNS,
    RECONCILIATION_MODELS,
    STAGING_MODELS,
    TABLE_MODELS,
    ModelParameters,
    SafetyStore,
)
from trial.config import TrialConfig


def model_parameters(config: TrialConfig, cut_id: str, cut_date: date) -> ModelParameters:
    return ModelParameters(
        cut_id=cut_id,
        cut_date=cut_date,
        cycle_days=config.model.trial.cycle_length_days,
        teae_end_days=config.teae_end_days,
        acute_days=config.model.windows.acute_days,
        related_levels=list(config.model.attribution.related_levels),
        follow_up_days=config.model.windows.follow_up_days,
        cycle_mode=config.model.cycles.mode,
        anchor_agents=list(config.model.cycles.anchor_agents),
        value_ae_window_days=config.model.reconciliation.value_ae_window_days,
        value_grade_min=config.model.reconciliation.value_grade_min,
        dose_action_window_days=config.model.reconciliation.dose_action_window_days,
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


def lab_terms(version: str) -> pl.DataFrame:
    """The (test, CTCAE term) pairs graded from values; none when the version has no criteria."""
    if version not in supported_versions():
        return pl.DataFrame(schema={"test_code": pl.String, "ctcae_term": pl.String})
    return criteria_table(version).select("test_code", "ctcae_term").unique().sort("test_code", "ctcae_term")


def build_cut_models(store: SafetyStore, config: TrialConfig, cut_id: str, cut_date: date) -> None:
    store.register_table("aesi_terms", aesi_terms_frame(config))
    store.register_table("lab_terms", lab_terms(config.model.trial.ctcae_version))
    store.run_models(
        STAGING_MODELS + DERIVED_MODELS + TABLE_MODELS + RECONCILIATION_MODELS,
        model_parameters(config, cut_id, cut_date),
    )


def reconciliation_findings(store: SafetyStore) -> pl.DataFrame:
    """The rows of every reconciliation model of the cut, in one frame (built by build_cut_models)."""
    frames = [store.model(name).select(RECONCILIATION_COLUMNS) for name in RECONCILIATION_MODELS]
    schema = {column: pl.String for column in RECONCILIATION_COLUMNS}
    if not frames:
        return pl.DataFrame(schema=schema)
    # Sorted, so that the same cut gives the same queries.csv byte for byte (models run in parallel).
    return pl.concat([frame.cast(schema) for frame in frames]).sort(
        "check", "source", "record_key", "field", "value", nulls_last=True
    )
