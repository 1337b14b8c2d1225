"""Expedited reporting clocks (ICH E2A): which serious events are SUSARs, and when each is due.

A SUSAR is a serious adverse reaction that is suspected to be related to a study agent and is
unexpected against *that agent's* reference safety information (RSI). Expectedness is judged
per suspected agent, because each product's RSI speaks only for that product: an event related
to both agents and listed in apatinib's RSI alone is a SUSAR, unexpected for the anti-PD-1
antibody. An event is unexpected for an agent when no entry of the agent's RSI matches it, or
when it is more severe than the matching entry's expected maximum grade; a fatal or
life-threatening outcome counts as grade 5 or 4 whatever grade was recorded, so it is unexpected
unless the RSI lists that outcome (the default maximum is in ``trial.config``).

Day 0 is the date the sponsor became aware. The report is due 7 calendar days later when the
event is fatal or life-threatening, 15 days otherwise; it is on time when submitted on or before
the due date. Without an awareness date the clock cannot be computed: the event is listed as
such and never called overdue, since no due date can be asserted.

Reporting compliance is its own status, apart from the trial's stopping rules: an overdue
report is a regulatory duty to fix at once, not evidence that the regimen is unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from safetydb.store import SafetyStore
from trial.config import RsiEntry, TrialConfig

SAE_COLUMNS = (
    "ae_id", "subject_id", "ctcae_term", "other_specify", "grade", "serious_criteria", "awareness_date",
    "expedited_report_date",
)
ATTRIBUTION_COLUMNS = ("ae_id", "agent", "attribution", "related")
NOT_ASSESSED = "not_assessed"

# The states of a clock; ``status`` in the listing says the same in words, with day counts.
NOT_A_SUSAR = "not a SUSAR"
NOT_COMPUTABLE = "not computable"
RUNNING = "running"
DUE_SOON = "due soon"
DUE_TODAY = "due today"
OVERDUE = "overdue"
SUBMITTED_ON_TIME = "submitted on time"
SUBMITTED_LATE = "submitted late"
FLAGGED_STATES = (OVERDUE, DUE_TODAY, DUE_SOON)

LISTING_SCHEMA = {
    "ae_id": pl.String, "subject_id": pl.String, "ctcae_term": pl.String, "other_specify": pl.String,
    "grade": pl.Int64, "suspected_for": pl.String, "unexpected_for": pl.String, "expected_for": pl.String,
    "expectedness_reason": pl.String, "susar": pl.Boolean, "fatal_or_life_threatening": pl.Boolean,
    "awareness_date": pl.Date, "clock_days": pl.Int64, "due_date": pl.Date, "reported_date": pl.Date,
    "clock_state": pl.String, "status": pl.String,
}


@dataclass(frozen=True)
class ClockRules:
    fatal_or_life_threatening_days: int = 7
    other_days: int = 15
    due_soon_days: int = 3


def _criteria(serious_criteria: str | None) -> set[str]:
    return {c.strip() for c in (serious_criteria or "").split(";")} - {""}


def is_fatal_or_life_threatening(grade: int, serious_criteria: str | None) -> bool:
    """Whether the 7-day clock applies: grade 5 (fatal), grade 4 (CTCAE: life-threatening
    consequences), or seriousness criterion death / life_threatening. Reading grade 4 as
    life-threatening is the conservative choice when the criteria leave it out."""
    criteria = _criteria(serious_criteria)
    return grade >= 4 or "death" in criteria or "life_threatening" in criteria


def grade_for_expectedness(grade: int, serious_criteria: str | None) -> int:
    """The grade compared with an RSI entry's expected maximum.

    A death counts as grade 5 and a life-threatening event as grade 4 even when a lower CTCAE
    grade was recorded: the outcome, not the coding, decides whether the RSI covers it.
    """
    criteria = _criteria(serious_criteria)
    if "death" in criteria:
        return 5
    if "life_threatening" in criteria:
        return max(grade, 4)
    return grade


def _folded(text: str | None) -> str:
    """Case and spacing folded, so that "Immune-mediated  hepatitis" matches "immune-mediated hepatitis"."""
    return " ".join((text or "").split()).casefold()


def matching_rsi_entries(entries: list[RsiEntry], ctcae_term: str, other_specify: str | None) -> list[RsiEntry]:
    """The RSI entries that name this event.

    An entry with ``specify`` names only its "Other, specify" term carrying that text; an entry
    without names the event whose CTCAE term, or whose "Other, specify" text, is its term.
    """
    term, specify = _folded(ctcae_term), _folded(other_specify)
    matching = []
    for entry in entries:
        if entry.specify is not None:
            named = _folded(entry.term) == term and specify != "" and _folded(entry.specify) == specify
        else:
            named = _folded(entry.term) in {term, specify}
        if named:
            matching.append(entry)
    return matching


def reason_unexpected(
    agent: str, entries: list[RsiEntry], *, ctcae_term: str, other_specify: str | None, grade: int, serious_criteria: str | None
) -> str | None:
    """Why the event is unexpected against ``agent``'s RSI, or None when the RSI covers it."""
    name = other_specify or ctcae_term
    matching = matching_rsi_entries(entries, ctcae_term, other_specify)
    if not matching:
        return f"{agent}: {name} not in RSI"
    expected_max = max(entry.expected_max_grade for entry in matching)
    compared = grade_for_expectedness(grade, serious_criteria)
    if compared <= expected_max:
        return None
    if compared == grade:
        severity = f"grade {grade}"
    elif compared == 5:
        severity = f"fatal outcome (grade {grade} recorded)"
    else:
        severity = f"life-threatening outcome (grade {grade} recorded)"
    return f"{agent}: {severity} above the RSI's expected maximum grade {expected_max}"


def suspected_agents(attribution: pl.DataFrame) -> dict[str, list[tuple[str, bool]]]:
    """Per ae_id, the agents the event is suspected for, each with whether attribution was not assessed.

    A missing or invalid attribution ("not_assessed", or no value at all) counts as suspected:
    the conservative reading, so that a blank form cannot hide a SUSAR.
    """
    not_assessed = pl.col("attribution").is_null() | (pl.col("attribution") == NOT_ASSESSED)
    suspected = (
        attribution.with_columns(not_assessed.alias("not_assessed"))
        .filter(pl.col("related").fill_null(True) | pl.col("not_assessed"))
        .sort("ae_id", "agent")
    )
    agents: dict[str, list[tuple[str, bool]]] = {}
    for row in suspected.iter_rows(named=True):
        agents.setdefault(row["ae_id"], []).append((row["agent"], row["not_assessed"]))
    return agents


def expedited_reports(
    saes: pl.DataFrame,
    attribution: pl.DataFrame,
    *,
    reference_safety_information: dict[str, list[RsiEntry]],
    cut_date: date,
    rules: ClockRules = ClockRules(),
) -> pl.DataFrame:
    """One row per serious AE: suspected agents, expectedness per agent, SUSAR, due date and clock.

    ``saes`` has the columns of ``SAE_COLUMNS``; ``attribution`` one row per (ae_id, agent) with
    the columns of ``ATTRIBUTION_COLUMNS``, ``related`` already decided by the trial's rule.
    """
    suspected = suspected_agents(attribution)
    rows = []
    for sae in saes.sort("awareness_date", "ae_id", nulls_last=True).iter_rows(named=True):
        agents = suspected.get(sae["ae_id"], [])
        reasons: dict[str, str] = {}
        for agent, _ in agents:
            reason = reason_unexpected(
                agent,
                reference_safety_information.get(agent, []),
                ctcae_term=sae["ctcae_term"],
                other_specify=sae["other_specify"],
                grade=sae["grade"],
                serious_criteria=sae["serious_criteria"],
            )
            if reason is not None:
                reasons[agent] = reason
        susar = bool(reasons)
        urgent = is_fatal_or_life_threatening(sae["grade"], sae["serious_criteria"])
        clock_days = rules.fatal_or_life_threatening_days if urgent else rules.other_days
        awareness = sae["awareness_date"]
        due = awareness + timedelta(days=clock_days) if (susar and awareness is not None) else None
        state, status = _clock(susar, awareness, due, sae["expedited_report_date"], cut_date, rules.due_soon_days)
        rows.append(
            {
                "ae_id": sae["ae_id"],
                "subject_id": sae["subject_id"],
                "ctcae_term": sae["ctcae_term"],
                "other_specify": sae["other_specify"],
                "grade": sae["grade"],
                "suspected_for": ", ".join(f"{agent} (not assessed)" if unassessed else agent for agent, unassessed in agents),
                "unexpected_for": ", ".join(reasons),
                "expected_for": ", ".join(agent for agent, _ in agents if agent not in reasons),
                "expectedness_reason": "; ".join(reasons.values()),
                "susar": susar,
                "fatal_or_life_threatening": urgent,
                "awareness_date": awareness,
                "clock_days": clock_days if susar else None,
                "due_date": due,
                "reported_date": sae["expedited_report_date"],
                "clock_state": state,
                "status": status,
            }
        )
    return pl.DataFrame(rows, schema=LISTING_SCHEMA)


def _clock(
    susar: bool, awareness: date | None, due: date | None, reported: date | None, cut_date: date, due_soon_days: int
) -> tuple[str, str]:
    """State and wording at the cut date: the report is due on the due date itself, overdue the day after."""
    if not susar:
        return NOT_A_SUSAR, "not a SUSAR"
    if awareness is None or due is None:
        return NOT_COMPUTABLE, "not computable: awareness date missing"
    if reported is not None:
        late_by = (reported - due).days
        if late_by > 0:
            return SUBMITTED_LATE, f"submitted {late_by} days late"
        return SUBMITTED_ON_TIME, "submitted on time"
    days_left = (due - cut_date).days
    if days_left < 0:
        return OVERDUE, f"overdue by {-days_left} days"
    if days_left == 0:
        return DUE_TODAY, "due today"
    if days_left <= due_soon_days:
        return DUE_SOON, f"due soon: in {days_left} days"
    return RUNNING, f"due in {days_left} days"


def expedited_flags(reports: pl.DataFrame) -> list[dict]:
    """SUSAR reports needing action, most urgent due date first.

    ``level`` is the clock state ("overdue", "due today", "due soon"), deliberately not a
    stopping-rule status (STOP / WARN): a late report is a compliance matter, not a safety signal.
    """
    flagged = reports.filter(pl.col("susar") & pl.col("clock_state").is_in(FLAGGED_STATES)).sort("due_date", "ae_id")
    return [
        {
            "ae_id": row["ae_id"],
            "subject_id": row["subject_id"],
            "ctcae_term": row["ctcae_term"],
            "level": row["clock_state"],
            "clock": row["status"],
            "due_date": row["due_date"].isoformat(),
        }
        for row in flagged.iter_rows(named=True)
    ]


def reporting_compliance(reports: pl.DataFrame) -> dict:
    """The expedited-reporting status of a cut, kept apart from the stopping-rule status.

    OVERDUE when any SUSAR report is overdue, DUE SOON when any is due today or soon, INCOMPLETE
    when neither but a clock cannot be computed (no awareness date: its report may be due or
    overdue, so the status cannot say up to date), UP TO DATE otherwise. The clocks that cannot
    be computed are counted and named in the statement.
    """
    states = reports.filter(pl.col("susar"))["clock_state"].to_list()
    susars = len(states)
    overdue = states.count(OVERDUE)
    due_soon = states.count(DUE_SOON) + states.count(DUE_TODAY)
    not_computable = states.count(NOT_COMPUTABLE)
    submitted_late = states.count(SUBMITTED_LATE)
    if overdue:
        status = "OVERDUE"
    elif due_soon:
        status = "DUE SOON"
    elif not_computable:
        status = "INCOMPLETE"
    else:
        status = "UP TO DATE"
    return {
        "status": status,
        "overdue": overdue,
        "due_soon": due_soon,
        "not_computable": not_computable,
        "submitted_late": submitted_late,
        "susars": susars,
        "statement": _compliance_statement(susars, overdue, due_soon, not_computable, submitted_late),
    }


def _compliance_statement(susars: int, overdue: int, due_soon: int, not_computable: int, submitted_late: int) -> str:
    if susars == 0:
        return "No SUSARs at this cut: no expedited reports are due."
    parts = [f"{overdue} overdue"] if overdue else []
    if due_soon:
        parts.append(f"{due_soon} due today or soon")
    if not_computable:
        parts.append(f"{not_computable} without an awareness date (due date not computable)")
    if submitted_late:
        parts.append(f"{submitted_late} submitted late")
    reports = "expedited report" if susars == 1 else "expedited reports"
    if not parts:
        return f"{susars} SUSAR {reports}: all submitted on time or not yet due."
    return f"{susars} SUSAR {reports}: " + ", ".join(parts) + "."


def evaluate_expedited(store: SafetyStore, config: TrialConfig, cut_date: date) -> pl.DataFrame:
    """The expedited-report listing of a cut, from the models built in ``store``."""
    expedited = config.model.expedited
    return expedited_reports(
        store.model("int_serious_events").select(SAE_COLUMNS),
        store.model("stg_ae_attribution").select(ATTRIBUTION_COLUMNS),
        reference_safety_information=expedited.reference_safety_information,
        cut_date=cut_date,
        rules=ClockRules(expedited.fatal_or_life_threatening_days, expedited.other_days, expedited.due_soon_days),
    )
