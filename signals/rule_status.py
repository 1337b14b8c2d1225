"""The status of a stopping rule for any (n evaluable subjects, x counted), without a database.

:func:`rule_status` is a pure function of the rule's configuration and two counts.
``evaluate_rule`` calls it with the counts of a data cut; a sensitivity analysis can call it
with k more events among m more subjects (``rule_status(rule, n + m, x + k)``) to ask whether
counting excluded records the worst way would change the status.

For rate rules x is the number of evaluable subjects with a qualifying event; for event-count
rules it is the number of qualifying events (one subject can contribute several).

Status, the same idea for every kind:

* STOP: the rule is crossed at (n, x). Bayesian rules: Pr(p > p_max | x, n) > threshold, the
  posterior computed at the actual n. Boundary rules (toxbdry, Pocock, SPRT): x > r(n), with
  r(n) from :func:`signals.boundary_at_n.boundary_at_n` (the last look passed between looks; the
  method's own rule at n past the planned size). Event-count rules: x >= min_events.
* WARN: not crossed, but one more subject with the event would cross: the rule is crossed at
  (n + 1, x + 1). Event-count rules: one more event reaches min_events; a rule that stops at
  the first event never warns (it would warn for ever).
* OK: otherwise.

Past the planned size (``max_subjects`` of a Bayesian rule, the last look of the others) the
result carries a warning: the planned operating characteristics no longer describe the rule.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

from scipy import stats

from signals.boundaries import Boundary, bayes, pocock, sprt, toxbdry
from signals.boundary_at_n import (
    BETWEEN_LOOKS,
    BEYOND_PLANNED_SIZE,
    BoundaryAtN,
    boundary_at_n,
    check_sample_size,
)
from signals.calibrated import sprt_slopes
from signals.looks import whole_number
from trial.config import (
    BayesRule,
    EventCountRule,
    PocockRule,
    SprtRule,
    ToxbdryRule,
)

STOP, WARN, OK = "STOP", "WARN", "OK"
RATE_RULES = (BayesRule, ToxbdryRule, PocockRule, SprtRule)
ALL_RULES = (EventCountRule, *RATE_RULES)


@dataclass(frozen=True)
class RuleStatus:
    """What a rule says at (n, x).

    ``boundary`` is r(n): the rule stops when x > r (None before the first look; for event-count
    rules min_events - 1). ``statistic`` is JSON-ready: the number the decision rests on (the
    posterior probability, the binomial tail probability under p0, or the event count), with
    what it is compared with and a sentence. ``basis`` says which part of the plan applied
    (see :mod:`signals.boundary_at_n`; None for event-count rules).
    """

    status: str
    statement: str
    n: int
    x: int
    boundary: int | None
    statistic: dict
    planned_size: int | None
    basis: str | None
    look: int | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self) | {"warnings": list(self.warnings)}


# --------------------------------------------------------------------------------------------
# Planned boundaries
# --------------------------------------------------------------------------------------------


def rule_boundary(rule) -> Boundary | None:
    """The exact planned boundary of a rate rule; event-count rules have none.

    Cached by the rule's parameters: a sensitivity analysis asks for many (n, x) of one rule,
    and a toxbdry or Pocock search should run once. The returned object is shared: read it,
    do not change it.
    """
    _check_rule(rule)
    if isinstance(rule, EventCountRule):
        return None
    return _planned_boundary(rule.kind, rule.model_dump_json(exclude={"id", "title", "event"}))


@lru_cache(maxsize=128)
def _planned_boundary(kind: str, parameters_json: str) -> Boundary:
    parameters = json.loads(parameters_json)
    if kind == "bayes":
        return bayes(
            parameters["p_max"],
            range(1, parameters["max_subjects"] + 1),
            prior=tuple(parameters["prior"]),
            threshold=parameters["threshold"],
            p0=parameters.get("p_acceptable"),
        )
    if kind == "toxbdry":
        return toxbdry(
            parameters["p0"],
            parameters["p1"],
            parameters["looks"],
            cp0=parameters["cp0"],
            cp1=parameters["cp1"],
            delta=parameters["delta"],
        )
    if kind == "pocock":
        return pocock(parameters["p0"], parameters["looks"], alpha=parameters["alpha"], p1=parameters.get("p1"))
    if kind == "sprt":
        return sprt(parameters["p0"], parameters["p1"], parameters["looks"], alpha=parameters["alpha"])
    raise ValueError(f"rule kind must be bayes, toxbdry, pocock or sprt; got {kind!r}")


def planned_size(rule) -> int | None:
    """The planned number of evaluable subjects: max_subjects (bayes), the last look (others)."""
    _check_rule(rule)
    if isinstance(rule, EventCountRule):
        return None
    if isinstance(rule, BayesRule):
        return rule.max_subjects
    return int(rule.looks[-1])


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------


def posterior_probability_above_p_max(rule: BayesRule, n: int, x: int) -> float:
    """Pr(p > p_max | x of n) under the Beta(a + x, b + n - x) posterior of the rule's prior."""
    a, b = rule.prior
    return float(stats.beta.sf(rule.p_max, a + x, b + n - x))


def tail_probability_under_p0(p0: float, n: int, x: int) -> float:
    """P(X >= x) for X ~ Binomial(n, p0): how surprising x of n would be at the acceptable rate."""
    if x <= 0:
        return 1.0
    return float(stats.binom.sf(x - 1, n, p0))


def sprt_log_likelihood_ratio(rule: SprtRule, n: int, x: int) -> float:
    """ln L(p1) / L(p0) for x events in n subjects: x*g - n*s (Wald)."""
    g, s = sprt_slopes(rule.p0, rule.p1)
    return x * g - n * s


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


def rule_status(rule, n: int, x: int) -> RuleStatus:
    """STOP, WARN or OK for a rule at n evaluable subjects and x counted, with the evidence.

    Pure: no database, no data cut. See the module docstring for the meaning of each status.
    """
    _check_rule(rule)
    n, x = _check_counts(rule, n, x)
    if isinstance(rule, EventCountRule):
        return event_count_status(rule, n, x)
    if isinstance(rule, BayesRule):
        return bayes_rule_status(rule, n, x)
    return boundary_rule_status(rule, n, x)


def event_count_status(rule: EventCountRule, n: int, x: int) -> RuleStatus:
    """Stop at min_events qualifying events; warn one event before (when that is not the first)."""
    needed = rule.min_events
    if x >= needed:
        status = STOP
        statement = f"{x} qualifying event(s); the rule stops at {needed}."
    elif needed >= 2 and x == needed - 1:
        status = WARN
        statement = f"{x} qualifying event(s); one more reaches the stopping count of {needed}."
    else:
        status = OK
        statement = f"{x} qualifying event(s); the rule stops at {needed}."
    statistic = {
        "name": "qualifying_events",
        "label": "qualifying events",
        "value": x,
        "stop_at": needed,
        "text": f"{x} qualifying event(s) counted; the rule stops at {needed}.",
    }
    return RuleStatus(
        status=status,
        statement=statement,
        n=n,
        x=x,
        boundary=needed - 1,
        statistic=statistic,
        planned_size=None,
        basis=None,
        look=None,
    )


def bayes_rule_status(rule: BayesRule, n: int, x: int) -> RuleStatus:
    """Stop exactly when Pr(p > p_max | x, n) > threshold, the posterior taken at the actual n."""
    boundary = rule_boundary(rule)
    at_n = boundary_at_n(boundary, n)
    posterior = posterior_probability_above_p_max(rule, n, x)
    posterior_next = posterior_probability_above_p_max(rule, n + 1, x + 1)
    threshold = rule.threshold
    counted = _counted(n, x)
    above = f"Pr(rate > {format_rate(rule.p_max)} | data) = {format_probability(posterior)}"
    # No subject evaluable yet: the prior alone never stops a trial.
    if n >= 1 and posterior > threshold:
        status = STOP
        statement = f"{counted}; {above}, above the threshold {threshold:g}: the stopping rule is crossed."
    elif posterior_next > threshold:
        status = WARN
        statement = (
            f"{counted}; {above}, not above the threshold {threshold:g}; one more subject with the "
            f"event ({x + 1} of {n + 1}) would give {format_probability(posterior_next)} and cross it."
        )
    else:
        status = OK
        statement = f"{counted}; {above}, not above the threshold {threshold:g}"
        statement += _stopping_count_clause(at_n) + "."
    statement += _plan_clause(rule, at_n)
    label = f"Pr(p > {format_rate(rule.p_max)} | x = {x}, n = {n})"
    statistic = {
        "name": "posterior_probability",
        "label": label,
        "value": posterior,
        "threshold": threshold,
        "value_if_next_subject_has_event": posterior_next,
        "text": (
            f"{label} = {format_probability(posterior)} under the Beta({_g(rule.prior[0])} + x, "
            f"{_g(rule.prior[1])} + n - x) posterior; the rule stops above {threshold:g}."
        ),
    }
    return _rate_status(rule, at_n, x, status, statement, statistic)


def boundary_rule_status(rule, n: int, x: int) -> RuleStatus:
    """Stop when x > r(n) for a toxbdry, Pocock or SPRT boundary."""
    boundary = rule_boundary(rule)
    at_n = boundary_at_n(boundary, n)
    next_at_n = boundary_at_n(boundary, n + 1)
    r = at_n.stop_above
    counted = _counted(n, x)
    # Before the first look the count can only grow: when it already exceeds the first look's
    # boundary, the crossing at that look is certain and waiting for it would only delay the stop.
    first = boundary_at_n(boundary, at_n.next_look).stop_above if r is None and at_n.next_look else None
    if r is not None and x > r:
        status = STOP
        statement = f"{counted}, above the boundary of {r}: the stopping rule is crossed."
    elif first is not None and x > first:
        status = STOP
        statement = (
            f"{counted}, already above the boundary of {first} at the first look (n = {at_n.next_look}): "
            "the crossing there is certain, so the rule stops now."
        )
    elif first is not None and x == first:
        status = WARN
        statement = (
            f"{counted}; one more subject with the event would exceed the boundary of {first} at the "
            f"first look (n = {at_n.next_look}) before it is reached."
        )
    elif next_at_n.stop_above is not None and x + 1 > next_at_n.stop_above:
        status = WARN
        statement = (
            f"{counted}; one more subject with the event ({x + 1} of {n + 1}) would cross the "
            f"boundary of {next_at_n.stop_above}."
        )
    elif r is None:
        status = OK
        statement = f"{counted}; the first look is at n = {at_n.next_look}."
    else:
        status = OK
        statement = f"{counted}; the boundary at n = {n} is {r}" + _stopping_count_clause(at_n) + "."
    statement += _plan_clause(rule, at_n)
    return _rate_status(rule, at_n, x, status, statement, _tail_statistic(rule, n, x, at_n))


def _tail_statistic(rule, n: int, x: int, at_n: BoundaryAtN) -> dict:
    tail = tail_probability_under_p0(rule.p0, n, x)
    label = f"P(X ≥ {x} | n = {n}, p0 = {format_rate(rule.p0)})"
    statistic = {
        "name": "tail_probability_under_p0",
        "label": label,
        "value": tail,
        "nominal_level": at_n.nominal_level,
    }
    text = (
        f"{label} = {format_probability(tail)}: the chance of {x} or more subjects with the event "
        f"among {n} if the true rate were the acceptable {format_rate(rule.p0)}"
    )
    if at_n.basis == BETWEEN_LOOKS:
        # The count is held to the boundary of the last look, not tested afresh at n.
        text += f"; between looks the count is compared with the boundary of the look at n = {at_n.look}"
    elif at_n.nominal_level is not None:
        text += f"; the rule stops when it is at most the nominal level {format_level(at_n.nominal_level)}"
    if isinstance(rule, SprtRule):
        boundary = rule_boundary(rule)
        ratio = sprt_log_likelihood_ratio(rule, n, x)
        statistic["log_likelihood_ratio"] = ratio
        statistic["c"] = float(boundary.params["c"])
        text += f"; log-likelihood ratio of p1 against p0 = {ratio:.3g}, the rule stops at {boundary.params['c']:.3g} or more"
    statistic["text"] = text + "."
    return statistic


def _rate_status(rule, at_n: BoundaryAtN, x: int, status: str, statement: str, statistic: dict) -> RuleStatus:
    warnings = ()
    if at_n.basis == BEYOND_PLANNED_SIZE:
        warnings = (beyond_planned_size_warning(at_n.planned_size, at_n.n),)
    return RuleStatus(
        status=status,
        statement=statement,
        n=at_n.n,
        x=x,
        boundary=at_n.stop_above,
        statistic=statistic,
        planned_size=planned_size(rule),
        basis=at_n.basis,
        look=at_n.look,
        warnings=warnings,
    )


def beyond_planned_size_warning(planned: int, n: int) -> str:
    """The warning every rate rule carries past its planned size."""
    return (
        f"The trial has passed its planned size of {planned} evaluable subjects (n = {n}): the rule "
        "is applied at the actual n, and its planned operating characteristics no longer describe it."
    )


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


def format_rate(p: float) -> str:
    """An event rate as a percentage: 0.35 -> "35%", 0.125 -> "12.5%"."""
    return f"{p * 100:.4g}%"


def format_probability(value: float) -> str:
    """A probability with three significant digits (small ones in exponent form)."""
    return f"{value:.3g}"


def format_level(value: float) -> str:
    """A nominal significance level with four significant digits (0.04375 stays 0.04375)."""
    return f"{value:.4g}"


def _g(value: float) -> str:
    return f"{value:g}"


def _counted(n: int, x: int) -> str:
    return f"{x} of {n} evaluable subjects had the event"


def _stopping_count_clause(at_n: BoundaryAtN) -> str:
    r = at_n.stop_above
    if r is None:
        return ""
    if r >= at_n.n:
        return f"; no count among {at_n.n} subjects can cross it"
    return f"; the rule stops at {r + 1} or more of {at_n.n}"


def _plan_clause(rule, at_n: BoundaryAtN) -> str:
    """Says so when n is between two looks or past the planned size (see boundary_at_n)."""
    if at_n.basis == BETWEEN_LOOKS:
        return (
            f" n = {at_n.n} lies between the planned looks at n = {at_n.look} and n = {at_n.next_look}: "
            f"the boundary of the look at n = {at_n.look} applies until the next look."
        )
    if at_n.basis == BEYOND_PLANNED_SIZE:
        return (
            f" The trial has passed its planned size of {at_n.planned_size} evaluable subjects; "
            f"the rule is applied at the actual n with {_beyond_plan_method(rule, at_n)}."
        )
    return ""


def _beyond_plan_method(rule, at_n: BoundaryAtN) -> str:
    """How a rule is continued past its planned size, in words (see boundary_at_n)."""
    if isinstance(rule, BayesRule):
        return f"the posterior probability at n = {at_n.n}"
    if isinstance(rule, ToxbdryRule):
        return f"the nominal level {format_level(at_n.nominal_level)} of its last look"
    if isinstance(rule, PocockRule):
        return f"its nominal level {format_level(at_n.nominal_level)}"
    return "its likelihood-ratio line"


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_rule(rule) -> None:
    if not isinstance(rule, ALL_RULES):
        raise TypeError(
            "rule must be a stopping rule of the trial configuration (EventCountRule, BayesRule, "
            f"ToxbdryRule, PocockRule or SprtRule); got {type(rule).__name__}"
        )


def _check_counts(rule, n, x) -> tuple[int, int]:
    n = check_sample_size(n)
    what = "qualifying events" if isinstance(rule, EventCountRule) else f"subjects with the event among n = {n}"
    try:
        x_value = whole_number(x)
    except (TypeError, ValueError):
        raise ValueError(f"x must be a whole number of {what}; got {x!r}") from None
    if x_value < 0:
        raise ValueError(f"x must be a whole number >= 0 of {what}; got {x!r}")
    if not isinstance(rule, EventCountRule) and x_value > n:
        raise ValueError(f"x must be at most n (subjects with the event among n = {n} evaluable); got x = {x!r}")
    return n, x_value
