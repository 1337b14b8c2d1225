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
from safetydb.study_tables import register_study_tables
from trial.config import Arm, TrialConfig


def model_parameters(config: TrialConfig, cut_id: str, cut_date: date, arm: Arm | None = None) -> ModelParameters:
    return ModelParameters(
        arm=arm.value if arm is not None else None,
        grading=config.model.trial.grading,
        arm_values=[item.value for item in config.arms],
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
        max_days_since_contact=config.model.data_currency.max_days_since_contact,
        low_rdi_percent=config.model.exposure.low_rdi_percent,
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


def aesi_units_frame(config: TrialConfig) -> pl.DataFrame:
    """The rows of the AESI tables, in order: each group (declared in ``[aesi_groups]``) followed
    by its sets, then the sets in no group. ``kind`` is "group" or "set"; a set's ``aesi_group``
    is its group (none when ungrouped), a group's is itself."""
    model = config.model
    rows = []

    def add(aesi: str, label: str, kind: str, group: str | None) -> None:
        rows.append({"aesi": aesi, "label": label, "kind": kind, "aesi_group": group, "position": len(rows) + 1})

    for group, definition in model.aesi_groups.items():
        add(group, definition.label, "group", group)
        for aesi, aesi_set in model.aesi.items():
            if aesi_set.group == group:
                add(aesi, aesi_set.label, "set", group)
    for aesi, aesi_set in model.aesi.items():
        if aesi_set.group is None:
            add(aesi, aesi_set.label, "set", None)
    schema = {"aesi": pl.String, "label": pl.String, "kind": pl.String, "aesi_group": pl.String, "position": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def subgroup_levels_frame(config: TrialConfig) -> pl.DataFrame:
    """The configured subgroups (``[[subgroups]]``) and their levels, in the configured order."""
    rows = [
        {
            "variable": subgroup.variable,
            "subgroup_label": subgroup.label,
            "subgroup_position": subgroup_position,
            "level": level.value,
            "level_label": level.shown,
            "level_position": level_position,
        }
        for subgroup_position, subgroup in enumerate(config.model.subgroups, start=1)
        for level_position, level in enumerate(subgroup.levels, start=1)
    ]
    schema = {
        "variable": pl.String, "subgroup_label": pl.String, "subgroup_position": pl.Int64,
        "level": pl.String, "level_label": pl.String, "level_position": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def lab_terms(version: str) -> pl.DataFrame:
    """The (test, CTCAE term) pairs graded from values; none when the version has no criteria."""
    if version not in supported_versions():
        return pl.DataFrame(schema={"test_code": pl.String, "ctcae_term": pl.String})
    return criteria_table(version).select("test_code", "ctcae_term").unique().sort("test_code", "ctcae_term")


def build_cut_models(store: SafetyStore, config: TrialConfig, cut_id: str, cut_date: date, arm: Arm | None = None) -> None:
    """Every model of the cut, for all arms pooled or (``arm``) for one arm's subjects."""
    store.register_table("aesi_terms", aesi_terms_frame(config))
    store.register_table("aesi_units", aesi_units_frame(config))
    store.register_table("subgroup_levels", subgroup_levels_frame(config))
    store.register_table("lab_terms", lab_terms(config.model.trial.ctcae_version))
    register_study_tables(store, config)
    store.run_models(
        STAGING_MODELS + DERIVED_MODELS + TABLE_MODELS + RECONCILIATION_MODELS,
        model_parameters(config, cut_id, cut_date, arm),
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
