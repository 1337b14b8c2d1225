"""What a stopping rule is, in words and numbers a DSMB member can act on.

:func:`explain_rule` returns a JSON-ready dict (``RuleResult.explanation`` in flags.json),
rendered by ``reports/templates/_rule_explanation.html.j2``. Every key is always present, so the
template can use StrictUndefined:

* ``kind_label``: the method and its reference;
* ``what_counts``: the event definition in words (grade, attribution to which agents, terms,
  SOCs, AESI sets, seriousness, window) and ``counting_unit`` (subjects or events);
* ``who_is_evaluable``: the denominator in words, and ``evaluable``: how many there are now;
* ``decision_rule`` and ``stopping_counts``: when the rule stops, as a formula and as counts;
* ``parameters``: a list of {key, label, value, text};
* ``now``: the status at the current (n, x) with the statistic it rests on
  (:func:`signals.rule_status.rule_status`);
* ``operating_characteristics``: the exact probability that the rule stops and the expected
  number of evaluable subjects, at an acceptable and an unacceptable true rate, over the planned
  looks (the forward recursion of :mod:`signals.oc`). Event-count rules have none: they count
  events, not a rate among evaluable subjects;
* ``warnings``: the status's and the design's.

The rates for the operating characteristics are configuration: ``p0``/``p1`` (toxbdry, SPRT,
Pocock's optional ``p1``) and ``p_acceptable``/``p_max`` (Bayesian rules). A fixed posterior
threshold can stop often at an acceptable rate (Thall, Simon & Estey 1995), which is why the
acceptable rate is shown next to the unacceptable one.
"""

from __future__ import annotations

from collections.abc import Sequence

from signals.oc import Boundary, crossing_probability
from signals.rule_status import (
    RuleStatus,
    format_level,
    format_probability,
    format_rate,
    planned_size,
    rule_boundary,
)
from trial.config import (
    BayesRule,
    EventCountRule,
    EventDefinition,
    PocockRule,
    ToxbdryRule,
    TrialConfigModel,
)

KIND_LABELS = {
    "event_count": "Event count",
    "bayes": "Bayesian beta-binomial rule (Thall, Simon & Estey 1995)",
    "toxbdry": "Repeated-significance-test boundary (Ivanova, Qaqish & Schell 2005)",
    "pocock": "Pocock-type nominal-level boundary (Ivanova, Qaqish & Schell 2005)",
    "sprt": "Truncated sequential probability ratio test (Wald 1947)",
}

OC_NOTE = (
    "P(stop): probability that the rule is crossed at one of the planned looks, the last one "
    "included, if the true rate were the one shown. Expected n: expected number of evaluable "
    "subjects when the rule stops or the planned size is reached. Exact (forward recursion over "
    "the planned looks)."
)


def explain_rule(rule, status: RuleStatus, *, trial: TrialConfigModel) -> dict:
    """The explanation of one rule at its current status; see the module docstring for the keys."""
    if not isinstance(trial, TrialConfigModel):
        raise TypeError(f"trial must be the validated trial configuration (TrialConfigModel); got {type(trial).__name__}")
    if not isinstance(status, RuleStatus):
        raise TypeError(f"status must be a RuleStatus (from rule_status); got {type(status).__name__}")
    boundary = rule_boundary(rule)
    warnings = list(status.warnings) + (list(boundary.warnings) if boundary is not None else [])
    return {
        "rule_id": rule.id,
        "kind": rule.kind,
        "kind_label": KIND_LABELS[rule.kind],
        "what_counts": describe_event(rule.event, trial=trial),
        "counting_unit": describe_counting_unit(rule),
        "who_is_evaluable": describe_evaluable(rule.event, cycle_length_days=trial.trial.cycle_length_days),
        "evaluable": status.n,
        "decision_rule": describe_decision_rule(rule),
        "stopping_counts": describe_stopping_counts(boundary),
        "parameters": rule_parameters(rule),
        "now": describe_now(status),
        "operating_characteristics": operating_characteristics(rule),
        "warnings": warnings,
    }


# --------------------------------------------------------------------------------------------
# What counts, who is evaluable
# --------------------------------------------------------------------------------------------


def describe_event(event: EventDefinition, *, trial: TrialConfigModel) -> str:
    """The event definition as one sentence; every clause must hold (as in rule_events.sql)."""
    clauses = [describe_grade(event.grade_min)]
    if event.related_to:
        names = {agent.id: agent.name for agent in trial.agents}
        agents = _or_list([names.get(agent, agent) for agent in event.related_to])
        levels = _or_list(trial.attribution.related_levels)
        clauses.append(f"related to {agents} (attribution {levels})")
    else:
        clauses.append("regardless of attribution")
    if event.terms:
        clauses.append(f"with the term (CTCAE term or \"Other, specify\" text) {_or_list(event.terms)}")
    if event.socs:
        clauses.append(f"in system organ class {_or_list(event.socs)}")
    if event.aesi:
        clauses.append("in the adverse events of special interest " + _or_list([describe_aesi(name, trial=trial) for name in event.aesi]))
    if event.serious is True:
        clauses.append("reported as serious")
    elif event.serious is False:
        clauses.append("not reported as serious")
    clauses.append(describe_window(event, cycle_length_days=trial.trial.cycle_length_days))
    return "Adverse events " + ", ".join(clauses) + "."


def describe_grade(grade_min: int) -> str:
    if grade_min <= 1:
        return "of any CTCAE grade"
    if grade_min == 5:
        return "of CTCAE grade 5 (fatal)"
    return f"of CTCAE grade ≥ {grade_min}"


def describe_aesi(name: str, *, trial: TrialConfigModel) -> str:
    """An AESI set by its label and what it matches (CTCAE terms, "Other, specify" texts)."""
    aesi = trial.aesi.get(name)
    if aesi is None:
        return name
    matches = list(aesi.terms) + [f'"Other, specify: {text}"' for text in aesi.other_specify]
    return f"{aesi.label} ({', '.join(matches)})" if matches else aesi.label


def describe_window(event: EventDefinition, *, cycle_length_days: int) -> str:
    if event.window == "cycle1":
        return f"with onset in cycle 1 (study days 1–{cycle_length_days})"
    if event.window == "first_days":
        return f"with onset in the first {event.days} days (study days 1–{event.days})"
    return "with onset on or after the first dose"


def describe_evaluable(event: EventDefinition, *, cycle_length_days: int) -> str:
    """Who is in the denominator (as in rule_subjects.sql): the window completed or the event had."""
    if event.window == "cycle1":
        return f"Treated subjects who completed cycle 1 ({cycle_length_days} days) or had the event."
    if event.window == "first_days":
        return f"Treated subjects observed for at least {event.days} days after the first dose, or who had the event."
    return "Every treated subject (no observation window: the event can occur at any time on or after the first dose)."


def describe_counting_unit(rule) -> str:
    if isinstance(rule, EventCountRule):
        text = "Every qualifying event counts; one subject can contribute several."
        if rule.first_n_evaluable is not None:
            text += f" Only events of the first {rule.first_n_evaluable} evaluable subjects count."
        return text
    return "Subjects with at least one qualifying event, each counted once, among the evaluable subjects."


# --------------------------------------------------------------------------------------------
# Decision rule and parameters
# --------------------------------------------------------------------------------------------


def describe_decision_rule(rule) -> str:
    """When the rule stops, with where it is checked and what happens past the planned size."""
    if isinstance(rule, EventCountRule):
        return f"Stop when at least {rule.min_events} qualifying event(s) have occurred."
    size = planned_size(rule)
    beyond = f" Past the planned size of {size} evaluable subjects the same rule is applied at the actual n, with a warning."
    if isinstance(rule, BayesRule):
        a, b = rule.prior
        return (
            f"Stop when Pr(p > {format_rate(rule.p_max)} | x, n) > {rule.threshold:g}, where p is the true rate "
            f"and its posterior is Beta({a:g} + x, {b:g} + n − x); checked after every evaluable subject."
            + beyond
        )
    looks = f"at the looks n = {describe_looks(rule.looks)}; between looks the boundary of the last look passed applies."
    if isinstance(rule, ToxbdryRule):
        return (
            f"Stop when the number of subjects with the event x exceeds the boundary r(n), the "
            f"(1 − α_k) quantile of Binomial(n, {format_rate(rule.p0)}) {looks}" + beyond
            + " There it uses the nominal level of the last look."
        )
    if isinstance(rule, PocockRule):
        return (
            f"Stop when P(X ≥ x | n, p0 = {format_rate(rule.p0)}) is at most the nominal level a*, the same "
            f"at every look, calibrated to a type-I error of at most {rule.alpha:g}; {looks}" + beyond
        )
    return (
        f"Stop when the log-likelihood ratio of p1 = {format_rate(rule.p1)} against p0 = {format_rate(rule.p0)} "
        f"reaches c, calibrated to a type-I error of at most {rule.alpha:g}; {looks}" + beyond
        + " There it uses the likelihood-ratio line at n."
    )


def describe_looks(looks: Sequence[int]) -> str:
    """A look schedule in words: runs of consecutive looks as "a–b" ("1–60", "20, 40, 60, 75")."""
    pieces: list[str] = []
    start = previous = None
    for look in looks:
        if start is None:
            start = previous = look
        elif look == previous + 1:
            previous = look
        else:
            pieces.append(_run(start, previous))
            start = previous = look
    if start is not None:
        pieces.append(_run(start, previous))
    return ", ".join(pieces)


def describe_stopping_counts(boundary: Boundary | None) -> str | None:
    """The planned boundary as "stop at >= b of n", runs of looks with the same b grouped.

    Looks where the rule cannot stop (r >= n) are left out.
    """
    if boundary is None:
        return None
    groups: list[tuple[int, int, int]] = []  # (b, first n, last n)
    for look, r in zip(boundary.looks, boundary.stop_above):
        if r >= look:
            continue
        stop_at = max(r + 1, 0)
        if groups and groups[-1][0] == stop_at:
            groups[-1] = (stop_at, groups[-1][1], look)
        else:
            groups.append((stop_at, look, look))
    if not groups:
        return "The planned boundary cannot stop at any look."
    parts = [f"≥ {b} of n = {_run(first, last)}" for b, first, last in groups]
    return "Stop at " + "; ".join(parts) + " (subjects with the event among evaluable subjects)."


def rule_parameters(rule) -> list[dict]:
    """The rule's configured parameters (and the calibrated constants) with labels and text."""
    if isinstance(rule, EventCountRule):
        return [
            _parameter("min_events", "Stopping count", rule.min_events, f"{rule.min_events} qualifying event(s)"),
            _parameter(
                "first_n_evaluable",
                "Counted among",
                rule.first_n_evaluable,
                "all evaluable subjects" if rule.first_n_evaluable is None else f"the first {rule.first_n_evaluable} evaluable subjects",
            ),
        ]
    boundary = rule_boundary(rule)
    if isinstance(rule, BayesRule):
        a, b = rule.prior
        return [
            _parameter("p_max", "Unacceptable rate p_max", rule.p_max, format_rate(rule.p_max)),
            _parameter("threshold", "Posterior probability threshold", rule.threshold, f"{rule.threshold:g}"),
            _parameter(
                "prior", "Prior", [a, b],
                f"Beta({a:g}, {b:g}): mean {format_rate(a / (a + b))}, worth {a + b:g} subject(s)",
            ),
            _parameter(
                "p_acceptable", "Acceptable rate", rule.p_acceptable,
                "not set" if rule.p_acceptable is None else format_rate(rule.p_acceptable),
            ),
            _parameter("max_subjects", "Planned size", rule.max_subjects, f"{rule.max_subjects} evaluable subjects, a look after each"),
        ]
    common = [
        _parameter("p0", "Acceptable rate p0", rule.p0, format_rate(rule.p0)),
    ]
    p1 = getattr(rule, "p1", None)
    common.append(_parameter("p1", "Unacceptable rate p1", p1, "not set" if p1 is None else format_rate(p1)))
    common.append(_parameter("looks", "Looks (evaluable subjects)", list(rule.looks), f"n = {describe_looks(rule.looks)}; planned size {rule.looks[-1]}"))
    if isinstance(rule, ToxbdryRule):
        levels = boundary.params["nominal_levels_hi"]
        level_text = (
            f"{format_level(levels[0])} at every look"
            if max(levels) - min(levels) < 1e-15
            else ", ".join(format_level(level) for level in levels)
        )
        return common + [
            _parameter("cp0", "Target crossing probability at p0", rule.cp0, f"{rule.cp0:g}"),
            _parameter("cp1", "Target crossing probability at p1", rule.cp1, f"{rule.cp1:g}"),
            _parameter("delta", "Boundary shape delta (0 Pocock, 0.5 O'Brien–Fleming)", rule.delta, f"{rule.delta:g}"),
            _parameter("nominal_levels", "Nominal level per look", list(levels), level_text),
        ]
    if isinstance(rule, PocockRule):
        return common + [
            _parameter("alpha", "Target type-I error at p0", rule.alpha, f"{rule.alpha:g}"),
            _parameter("nominal_level", "Nominal level a* (every look)", boundary.params["nominal_level"], format_level(boundary.params["nominal_level"])),
            _parameter("alpha_exact", "Exact type-I error of the boundary", boundary.params["alpha_exact"], format_probability(boundary.params["alpha_exact"])),
        ]
    params = boundary.params
    return common + [
        _parameter("alpha", "Target type-I error at p0", rule.alpha, f"{rule.alpha:g}"),
        _parameter("c", "Log-likelihood-ratio bound c", params["c"], f"{params['c']:.4g}"),
        _parameter(
            "line", "Stopping line", [params["line_intercept"], params["line_slope"]],
            f"stop when x ≥ {params['line_intercept']:.4g} + {params['line_slope']:.4g} × n",
        ),
        _parameter("alpha_exact", "Exact type-I error of the boundary", params["alpha_exact"], format_probability(params["alpha_exact"])),
    ]


def describe_now(status: RuleStatus) -> dict:
    """The current status with its statistic and the boundary at the current n ("Now")."""
    return {
        "status": status.status,
        "statement": status.statement,
        "n": status.n,
        "x": status.x,
        "boundary": status.boundary,
        "statistic": status.statistic,
        "statistic_text": status.statistic["text"],
        "boundary_text": describe_boundary_now(status),
        "planned_size": status.planned_size,
        "basis": status.basis,
        "look": status.look,
        "beyond_planned_size": status.basis == "beyond_planned_size",
    }


def describe_boundary_now(status: RuleStatus) -> str:
    """The count that stops the rule at the current n, in words."""
    if status.planned_size is None:  # event-count rule: boundary = min_events - 1
        return f"The rule stops at {status.boundary + 1} qualifying event(s)."
    if status.boundary is None:
        return f"n = {status.n} is before the first look: the rule cannot stop yet."
    if status.boundary >= status.n:
        return f"At n = {status.n} no count can cross the boundary."
    text = f"At n = {status.n} the rule stops at {status.boundary + 1} or more subjects with the event"
    if status.basis == "between_looks":
        text += f" (the boundary of the look at n = {status.look})"
    elif status.basis == "beyond_planned_size":
        text += f" (past the planned size of {status.planned_size})"
    return text + "."


# --------------------------------------------------------------------------------------------
# Operating characteristics
# --------------------------------------------------------------------------------------------


def oc_reference_rates(rule) -> list[tuple[str, float]]:
    """(scenario, true rate) pairs from the configuration: acceptable first, unacceptable second."""
    if isinstance(rule, EventCountRule):
        return []
    if isinstance(rule, BayesRule):
        rates = [("acceptable", rule.p_acceptable), ("unacceptable", rule.p_max)]
    else:
        rates = [("acceptable", rule.p0), ("unacceptable", getattr(rule, "p1", None))]
    return [(scenario, rate) for scenario, rate in rates if rate is not None]


def operating_characteristics(rule) -> dict:
    """Exact P(stop), P(stop before the last look) and expected n at the configured rates."""
    if isinstance(rule, EventCountRule):
        return {
            "applicable": False,
            "over": None,
            "rows": [],
            "note": (
                "Not applicable: the rule stops on a count of events, not on a rate among evaluable "
                f"subjects; it stops as soon as {rule.min_events} qualifying event(s) have occurred."
            ),
        }
    boundary = rule_boundary(rule)
    rows = []
    for scenario, rate in oc_reference_rates(rule):
        oc = crossing_probability(boundary.looks, boundary.stop_above, rate)
        rows.append(
            {
                "scenario": scenario,
                "true_rate": rate,
                "p_stop": oc.p_cross,
                "p_stop_before_last_look": oc.p_early_stop,
                "expected_n": oc.expected_n,
            }
        )
    note = OC_NOTE
    if isinstance(rule, BayesRule) and rule.p_acceptable is None:
        note += " Set p_acceptable to show how often the rule would stop at an acceptable rate."
    if isinstance(rule, PocockRule) and rule.p1 is None:
        note += " Set p1 to show how often the rule would stop at an unacceptable rate."
    return {
        "applicable": True,
        "over": f"planned looks n = {describe_looks(boundary.looks)}",
        "rows": rows,
        "note": note,
    }


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _parameter(key: str, label: str, value, text: str) -> dict:
    return {"key": key, "label": label, "value": value, "text": text}


def _run(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _or_list(items: Sequence[str]) -> str:
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
