"""Render the reports of a cut from its output folder (tables, flags, accounting).

Reports compute nothing clinical: every number comes from ``tables/`` (safetydb) and
``flags.json`` (signals). Templates autoescape and fail on any undefined name.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.free_text import OpenReportText
from reports.language import mark_chinese
from reports.plots import boundary_chart, cumulative_incidence_chart
from reports.sections.aesi import aesi_context
from reports.sections.by_arm import write_closed_report
from reports.sections.cover import cover_context
from reports.sections.efficacy import efficacy_context
from reports.sections.exposure import exposure_context
from reports.sections.figures import figures_context
from reports.sections.study_status import study_status_context
from reports.tables import report_table as _table
from safetydb.export import read_tables
from trial.config import TrialConfig

TEMPLATES = Path(__file__).with_name("templates")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["blank"] = lambda value: "" if value is None else value
    env.filters["lang"] = mark_chinese  # Chinese text marked lang="zh" (fonts, line breaking)
    return env


def _denominator(frame: pl.DataFrame) -> int | None:
    if "denominator" in frame.columns and frame.height:
        return int(frame["denominator"].max())
    return None


def _windows(config: TrialConfig) -> dict[str, str]:
    """The windows the tables use, in the words their notes print."""
    model = config.model
    teae_end = config.teae_end_days
    teae = (
        f"treatment-emergent: onset from the first dose to {teae_end} days after the last dose"
        if teae_end is not None
        else "treatment-emergent: onset on or after the first dose, no end window"
    )
    cycle_rule = (
        f"{model.trial.cycle_length_days}-day cycles from the first dose (calendar)"
        if model.cycles.mode == "calendar"
        else f"{model.trial.cycle_length_days}-day cycles from actual dosing: a cycle starts at the first dose on or after its planned start, so holds shift later cycles"
    )
    return {
        "teae": teae,
        "acute": f"acute: onset on study days 1-{model.windows.acute_days}",
        "late": f"late: onset on study days {model.windows.acute_days + 1}-{model.windows.follow_up_days}, whatever the last dose",
        "cycles": cycle_rule,
    }


def _with_partial_onsets(listing: pl.DataFrame) -> pl.DataFrame:
    """``onset_shown``: the onset date, and for a partial one the date as given and how it was
    completed (D: the day, M: the month and day), so that a reader sees which dates were imputed."""
    if "onset_date_imputed" not in listing.columns:
        return listing.with_columns(pl.col("onset_date").cast(pl.String).alias("onset_shown"))
    given = pl.format(" (given {}, imputed {})", pl.col("onset_date_given"), pl.col("onset_date_imputed"))
    return listing.with_columns(
        pl.concat_str([pl.col("onset_date").cast(pl.String), pl.when(pl.col("onset_date_imputed").is_not_null()).then(given)], ignore_nulls=True)
        .alias("onset_shown")
    )


def dsmb_context(out_dir: Path, loaded_cut: dict, config: TrialConfig) -> dict:
    tables = read_tables(out_dir / "tables")
    flags = json.loads((out_dir / "flags.json").read_text(encoding="utf-8"))
    cut_date = loaded_cut["cut_date"]
    windows = _windows(config)
    expedited_rules = config.model.expedited
    n_treated = _denominator(tables["t_overview"]) or 0
    population = f"Data cut {cut_date}. Safety population: N = {n_treated} treated subjects (at least one dose)."
    on_cut = f"{population} Window: {windows['teae']}."
    free_text = OpenReportText.for_trial(config)
    omitted = f" {free_text.note}" if free_text.note else ""
    tables["t_soc_term"] = free_text.column(tables["t_soc_term"], "term")
    tables["t_acute_late"] = free_text.column(tables["t_acute_late"], "term")
    tables["t_attribution"] = free_text.column(tables["t_attribution"], "term")
    tables["t_sae_listing"] = _with_partial_onsets(free_text.column(tables["t_sae_listing"], "ae_term", coded="ctcae_term"))
    tables["t_deaths"] = free_text.joined_column(tables["t_deaths"], "fatal_events", separator="; ")

    rules = []
    for rule in flags["rules"]:
        chart = None
        if rule["boundary_curve"]:
            chart = boundary_chart(rule["path"], rule["boundary_curve"], title=rule["title"])
        # Qualifying events whose grade was set by a conservative reading, not as reported.
        read_events = [e["ae_id"] for e in rule["qualifying_events"] if e.get("grade_reported") != e["grade"]]
        qualifying = [free_text.event(event) for event in rule["qualifying_events"]]
        rules.append(rule | {"chart": chart, "conservative_events": read_events, "qualifying_events": qualifying})

    # A trial graded by severity shows its levels by name; grade 4 does not occur in it.
    severity = config.model.trial.grading == "severity"
    grade_columns = (
        {"worst_grade_1": "Mild", "worst_grade_2": "Moderate", "worst_grade_3": "Severe", "worst_grade_5": "Fatal"}
        if severity
        else {f"worst_grade_{g}": f"G{g}" for g in range(1, 6)}
    )
    high = "Severe or fatal" if severity else "G≥3"
    shown = [
        _table(tables["t_overview"], "t_overview", "Overview of treatment-emergent adverse events", on_cut + " Each row names the source field it counts.",
               {"category": "Category", "subjects": "Subjects", "percent": "%", "events": "Events", "source": "Source"}),
        _table(tables["t_aesi"], "t_aesi", "Adverse events of special interest", on_cut,
               {"label": "AESI", "subjects": "Subjects", "percent": "%", "grade_3_plus": "Severe or fatal" if severity else "Grade ≥3", "grade_5": "Grade 5", "events": "Events", "median_first_onset_day": "Median day of first onset"}),
        _table(tables["t_soc_term"], "t_soc_term", "TEAEs by system organ class, term and worst grade",
               on_cut + " A subject counts once per row, at the worst grade. \"Other, specify\" events are listed under their specified text." + omitted,
               {"meddra_soc": "SOC", "term": "Term", "subjects": "Subjects", "percent": "%"} | grade_columns | {"grade_3_plus": high}),
        _table(tables["t_acute_late"], "t_acute_late", "Acute and late toxicity",
               f"Data cut {cut_date}. Windows: {windows['acute']}; {windows['late']}. Denominators: acute, all treated subjects; "
               "late, treated subjects alive and followed beyond the acute window (subjects at risk)." + omitted,
               {"phase": "Phase", "term": "Term", "subjects": "Subjects", "denominator": "N at risk", "percent": "%", "grade_3_plus": high, "related_subjects": "Related", "related_grade_3_plus": f"Related {high}"}),
        _table(tables["t_by_cycle"], "t_by_cycle", "TEAEs by treatment cycle (onset cycle, worst grade in the cycle)",
               f"Data cut {cut_date}. Cycles: {windows['cycles']}. Denominator per cycle: subjects on treatment in that cycle; "
               "events after the last dose are in the after-treatment row.",
               {"cycle_label": "Cycle", "denominator": "N on treatment", "subjects": "Subjects", "percent": "%"} | grade_columns | {"grade_3_plus": high, "related_subjects": "Related", "first_onset_subjects": "First TEAE"}),
        _table(tables["t_attribution"], "t_attribution", "Treatment-related TEAEs by agent",
               f"{population} Per agent, % of the treated subjects who received it. Window: {windows['teae']}."
               " Not assessed: attribution missing or invalid in the source, counted as related (queried)." + omitted,
               {"agent": "Agent", "term": "Term", "subjects": "Subjects", "percent": "%", "grade_3_plus": high, "events_possible": "Possible", "events_probable": "Probable", "events_definite": "Definite", "events_not_assessed": "Not assessed"}),
        _table(tables["t_lab_shift"].with_columns(pl.col("baseline_grade").cast(pl.String).fill_null("missing")), "t_lab_shift",
               "Laboratory shift: baseline CTCAE grade against the worst on-treatment grade",
               f"Data cut {cut_date}. Graded from values with CTCAE criteria; the baseline result is graded against the normal range. "
               f"Per test and direction, N = subjects with a gradable on-treatment result ({windows['teae']}).",
               {"test_code": "Test", "ctcae_term": "CTCAE term", "baseline_grade": "Baseline grade", "subjects": "Subjects"} | {f"worst_grade_{g}": f"Worst {g}" for g in range(5)} | {"denominator": "N"}),
        _table(tables["t_sae_listing"], "t_sae_listing", "Listing of serious adverse events", f"Data cut {cut_date}. All serious AEs with onset by the cut, treatment-emergent or not.{omitted}",
               {"subject_id": "Subject", "ae_id": "AE", "ae_term": "Term", "grade": "Grade", "onset_shown": "Onset", "cycle": "Cycle", "outcome": "Outcome", "serious_criteria": "Criteria", "attribution": "Attribution"}),
        _table(tables["t_deaths"], "t_deaths", "Listing of deaths", f"{population} Deaths by the cut, any cause, as the disposition counts them: a death in the subjects file, or, with "
               "none recorded there, an AE counted at grade 5 or the end-of-treatment reason \"death\" (listed with date and cause "
               f"empty, and queried).{omitted}",
               {"subject_id": "Subject", "death_date": "Date", "study_day": "Study day", "death_cause": "Cause", "fatal_events": "Fatal AE", "treatment_related": "Treatment-related"}),
    ]
    incidence = tables["t_cumulative_incidence"].with_columns(
        pl.col("month").map_elements(lambda month: f"{month:g}", return_dtype=pl.String),
        pl.when(pl.col("ci_lower").is_not_null())
        .then(pl.format("{} – {}", pl.col("ci_lower"), pl.col("ci_upper")))
        .alias("interval")
    )
    incidence_table = _table(
        incidence, "t_cumulative_incidence", "Cumulative incidence of toxicity (death as a competing risk)",
        f"{population} Window: onset from study day 1 to {config.model.windows.follow_up_days} (the follow-up horizon), "
        "whatever the last dose; subjects censored at last contact. Aalen-Johansen estimate with a 95% interval "
        "(delta method, log-log scale); months as 30.4375 days.",
        {"label": "Endpoint", "month": "Month", "cumulative_incidence": "Cumulative incidence %", "interval": "95% interval", "at_risk": "At risk", "events": "Events so far", "competing_deaths": "Deaths first"},
    )
    shown.insert(4, incidence_table)
    incidence_chart = cumulative_incidence_chart(
        tables["cumulative_incidence_curves"].to_dicts(), "Cumulative incidence of toxicity from the first dose"
    )
    expedited = pl.read_parquet(out_dir / "tables" / "expedited_reports.parquet")
    expedited = free_text.within(expedited, "expectedness_reason", texts=["other_specify", "ctcae_term"])
    expedited = free_text.column(expedited, "ctcae_term")
    shown.insert(
        0,
        _table(expedited.filter(pl.col("susar")), "expedited_reports", "Expedited reports: SUSAR clocks",
               f"Data cut {cut_date}. Serious AEs suspected for an agent and unexpected against that agent's reference safety information. "
               f"Day 0 = sponsor awareness; due in {expedited_rules.fatal_or_life_threatening_days} days if fatal or life-threatening, "
               f"else {expedited_rules.other_days}.{omitted}",
               {"subject_id": "Subject", "ae_id": "AE", "ctcae_term": "CTCAE term", "grade": "Grade", "suspected_for": "Suspected for", "unexpected_for": "Unexpected for", "expectedness_reason": "Why unexpected", "awareness_date": "Aware", "due_date": "Due", "reported_date": "Submitted", "status": "Clock"}),
    )
    accounting = [
        {"source": name, **counts} for name, counts in loaded_cut["accounting"].items()
    ]
    exposure = exposure_context(tables, config, cut_date=cut_date, population=population, teae_window=windows["teae"])
    aesi = aesi_context(tables, config, population=population, teae_window=windows["teae"])
    figures = figures_context(tables, config, population=population, teae_window=windows["teae"], cycle_rule=windows["cycles"], free_text=free_text)
    blinded_note = None
    if config.arm_revealing_agents:
        # Arms whose agents differ (a placebo, a dose arm): what names an agent beside a subject's
        # data would reveal the arm, so the open report leaves it to the closed report.
        shown, exposure, aesi, figures = _blinded(shown, exposure, aesi, figures)
        blinded_note = (
            f"The arms receive different agents ({', '.join(config.arm_revealing_agents)}): the tables by agent (exposure, "
            "dose intensity, time to modification, related TEAEs by agent, AESI dose actions), the attribution per agent in "
            "the SAE listing and the suspected agent of each SUSAR would reveal a subject's arm: they are in the closed report "
            "only; the swimmer plot is left out (its table, tables/t_swimmer, holds every subject's course)."
        )
    return {
        "title": "DSMB safety review",
        "cover": cover_context(out_dir, loaded_cut, config),
        "study_status": study_status_context(tables, config, cut_date=cut_date),
        "exposure": exposure,
        "aesi": aesi,
        "efficacy": efficacy_context(
            tables, out_dir / "tables", config, cut_date=cut_date,
            excluded_assessments=loaded_cut["accounting"].get("tumour_assessments", {}).get("excluded", 0),
        ),
        "figures": figures,
        "blinded_note": blinded_note,
        "trial_id": flags["trial_id"],
        "registry_id": config.model.trial.registry_id,
        "cut_date": cut_date,
        "cut_id": loaded_cut["cut_id"],
        "dictionary": loaded_cut["dictionary"],
        "stopping": flags["stopping"],
        "reporting": flags["reporting"],
        "excluded_records": flags["excluded_records"],
        "data_quality": flags.get("data_quality"),
        "changes": changes_context(out_dir, free_text),
        "rules": rules,
        "expedited_flags": [free_text.event(flag) for flag in flags["expedited"]],
        "tables": shown,
        "charts": {"t_cumulative_incidence": incidence_chart},
        "accounting": accounting,
        "queries": pl.scan_csv(out_dir / "queries.csv", infer_schema=False).select(pl.len()).collect().item(),
        "n_treated": n_treated,
        "free_text_note": free_text.note,
    }


# Tables of the open report that name an agent beside subjects' data (and columns that do): left
# out of the open report when the arms receive different agents (TrialConfig.arm_revealing_agents).
ARM_REVEALING_TABLES = frozenset({"t_attribution", "t_exposure", "t_dose_intensity", "t_time_to_modification", "t_aesi_dose_actions"})
ARM_REVEALING_COLUMNS = {
    "t_sae_listing": ("attribution",),
    "expedited_reports": ("suspected_for", "unexpected_for", "expectedness_reason"),
}


def _blinded(shown: list, exposure: dict, aesi: dict, figures: dict) -> tuple[list, dict, dict, dict]:
    """The open report's tables and figures without what reveals a subject's arm."""

    def kept(tables: list) -> list:
        result = []
        for table in tables:
            if table.key in ARM_REVEALING_TABLES:
                continue
            hidden = ARM_REVEALING_COLUMNS.get(table.key, ())
            if hidden:
                table = table.without_columns(hidden)
            result.append(table)
        return result

    return kept(shown), exposure | {"tables": kept(exposure["tables"])}, aesi | {"tables": kept(aesi["tables"])}, figures | {"swimmer": None}


# The AE changes a committee reads in the report; the others are counted there and listed in changes.json.
NOTABLE_CHANGES = ("became serious", "grade upgraded", "removed")
CHANGE_SUMMARY = {
    "new_aes": "New AEs", "new_serious_aes": "New serious", "new_grade_3_or_more": "New grade ≥3",
    "grade_upgrades": "Grade upgrades", "grade_downgrades": "Grade downgrades", "resolved": "Resolved",
    "changed": "Other changes", "removed_aes": "Removed", "new_deaths": "New deaths", "rule_status_changes": "Rule status changes",
}


def changes_context(out_dir: Path, free_text: OpenReportText) -> dict:
    """What changed since the previous cut (changes.json, from safetydb.diff): the counts, the
    rule status changes, new deaths, new serious or grade >= 3 AEs and the notable changes."""
    changes = json.loads((out_dir / "changes.json").read_text(encoding="utf-8"))
    if not changes.get("from"):
        return {"from": None}
    rows = [row | {"ctcae_term": free_text.text(row["ctcae_term"])} for row in changes["ae_changes"]]
    notable = [
        row for row in rows
        if row["change"] in NOTABLE_CHANGES
        or (row["change"] == "new" and (row["serious"] == "Y" or (row["grade"] or 0) >= 3))
    ]
    return {
        "from": changes["from"],
        "summary": [(CHANGE_SUMMARY[key], count) for key, count in changes["summary"].items()],
        "rule_changes": changes["rule_changes"],
        "new_deaths": [row | {"fatal_events": _fatal_events_shown(row["fatal_events"], free_text)} for row in changes["new_deaths"]],
        "notable": notable,
        "other": len(rows) - len(notable),
    }


def _fatal_events_shown(fatal_events: str | None, free_text: OpenReportText) -> str | None:
    """d_new_deaths lists fatal AEs as "<AE id> <CTCAE term>; ...": each term shown or omitted."""
    if not fatal_events:
        return fatal_events
    shown = []
    for event in fatal_events.split("; "):
        ae_id, _, term = event.partition(" ")
        shown.append(f"{ae_id} {free_text.text(term)}")
    return "; ".join(shown)


def render_reports(out_dir: Path, *, loaded_cut: dict, config: TrialConfig) -> list[Path]:
    env = environment()
    context = dsmb_context(out_dir, loaded_cut, config) | {"trial_title": config.model.trial.title}
    html = env.get_template("dsmb.html.j2").render(**context)
    path = out_dir / "dsmb_report.html"
    path.write_text(html, encoding="utf-8")
    # With two or more arms, the closed report beside it ([report] closed_report).
    closed = write_closed_report(env, out_dir, loaded_cut=loaded_cut, config=config, windows=_windows(config))
    return [path] if closed is None else [path, closed]
