"""rule_status(rule, n, x): the status of a stopping rule at any counts, without a database.

Expected values are worked out by hand (binomial sums with exact fractions), by scipy.stats
called directly on the posterior or binomial tail, or derived from a published boundary; never
taken from the code under test.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, log

import numpy as np
import pytest
from scipy import stats

from signals.boundary_at_n import boundary_at_n, boundary_curve_to
from signals.rule_status import RuleStatus, rule_boundary, rule_status
from trial.config import (
    BayesRule,
    EventCountRule,
    PocockRule,
    SprtRule,
    ToxbdryRule,
)

EVENT = {"grade_min": 3, "related_to": ["apatinib", "anti_pd1"], "window": "cycle1"}


def bayes_rule(**changes) -> BayesRule:
    """The bundled trial's rule: prior Beta(0.7, 1.3), p_max 0.35, threshold 0.9, 60 subjects."""
    fields = {"id": "severe_trae_rate", "title": "t", "kind": "bayes", "event": EVENT,
              "p_max": 0.35, "threshold": 0.9, "prior": [0.7, 1.3], "max_subjects": 60, "p_acceptable": 0.2}
    return BayesRule.model_validate(fields | changes)


def toxbdry_rule(**changes) -> ToxbdryRule:
    """clinfun's published example toxbdry(0.2, 0.35, c(20, 40, 60, 75)): hi = (7, 12, 17, 21)."""
    fields = {"id": "tox", "title": "t", "kind": "toxbdry", "event": EVENT, "p0": 0.2, "p1": 0.35, "looks": [20, 40, 60, 75]}
    return ToxbdryRule.model_validate(fields | changes)


def pocock_rule(**changes) -> PocockRule:
    fields = {"id": "poc", "title": "t", "kind": "pocock", "event": EVENT, "p0": 0.2, "alpha": 0.05, "looks": list(range(5, 41, 5))}
    return PocockRule.model_validate(fields | changes)


def sprt_rule(**changes) -> SprtRule:
    fields = {"id": "sprt", "title": "t", "kind": "sprt", "event": EVENT, "p0": 0.2, "p1": 0.4, "alpha": 0.05, "looks": list(range(1, 31))}
    return SprtRule.model_validate(fields | changes)


def event_count_rule(**changes) -> EventCountRule:
    fields = {"id": "bleeds", "title": "t", "kind": "event_count", "event": {"grade_min": 3}, "min_events": 2}
    return EventCountRule.model_validate(fields | changes)


# --------------------------------------------------------------------------------------------
# Bayesian rules: the posterior at the actual n
# --------------------------------------------------------------------------------------------


def test_bayes_far_beyond_planned_size_with_tiny_posterior_is_ok():
    """127 of 499 (25%) against p_max 35%: the posterior, not the boundary of n = 60, decides.

    Independent route: scipy.stats.beta.sf(0.35, 0.7 + 127, 1.3 + 372) = 2.18e-6, far below
    0.9, so OK (reusing the last planned boundary, stop when x > 25, said STOP). One more
    subject with the event: beta.sf(0.35, 128.7, 373.3) = 3.0e-6, still far below: not WARN.
    The trial passed its planned size of 60 evaluable subjects: the result warns.
    """
    posterior = stats.beta.sf(0.35, 0.7 + 127, 1.3 + 372)
    assert posterior == pytest.approx(2.18e-6, rel=0.01)
    result = rule_status(bayes_rule(), 499, 127)
    assert result.status == "OK"
    assert result.statistic["name"] == "posterior_probability"
    assert result.statistic["value"] == pytest.approx(posterior, rel=1e-9)
    assert result.planned_size == 60
    assert result.basis == "beyond_planned_size"
    assert len(result.warnings) == 1 and "planned size of 60" in result.warnings[0] and "n = 499" in result.warnings[0]
    assert "passed its planned size of 60" in result.statement


def test_bayes_beyond_planned_size_stops_where_the_posterior_crosses():
    """At n = 499 the posterior crosses 0.9 between x = 188 and 189 (scipy.stats.beta directly).

    beta.sf(0.35, 0.7 + 188, 1.3 + 311) = 0.8916 (not above 0.9);
    beta.sf(0.35, 0.7 + 189, 1.3 + 310) = 0.9079 (above): STOP at 189, boundary r(499) = 188.
    At 188 of 499, one more subject with the event (189 of 500):
    beta.sf(0.35, 0.7 + 189, 1.3 + 311) = 0.9022 > 0.9: WARN.
    """
    assert stats.beta.sf(0.35, 0.7 + 188, 1.3 + 311) == pytest.approx(0.8916, abs=1e-4)
    assert stats.beta.sf(0.35, 0.7 + 189, 1.3 + 310) == pytest.approx(0.9079, abs=1e-4)
    assert stats.beta.sf(0.35, 0.7 + 189, 1.3 + 311) == pytest.approx(0.9022, abs=1e-4)
    stop = rule_status(bayes_rule(), 499, 189)
    warn = rule_status(bayes_rule(), 499, 188)
    assert (stop.status, stop.boundary) == ("STOP", 188)
    assert (warn.status, warn.boundary) == ("WARN", 188)
    assert "189 of 500" in warn.statement


def posterior_above_by_binomial_sum(p_max: Fraction, n: int, x: int) -> Fraction:
    """Pr(p > p_max | x of n) under a uniform Beta(1, 1) prior, exactly.

    The posterior is Beta(1 + x, 1 + n - x); for whole-number parameters a, b,
    Pr(p > q) = P(Bin(a + b - 1, q) <= a - 1) (the beta-binomial identity), here
    P(Bin(n + 1, q) <= x) = sum_{j <= x} C(n + 1, j) q^j (1 - q)^(n + 1 - j).
    """
    m = n + 1
    return sum(comb(m, j) * p_max**j * (1 - p_max) ** (m - j) for j in range(x + 1))


def uniform_prior_rule(threshold: float) -> BayesRule:
    return bayes_rule(prior=[1.0, 1.0], p_max=0.3, threshold=threshold, max_subjects=20, p_acceptable=None)


def test_bayes_posterior_just_above_the_threshold_stops():
    """Uniform prior, p_max 30%, 5 of 9 subjects: Pr(p > 0.3) = P(Bin(10, 0.3) <= 5)
    = 4763255063 / 5000000000 = 0.9526510126 (by hand), just above the threshold 0.95: STOP."""
    exact = posterior_above_by_binomial_sum(Fraction(3, 10), 9, 5)
    assert exact == Fraction(4763255063, 5000000000)
    result = rule_status(uniform_prior_rule(0.95), 9, 5)
    assert result.status == "STOP"
    assert result.statistic["value"] == pytest.approx(float(exact), abs=1e-12)
    assert result.boundary == 4


def test_bayes_posterior_just_below_the_threshold_warns_when_the_next_event_crosses():
    """Same counts, threshold 0.953: 0.9526510126 is just below, so no STOP. One more subject
    with the event, 6 of 10: P(Bin(11, 0.3) <= 6) = 9783808489 / 10^10 = 0.9783808489 > 0.953:
    WARN. The boundary at n = 9 is 5 (x = 6 would give P(Bin(10, 0.3) <= 6) = 0.989 > 0.953)."""
    assert posterior_above_by_binomial_sum(Fraction(3, 10), 10, 6) == Fraction(9783808489, 10**10)
    result = rule_status(uniform_prior_rule(0.953), 9, 5)
    assert result.status == "WARN"
    assert result.boundary == 5
    assert result.statistic["value_if_next_subject_has_event"] == pytest.approx(0.9783808489, abs=1e-12)


def test_bayes_ok_when_even_the_next_event_would_not_cross():
    """4 of 9: P(Bin(10, 0.3) <= 4) = 0.8497316674; with one more event, 5 of 10:
    P(Bin(11, 0.3) <= 5) = 11522190113 / 12500000000 = 0.92177520904. Both below 0.95: OK."""
    assert posterior_above_by_binomial_sum(Fraction(3, 10), 9, 4) == Fraction(4248658337, 5000000000)
    assert posterior_above_by_binomial_sum(Fraction(3, 10), 10, 5) == Fraction(11522190113, 12500000000)
    result = rule_status(uniform_prior_rule(0.95), 9, 4)
    assert result.status == "OK"
    assert result.statistic["value"] == pytest.approx(0.8497316674, abs=1e-12)
    assert result.warnings == ()


def test_bayes_boundary_at_every_n_is_where_the_posterior_crosses():
    """r(n) = (smallest x with beta.sf(0.35, 0.7 + x, 1.3 + n - x) > 0.9) - 1, by a plain loop over
    x with scipy, for n inside the plan (1-60) and past it (61-120)."""
    rule = bayes_rule()
    for n in range(1, 121):
        crossing = next((x for x in range(n + 1) if stats.beta.sf(0.35, 0.7 + x, 1.3 + n - x) > 0.9), n + 1)
        assert rule_status(rule, n, 0).boundary == crossing - 1, n


def test_no_evaluable_subject_never_stops_a_bayesian_rule():
    """With n = 0 only the prior speaks; a rule cannot stop before anyone is evaluable. The prior
    Beta(9, 1) puts 1 - 0.35^9 = 0.99992 above 0.35, yet 0 of 0 does not stop; the first subject
    with the event would give Beta(10, 1): 1 - 0.35^10 = 0.99997 > 0.9, a crossing, so WARN."""
    assert 1 - 0.35**9 == pytest.approx(stats.beta.sf(0.35, 9, 1), abs=1e-12) and 1 - 0.35**9 > 0.9
    assert 1 - 0.35**10 == pytest.approx(stats.beta.sf(0.35, 10, 1), abs=1e-12) and 1 - 0.35**10 > 0.9
    result = rule_status(bayes_rule(prior=[9.0, 1.0]), 0, 0)
    assert (result.status, result.boundary) == ("WARN", None)


# --------------------------------------------------------------------------------------------
# Boundary rules: between looks and past the planned size
# --------------------------------------------------------------------------------------------


def level_interval_from_boundary(looks, stop_above, p0):
    """Nominal levels a that give this boundary: r_k = smallest r with P(Bin(n_k, p0) > r) <= a,
    so P(X_k > r_k) <= a < P(X_k > r_k - 1) at every look."""
    low = max(stats.binom.sf(r, n, p0) for n, r in zip(looks, stop_above))
    high = min(stats.binom.sf(r - 1, n, p0) for n, r in zip(looks, stop_above))
    return low, high


def test_toxbdry_past_its_last_look_applies_the_last_nominal_level_at_n():
    """Published boundary (clinfun docs) stop when x > (7, 12, 17, 21) at n = (20, 40, 60, 75),
    p0 = 0.2, delta = 0 (one nominal level a at every look). The boundary pins a to
    [max P(X_k > r_k), min P(X_k > r_k - 1)) = [0.0432, 0.0603). At n = 80,
    P(Bin(80, 0.2) > 21) = 0.0660 is above every such a and P(Bin(80, 0.2) > 22) = 0.0388 below:
    r(80) = 22 whatever a in the interval. 23 of 80 stops; 22 of 80 does not (reusing the last
    boundary, 21, would have stopped it). Past the planned size of 75 the result warns.
    """
    low, high = level_interval_from_boundary((20, 40, 60, 75), (7, 12, 17, 21), 0.2)
    assert (round(low, 4), round(high, 4)) == (0.0432, 0.0603)
    assert stats.binom.sf(21, 80, 0.2) > high and stats.binom.sf(22, 80, 0.2) <= low
    rule = toxbdry_rule()
    assert rule_boundary(rule).stop_above == (7, 12, 17, 21)
    stop = rule_status(rule, 80, 23)
    not_stop = rule_status(rule, 80, 22)
    assert (stop.status, stop.boundary) == ("STOP", 22)
    assert not_stop.status != "STOP" and not_stop.boundary == 22
    assert stop.basis == "beyond_planned_size" and stop.planned_size == 75
    assert "planned size of 75" in stop.warnings[0]
    assert "nominal level 0.04" in stop.statement


def test_toxbdry_between_looks_keeps_the_last_look_and_says_so():
    """n = 45 lies between the looks at 40 (stop when x > 12) and 60: the boundary of n = 40 holds.
    13 of 45 stops; 12 of 45 warns, because 13 of 46 would cross the same boundary."""
    rule = toxbdry_rule()
    stop = rule_status(rule, 45, 13)
    warn = rule_status(rule, 45, 12)
    assert (stop.status, stop.boundary, stop.look, stop.basis) == ("STOP", 12, 40, "between_looks")
    assert warn.status == "WARN"
    assert "between the planned looks at n = 40 and n = 60" in stop.statement
    assert stop.warnings == ()


def test_toxbdry_before_the_first_look_stops_only_when_the_crossing_is_certain():
    """The first look is at n = 20 with boundary 7 (stop at 8 or more). The count can only grow,
    so 10 of 10 (> 7) makes the crossing at n = 20 certain: STOP now. 7 of 10 warns (one more
    event makes it certain); 7 of 19 warns because 8 of 20 crosses the first boundary; 6 of 19 is
    OK (7 of 20 does not cross); 0 of 5 is OK and says when the first look is."""
    rule = toxbdry_rule()
    certain = rule_status(rule, 10, 10)
    assert (certain.status, certain.boundary) == ("STOP", None)
    assert "already above the boundary of 7 at the first look (n = 20)" in certain.statement
    assert rule_status(rule, 10, 7).status == "WARN"
    assert rule_status(rule, 19, 7).status == "WARN"
    assert rule_status(rule, 19, 6).status == "OK"
    assert "first look is at n = 20" in rule_status(rule, 5, 0).statement


def test_tail_probability_is_the_binomial_tail_under_p0():
    """P(X >= 13 | n = 45, p0 = 0.2) = 1 - P(X <= 12), summed by hand with exact fractions."""
    q = Fraction(1, 5)
    by_hand = 1 - sum(comb(45, j) * q**j * (1 - q) ** (45 - j) for j in range(13))
    statistic = rule_status(toxbdry_rule(), 45, 13).statistic
    assert statistic["name"] == "tail_probability_under_p0"
    assert statistic["value"] == pytest.approx(float(by_hand), rel=1e-10)


@pytest.mark.parametrize("n_past", range(41, 71))
def test_pocock_past_its_last_look_applies_its_nominal_level_at_n(n_past):
    """Whatever level a reproduces the planned boundary, r(n) past the plan is the smallest r
    with P(Bin(n, p0) > r) <= a. Where every a in the interval gives the same r, it must be it."""
    rule = pocock_rule()
    planned = rule_boundary(rule)
    low, high = level_interval_from_boundary(planned.looks, planned.stop_above, 0.2)
    tails = stats.binom.sf(np.arange(n_past + 1), n_past, 0.2)
    candidates = {int(np.flatnonzero(tails <= level)[0]) for level in (low, np.nextafter(high, 0))}
    result = rule_status(rule, n_past, 0)
    if len(candidates) == 1:
        assert result.boundary == candidates.pop()
    else:
        assert min(candidates) <= result.boundary <= max(candidates)
    assert result.basis == "beyond_planned_size"


def test_sprt_past_its_last_look_follows_its_line():
    """The SPRT stops when x*g - n*s >= c, g = ln[p1(1-p0)/(p0(1-p1))], s = ln[(1-p0)/(1-p1)].
    With p0 = 0.2, p1 = 0.4: g = ln(8/3), s = ln(4/3). Any c reproducing the planned boundary
    lies in (max_k llr(r_k, n_k), min_k llr(r_k + 1, n_k)]; at n = 40 every such c gives the
    same count, computed here from the line (c + n s) / g."""
    g, s = log(8 / 3), log(4 / 3)
    rule = sprt_rule()
    planned = rule_boundary(rule)
    c_low = max(min(r, n) * g - n * s for n, r in zip(planned.looks, planned.stop_above))
    c_high = min((r + 1) * g - n * s for n, r in zip(planned.looks, planned.stop_above) if r < n)
    n = 40
    stop_at = {next(x for x in range(n + 1) if x * g - n * s >= c) for c in (np.nextafter(c_low, np.inf), c_high)}
    assert len(stop_at) == 1
    result = rule_status(rule, n, 0)
    assert result.boundary == stop_at.pop() - 1
    assert result.statistic["log_likelihood_ratio"] == pytest.approx(0 * g - 40 * s)


def test_boundary_curve_extends_past_the_plan_at_every_n():
    """Planned looks first (planned = True), then every n past the plan with the rule at n."""
    rule = toxbdry_rule()
    curve = boundary_curve_to(rule_boundary(rule), 80)
    assert [(p["n"], p["r"], p["planned"]) for p in curve[:4]] == [(20, 7, True), (40, 12, True), (60, 17, True), (75, 21, True)]
    assert [p["n"] for p in curve[4:]] == [76, 77, 78, 79, 80]
    assert curve[-1]["r"] == 22 and not curve[-1]["planned"]
    assert boundary_at_n(rule_boundary(rule), 75).basis == "at_look"


def test_boundary_curve_far_past_the_plan_is_sampled_and_ends_at_n():
    """13,000 evaluable subjects against a 60-subject Bayesian design: the curve keeps the 60
    planned points and at most 120 points past the plan, the last at n = 13,000, each equal to
    the boundary computed directly at that n (scipy posterior, independent of the curve)."""
    rule = BayesRule.model_validate(
        {"id": "b", "title": "b", "kind": "bayes", "p_max": 0.35, "threshold": 0.9, "prior": [0.7, 1.3],
         "max_subjects": 60, "event": {"grade_min": 3}}
    )
    curve = boundary_curve_to(rule_boundary(rule), 13000)
    past = [point for point in curve if not point["planned"]]
    assert len(curve) - len(past) == 60 and len(past) <= 120
    assert past[-1]["n"] == 13000
    for point in (past[0], past[len(past) // 2], past[-1]):
        n, r = point["n"], point["r"]
        assert stats.beta.sf(0.35, 0.7 + r, 1.3 + n - r) <= 0.9 < stats.beta.sf(0.35, 0.7 + r + 1, 1.3 + n - r - 1)


# --------------------------------------------------------------------------------------------
# Event counts, WARN consistency, inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_events", "x", "expected"),
    [(2, 0, "OK"), (2, 1, "WARN"), (2, 2, "STOP"), (2, 5, "STOP"), (1, 0, "OK"), (1, 1, "STOP")],
)
def test_event_count_status(min_events, x, expected):
    """Stop at min_events events; warn one before, except a rule stopping at the first event."""
    result = rule_status(event_count_rule(min_events=min_events), 10, x)
    assert result.status == expected
    assert result.boundary == min_events - 1
    assert result.planned_size is None and result.warnings == ()


@pytest.mark.parametrize("make", [bayes_rule, toxbdry_rule, pocock_rule, sprt_rule])
def test_warn_means_the_next_subject_with_the_event_would_cross(make):
    """The same WARN for every kind: not crossed at (n, x) but crossed at (n + 1, x + 1)."""
    rule = make()
    for n in range(0, 90, 7):
        for x in range(n + 1):
            status = rule_status(rule, n, x).status
            crossed_next = rule_status(rule, n + 1, x + 1).status == "STOP"
            if status != "STOP":
                assert (status == "WARN") == crossed_next, (n, x)


def test_worst_case_counting_of_excluded_records():
    """What another engineer asks: would k more events among m more subjects change the status?
    6 of 20 is OK at the first look of the toxbdry rule (stop when x > 7); counting 2 excluded
    subjects as evaluable with the event gives 8 of 22, which crosses (the boundary of 20 holds
    until the look at 40)."""
    rule = toxbdry_rule()
    assert rule_status(rule, 20, 6).status == "OK"
    assert rule_status(rule, 20 + 2, 6 + 2).status == "STOP"


@pytest.mark.parametrize(
    ("n", "x", "argument"),
    [(-1, 0, "n must"), (4.5, 1, "n must"), (True, 0, "n must"), (4, 5, "x must be at most n"), (4, -1, "x must"), (4, "2", "x must")],
)
def test_counts_are_checked_first_naming_the_argument(n, x, argument):
    with pytest.raises(ValueError, match=argument):
        rule_status(bayes_rule(), n, x)


def test_rule_must_be_a_configured_stopping_rule():
    with pytest.raises(TypeError, match="rule must be a stopping rule"):
        rule_status({"kind": "bayes"}, 4, 1)


def test_status_is_json_ready():
    import json

    for rule in (bayes_rule(), toxbdry_rule(), pocock_rule(), sprt_rule(), event_count_rule()):
        result = rule_status(rule, 61, 20)
        assert isinstance(result, RuleStatus)
        assert json.loads(json.dumps(result.to_dict()))["status"] == result.status
