"""Expedited reporting clocks (ICH E2A): which serious events are SUSARs, and when each is due.

A SUSAR is a serious adverse reaction that is suspected to be related to a study agent and is
unexpected: neither its CTCAE term nor its "Other, specify" text is in the reference safety
information (RSI) of any agent it is related to. Day 0 is the date the sponsor became aware.
The report is due 7 calendar days later when the event is fatal or life-threatening, 15 days
otherwise; it is on time when submitted on or before the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from safetydb.store import SafetyStore
from validators.trial_config import TrialConfig

SAE_COLUMNS = (
    "ae_id", "subject_id", "ctcae_term", "other_specify", "grade", "serious_criteria", "awareness_date",
    "expedited_report_date",
)
ATTRIBUTION_COLUMNS = ("ae_id", "agent", "related")


@dataclass(frozen=True)
class ClockRules:
    fatal_or_life_threatening_days: int = 7
    other_days: int = 15
    due_soon_days: int = 3


def is_fatal_or_life_threatening(grade: int, serious_criteria: str | None) -> bool:
    criteria = {c.strip() for c in (serious_criteria or "").split(";")}
    return grade == 5 or "death" in criteria or "life_threatening" in criteria


def expedited_reports(
    saes: pl.DataFrame,
    attribution: pl.DataFrame,
    *,
    reference_safety_information: dict[str, list[str]],
    cut_date: date,
    rules: ClockRules = ClockRules(),
) -> pl.DataFrame:
    """One row per serious AE: related agents, expectedness, SUSAR, due date and clock status.

    ``saes`` has the columns of ``SAE_COLUMNS``; ``attribution`` one row per (ae_id, agent)
    with ``related`` already decided by the trial's attribution rule.
    """
    related_agents: dict[str, list[str]] = {}
    for row in attribution.filter(pl.col("related")).sort("agent").iter_rows(named=True):
        related_agents.setdefault(row["ae_id"], []).append(row["agent"])
    expected_terms = {agent: {t.lower() for t in terms} for agent, terms in reference_safety_information.items()}

    rows = []
    for sae in saes.sort("awareness_date", "ae_id", nulls_last=True).iter_rows(named=True):
        agents = related_agents.get(sae["ae_id"], [])
        names = {sae["ctcae_term"].lower(), (sae["other_specify"] or "").lower()} - {""}
        unexpected_for = [a for a in agents if not names & expected_terms.get(a, set())]
        susar = bool(agents) and len(unexpected_for) == len(agents)
        urgent = is_fatal_or_life_threatening(sae["grade"], sae["serious_criteria"])
        clock_days = rules.fatal_or_life_threatening_days if urgent else rules.other_days
        awareness = sae["awareness_date"]
        due = awareness + timedelta(days=clock_days) if (susar and awareness is not None) else None
        rows.append(
            {
                "ae_id": sae["ae_id"],
                "subject_id": sae["subject_id"],
                "ctcae_term": sae["ctcae_term"],
                "grade": sae["grade"],
                "related_to": ", ".join(agents),
                "unexpected_for": ", ".join(unexpected_for),
                "susar": susar,
                "fatal_or_life_threatening": urgent,
                "awareness_date": awareness,
                "clock_days": clock_days if susar else None,
                "due_date": due,
                "reported_date": sae["expedited_report_date"],
                "status": _clock_status(susar, awareness, due, sae["expedited_report_date"], cut_date, rules.due_soon_days),
            }
        )
    schema = {
        "ae_id": pl.String, "subject_id": pl.String, "ctcae_term": pl.String, "grade": pl.Int64,
        "related_to": pl.String, "unexpected_for": pl.String, "susar": pl.Boolean,
        "fatal_or_life_threatening": pl.Boolean, "awareness_date": pl.Date, "clock_days": pl.Int64,
        "due_date": pl.Date, "reported_date": pl.Date, "status": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _clock_status(
    susar: bool, awareness: date | None, due: date | None, reported: date | None, cut_date: date, due_soon_days: int
) -> str:
    """Status at the cut date: the report is due on the due date itself, overdue the day after."""
    if not susar:
        return "not a SUSAR"
    if awareness is None or due is None:
        return "sponsor not yet aware at the cut"
    if reported is not None:
        late_by = (reported - due).days
        return f"submitted {late_by} days late" if late_by > 0 else "submitted on time"
    days_left = (due - cut_date).days
    if days_left < 0:
        return f"overdue by {-days_left} days"
    if days_left == 0:
        return "due today"
    if days_left <= due_soon_days:
        return f"due soon: in {days_left} days"
    return f"due in {days_left} days"


def expedited_flags(reports: pl.DataFrame) -> list[dict]:
    """Flags for the safety officer: overdue SUSAR reports (STOP) and those due soon or today (WARN)."""
    flags = []
    for row in reports.filter(pl.col("susar")).iter_rows(named=True):
        status = row["status"]
        if status.startswith("overdue"):
            level = "STOP"
        elif status.startswith("due soon") or status == "due today":
            level = "WARN"
        else:
            continue
        flags.append(
            {
                "ae_id": row["ae_id"],
                "subject_id": row["subject_id"],
                "ctcae_term": row["ctcae_term"],
                "status": level,
                "clock": status,
                "due_date": row["due_date"].isoformat(),
            }
        )
    return flags


def evaluate_expedited(store: SafetyStore, config: TrialConfig, cut_date: date) -> pl.DataFrame:
    """The expedited-report listing of a cut, from the models built in ``store``."""
    expedited = config.model.expedited
    return expedited_reports(
        store.model("int_serious_events"),
        store.model("stg_ae_attribution").select(ATTRIBUTION_COLUMNS),
        reference_safety_information=expedited.reference_safety_information,
        cut_date=cut_date,
        rules=ClockRules(expedited.fatal_or_life_threatening_days, expedited.other_days, expedited.due_soon_days),
    )
