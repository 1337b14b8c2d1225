"""CDISC sources: SDTM domains or ADaM datasets read as toxwatch's source frames.

A trial with ``[cdisc]`` in its config has no files of toxwatch's own format: each source is
built from the CDISC data (``readers/sdtm.py`` for SDTM, ``readers/adam.py`` for ADaM) as the
same all-text frame ``validators/read.py`` gives for a CSV file, and then goes through the same
validation. This module dispatches on the standard and holds what both readers share:

* the value maps, kept as data in ``data/cdisc/*.csv`` (AE outcome, action taken, severity,
  disposition, lab test codes): a value is looked up with its surrounding spaces removed and in
  upper case; a value not listed is passed on as given, so that validation queries it rather
  than a record losing it;
* the per-agent attribution and action columns: an agent the subject's arm does not receive is
  unrelated to the event, with no action taken ("not applicable");
* the ICH E2A seriousness criteria from the SDTM Y/N flags (AESDTH, AESLIFE, ...);
* ``canonical_frame``: the frame with exactly the contract's columns, in its order, as text.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import cache

import polars as pl

from ctcae.home import data_path
from readers.partial_dates import ImputationRule
from trial.config import TrialConfig
from validators.read import OPTIONAL_COLUMNS, ROW, RawSource, required_columns

# The value maps shipped in data/cdisc/ (see data/cdisc/README.md).
AE_OUTCOMES = "ae_outcomes.csv"
AE_ACTIONS = "ae_actions.csv"
SEVERITY_GRADES = "severity_grades.csv"
DISPOSITION_REASONS = "disposition_reasons.csv"
LAB_TEST_CODES = "lab_test_codes.csv"
VALUE_MAPS = (AE_OUTCOMES, AE_ACTIONS, SEVERITY_GRADES, DISPOSITION_REASONS, LAB_TEST_CODES)

# A disposition not in disposition_reasons.csv: the end of treatment had a reason the contract has no code for.
OTHER_DISPOSITION = "other"
# The end of treatment is dated, but no disposition record says why.
REASON_NOT_RECORDED = "not_recorded"
# A death without a recorded cause (SDTM DM has no cause of death).
DEATH_CAUSE_UNKNOWN = "unknown"
# What an agent the subject's arm does not receive has to do with the subject's adverse events.
NOT_RECEIVED_ATTRIBUTION = "unrelated"
NOT_RECEIVED_ACTION = "not_applicable"

# ICH E2A seriousness criterion -> the SDTM (and ADaM ADAE) Y/N flag that records it.
SERIOUS_FLAGS = {
    "death": "AESDTH",
    "life_threatening": "AESLIFE",
    "hospitalisation": "AESHOSP",
    "disability": "AESDISAB",
    "congenital_anomaly": "AESCONG",
    "important_medical_event": "AESMIE",
}


def read_cdisc_source(config: TrialConfig, name: str) -> RawSource | None:
    """One source of a trial read from CDISC data (``[cdisc]`` in the config); None when the
    standard has no domain for it, or its optional domain is not configured."""
    cdisc = config.model.cdisc
    if cdisc is None:
        raise ValueError("read_cdisc_source: the trial config has no [cdisc] section")
    if cdisc.standard == "sdtm":
        from readers.sdtm import sdtm_source

        return sdtm_source(config, name)
    from readers.adam import adam_source

    return adam_source(config, name)


# ---- value maps ----------------------------------------------------------------------------------


@cache
def value_map(file: str) -> dict[str, str | None]:
    """A shipped value map (``data/cdisc/<file>``): CDISC value (trimmed, upper case) -> toxwatch
    value; an empty toxwatch value maps to missing."""
    path = data_path("cdisc", file)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mapping: dict[str, str | None] = {}
    for row in rows:
        given = (row.get("cdisc_value") or "").strip().upper()
        if not given:
            raise ValueError(f"data/cdisc/{file}: a row without cdisc_value: {row}")
        if given in mapping:
            raise ValueError(f"data/cdisc/{file}: {given!r} is listed twice")
        mapping[given] = (row.get("toxwatch_value") or "").strip() or None
    return mapping


def folded(expression: pl.Expr) -> pl.Expr:
    """A text value as value maps are keyed: surrounding spaces removed, upper case."""
    return expression.str.strip_chars().str.to_uppercase()


def map_values(expression: pl.Expr, mapping: Mapping[str, str | None], *, otherwise: pl.Expr | None = None) -> pl.Expr:
    """``expression`` (text) looked up in ``mapping`` (keys trimmed and upper case); a value not
    listed becomes ``otherwise``, by default the value as given, so that validation queries it.
    A missing value stays missing."""
    keys = {key.strip().upper(): value for key, value in mapping.items()}
    fallback = expression.str.strip_chars() if otherwise is None else otherwise
    # A key may map to missing (UNKNOWN -> not recorded): ``listed`` tells it from a value not listed.
    listed = folded(expression).is_in(list(keys))
    looked_up = folded(expression).replace_strict(list(keys), list(keys.values()), default=None, return_dtype=pl.String)
    # The first branch derives from ``expression``, so the result keeps its name.
    return pl.when(listed).then(looked_up).when(expression.is_null()).then(expression).otherwise(fallback)


def map_shipped(expression: pl.Expr, file: str, *, otherwise: pl.Expr | None = None) -> pl.Expr:
    """``map_values`` with one of the shipped maps (``VALUE_MAPS``)."""
    return map_values(expression, value_map(file), otherwise=otherwise)


# ---- text of values ------------------------------------------------------------------------------


def date_part(expression: pl.Expr) -> pl.Expr:
    """The date of an ISO 8601 date-time (``2014-07-02T11:45`` -> ``2014-07-02``); anything else,
    a partial date included, as given, so that validation queries what is not a date."""
    return expression.str.strip_chars().str.replace(r"T.*$", "")


def whole_number_text(expression: pl.Expr) -> pl.Expr:
    """A whole number as SAS and Parquet numbers give it, without its decimals (``63.0`` -> ``63``);
    any other text as given."""
    return expression.str.strip_chars().str.replace(r"^([+-]?\d+)\.0*$", "${1}")


def column_or_null(frame: pl.DataFrame, name: str | None) -> pl.Expr:
    """A column of the frame, or missing text when the frame (the domain) has no such variable."""
    if name is not None and name in frame.columns:
        return pl.col(name)
    return pl.lit(None, dtype=pl.String)


def first_present(frame: pl.DataFrame, *names: str) -> pl.Expr:
    """The first of the variables that is given, row by row (variables the domain lacks are skipped)."""
    present = [pl.col(name) for name in names if name in frame.columns]
    return pl.coalesce(present) if present else pl.lit(None, dtype=pl.String)


# ---- seriousness ---------------------------------------------------------------------------------


def serious_criteria(frame: pl.DataFrame, flags: Mapping[str, str] = SERIOUS_FLAGS) -> pl.Expr:
    """The seriousness criteria whose Y/N flag is Y, ``;``-separated in the contract's order;
    missing when none is Y (or the domain has none of the flags)."""
    named = [
        pl.when(folded(pl.col(flag)) == "Y").then(pl.lit(criterion))
        for criterion, flag in flags.items()
        if flag in frame.columns
    ]
    if not named:
        return pl.lit(None, dtype=pl.String)
    joined = pl.concat_str(named, separator=";", ignore_nulls=True)
    return pl.when(joined != "").then(joined).otherwise(pl.lit(None, dtype=pl.String))


# ---- arms and agents -----------------------------------------------------------------------------


def arm_receives(config: TrialConfig, agent_id: str, arm: pl.Expr) -> pl.Expr:
    """Whether a subject of ``arm`` receives the agent: its configured arm lists the agent, or the
    arm is not configured (or missing), in which case every agent is taken as received (the
    conservative reading: no event is made unrelated by an arm nobody declared)."""
    configured = [item.value for item in config.arms]
    receiving = [item.value for item in config.arms if agent_id in item.agents]
    return (arm.is_in(receiving) | ~arm.is_in(configured) | arm.is_null()).fill_null(True)


def attribution_and_action_columns(
    config: TrialConfig,
    *,
    arm: pl.Expr,
    relationship: Mapping[str, pl.Expr],
    action: pl.Expr,
    received: Mapping[str, pl.Expr] | None = None,
) -> list[pl.Expr]:
    """``attribution_<agent>`` and ``action_<agent>`` for every agent of the trial config.

    ``relationship``: agent id -> that agent's relationship as given (text); it is mapped by the
    config's ``[cdisc] relationship_values`` (a value not listed is passed on as given and a
    missing one stays missing: validation queries both and counts the event as related).
    ``action``: the action taken as given (one for all agents, SDTM AEACN), mapped by
    data/cdisc/ae_actions.csv. An agent the subject's arm does not receive is ``unrelated``
    and ``not_applicable``, unless ``received`` (agent id -> whether the subject's exposure
    records name the agent) shows the subject had it anyway: then the relationship as given stands.
    """
    cdisc = config.model.cdisc
    relationship_values = dict(cdisc.relationship_values) if cdisc is not None else {}
    mapped_action = map_shipped(action, AE_ACTIONS)
    columns = []
    for agent in config.agent_ids:
        receives = arm_receives(config, agent, arm)
        if received is not None and agent in received:
            receives = receives | received[agent].fill_null(False)
        mapped = map_values(relationship[agent], relationship_values)
        columns.append(pl.when(receives).then(mapped).otherwise(pl.lit(NOT_RECEIVED_ATTRIBUTION)).alias(f"attribution_{agent}"))
        columns.append(pl.when(receives).then(mapped_action).otherwise(pl.lit(NOT_RECEIVED_ACTION)).alias(f"action_{agent}"))
    return columns


def treatment_agents(config: TrialConfig, treatment: pl.Expr) -> pl.Expr:
    """The agent id of a treatment as the exposure records name it (``[cdisc] treatments``);
    a treatment not listed is passed on as given, so that validation queries the unknown agent."""
    cdisc = config.model.cdisc
    return map_values(treatment, dict(cdisc.treatments) if cdisc is not None else {})


def planned_doses(config: TrialConfig) -> pl.DataFrame:
    """Planned dose per (arm value, agent) for every configured arm and agent, as text columns
    ``_arm``, ``agent`` and ``_planned_dose_mg`` (an arm's ``doses_mg``, else the agent's ``dose_mg``)."""
    rows = [
        {"_arm": arm.value, "agent": agent.id, "_planned_dose_mg": _number_text(arm.planned_dose(agent))}
        for arm in config.arms
        for agent in config.model.agents
    ]
    return pl.DataFrame(rows, schema={"_arm": pl.String, "agent": pl.String, "_planned_dose_mg": pl.String})


def agent_doses(config: TrialConfig) -> pl.DataFrame:
    """Each agent's protocol dose (``dose_mg``), as text columns ``agent`` and ``_agent_dose_mg``."""
    rows = [{"agent": agent.id, "_agent_dose_mg": _number_text(agent.dose_mg)} for agent in config.model.agents]
    return pl.DataFrame(rows, schema={"agent": pl.String, "_agent_dose_mg": pl.String})


def with_planned_dose(frame: pl.DataFrame, config: TrialConfig, *, arm: str = "_arm") -> pl.DataFrame:
    """``planned_dose_mg`` added to exposure records (columns ``agent`` and ``arm``): the dose the
    subject's arm plans for the agent, or the agent's dose when the arm is not configured;
    missing for an agent the config does not know (validation queries the agent)."""
    by_arm = planned_doses(config).rename({"_arm": arm})
    joined = frame.join(by_arm, on=[arm, "agent"], how="left").join(agent_doses(config), on="agent", how="left")
    return joined.with_columns(pl.coalesce("_planned_dose_mg", "_agent_dose_mg").alias("planned_dose_mg")).drop(
        "_planned_dose_mg", "_agent_dose_mg"
    )


def with_dose_adjustment(frame: pl.DataFrame, *, order: list[str]) -> pl.DataFrame:
    """``adjustment`` of exposure records (text columns subject_id, agent, dose_mg,
    planned_dose_mg), per subject and agent in ``order``: a 0 mg dose of an agent planned above
    0 mg is ``held``; a dose below the last dose above 0 mg the subject had of the agent before
    it is ``reduced`` (so resuming at a lower dose after a hold is a reduction); anything else, the
    first record included, is ``none`` (a placebo's 0 mg is a dose given)."""
    dose = pl.col("dose_mg").cast(pl.Float64, strict=False)
    planned = pl.col("planned_dose_mg").cast(pl.Float64, strict=False)
    ordered = frame.with_columns(pl.int_range(pl.len()).alias("_position")).sort([*order, "_position"])
    previous = pl.when(dose > 0).then(dose).shift(1).forward_fill().over("subject_id", "agent")
    adjusted = ordered.with_columns(
        pl.when((dose == 0) & (planned > 0))
        .then(pl.lit("held"))
        .when(dose < previous)
        .then(pl.lit("reduced"))
        .otherwise(pl.lit("none"))
        .alias("adjustment")
    )
    return adjusted.sort("_position").drop("_position")


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ---- the contract's frame ------------------------------------------------------------------------


def canonical_frame(name: str, frame: pl.DataFrame, config: TrialConfig) -> pl.DataFrame:
    """The frame with exactly ``_row``, the source's required columns (per-agent ones for the
    config's agents) and its optional ones, in the contract's order, every column text; a
    column the frame lacks is added empty."""
    columns = [*required_columns(name, config.agent_ids), *OPTIONAL_COLUMNS.get(name, ())]
    return frame.select(
        pl.col(ROW).cast(pl.Int64),
        *[
            (pl.col(column) if column in frame.columns else pl.lit(None)).cast(pl.String).alias(column)
            for column in columns
        ],
    )


def imputation_rule(config: TrialConfig) -> ImputationRule:
    """The trial's rule for partial dates ([cdisc.partial_dates]), as readers.partial_dates applies it."""
    rule = config.model.cdisc.partial_dates
    return ImputationRule(start_day=rule.start_day, start_month=rule.start_month, end_day=rule.end_day, end_month=rule.end_month)
