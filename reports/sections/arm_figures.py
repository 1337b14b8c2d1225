"""Charts of the closed report (dsmb_report_closed.html) that put the arms side by side: the AE dot
plot with risk differences against the reference arm, and the time to the first grade >= 3 AE.

Each figure is a chart drawn from tables of ``tables/by_arm/`` (reports/arm_charts.py), the
sentence that says in words what it shows, and a note with the population, denominator, window
and data cut. Which terms the dot plot shows is a display setting (``[report]
dot_plot_min_percent`` and ``dot_plot_terms``); the table behind it holds every term.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from reports.arm_charts import dot_plot_chart, incidence_by_arm_chart
from reports.charts import Chart
from safetydb.export import ARM_ID, BY_ARM_FOLDER, TOTAL_ARM
from safetydb.incidence import GRADE_3_PLUS
from safetydb.risk_difference import TABLE as RISK_DIFFERENCE, dot_plot_terms
from trial.config import TrialConfig


@dataclass(frozen=True)
class ArmFigure:
    """A chart of the closed report: heading, note, the chart (None when there is nothing to draw,
    ``empty`` then says why) and the table files behind it."""

    key: str
    caption: str
    note: str
    chart: Chart | None
    table_files: str
    empty: str = ""


def arm_figures(
    tables: dict[str, pl.DataFrame],
    arms: list[tuple[str, str]],
    config: TrialConfig,
    *,
    cut_date: str,
    arm_variable: str,
    teae_window: str,
    severity: bool,
) -> list[ArmFigure]:
    """The dot plot and the cumulative incidence by arm, in that order. ``tables`` are the tables
    by arm, ``arms`` the configured arms (id, label) in order (All arms left out), ``arm_variable``
    the variable that assigns the arms and ``teae_window`` the treatment-emergent window, in words."""
    population = (
        f"Data cut {cut_date}. Safety population: the treated subjects (at least one dose by the cut) of each arm, its N in the "
        f"legend; arms by {arm_variable}. Treated subjects in no configured arm are in no arm's dots or curve."
    )
    figures = []
    if RISK_DIFFERENCE in tables:
        figures.append(dot_plot_figure(tables[RISK_DIFFERENCE], arms, config, population=population, teae_window=teae_window))
    if {"cumulative_incidence_curves", "t_cumulative_incidence"} <= set(tables):
        figures.append(incidence_figure(
            tables["cumulative_incidence_curves"], tables["t_cumulative_incidence"], arms, config, population=population, severity=severity,
        ))
    return figures


def dot_plot_figure(
    table: pl.DataFrame, arms: list[tuple[str, str]], config: TrialConfig, *, population: str, teae_window: str
) -> ArmFigure:
    settings = config.model.report
    reference = config.reference_arm
    labels = dict(arms)
    shown = dot_plot_terms(table, min_percent=settings.dot_plot_min_percent, max_terms=settings.dot_plot_terms)
    terms_in_table = table["term_rank"].n_unique()
    terms_shown = shown["term_rank"].n_unique()
    threshold = f"{settings.dot_plot_min_percent:g}%"
    note = (
        f"{population} Window: {teae_window}. Terms: of the {terms_in_table} treatment-emergent terms, the {terms_shown} with an "
        f"incidence of at least {threshold} in at least one arm ([report] dot_plot_min_percent), the most frequent first (by "
        f"subjects with the term in all arms pooled; at most [report] dot_plot_terms = {settings.dot_plot_terms}); \"Other, specify\" "
        "events under their specified text. Left: the percent of each arm's N (its treated subjects) with a TEAE of the term, "
        "a subject counted once per term."
    )
    if reference is not None:
        note += (
            f" Right: the risk difference of each other arm against {labels[reference.id]}, the reference arm ([[arms]] reference "
            "= true): its percent minus the reference arm's, in percentage points, with the 95% confidence interval of Newcombe's "
            "hybrid score method (method 10, Newcombe 1998). The intervals are not adjusted for the number of terms compared: "
            "they point to terms to look at, they are not tests."
        )
    else:
        note += (
            " No arm is marked as the reference (control) arm ([[arms]] reference = true in the trial config): no risk "
            "differences are computed, and the chart shows the incidences only."
        )
    chart = None
    if terms_shown:
        chart = dot_plot_chart(
            shown,
            title="Treatment-emergent adverse events by arm: incidence" + (" and risk difference against the reference arm" if reference else ""),
            arms=arms,
            reference=reference.id if reference is not None else None,
        )
    return ArmFigure(
        key=RISK_DIFFERENCE,
        caption="Most frequent treatment-emergent adverse events by arm: dot plot" + (" with risk differences" if reference else ""),
        note=note,
        chart=chart,
        table_files=f"tables/{BY_ARM_FOLDER}/{RISK_DIFFERENCE}.csv and .parquet, every term",
        empty=f"No treatment-emergent term has an incidence of {threshold} or more in any arm at this data cut.",
    )


def incidence_figure(
    curves: pl.DataFrame, table: pl.DataFrame, arms: list[tuple[str, str]], config: TrialConfig, *, population: str, severity: bool
) -> ArmFigure:
    horizon = config.model.windows.follow_up_days
    in_arms = [arm_id for arm_id, _ in arms]
    endpoint = (pl.col("endpoint") == GRADE_3_PLUS) & pl.col(ARM_ID).is_in(in_arms) & (pl.col(ARM_ID) != TOTAL_ARM[0])
    event = "severe or fatal AE" if severity else "grade ≥3 AE"
    note = (
        f"{population} Event: the first AE {'graded severe or fatal' if severity else 'of grade 3 or more'} with onset from the "
        f"first dose (study day 1) to day {horizon} ([windows] follow_up_days), whatever the last dose: not limited to the "
        "treatment-emergent window. Death before it is a competing risk; a subject without either is censored at their last "
        f"contact or on day {horizon}. Each arm's curve: the Aalen-Johansen estimate over the arm's treated subjects (its N), "
        "time from each subject's first dose in months of 30.4375 days. Number at risk: the arm's subjects still event-free, "
        "alive and followed on the day the month falls on (N at month 0). Grades as counted: a doubtful grade is counted the "
        "conservative way and queried."
    )
    return ArmFigure(
        key="cumulative_incidence_by_arm",
        caption=f"Time to the first {event} by arm: cumulative incidence",
        note=note,
        chart=incidence_by_arm_chart(
            curves.filter(endpoint),
            table.filter(endpoint),
            title=f"Cumulative incidence of the first {event} by arm, death a competing risk",
            arms=arms,
            event=event,
        ),
        table_files=(
            f"tables/{BY_ARM_FOLDER}/t_cumulative_incidence (estimates with 95% intervals at 3, 6, 12 and 24 months) and "
            "cumulative_incidence_curves"
        ),
    )
