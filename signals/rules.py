"""Evaluate the trial's stopping rules on a data cut: counts, boundary, status and evidence.

Rate rules count subjects with a qualifying event among evaluable subjects (those who completed
the rule's window or had the event); event rules count qualifying events. The status for the
counts is :func:`signals.rule_status.rule_status`, a pure function of the rule and (n, x):
STOP when the rule is crossed, WARN when one more subject with the event would cross it, OK
otherwise; past the planned size the rule is applied at the actual n, with a warning. Each
result carries an ``explanation`` (:mod:`signals.rule_explanation`): what counts, who is
evaluable, the parameters, the current statistic and the operating characteristics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from safetydb.store import SafetyStore
from signals.boundary_at_n import boundary_curve_to
from signals.rule_explanation import explain_rule
from signals.rule_status import RuleStatus, rule_boundary, rule_status
from trial.config import EventCountRule, TrialConfig

__all__ = [
    "STATUS_ORDER",
    "RuleResult",
    "RuleStatus",
    "evaluate_rule",
    "evaluate_rules",
    "rule_boundary",
    "rule_status",
]

NOT_EVALUABLE = "NOT EVALUABLE"
# Most severe first: a rule that cannot be judged on missing input ranks above WARN, never as OK.
STATUS_ORDER = {"STOP": 0, NOT_EVALUABLE: 1, "WARN": 2, "OK": 3}


@dataclass
class RuleResult:
    rule_id: str
    title: str
    kind: str
    status: str
    evaluable: int
    events: int
    boundary: int | None  # stop when events > boundary (rate rules) / events >= min_events (event rules)
    statement: str  # one sentence a DSMB member reads
    definition: dict
    qualifying_events: list[dict] = field(default_factory=list)
    path: list[dict] = field(default_factory=list)  # cumulative (n evaluable, x with event) in evaluable order
    boundary_curve: list[dict] = field(default_factory=list)  # (n, r, planned) for every look, then every n past the plan
    boundary_details: dict | None = None
    statistic: dict | None = None  # what the status rests on at (n, x): posterior, tail probability or count
    planned_size: int | None = None  # max_subjects (bayes) or the last look; None for event-count rules
    warnings: list[str] = field(default_factory=list)  # e.g. the trial passed its planned size
    explanation: dict = field(default_factory=dict)  # what the rule is, for the report (signals.rule_explanation)

    def to_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "evaluable": self.evaluable,
            "events": self.events,
            "boundary": self.boundary,
            "statement": self.statement,
            "definition": self.definition,
            "qualifying_events": self.qualifying_events,
            "path": self.path,
            "boundary_curve": self.boundary_curve,
            "boundary_details": self.boundary_details,
            "statistic": self.statistic,
            "planned_size": self.planned_size,
            "warnings": self.warnings,
            "explanation": self.explanation,
        }


def evaluate_rules(store: SafetyStore, config: TrialConfig) -> list[RuleResult]:
    """Evaluate every stopping rule of the trial on the models built in ``store``."""
    results = []
    for rule in config.model.stopping_rules:
        results.append(evaluate_rule(store, config, rule))
    return results


def _event_parameters(config: TrialConfig, rule) -> dict[str, object]:
    event = rule.event
    if event.window == "cycle1":
        window_days = config.model.trial.cycle_length_days
    elif event.window == "first_days":
        window_days = event.days
    else:
        window_days = None
    return {
        "grade_min": event.grade_min,
        "related_to": list(event.related_to),
        "terms": list(event.terms),
        "socs": list(event.socs),
        "aesi": list(event.aesi),
        "serious": event.serious,
        "window_days": window_days,
    }


def evaluate_rule(store: SafetyStore, config: TrialConfig, rule) -> RuleResult:
    """Count the rule's events and evaluable subjects on the cut, then ask rule_status for (n, x)."""
    parameters = _event_parameters(config, rule)
    store.run_model_into("rule_events", parameters)
    store.run_model_into("rule_subjects", parameters)
    events = store.model("rule_events").sort("onset_date", "subject_id", "ae_id")
    subjects = store.model("rule_subjects")
    definition = rule.event.model_dump()
    qualifying = events.select(
        "ae_id", "subject_id", "ctcae_term", "other_specify", "grade", "grade_reported",
        pl.col("onset_date").dt.to_string("%Y-%m-%d"), "study_day",
    ).to_dicts()
    evaluable = subjects.filter(pl.col("evaluable"))
    n = evaluable.height
    path = _monitoring_path(evaluable)

    if isinstance(rule, EventCountRule):
        x = _counted_events(rule, events, evaluable).height
        definition = definition | {"min_events": rule.min_events, "first_n_evaluable": rule.first_n_evaluable}
        curve: list[dict] = []
        details = None
    else:
        x = int(evaluable["had_event"].sum())
        boundary = rule_boundary(rule)
        curve = boundary_curve_to(boundary, n)
        details = boundary.to_dict()
    status = rule_status(rule, n, x)
    return RuleResult(
        rule_id=rule.id,
        title=rule.title,
        kind=rule.kind,
        status=status.status,
        evaluable=n,
        events=x,
        boundary=status.boundary,
        statement=status.statement,
        definition=definition,
        qualifying_events=qualifying,
        path=path,
        boundary_curve=curve,
        boundary_details=details,
        statistic=status.statistic,
        planned_size=status.planned_size,
        warnings=list(status.warnings),
        explanation=explain_rule(rule, status, trial=config.model),
    )


def _counted_events(rule: EventCountRule, events: pl.DataFrame, evaluable: pl.DataFrame) -> pl.DataFrame:
    """The qualifying events an event-count rule counts: all, or those of the first N evaluable subjects."""
    if rule.first_n_evaluable is None:
        return events
    first_subjects = evaluable.sort("evaluable_date", "subject_id").head(rule.first_n_evaluable)["subject_id"]
    return events.filter(pl.col("subject_id").is_in(first_subjects.implode()))


def _monitoring_path(evaluable: pl.DataFrame) -> list[dict]:
    """Cumulative evaluable subjects (n) and subjects with the event (x), in the order subjects
    became evaluable. x is a step function of n, so only its steps and the last point are kept:
    x at any n is the x of the last kept point at or before it."""
    ordered = evaluable.sort("evaluable_date", "subject_id")
    path = ordered.select(
        pl.int_range(1, pl.len() + 1).alias("n"),
        pl.col("had_event").cast(pl.Int64).cum_sum().alias("x"),
        pl.col("evaluable_date").dt.to_string("%Y-%m-%d").alias("date"),
    )
    is_step = (pl.col("x") != pl.col("x").shift(1).fill_null(0)) | (pl.col("n") == pl.len()) | (pl.col("n") == 1)
    return path.filter(is_step).to_dicts()
