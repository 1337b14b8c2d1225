"""Efficacy in the DSMB report: best overall response with the objective response and disease
control rates (t_best_response), PFS and OS (t_survival), and the Bryant-Day two-stage design
(bryant_day_status, bryant_day_oc) when the trial configures one.

Numbers come from the tables safetydb and signals built (safetydb/efficacy.py,
signals/bryant_day.py); this module only formats them and writes each table's note: population,
denominator, window and data cut.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from reports.charts import km_chart
from reports.tables import Table, report_table
from safetydb.efficacy import empty_efficacy_tables
from signals.rule_explanation import describe_event
from trial.config import TrialConfig

NOT_REACHED = "not reached"
NOT_ESTIMABLE = "–"


def efficacy_context(
    tables: dict[str, pl.DataFrame], tables_dir: Path, config: TrialConfig, *, cut_date: str, excluded_assessments: int = 0
) -> dict:
    """The section's facts: whether the cut holds tumour assessments, the response and survival
    tables, and the Bryant-Day design with its status and operating characteristics (None when
    the trial has no design). ``excluded_assessments``: the load's tumour-assessment records that
    could not be placed (its row accounting), said in every table's note."""
    settings = config.model.efficacy
    tables = empty_efficacy_tables() | tables  # a folder written before efficacy existed shows empty tables
    best, survival = tables["t_best_response"], tables["t_survival"]
    origin = "the first dose" if settings.time_origin == "first_dose" else "enrolment"
    population = (
        "treated subjects (at least one dose)" if settings.population == "treated" else "enrolled subjects"
    )
    n = int(best["denominator"].max()) if best.height else 0
    confirmation = (
        f"CR and PR confirmed by a repeat assessment at least {settings.confirmation_min_days} days later "
        "(CR by CR; CR then PR counts as PR)"
        if settings.confirmation_required else "CR and PR without confirmation"
    )
    common = f"Data cut {cut_date}. Population: {population}, N = {n}; subjects without a post-baseline assessment are NE and stay in the denominator."
    if not best.height:
        common = f"Data cut {cut_date}. Population: {population}. No tumour assessment at this cut: nothing to derive."
    if excluded_assessments:
        records = "record" if excluded_assessments == 1 else "records"
        are = "is" if excluded_assessments == 1 else "are"
        common += (
            f" {excluded_assessments} tumour assessment {records} could not be placed (unknown subject, no usable date, "
            f"before enrolment, or a line that is not a record) and {are} not counted; see queries.csv."
        )
    shown: list[Table] = [
        report_table(
            _best_response_shown(best), "t_best_response", "Best overall response (RECIST 1.1)",
            f"{common} Best overall response by RECIST 1.1 (Eisenhauer 2009, table 3): {confirmation}; "
            f"stable disease needs an assessment of SD or better at least {settings.sd_min_days} days after {origin}. "
            "Assessments up to the cut; new lesions count as PD. 95% intervals exact (Clopper-Pearson).",
            {"label": "Best overall response", "subjects": "Subjects", "denominator": "N", "percent": "%", "interval": "95% CI (%)"},
        ),
        report_table(
            _survival_shown(survival), "t_survival", "Progression-free and overall survival",
            f"{common} Time from {origin} (day 1). PFS: first PD or death, whichever first; censored at the last adequate "
            "assessment (not NE) by the cut, or on day 1 without one (FDA default). OS: death from any cause; censored on the "
            "last date known alive by the cut: the latest of the recorded last contact, the start of the last dose and the last "
            "tumour assessment (a dose's end date is not used: a missing one is filled in, up to the cut when nothing recorded ends it). Kaplan-Meier estimates (lifelines) with "
            "95% intervals on the log(-log) scale; the median's interval where the interval's bounds cross 0.5 (a curve exactly "
            "at 0.5 takes the midpoint to its next drop, as SAS and R). Months are 30.4375 days; 6, 12 and 24 months are days "
            "183, 365 and 730. \"not reached\": the estimate, or a bound, stays above 0.5; \"–\": beyond the follow-up observed.",
            {"label": "Endpoint", "subjects": "Subjects", "events": "Events", "censored": "Censored",
             "median_months": "Median, months (95% CI)", "median_days": "Median, days (95% CI)",
             "at_6": "6 months, % (95% CI)", "at_12": "12 months, % (95% CI)", "at_24": "24 months, % (95% CI)"},
        ),
        report_table(
            _subjects_shown(tables["efficacy_subjects"]), "efficacy_subjects", "Listing of efficacy by subject",
            f"{common} Days from {origin} (day 1); \"+\": censored. Response duration: from the first assessment of the "
            "(confirmed) response to progression or death.",
            {"subject_id": "Subject", "best_response": "Best response", "confirmed_shown": "Confirmed", "first_response_date": "First response",
             "first_progression_date": "Progression", "response_duration": "Response duration, days", "pfs": "PFS, days", "os": "OS, days"},
        ),
    ]
    return {
        "has_assessments": bool(best.height),
        "tables": shown,
        "charts": {"t_survival": km_chart(
            tables["km_curves"], title="Kaplan-Meier estimates of progression-free and overall survival",
            labels={"pfs": "PFS", "os": "OS"}, origin=origin,
        )} if best.height else {},
        "bryant_day": _bryant_day(tables_dir, config, cut_date=cut_date),
    }


def _best_response_shown(best: pl.DataFrame) -> pl.DataFrame:
    if best.is_empty():
        return best.with_columns(pl.lit(None, dtype=pl.String).alias("interval"))
    return best.with_columns(
        pl.when(pl.col("ci_lower").is_not_null())
        .then(pl.format("{} – {}", pl.col("ci_lower"), pl.col("ci_upper")))
        .alias("interval")
    )


def _subjects_shown(subjects: pl.DataFrame) -> pl.DataFrame:
    def days(column: str) -> pl.Expr:
        return pl.when(pl.col(f"{column}_event")).then(pl.col(f"{column}_days").cast(pl.String)).otherwise(
            pl.col(f"{column}_days").cast(pl.String) + "+"
        )

    if subjects.is_empty():
        columns = ["subject_id", "best_response", "confirmed_shown", "first_response_date", "first_progression_date", "response_duration", "pfs", "os"]
        return pl.DataFrame(schema={column: pl.String for column in columns})
    return subjects.with_columns(
        pl.when(pl.col("confirmed").is_null()).then(pl.lit("")).when(pl.col("confirmed")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("confirmed_shown"),
        days("response_duration").alias("response_duration"),
        days("pfs").alias("pfs"),
        days("os").alias("os"),
    )


def _survival_shown(survival: pl.DataFrame) -> pl.DataFrame:
    if survival.is_empty():
        columns = ["label", "subjects", "events", "censored", "median_months", "median_days", "at_6", "at_12", "at_24"]
        return pl.DataFrame(schema={column: pl.String for column in columns})
    rows = []
    for row in survival.iter_rows(named=True):
        shown = dict(row)
        shown["median_months"] = _with_interval(row["median_months"], row["median_ci_lower_months"], row["median_ci_upper_months"], digits=1)
        shown["median_days"] = _with_interval(row["median_days"], row["median_ci_lower_days"], row["median_ci_upper_days"], digits=0)
        for month in (6, 12, 24):
            value = row[f"survival_{month}m"]
            shown[f"at_{month}"] = (
                NOT_ESTIMABLE if value is None
                else _with_interval(value, row[f"survival_{month}m_ci_lower"], row[f"survival_{month}m_ci_upper"], digits=1, missing=NOT_ESTIMABLE)
            )
        rows.append(shown)
    return pl.DataFrame(rows)


def _with_interval(value: float | None, lower: float | None, upper: float | None, *, digits: int, missing: str = NOT_REACHED) -> str:
    def shown(number: float | None) -> str:
        if number is None or (isinstance(number, float) and math.isnan(number)):
            return missing
        if digits == 0 and number != int(number):
            return f"{number:.1f}"  # a median at the midpoint of two days
        return f"{number:.{digits}f}"

    return f"{shown(value)} ({shown(lower)} – {shown(upper)})"


def _bryant_day(tables_dir: Path, config: TrialConfig, *, cut_date: str) -> dict | None:
    design = config.model.efficacy.bryant_day
    oc_path, status_path = tables_dir / "bryant_day_oc.parquet", tables_dir / "bryant_day_status.parquet"
    if design is None or not oc_path.exists() or not status_path.exists():
        return None
    status = pl.read_parquet(status_path)
    oc = pl.read_parquet(oc_path)
    current = status.filter(pl.col("current"))
    event = describe_event(design.event, trial=config.model)
    design_note = (
        f"Bryant and Day (1995) two-stage design. Stage 1: the first {design.n1} treated subjects (by first dose); the trial stops "
        f"when responders ≤ {design.r1} or subjects without the toxic event ≤ {design.t1}. Final: the first {design.n}; the regimen is "
        f"acceptable only when responders > {design.r} and subjects without the toxic event > {design.t}. Responder: best overall "
        f"response CR or PR at the cut, first seen by study day {design.response_evaluable_days} (day 1 = the time origin; the "
        "confirming assessment may come later); evaluable for response once a responder, after progression or death, or once "
        f"followed to study day {design.response_evaluable_days}. Toxic event: {event} A subject is evaluable for toxicity once "
        "the event's window is over or the event has occurred. A stage is decided early when its outcome is already certain."
    )
    status_table = report_table(
        status.with_columns(
            pl.format("{} / {}", pl.col("responders").cast(pl.String).fill_null("?"), pl.col("response_evaluable").cast(pl.String).fill_null("?")).alias("response"),
            pl.format("{} / {}", pl.col("non_toxic"), pl.col("toxicity_evaluable")).alias("toxicity"),
        ),
        "bryant_day_status", "Bryant-Day design: response and toxicity at this cut",
        f"Data cut {cut_date}. {design_note}",
        {"stage": "Stage", "planned_subjects": "Subjects planned", "treated": "Treated", "response": "Responders / evaluable",
         "stop_if_responders_at_most": "Fails if responders ≤", "toxicity": "Without the toxic event / evaluable",
         "stop_if_non_toxic_at_most": "Fails if without the event ≤", "status": "Status"},
    )
    oc_table = report_table(
        oc.with_columns(
            pl.col("early_termination", "acceptable").round(3),
            pl.col("expected_subjects").round(1),
            pl.when(pl.col("met").is_null()).then(pl.lit("")).when(pl.col("met")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("met_shown"),
        ),
        "bryant_day_oc", "Bryant-Day design: operating characteristics",
        f"Data cut {cut_date} (the design does not change with the data). Exact binomial probabilities, response and toxicity independent (as in the paper), for n1 = {design.n1}, n = {design.n}, "
        f"r1 = {design.r1}, r = {design.r}, t1 = {design.t1}, t = {design.t}. Response rate p0 = {design.p0:g} (not worth pursuing), "
        f"p1 = {design.p1:g}; probability of no toxic event q0 = {design.q0:g} (unacceptable), q1 = {design.q1:g}. "
        "Acceptable: the probability the regimen is declared acceptable; required at most alpha_R under (p0, q1) and alpha_T under "
        "(p1, q0), at least the power under (p1, q1).",
        {"hypothesis": "Hypothesis", "meaning": "Meaning", "response_rate": "Response rate", "no_toxicity_rate": "P(no toxic event)",
         "early_termination": "P(stop at stage 1)", "acceptable": "P(acceptable)", "expected_subjects": "Expected subjects",
         "requirement": "Required", "met_shown": "Met"},
    )
    return {
        "status": current["status"].item() if current.height else None,
        "statement": current["statement"].item() if current.height else None,
        "status_table": status_table,
        "oc_table": oc_table,
    }
