"""Time to the first dose reduction or hold, per agent: table t_time_to_modification.

``safetydb/sql/int_agent_exposure.sql`` gives, for each subject dosed with an agent, the study
day of the first row on or after the first dose that holds or reduces it (``modification_day``,
day 1 = the agent's first dose), or, for a subject without one, the study day of the last dose
(``censor_day``). Per agent, in the order of the trial config's ``[[agents]]``:

- subjects dosed, subjects with a reduction or hold, and their percentage of those dosed;
- median and range of ``modification_day`` among the subjects with one;
- the Kaplan-Meier median of the time to the first reduction or hold, subjects without one
  censored at their last dose, with its 95% interval: the estimator and median rule of PFS and
  OS (``safetydb.efficacy.compute_kaplan_meier``: lifelines' log(-log) interval; a curve resting
  at exactly 0.5 gives the midpoint; empty when the estimate never falls to 0.5, "not reached").
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from safetydb.efficacy import compute_kaplan_meier
from safetydb.store import SafetyStore

AGENT_EXPOSURE_MODEL = "int_agent_exposure"
AGENTS_TABLE = "agent_dosing"
TABLE_SCHEMA = {
    "agent": pl.String,
    "agent_name": pl.String,
    "subjects_dosed": pl.Int64,
    "subjects_modified": pl.Int64,
    "percent_modified": pl.Float64,
    "median_day": pl.Float64,
    "min_day": pl.Int64,
    "max_day": pl.Int64,
    "km_median_day": pl.Float64,
    "km_ci_lower": pl.Float64,
    "km_ci_upper": pl.Float64,
}


def time_to_modification(store: SafetyStore) -> pl.DataFrame:
    """t_time_to_modification from a store in which int_agent_exposure and agent_dosing are built."""
    return time_to_modification_table(store.model(AGENT_EXPOSURE_MODEL), store.model(AGENTS_TABLE))


def time_to_modification_table(exposure: pl.DataFrame, agents: pl.DataFrame) -> pl.DataFrame:
    """The table from frames in the shape of int_agent_exposure and agent_dosing.

    Every agent of the config has a row (zeros when nobody received it); an agent found only in
    the exposure records follows, by id.
    """
    listed = agents.sort("ord").select("agent", "agent_name").rows()
    others = sorted(set(exposure["agent"].to_list()) - {agent for agent, _ in listed})
    rows = []
    for agent, name in [*listed, *((agent, agent) for agent in others)]:
        subjects = exposure.filter(pl.col("agent") == agent)
        rows.append({"agent": agent, "agent_name": name} | _summary(subjects))
    return pl.DataFrame(rows, schema=TABLE_SCHEMA)


def _summary(subjects: pl.DataFrame) -> dict[str, object]:
    dosed = subjects.height
    modified = subjects.filter(pl.col("modified"))
    days = modified["modification_day"]
    km_median, km_lower, km_upper = kaplan_meier_median(
        np.where(subjects["modified"].to_numpy(), subjects["modification_day"].fill_null(0).to_numpy(), subjects["censor_day"].to_numpy()),
        subjects["modified"].to_numpy(),
    )
    return {
        "subjects_dosed": dosed,
        "subjects_modified": modified.height,
        "percent_modified": _percent(modified.height, dosed),
        "median_day": float(days.median()) if modified.height else None,
        "min_day": days.min() if modified.height else None,
        "max_day": days.max() if modified.height else None,
        "km_median_day": km_median,
        "km_ci_lower": km_lower,
        "km_ci_upper": km_upper,
    }


def kaplan_meier_median(time: np.ndarray, event: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Kaplan-Meier median and its 95% interval, by the same estimator and median rule as PFS and
    OS (safetydb.efficacy.compute_kaplan_meier); None where not reached or no subject."""
    if time.size == 0:
        return None, None, None
    estimate = compute_kaplan_meier(time, event)
    return _finite(estimate.median), _finite(estimate.median_ci_lower), _finite(estimate.median_ci_upper)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _percent(part: int, whole: int) -> float | None:
    """Percent to 1 decimal, halves away from zero (DuckDB's round, used by the SQL tables)."""
    if whole == 0:
        return None
    return math.floor(1000 * part / whole + 0.5) / 10
