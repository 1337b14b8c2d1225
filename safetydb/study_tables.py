"""The configuration tables the study-status and exposure models read: site names, age groups,
and each agent's planned dose and how its exposure rows are read (data/dosing/frequencies.csv)."""

from __future__ import annotations

import polars as pl

from ctcae.home import data_path
from safetydb.store import SafetyStore
from trial.config import TrialConfig

FREQUENCIES = ("dosing", "frequencies.csv")
FREQUENCY_SCHEMA = {
    "frequency": pl.String,
    "records": pl.String,
    "administrations_per_day": pl.Int64,
    "interval_days": pl.Int64,
}
AGENT_DOSING_SCHEMA = {"agent": pl.String, "agent_name": pl.String, "ord": pl.Int64, "planned_dose_mg": pl.Float64} | FREQUENCY_SCHEMA


def site_names_frame(config: TrialConfig) -> pl.DataFrame:
    """``[sites.<id>] name``: one row per named site."""
    rows = [{"site_id": site_id, "site_name": site.name} for site_id, site in config.model.sites.items()]
    return pl.DataFrame(rows, schema={"site_id": pl.String, "site_name": pl.String})


def age_groups_frame(config: TrialConfig) -> pl.DataFrame:
    """Age groups from ``[demographics] age_group_bounds``: [lower, upper) in years, open at both ends.

    Bounds [45, 65] give "< 45" (no lower bound), "45-64" and ">= 65" (no upper bound).
    """
    bounds = config.model.demographics.age_group_bounds
    edges: list[int | None] = [None, *bounds, None]
    rows = []
    for ord_, (lower, upper) in enumerate(zip(edges, edges[1:]), start=1):
        if lower is None and upper is None:
            label = "All ages"
        elif lower is None:
            label = f"< {upper}"
        elif upper is None:
            label = f">= {lower}"
        else:
            label = f"{lower}-{upper - 1}"
        rows.append({"ord": ord_, "age_group": label, "lower_age": lower, "upper_age": upper})
    return pl.DataFrame(rows, schema={"ord": pl.Int64, "age_group": pl.String, "lower_age": pl.Int64, "upper_age": pl.Int64})


def dosing_frequencies() -> pl.DataFrame:
    """How exposure rows are read per dosing frequency (data/dosing/frequencies.csv)."""
    return pl.read_csv(data_path(*FREQUENCIES), schema_overrides=FREQUENCY_SCHEMA).select(list(FREQUENCY_SCHEMA))


def agent_dosing_frame(config: TrialConfig) -> pl.DataFrame:
    """Per agent of ``[[agents]]``: its name, the order the config lists it in, the protocol dose
    (``dose_mg``), its frequency, and how its exposure rows are read (empty when the frequency is
    not in data/dosing/frequencies.csv)."""
    agents = pl.DataFrame(
        [
            {"agent": agent.id, "agent_name": agent.name, "ord": position, "planned_dose_mg": agent.dose_mg, "frequency": agent.frequency}
            for position, agent in enumerate(config.model.agents, start=1)
        ],
        schema={"agent": pl.String, "agent_name": pl.String, "ord": pl.Int64, "planned_dose_mg": pl.Float64, "frequency": pl.String},
    )
    frequencies = dosing_frequencies().rename({"frequency": "frequency_key"})
    keyed = agents.with_columns(pl.col("frequency").str.strip_chars().str.to_uppercase().alias("frequency_key"))
    return keyed.join(frequencies, on="frequency_key", how="left").select(list(AGENT_DOSING_SCHEMA))


def register_study_tables(store: SafetyStore, config: TrialConfig) -> None:
    """Make the tables above temporary tables of the store, for the SQL models to read."""
    store.register_table("trial_sites", site_names_frame(config))
    store.register_table("age_groups", age_groups_frame(config))
    store.register_table("agent_dosing", agent_dosing_frame(config))
