"""The DSMB closed report (dsmb_report_closed.html): the safety tables with the arms side by side.

A trial with two or more ``[[arms]]`` has every table built again for each arm's subjects
(``tables/by_arm/``, each row led by ``arm_id`` and ``arm``, the arms pooled last as "All arms")
and every stopping rule evaluated per arm (``flags.json`` -> ``by_arm``). The open report pools
the arms; this report, for the DSMB's closed session, shows them: each arm a column headed by
its N (treated subjects), then All arms.

Numbers come from those tables and flags; this module only arranges them (arms as columns) and
formats them ("n (%)" cells). The one figure it derives is the percent beside a count the table
gives without one (subjects at a grade >= 3): the count over the arm's N, rounded half up to one
decimal as the SQL models round theirs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
from jinja2 import Environment

from reports.sections.arm_figures import arm_figures
from reports.sections.cover import cover_context
from reports.tables import Table, report_table
from safetydb.export import ARM_ID, ARM_LABEL, BY_ARM_FOLDER, TOTAL_ARM
from trial.config import TrialConfig

CLOSED_REPORT = "dsmb_report_closed.html"
BANNER = "CLOSED REPORT — arms unblinded: for the DSMB's closed session only"
NO_ARM = "(no configured arm)"  # a listed subject of the pooled tables found in no arm's table
# How the subject-level variable that assigns the arm reads: planned or actual treatment.
ARM_VARIABLE_KINDS = {"ARM": "planned", "TRT01P": "planned", "ACTARM": "actual", "TRT01A": "actual"}


@dataclass(frozen=True)
class ArmColumn:
    """One arm as a column of the report, or All arms (the pooled tables)."""

    arm_id: str
    label: str
    treated: int  # the arm's safety population: subjects with at least one dose by the cut
    enrolled: int

    @property
    def header(self) -> str:
        return f"{self.label} (N={self.treated})"


@dataclass(frozen=True)
class ArmRow:
    """A row of an arms-as-columns table: its label cells, then one cell per sub-column of each arm.
    ``level`` 0 is a heading or total row (shown bold), 1 a row of its own, 2 a row under a heading
    (indented)."""

    cells: list[object]
    level: int = 1


@dataclass(frozen=True)
class ArmTable:
    """A table with the arms as column groups: ``lead`` labels the row-label columns, each arm
    spans ``columns`` (one sub-column or more) under its header ``Arm (N=..)``."""

    key: str
    caption: str
    note: str
    lead: list[str]
    arms: list[str]
    columns: list[str]
    rows: list[ArmRow]


def write_closed_report(
    env: Environment, out_dir: Path, *, loaded_cut: dict, config: TrialConfig, windows: dict[str, str]
) -> Path | None:
    """Write dsmb_report_closed.html beside the open report when the trial has two or more arms
    and ``[report] closed_report`` is on; None (nothing written) otherwise. ``windows`` are the
    treatment-emergent, acute, late and cycle windows in the words the open report's notes use."""
    if len(config.arms) < 2 or not config.model.report.closed_report:
        return None
    context = closed_context(out_dir, loaded_cut=loaded_cut, config=config, windows=windows)
    path = out_dir / CLOSED_REPORT
    path.write_text(env.get_template("dsmb_closed.html.j2").render(**context), encoding="utf-8")
    return path


def read_tables_by_arm(folder: Path) -> dict[str, pl.DataFrame]:
    """Every table of ``tables/by_arm/`` by name."""
    return {path.stem: pl.read_parquet(path) for path in sorted(folder.glob("*.parquet"))}


def closed_context(out_dir: Path, *, loaded_cut: dict, config: TrialConfig, windows: dict[str, str]) -> dict:
    """The closed report's context: cover, stopping rules by arm, then the tables in report order."""
    tables = read_tables_by_arm(out_dir / "tables" / BY_ARM_FOLDER)
    flags = json.loads((out_dir / "flags.json").read_text(encoding="utf-8"))
    cut_date = loaded_cut["cut_date"]
    arms = arm_columns(tables, config)
    severity = config.model.trial.grading == "severity"
    high = "Severe or fatal" if severity else "Grade ≥3"
    arm_variable = describe_arm_variable(config)
    population = (
        f"Data cut {cut_date}. Safety population: the treated subjects (at least one dose by the cut) of each arm, its N in "
        f"the column header; All arms: every treated subject ({arms[-1].treated}). Arms by {arm_variable}."
    )
    on_teae = f"{population} Window: {windows['teae']}."
    return {
        "title": "DSMB safety review",
        "report_kind": "closed report",
        "banner": BANNER,
        "cover": cover_context(out_dir, loaded_cut, config),
        "arm_variable": arm_variable,
        "arms": arms,
        "arms_note": _arms_note(arms, cut_date),
        "free_text_note": (
            "Free text (verbatim terms, \"Other, specify\" texts, causes of death) is shown as recorded: the open report's "
            "privacy rule (privacy.open_report_free_text) applies to the open report only."
        ),
        "stopping": stopping_by_arm(flags, arms, cut_date=cut_date),
        "sections": [
            {"id": "adverse-events-by-arm", "heading": "Adverse events by arm", "tables": [
                overview_by_arm(tables["t_overview"], arms, note=f"{on_teae} n (%): subjects with at least one event of the row, % of the arm's N."),
                # The charts that compare the arms: the AE dot plot and the time to the first grade >= 3 AE.
                *arm_figures(
                    tables, [(arm.arm_id, arm.label) for arm in arms[:-1]], config, cut_date=cut_date, arm_variable=arm_variable,
                    teae_window=windows["teae"], severity=severity,
                ),
                soc_term_by_arm(
                    tables["t_soc_term"], arms, high=high,
                    note=f"{on_teae} A subject counts once per row: in the any-grade column with any event of the row, in the "
                    f"{high.lower()} column when their worst grade of the row is {'severe or fatal' if severity else '3 or more'}; % of "
                    "the arm's N. Rows sorted by the All arms count: SOCs, then the terms within each. \"Other, specify\" events "
                    "are listed under their specified text; a term the CTCAE dictionary does not know is under \"Not coded to CTCAE\".",
                ),
                worst_grade_by_arm(
                    tables["t_soc_term"], arms, severity=severity,
                    note=f"{on_teae} Each subject with a TEAE counts once, at their worst grade over all TEAEs; % of the arm's N."
                    + (" Severity-graded trial: mild, moderate, severe and fatal (grade 4 does not occur)." if severity else ""),
                ),
            ]},
            {"id": "deaths-saes-by-arm", "heading": "Deaths and serious adverse events by arm", "tables": [
                deaths_by_arm(
                    tables["t_deaths"], arms,
                    note=f"{population} Deaths by the cut, any cause, as the disposition counts them: a death in the subjects file, "
                    "or, with none recorded there, an AE counted at grade 5 or the end-of-treatment reason \"death\" (listed with "
                    "date and cause empty, and queried). Listed by arm, then by date.",
                ),
                sae_listing_by_arm(
                    tables["t_sae_listing"], arms,
                    note=f"Data cut {cut_date}. Arms by {arm_variable}. All serious AEs with onset by the cut, treatment-emergent or "
                    "not, of every subject (as the open report lists them), by arm, then by onset.",
                ),
            ]},
            {"id": "exposure-by-arm", "heading": "Exposure by arm", "tables": [
                exposure_by_arm(
                    tables["t_exposure"], arms, config,
                    note=f"{population} Per agent: the arm's subjects who received it (at least one exposure record with a dose "
                    "above 0). Median days: from the agent's first dose to its last, counting both ends. Reduced, held, "
                    "discontinued: subjects with at least one exposure record of the agent with that adjustment. An agent an arm "
                    "does not receive shows \"–\".",
                ),
            ]},
            {"id": "agents-by-arm", "heading": "By agent, by arm", "tables": by_agent_tables(
                tables, arms, out_dir=out_dir, population=population, on_teae=on_teae, high=high, cut_date=cut_date,
            )},
            {"id": "aesi-acute-late-by-arm", "heading": "Special interest, acute and late toxicity by arm", "tables": [
                aesi_by_arm(
                    tables["t_aesi"], arms, high=high,
                    note=f"{on_teae} A set matches its CTCAE terms and \"Other, specify\" texts ([aesi.<id>] in the trial config); "
                    f"a subject counts once per set, in the {high.lower()} column at their worst grade; % of the arm's N.",
                ),
                acute_late_by_arm(
                    tables["t_acute_late"], arms, high=high,
                    note=f"Data cut {cut_date}. Arms by {arm_variable}. Windows: {windows['acute']}; {windows['late']}. Denominators, "
                    "per arm: acute, the arm's treated subjects; late, the arm's treated subjects alive and followed beyond the "
                    "acute window (subjects at risk, the first row of each phase; \"–\" when the arm has no event in the phase, "
                    "as the table then gives no denominator). n (%): subjects with an event of the row in the phase, % of that "
                    "denominator. Rows sorted by the All arms count.",
                ),
            ]},
        ],
    }


def arm_columns(tables: dict[str, pl.DataFrame], config: TrialConfig) -> list[ArmColumn]:
    """Each configured arm, in the trial config's order, then All arms, with its N: treated subjects
    (t_overview's denominator) and enrolled subjects (t_disposition's enrolled denominator)."""
    overview, disposition = tables["t_overview"], tables["t_disposition"]
    columns = []
    for arm_id, label in [(arm.id, arm.shown) for arm in config.arms] + [TOTAL_ARM]:
        treated = overview.filter(pl.col(ARM_ID) == arm_id)["denominator"].max()
        enrolled = disposition.filter((pl.col(ARM_ID) == arm_id) & (pl.col("population") == "enrolled"))["denominator"].max()
        columns.append(ArmColumn(arm_id, label, int(treated or 0), int(enrolled or 0)))
    return columns


def describe_arm_variable(config: TrialConfig) -> str:
    """The variable that assigns each subject's arm, in words: the CDISC variable (planned or
    actual arm), or the subjects source's arm column."""
    cdisc = config.model.cdisc
    if cdisc is not None:
        kind = ARM_VARIABLE_KINDS.get(cdisc.arm_variable.upper())
        return f"{cdisc.arm_variable} ({kind} arm)" if kind else cdisc.arm_variable
    subjects = config.model.sources.subjects
    column = subjects.columns.get("arm", "arm") if subjects is not None else "arm"
    return f"the subjects file's {column} column"


def _arms_note(arms: list[ArmColumn], cut_date: str) -> str:
    """Who is in an arm, and the treated subjects in none (All arms counts them, no arm does)."""
    in_arms = sum(arm.treated for arm in arms[:-1])
    note = (
        f"Data cut {cut_date}. N: treated subjects (at least one dose by the cut), the safety population of each arm. A subject "
        "is in the arm whose value their arm variable holds; All arms is every subject, as the open report pools them."
    )
    if in_arms != arms[-1].treated:
        note += (
            f" The arms' N add up to {in_arms}, All arms has {arms[-1].treated}: the others are treated subjects whose arm is "
            "none of the configured arms, counted in All arms only."
        )
    return note


# --- formatting ---------------------------------------------------------------------------------


def n_percent(count: int | None, percent: float | None) -> str:
    """"n (p%)" as the open report writes it; a count of 0 (or none: no row in the arm) is "0"."""
    if not count:
        return "0"
    return f"{count} ({percent:.1f}%)"


def percent_of(count: int | None, denominator: int) -> float | None:
    """``count`` as a percent of ``denominator``, rounded half up to one decimal (as the SQL models'
    round(100.0 * n / N, 1)); None when the denominator is 0."""
    if not denominator:
        return None
    exact = Decimal(100 * (count or 0)) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _by_arm(frame: pl.DataFrame, keys: list[str]) -> dict[str, dict[tuple, dict]]:
    """arm id -> the arm's rows by their key."""
    rows: dict[str, dict[tuple, dict]] = {}
    for row in frame.iter_rows(named=True):
        rows.setdefault(row[ARM_ID], {})[tuple(row[key] for key in keys)] = row
    return rows


def _total(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col(ARM_ID) == TOTAL_ARM[0])


# --- the tables ---------------------------------------------------------------------------------


def stopping_by_arm(flags: dict, arms: list[ArmColumn], *, cut_date: str) -> dict:
    """Each stopping rule's status in each arm (flags.json by_arm) and pooled (flags.json rules)."""
    per_arm = {entry["arm_id"]: entry for entry in flags.get("by_arm", [])}
    pooled = {"stopping": flags["stopping"], "rules": flags["rules"]}
    sources = [per_arm.get(arm.arm_id) if arm.arm_id != TOTAL_ARM[0] else pooled for arm in arms]
    overall = [entry["stopping"]["status"] if entry else None for entry in sources]
    rules = []
    for rule in flags["rules"]:
        cells = []
        for entry in sources:
            found = next((r for r in entry["rules"] if r["rule_id"] == rule["rule_id"]), None) if entry else None
            cells.append(
                None if found is None
                else {"status": found["status"], "events": found["events"], "evaluable": found["evaluable"], "boundary": found["boundary"]}
            )
        rules.append({"rule_id": rule["rule_id"], "title": rule["title"], "kind": rule["kind"], "cells": cells})
    return {
        "overall": overall,
        "statements": [
            (arm.label, " ".join([entry["stopping"]["statement"], *_excluded_statement(entry, flags, arm)]))
            for arm, entry in zip(arms, sources) if entry
        ],
        "rules": rules,
        "note": (
            f"Data cut {cut_date}. Each rule as the trial config defines it (same events, window and boundary), evaluated on "
            "each arm's own subjects; All arms: the pooled evaluation the open report shows. n: evaluable subjects of the "
            "arm, x: events as the rule counts them; a rule stops when x exceeds the boundary shown. A boundary planned for "
            "the whole trial is a stricter test in an arm of fewer subjects: read an arm's WARN or STOP with its n."
        ),
    }


def _excluded_statement(entry: dict, flags: dict, arm: ArmColumn) -> list[str]:
    """What the AEs that could not be counted would do to the arm's rules (the pooled statement for All arms)."""
    excluded = flags.get("excluded_records") if arm.arm_id == TOTAL_ARM[0] else entry.get("excluded_records")
    if not excluded or not excluded.get("adverse_events"):
        return []
    return [excluded["statement"]]


def overview_by_arm(overview: pl.DataFrame, arms: list[ArmColumn], *, note: str) -> ArmTable:
    """t_overview's rows (AET01) as rows, each arm's subjects n (%) as columns."""
    rows = _by_arm(overview, ["ord"])
    order = _total(overview).sort("ord")
    table_rows = []
    for category, ord_ in order.select("category", "ord").iter_rows():
        cells = [category]
        for arm in arms:
            found = rows.get(arm.arm_id, {}).get((ord_,))
            cells.append(n_percent(found["subjects"], found["percent"]) if found else "0")
        table_rows.append(ArmRow(cells, level=0 if ord_ == order["ord"].min() else 1))
    return ArmTable(
        key="t_overview", caption="Overview of treatment-emergent adverse events by arm", note=note,
        lead=["Category"], arms=[arm.header for arm in arms], columns=["n (%)"], rows=table_rows,
    )


def soc_term_by_arm(soc_term: pl.DataFrame, arms: list[ArmColumn], *, high: str, note: str) -> ArmTable:
    """t_soc_term (AET02) with each arm's any-grade and grade >= 3 (severe or fatal) subjects as
    columns; SOCs and the terms within them sorted by the All arms count, most frequent first."""
    rows = _by_arm(soc_term, ["meddra_soc", "term"])
    total = _total(soc_term)
    soc_counts = dict(total.filter(pl.col("term") == "(any)").select("meddra_soc", "subjects").iter_rows())
    ordered = total.with_columns(
        pl.col("meddra_soc").replace_strict(soc_counts, default=0, return_dtype=pl.Int64).alias("_soc_subjects"),
        (pl.col("meddra_soc") == "(any)").alias("_overall"),
        (pl.col("term") == "(any)").alias("_soc_row"),
    ).sort(
        ["_overall", "_soc_subjects", "meddra_soc", "_soc_row", "subjects", "term"],
        descending=[True, True, False, True, True, False],
    )
    table_rows = []
    for soc, term in ordered.select("meddra_soc", "term").iter_rows():
        if soc == "(any)":
            label, level = "Any TEAE", 0
        elif term == "(any)":
            label, level = soc, 0
        else:
            label, level = term, 2
        cells: list[object] = [label]
        for arm in arms:
            found = rows.get(arm.arm_id, {}).get((soc, term))
            subjects = found["subjects"] if found else 0
            high_subjects = found["grade_3_plus"] if found else 0
            cells += [n_percent(subjects, found["percent"] if found else None), n_percent(high_subjects, percent_of(high_subjects, arm.treated))]
        table_rows.append(ArmRow(cells, level))
    return ArmTable(
        key="t_soc_term", caption="TEAEs by system organ class and term, by arm", note=note,
        lead=["System organ class / term"], arms=[arm.header for arm in arms], columns=["Any grade n (%)", f"{high} n (%)"],
        rows=table_rows,
    )


def grade_labels(*, severity: bool) -> dict[str, str]:
    """t_soc_term's worst-grade columns and their names: grades 1-5, or, in a trial graded by
    severity, mild, moderate, severe and fatal (grade 4 does not occur in it)."""
    if severity:
        return {"worst_grade_1": "Mild", "worst_grade_2": "Moderate", "worst_grade_3": "Severe", "worst_grade_5": "Fatal"}
    return {f"worst_grade_{grade}": f"Grade {grade}" for grade in range(1, 6)}


def worst_grade_by_arm(soc_term: pl.DataFrame, arms: list[ArmColumn], *, severity: bool, note: str) -> ArmTable:
    """Subjects by their worst grade over every TEAE (t_soc_term's overall row, AET04's total), by arm."""
    overall = {row[ARM_ID]: row for row in soc_term.filter((pl.col("meddra_soc") == "(any)") & (pl.col("term") == "(any)")).iter_rows(named=True)}
    table_rows = [ArmRow(["Any TEAE"] + [n_percent(*_count_percent(overall.get(arm.arm_id), "subjects", arm)) for arm in arms], level=0)]
    for column, label in grade_labels(severity=severity).items():
        table_rows.append(ArmRow([label] + [n_percent(*_count_percent(overall.get(arm.arm_id), column, arm)) for arm in arms], level=2))
    return ArmTable(
        key="t_worst_grade", caption="Subjects by worst " + ("severity" if severity else "grade") + " of any TEAE, by arm", note=note,
        lead=["Worst " + ("severity" if severity else "grade")], arms=[arm.header for arm in arms], columns=["n (%)"], rows=table_rows,
    )


def _count_percent(row: dict | None, column: str, arm: ArmColumn) -> tuple[int, float | None]:
    count = row[column] if row else 0
    return count, percent_of(count, arm.treated)


def aesi_by_arm(aesi: pl.DataFrame, arms: list[ArmColumn], *, high: str, note: str) -> ArmTable:
    """t_aesi: each AESI set's subjects, any grade and grade >= 3 (severe or fatal), by arm."""
    rows = _by_arm(aesi, ["aesi"])
    table_rows = []
    for key, label in _total(aesi).select("aesi", "label").iter_rows():
        cells: list[object] = [label]
        for arm in arms:
            found = rows.get(arm.arm_id, {}).get((key,))
            subjects = found["subjects"] if found else 0
            high_subjects = found["grade_3_plus"] if found else 0
            cells += [n_percent(subjects, found["percent"] if found else None), n_percent(high_subjects, percent_of(high_subjects, arm.treated))]
        table_rows.append(ArmRow(cells))
    return ArmTable(
        key="t_aesi", caption="Adverse events of special interest by arm", note=note,
        lead=["AESI"], arms=[arm.header for arm in arms], columns=["Any grade n (%)", f"{high} n (%)"], rows=table_rows,
    )


PHASES = {"acute": "Acute", "late": "Late"}


def acute_late_by_arm(acute_late: pl.DataFrame, arms: list[ArmColumn], *, high: str, note: str) -> ArmTable:
    """t_acute_late: per phase, the subjects at risk, then each term's subjects n (%) and grade >= 3
    (severe or fatal) subjects, by arm; terms sorted by the All arms count."""
    rows = _by_arm(acute_late, ["phase", "term"])
    total = _total(acute_late)
    table_rows = []
    for phase in total["phase"].unique(maintain_order=True):
        at_risk = [rows.get(arm.arm_id, {}).get((phase, "(any)")) for arm in arms]
        table_rows.append(ArmRow(
            [f"{PHASES.get(phase, phase)}: subjects at risk (N)"] + [cell for found in at_risk for cell in ((f"N = {found['denominator']}" if found else "–"), "")],
            level=0,
        ))
        terms = total.filter(pl.col("phase") == phase).with_columns((pl.col("term") == "(any)").alias("_any")).sort(
            ["_any", "subjects", "term"], descending=[True, True, False]
        )
        for term in terms["term"]:
            cells: list[object] = ["Any adverse event" if term == "(any)" else term]
            for arm in arms:
                found = rows.get(arm.arm_id, {}).get((phase, term))
                denominator = (rows.get(arm.arm_id, {}).get((phase, "(any)")) or {}).get("denominator") or 0
                high_subjects = found["grade_3_plus"] if found else 0
                cells += [
                    n_percent(found["subjects"] if found else 0, found["percent"] if found else None),
                    n_percent(high_subjects, percent_of(high_subjects, denominator)),
                ]
            table_rows.append(ArmRow(cells, level=2))
    return ArmTable(
        key="t_acute_late", caption="Acute and late toxicity by arm", note=note,
        lead=["Phase / term"], arms=[arm.header for arm in arms], columns=["n (%)", f"{high} n (%)"], rows=table_rows,
    )


EXPOSURE_MEASURES = {
    "subjects_dosed": "Subjects dosed",
    "median_days_on_treatment": "Median days on treatment",
    "subject_days": "Subject-days on treatment",
    "subjects_reduced": "Subjects with a dose reduction",
    "subjects_held": "Subjects with a dose hold",
    "subjects_discontinued": "Subjects who discontinued the agent",
}


def exposure_by_arm(exposure: pl.DataFrame, arms: list[ArmColumn], config: TrialConfig, *, note: str) -> ArmTable:
    """t_exposure: per agent, each measure a row, the arms as columns."""
    rows = _by_arm(exposure, ["agent"])
    names = {agent.id: agent.name for agent in config.model.agents}
    table_rows = []
    for agent in _total(exposure)["agent"]:
        table_rows.append(ArmRow([names.get(agent, agent)] + ["" for _ in arms], level=0))
        for column, label in EXPOSURE_MEASURES.items():
            cells: list[object] = [label]
            for arm in arms:
                found = rows.get(arm.arm_id, {}).get((agent,))
                value = found[column] if found else None
                cells.append("–" if value is None else (f"{value:g}" if isinstance(value, float) else value))
            table_rows.append(ArmRow(cells, level=2))
    return ArmTable(
        key="t_exposure", caption="Days on treatment and dose changes by arm", note=note,
        lead=["Agent / measure"], arms=[arm.header for arm in arms], columns=[""], rows=table_rows,
    )


def _listing_with_arm(listing: pl.DataFrame, arms: list[ArmColumn]) -> pl.DataFrame:
    """The pooled listing's rows (every subject: none left out) with each subject's arm, in arm
    order; a subject found in no arm's rows is listed last under NO_ARM."""
    arm_of = dict(listing.filter(pl.col(ARM_ID) != TOTAL_ARM[0]).select("subject_id", ARM_LABEL).unique("subject_id").iter_rows())
    position = {arm.label: index for index, arm in enumerate(arms[:-1])}
    return (
        _total(listing)
        .drop(ARM_ID, ARM_LABEL)
        .with_columns(pl.col("subject_id").replace_strict(arm_of, default=NO_ARM, return_dtype=pl.String).alias(ARM_LABEL))
        .with_columns(pl.col(ARM_LABEL).replace_strict(position, default=len(position), return_dtype=pl.Int64).alias("_arm_position"))
        .with_row_index("_listed")
        .sort("_arm_position", "_listed")
    )


def _arm_rows(frame: pl.DataFrame, arms: list[ArmColumn]) -> pl.DataFrame:
    """A table by arm's rows of the arms (not All arms), in arm order, each led by its arm."""
    position = {arm.arm_id: index for index, arm in enumerate(arms[:-1])}
    return (
        frame.filter(pl.col(ARM_ID) != TOTAL_ARM[0])
        .with_columns(pl.col(ARM_ID).replace_strict(position, default=len(position), return_dtype=pl.Int64).alias("_arm_position"))
        .with_row_index("_listed")
        .sort("_arm_position", "_listed")
    )


def by_agent_tables(
    tables: dict[str, pl.DataFrame], arms: list[ArmColumn], *, out_dir: Path, population: str, on_teae: str, high: str, cut_date: str
) -> list[Table]:
    """What names an agent beside subjects' data, by arm: related TEAEs by agent, dose intensity,
    time to the first dose modification, AESI dose actions, and the SUSAR clocks with their
    suspected agent. The open report leaves these out when the arms receive different agents
    (reports/render.py ARM_REVEALING_TABLES)."""
    shown = [
        report_table(
            _arm_rows(tables["t_attribution"], arms), "t_attribution_by_arm", "Treatment-related TEAEs by agent, by arm",
            f"{on_teae} Per arm and agent: the arm's treated subjects who received the agent (N). Not assessed: attribution "
            "missing or invalid in the source, counted as related (queried).",
            {ARM_LABEL: "Arm", "agent": "Agent", "term": "Term", "subjects": "Subjects", "denominator": "N", "percent": "%",
             "grade_3_plus": high, "events_possible": "Possible", "events_probable": "Probable", "events_definite": "Definite",
             "events_not_assessed": "Not assessed"},
        ),
        report_table(
            _arm_rows(tables["t_dose_intensity"], arms), "t_dose_intensity_by_arm", "Dose intensity by arm",
            f"{population} Per arm and agent: the arm's subjects who received it, each over their own treatment period with it "
            "(first to last dose). Relative dose intensity (RDI): cumulative dose over the subject's planned cumulative dose "
            "(their records' planned dose: the agent's, or their arm's); none for a placebo (planned dose 0).",
            {ARM_LABEL: "Arm", "agent_name": "Agent", "planned_dose_mg": "Agent dose (mg)", "subjects_dosed": "Subjects dosed",
             "rdi_median_percent": "RDI % median", "rdi_min_percent": "min", "rdi_max_percent": "max",
             "subjects_low_rdi": "Low RDI", "percent_low_rdi": "Low RDI %"},
        ),
        report_table(
            _arm_rows(tables["t_time_to_modification"], arms), "t_time_to_modification_by_arm",
            "Time to the first dose reduction or hold, by arm",
            f"{population} Per arm and agent: the arm's subjects who received it; study day 1 = the agent's first dose; a subject "
            "without a modification is censored at the last dose. Kaplan-Meier median with a 95% interval.",
            {ARM_LABEL: "Arm", "agent_name": "Agent", "subjects_dosed": "Subjects dosed", "subjects_modified": "Modified",
             "percent_modified": "%", "km_median_day": "KM median day", "km_ci_lower": "95% lower", "km_ci_upper": "95% upper"},
        ),
        report_table(
            _arm_rows(tables["t_aesi_dose_actions"], arms), "t_aesi_dose_actions_by_arm", "AESIs leading to a dose change, by agent and arm",
            f"{on_teae} Per arm, AESI and agent: subjects with a TEAE of the set whose action on the agent was a reduction, an "
            "interruption or a withdrawal; N = the arm's subjects with a TEAE of the set.",
            {ARM_LABEL: "Arm", "label": "AESI", "agent": "Agent", "subjects": "Subjects", "denominator": "N",
             "subjects_reduced": "Reduced", "subjects_interrupted": "Interrupted", "subjects_withdrawn": "Withdrawn",
             "subjects_action_unknown": "Action unknown"},
        ),
    ]
    susars = out_dir / "tables" / "expedited_reports.parquet"
    if susars.is_file():
        listing = pl.read_parquet(susars).filter(pl.col("susar"))
        arm_of = dict(
            tables["t_sae_listing"].filter(pl.col(ARM_ID) != TOTAL_ARM[0]).select("subject_id", ARM_LABEL).unique("subject_id").iter_rows()
        )
        listing = listing.with_columns(pl.col("subject_id").replace_strict(arm_of, default=NO_ARM, return_dtype=pl.String).alias(ARM_LABEL))
        shown.append(
            report_table(
                listing.sort(ARM_LABEL, "awareness_date", "ae_id", nulls_last=True), "expedited_reports_by_arm",
                "SUSAR clocks with the suspected agent, by arm",
                f"Data cut {cut_date}. Serious AEs suspected for an agent and unexpected against that agent's reference safety "
                "information, with the agent they are suspected and unexpected for; every SUSAR of the open report's table.",
                {ARM_LABEL: "Arm", "subject_id": "Subject", "ae_id": "AE", "ctcae_term": "Term", "grade": "Grade",
                 "suspected_for": "Suspected for", "unexpected_for": "Unexpected for", "due_date": "Due", "status": "Clock"},
            )
        )
    return shown


def deaths_by_arm(deaths: pl.DataFrame, arms: list[ArmColumn], *, note: str) -> Table:
    return report_table(
        _listing_with_arm(deaths, arms), "t_deaths", "Listing of deaths by arm", note,
        {ARM_LABEL: "Arm", "subject_id": "Subject", "death_date": "Date", "study_day": "Study day", "death_cause": "Cause",
         "fatal_events": "Fatal AE", "treatment_related": "Treatment-related"},
    )


def sae_listing_by_arm(listing: pl.DataFrame, arms: list[ArmColumn], *, note: str) -> Table:
    from reports.render import _with_partial_onsets  # the open report's onset column: a partial date with how it was completed

    return report_table(
        _with_partial_onsets(_listing_with_arm(listing, arms)), "t_sae_listing", "Listing of serious adverse events by arm", note,
        {ARM_LABEL: "Arm", "subject_id": "Subject", "ae_id": "AE", "ae_term": "Term", "grade": "Grade", "onset_shown": "Onset",
         "cycle": "Cycle", "outcome": "Outcome", "serious_criteria": "Criteria", "attribution": "Attribution"},
    )
