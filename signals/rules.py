"""Evaluate the trial's stopping rules on a data cut: counts, boundary, status and evidence.

Status: STOP when the boundary is crossed; WARN when one more event would cross it; OK
otherwise. Rate rules count subjects with a qualifying event among evaluable subjects (those who
completed the rule's window or had the event) against an exact boundary; event rules count
qualifying events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from safetydb.store import SafetyStore
from signals.boundaries import Boundary, bayes, pocock, sprt, toxbdry
from validators.trial_config import (
    BayesRule,
    EventCountRule,
    PocockRule,
    SprtRule,
    ToxbdryRule,
    TrialConfig,
)

STATUS_ORDER = {"STOP": 0, "WARN": 1, "OK": 2}


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
    boundary_curve: list[dict] = field(default_factory=list)  # (n, r) for n = 1..
    boundary_details: dict | None = None

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
        }


def rule_boundary(rule) -> Boundary | None:
    """The exact boundary of a rate rule; event-count rules have none."""
    if isinstance(rule, BayesRule):
        return bayes(rule.p_max, range(1, rule.max_subjects + 1), prior=tuple(rule.prior), threshold=rule.threshold)
    if isinstance(rule, ToxbdryRule):
        return toxbdry(rule.p0, rule.p1, rule.looks, cp0=rule.cp0, cp1=rule.cp1, delta=rule.delta)
    if isinstance(rule, PocockRule):
        return pocock(rule.p0, rule.looks, alpha=rule.alpha)
    if isinstance(rule, SprtRule):
        return sprt(rule.p0, rule.p1, rule.looks, alpha=rule.alpha)
    return None


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
    parameters = _event_parameters(config, rule)
    store.run_model_into("rule_events", parameters)
    store.run_model_into("rule_subjects", parameters)
    events = store.model("rule_events").sort("onset_date", "subject_id", "ae_id")
    subjects = store.model("rule_subjects")
    definition = rule.event.model_dump()
    qualifying = events.select(
        "ae_id", "subject_id", "ctcae_term", "other_specify", "grade",
        pl.col("onset_date").dt.to_string("%Y-%m-%d"), "study_day",
    ).to_dicts()
    evaluable = subjects.filter(pl.col("evaluable"))
    n = evaluable.height
    path = _monitoring_path(evaluable)

    if isinstance(rule, EventCountRule):
        return _event_count_result(rule, events, evaluable, definition, qualifying, path)

    boundary = rule_boundary(rule)
    x = int(evaluable["had_event"].sum())
    r = boundary.boundary_at(n)  # None before the first look; the last boundary after the last
    if r is None:
        status = "OK"
        statement = f"{x} of {n} evaluable subjects had the event; the first look is at n = {boundary.looks[0]}."
    elif x > r:
        status = "STOP"
        statement = f"{x} of {n} evaluable subjects had the event, above the boundary of {r}: the stopping rule is crossed."
    elif x == r and r < n:
        status = "WARN"
        statement = f"{x} of {n} evaluable subjects had the event; one more would cross the boundary of {r}."
    else:
        status = "OK"
        statement = f"{x} of {n} evaluable subjects had the event; the boundary at n = {n} is {r}."
    curve = [{"n": look, "r": bound} for look, bound in zip(boundary.looks, boundary.stop_above)]
    return RuleResult(
        rule_id=rule.id,
        title=rule.title,
        kind=rule.kind,
        status=status,
        evaluable=n,
        events=x,
        boundary=r,
        statement=statement,
        definition=definition,
        qualifying_events=qualifying,
        path=path,
        boundary_curve=curve,
        boundary_details=boundary.to_dict(),
    )


def _event_count_result(rule: EventCountRule, events, evaluable, definition, qualifying, path) -> RuleResult:
    if rule.first_n_evaluable is not None:
        first_subjects = evaluable.sort("evaluable_date", "subject_id").head(rule.first_n_evaluable)["subject_id"]
        counted = events.filter(pl.col("subject_id").is_in(first_subjects.implode()))
    else:
        counted = events
    x = counted.height
    needed = rule.min_events
    if x >= needed:
        status = "STOP"
        statement = f"{x} qualifying event(s); the rule stops at {needed}."
    elif needed >= 2 and x == needed - 1:
        status = "WARN"
        statement = f"{x} qualifying event(s); one more reaches the stopping count of {needed}."
    else:
        status = "OK"
        statement = f"{x} qualifying event(s); the rule stops at {needed}."
    return RuleResult(
        rule_id=rule.id,
        title=rule.title,
        kind=rule.kind,
        status=status,
        evaluable=evaluable.height,
        events=x,
        boundary=needed - 1,
        statement=statement,
        definition=definition | {"min_events": needed, "first_n_evaluable": rule.first_n_evaluable},
        qualifying_events=qualifying,
        path=path,
    )


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
