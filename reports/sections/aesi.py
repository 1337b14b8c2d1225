"""Adverse events of special interest in depth, in the DSMB report: the AESI groups of the trial
config (immune-related AEs, apatinib class effects) with their management (t_aesi_management),
the dose changes they led to per agent (t_aesi_dose_actions), time to onset and resolution
(t_aesi_timing), and the rates by subgroup (t_aesi_by_subgroup).

Numbers come from the tables safetydb built; this module only arranges and formats them (a
table's agents or subgroup levels side by side, "n/N (%)" cells) and writes each table's note:
population, denominator, window and data cut.
"""

from __future__ import annotations

import polars as pl

from reports.tables import Table, report_table
from trial.config import TrialConfig

ANY_IN_GROUP = "any"  # the row of a whole group: "<group label>: any"
INDENT = "\u2003"  # a set under its group's row (an em space: HTML keeps it)
SHY = "\u00ad"  # a soft hyphen: where a long column header may break


def aesi_context(
    tables: dict[str, pl.DataFrame], config: TrialConfig, *, population: str, teae_window: str
) -> dict:
    """The section's tables, in the order shown. ``population`` is the report's sentence naming the
    data cut and the safety population; ``teae_window`` the treatment-emergent window in words."""
    on_cut = f"{population} Window: {teae_window}; grade >= 1."
    sets = (
        "A set matches its CTCAE terms and \"Other, specify\" texts ([aesi.<id>] in the trial config); a group row "
        f"(\"{ANY_IN_GROUP}\", its sets indented below it) counts a subject or an episode once, whichever of the group's sets it falls in."
    )
    dose_actions, dose_action_columns = _dose_actions_shown(tables["t_aesi_dose_actions"], config)
    by_subgroup, by_subgroup_columns = _by_subgroup_shown(tables["t_aesi_by_subgroup"])
    shown: list[Table] = [
        report_table(
            _management_shown(tables["t_aesi_management"]), "t_aesi_management",
            _management_caption(config),
            f"{on_cut} {sets} Subjects: n with at least one event in the set (% of N); grade >= 3: at their worst grade. "
            "Treatment: subjects with at least one event treated so (adverse_events treatment; a value outside the list "
            "counts as other, and not recorded means the field is empty). The last six columns: episodes (AE records) by "
            "outcome at the cut (recovered, recovered with sequelae, recovering, not recovered, fatal, unknown), as recorded, "
            "except that a recovery with no resolution date by the cut counts as not recovered.",
            {"row_label": "AESI", "subjects_percent": "Subjects, n (%)", "grade_3_plus": "Grade ≥3",
             "subjects_corticosteroid": f"Cortico{SHY}steroid", "subjects_hormone_replacement": f"Hormone replace{SHY}ment",
             "subjects_antihypertensive": f"Anti{SHY}hyper{SHY}tensive", "subjects_other_treatment": f"Other treat{SHY}ment",
             "subjects_treatment_not_recorded": f"Treat{SHY}ment not recorded", "events_recovered": f"Recov{SHY}ered",
             "events_recovered_with_sequelae": f"With seq{SHY}uelae", "events_recovering": f"Recov{SHY}ering",
             "events_not_recovered": f"Not recov{SHY}ered", "events_fatal": "Fatal", "events_unknown": f"Un{SHY}known"},
        ),
        report_table(
            dose_actions, "t_aesi_dose_actions", "AESIs leading to a dose change, by agent",
            f"{on_cut} {sets} Per agent: subjects with at least one event in the set whose action on that agent was a "
            "reduction, an interruption or a withdrawal (adverse_events action_<agent>); not recorded: the action is empty. "
            "A subject counts once per column.",
            dose_action_columns,
        ),
        report_table(
            _timing_shown(tables["t_aesi_timing"]), "t_aesi_timing", "AESIs: time to onset and to resolution",
            f"{on_cut} {sets} First onset: study day of the subject's first event in the set (day 1 = first dose), median "
            "(range) over the subjects with one. Episodes: AE records. Resolved: a resolution date on or before the cut, "
            "not fatal; duration of a resolved episode in days, its onset day counting as day 1, median (range). Unresolved "
            "at the cut: neither resolved nor fatal. Fatal: grade 5.",
            {"row_label": "AESI", "subjects_percent": "Subjects, n (%)",
             "first_onset": "First onset, study day: median (range)", "episodes": "Episodes", "resolved_episodes": "Resolved",
             "duration": "Duration of resolved episodes, days: median (range)", "unresolved_episodes": "Unresolved at the cut",
             "fatal_episodes": "Fatal"},
        ),
        report_table(
            by_subgroup, "t_aesi_by_subgroup", "AESIs by subgroup",
            f"{population} Window: {teae_window}. Per level of each subgroup ([[subgroups]] in the trial config): treated "
            "subjects with at least one grade >= 1 treatment-emergent event in the set (any grade >= 3 TEAE in the first row) / "
            "treated subjects in the level (%). Missing: the subject's value is empty in the subjects file; such subjects "
            "are shown, never left out. Descriptive: small levels, no test."
            + ("" if config.model.subgroups else " The trial config names no subgroup."),
            by_subgroup_columns,
        ),
    ]
    return {"tables": shown}


def _management_caption(config: TrialConfig) -> str:
    groups = [group.label for group in config.model.aesi_groups.values()]
    return f"AESIs by group ({'; '.join(groups)}), with their management" if groups else "AESIs with their management"


def _labels(frame: pl.DataFrame) -> pl.DataFrame:
    """``row_label``: a group's own row "<group label>: any", its sets indented below it, the sets
    in no group as they are."""
    return frame.with_columns(
        pl.when(pl.col("kind") == "group")
        .then(pl.format("{}: {}", pl.col("label"), pl.lit(ANY_IN_GROUP)))
        .when(pl.col("aesi_group").is_not_null())
        .then(pl.lit(INDENT) + pl.col("label"))
        .otherwise(pl.col("label"))
        .alias("row_label")
    ).sort("position")


def _median_range(prefix: str) -> pl.Expr:
    """ "median (min–max)", the median without a needless ".0"."""
    median = pl.col(f"median_{prefix}")
    shown = pl.when(median == median.floor()).then(median.cast(pl.Int64).cast(pl.String)).otherwise(median.cast(pl.String))
    return pl.when(median.is_not_null()).then(pl.format("{} ({}–{})", shown, pl.col(f"min_{prefix}"), pl.col(f"max_{prefix}")))


def _subjects_percent() -> pl.Expr:
    return pl.format("{} ({}%)", pl.col("subjects"), pl.col("percent")).alias("subjects_percent")


def _management_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return _labels(frame).with_columns(_subjects_percent())


def _timing_shown(frame: pl.DataFrame) -> pl.DataFrame:
    return _labels(frame).with_columns(
        _subjects_percent(),
        _median_range("first_onset_day").alias("first_onset"),
        _median_range("episode_days").alias("duration"),
    )


def _dose_actions_shown(frame: pl.DataFrame, config: TrialConfig) -> tuple[pl.DataFrame, dict[str, str]]:
    """One row per set or group, and per agent of the config (in its order) four columns side by side."""
    names = {agent.id: agent.name for agent in config.model.agents}
    agents = [agent for agent in names if agent in set(frame["agent"])]
    agents += sorted(set(frame["agent"]) - set(agents))
    actions = {"subjects_reduced": "reduced", "subjects_interrupted": "interrupted", "subjects_withdrawn": "withdrawn",
               "subjects_action_unknown": "action not recorded"}
    wide = _labels(frame.filter(pl.col("agent") == agents[0]).drop("agent", *actions)) if agents else _labels(frame)
    columns = {"row_label": "AESI", "subjects": "Subjects"}
    for agent in agents:
        per_agent = frame.filter(pl.col("agent") == agent).select("aesi", *[pl.col(c).alias(f"{agent}:{c}") for c in actions])
        wide = wide.join(per_agent, on="aesi", how="left")
        columns |= {f"{agent}:{c}": f"{names.get(agent, agent)}: {label}" for c, label in actions.items()}
    return wide.sort("position"), columns


def _by_subgroup_shown(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """One row per subgroup and outcome (any grade >= 3 TEAE, then the AESI groups and sets), one
    column per level, in the configured order: "n/N (%)"."""
    cells = frame.sort("subgroup_position", "level_position", "position").with_columns(
        pl.when(pl.col("subjects_in_level") > 0)
        .then(pl.format("{}/{} ({}%)", pl.col("subjects_with_event"), pl.col("subjects_in_level"), pl.col("percent")))
        .otherwise(pl.format("0/0"))
        .alias("cell"),
        pl.when(pl.col("kind") == "group")
        .then(pl.format("{}: {}", pl.col("label"), pl.lit(ANY_IN_GROUP)))
        .when(pl.col("aesi_group").is_not_null())
        .then(pl.lit(INDENT) + pl.col("label"))
        .otherwise(pl.col("label"))
        .alias("outcome"),
    )
    levels = list(dict.fromkeys(cells["level_label"].to_list()))
    rows = cells.select("subgroup_position", "subgroup_label", "position", "outcome").unique().sort("subgroup_position", "position")
    for level in levels:
        in_level = cells.filter(pl.col("level_label") == level).select("subgroup_position", "position", pl.col("cell").alias(f"level:{level}"))
        rows = rows.join(in_level, on=["subgroup_position", "position"], how="left")
    rows = rows.sort("subgroup_position", "position").with_columns(  # each subgroup named on its first row
        pl.when(pl.col("subgroup_position") != pl.col("subgroup_position").shift(1).fill_null(-1)).then(pl.col("subgroup_label"))
    )
    columns = {"subgroup_label": "Subgroup", "outcome": "Event"} | {f"level:{level}": level for level in levels}
    return rows, columns
