"""Render the reports of a cut from its output folder (tables, flags, accounting).

Reports compute nothing clinical: every number comes from ``tables/`` (safetydb) and
``flags.json`` (signals). Templates autoescape and fail on any undefined name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.plots import boundary_chart
from safetydb.export import read_tables

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Table:
    """A table as a report shows it: caption, data cut and denominator on every one."""

    key: str
    caption: str
    columns: list[str]
    rows: list[list[object]]
    note: str


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["blank"] = lambda value: "" if value is None else value
    return env


MAX_REPORT_ROWS = 300  # a listing longer than this is shown in part; the file holds every row


def _table(frame: pl.DataFrame, key: str, caption: str, note: str, columns: dict[str, str]) -> Table:
    selected = frame.select(list(columns))
    if selected.height > MAX_REPORT_ROWS:
        note += f" Showing the first {MAX_REPORT_ROWS} of {selected.height} rows; all rows are in tables/{key}.csv."
        selected = selected.head(MAX_REPORT_ROWS)
    return Table(key=key, caption=caption, columns=list(columns.values()), rows=[list(r) for r in selected.iter_rows()], note=note)


def _denominator(frame: pl.DataFrame) -> int | None:
    if "denominator" in frame.columns and frame.height:
        return int(frame["denominator"].max())
    return None


def dsmb_context(out_dir: Path, loaded_cut: dict) -> dict:
    tables = read_tables(out_dir / "tables")
    flags = json.loads((out_dir / "flags.json").read_text(encoding="utf-8"))
    cut_date = loaded_cut["cut_date"]
    n_treated = _denominator(tables["t_overview"]) or 0
    on_cut = f"Data cut {cut_date}; N = {n_treated} treated subjects (safety population)."

    rules = []
    for rule in flags["rules"]:
        chart = None
        if rule["boundary_curve"]:
            chart = boundary_chart(rule["path"], rule["boundary_curve"], title=rule["title"])
        rules.append(rule | {"chart": chart})

    grade_columns = {f"worst_grade_{g}": f"G{g}" for g in range(1, 6)}
    shown = [
        _table(tables["t_overview"], "t_overview", "Overview of treatment-emergent adverse events", on_cut,
               {"category": "Category", "subjects": "Subjects", "percent": "%", "events": "Events"}),
        _table(tables["t_aesi"], "t_aesi", "Adverse events of special interest", on_cut,
               {"label": "AESI", "subjects": "Subjects", "percent": "%", "grade_3_plus": "Grade ≥3", "grade_5": "Grade 5", "events": "Events", "median_first_onset_day": "Median day of first onset"}),
        _table(tables["t_soc_term"], "t_soc_term", "TEAEs by system organ class, CTCAE term and worst grade", on_cut + " A subject counts once per row, at the worst grade.",
               {"meddra_soc": "SOC", "ctcae_term": "CTCAE term", "subjects": "Subjects", "percent": "%"} | grade_columns | {"grade_3_plus": "G≥3"}),
        _table(tables["t_acute_late"], "t_acute_late", "Acute and late toxicity",
               f"Data cut {cut_date}. Each phase has its own denominator: subjects observed in it.",
               {"phase": "Phase", "ctcae_term": "CTCAE term", "subjects": "Subjects", "denominator": "N observed", "percent": "%", "grade_3_plus": "G≥3"}),
        _table(tables["t_by_cycle"], "t_by_cycle", "TEAEs by treatment cycle (onset cycle, worst grade in the cycle)",
               f"Data cut {cut_date}. Denominator per cycle: subjects dosed in that cycle.",
               {"cycle": "Cycle", "denominator": "N dosed", "subjects": "Subjects", "percent": "%"} | grade_columns | {"grade_3_plus": "G≥3", "related_subjects": "Related", "first_onset_subjects": "First TEAE"}),
        _table(tables["t_attribution"], "t_attribution", "Treatment-related TEAEs by agent", on_cut,
               {"agent": "Agent", "ctcae_term": "CTCAE term", "subjects": "Subjects", "percent": "%", "grade_3_plus": "G≥3", "events_possible": "Possible", "events_probable": "Probable", "events_definite": "Definite"}),
        _table(tables["t_lab_shift"].with_columns(pl.col("baseline_grade").cast(pl.String).fill_null("missing")), "t_lab_shift",
               "Laboratory shift: baseline CTCAE grade against the worst on-treatment grade",
               f"Data cut {cut_date}. Graded from values with CTCAE criteria; per test and direction, N = subjects with a gradable on-treatment result.",
               {"test_code": "Test", "ctcae_term": "CTCAE term", "baseline_grade": "Baseline grade", "subjects": "Subjects"} | {f"worst_grade_{g}": f"Worst {g}" for g in range(5)} | {"denominator": "N"}),
        _table(tables["t_exposure"], "t_exposure", "Exposure", f"Data cut {cut_date}.",
               {"agent": "Agent", "subjects_dosed": "Subjects dosed", "median_days_on_treatment": "Median days", "subjects_reduced": "Reduced", "subjects_held": "Held", "subjects_discontinued": "Discontinued"}),
        _table(tables["t_sae_listing"], "t_sae_listing", "Listing of serious adverse events", f"Data cut {cut_date}.",
               {"subject_id": "Subject", "ae_id": "AE", "ctcae_term": "CTCAE term", "other_specify": "Specify", "grade": "Grade", "onset_date": "Onset", "cycle": "Cycle", "outcome": "Outcome", "serious_criteria": "Criteria", "attribution": "Attribution"}),
        _table(tables["t_deaths"], "t_deaths", "Listing of deaths", f"Data cut {cut_date}.",
               {"subject_id": "Subject", "death_date": "Date", "study_day": "Study day", "death_cause": "Cause", "fatal_events": "Fatal AE", "treatment_related": "Treatment-related"}),
    ]
    expedited = pl.read_parquet(out_dir / "tables" / "expedited_reports.parquet")
    shown.insert(
        0,
        _table(expedited.filter(pl.col("susar")), "expedited_reports", "Expedited reports: SUSAR clocks",
               f"Data cut {cut_date}. Day 0 = sponsor awareness; due in 7 days if fatal or life-threatening, else 15.",
               {"subject_id": "Subject", "ae_id": "AE", "ctcae_term": "CTCAE term", "grade": "Grade", "related_to": "Related to", "awareness_date": "Aware", "due_date": "Due", "reported_date": "Submitted", "status": "Clock"}),
    )
    accounting = [
        {"source": name, **counts} for name, counts in loaded_cut["accounting"].items()
    ]
    return {
        "title": "DSMB safety review",
        "trial_id": flags["trial_id"],
        "cut_date": cut_date,
        "cut_id": loaded_cut["cut_id"],
        "dictionary": loaded_cut["dictionary"],
        "overall": flags["overall"],
        "rules": rules,
        "expedited_flags": flags["expedited"],
        "tables": shown,
        "accounting": accounting,
        "queries": loaded_cut["queries"],
        "n_treated": n_treated,
    }


def render_reports(out_dir: Path, *, loaded_cut: dict) -> list[Path]:
    env = environment()
    context = dsmb_context(out_dir, loaded_cut) | {"trial_title": _trial_title(loaded_cut)}
    html = env.get_template("dsmb.html.j2").render(**context)
    path = out_dir / "dsmb_report.html"
    path.write_text(html, encoding="utf-8")
    return [path]


def _trial_title(loaded_cut: dict) -> str:
    from validators.trial_config import load_trial_config

    return load_trial_config(loaded_cut["config_path"]).model.trial.title
