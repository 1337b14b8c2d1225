"""The explanation of a rule (what counts, who is evaluable, parameters, now, operating
characteristics), its template partial, its configuration keys and its documentation.

Operating characteristics are checked by routes independent of the forward recursion in
signals/oc.py: full enumeration of outcome sequences for a small design, a per-subject exact
chain and a Monte Carlo simulation for the bundled 60-subject design. The stopping counts used
by those routes come from scipy.stats.beta directly, not from the boundary code.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pydantic
import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from scipy import stats

from signals.rule_explanation import explain_rule
from signals.rule_status import rule_status
from tests.conftest import BUNDLED_CONFIG, REPO_ROOT
from tests.signals.test_rule_status import (
    bayes_rule,
    event_count_rule,
    pocock_rule,
    sprt_rule,
    toxbdry_rule,
)
from trial.config import (
    BayesRule,
    EventCountRule,
    PocockRule,
    SprtRule,
    ToxbdryRule,
    load_trial_config,
)


@pytest.fixture(scope="module")
def trial():
    return load_trial_config(BUNDLED_CONFIG).model


def explanation_at(rule, trial, n: int, x: int) -> dict:
    return explain_rule(rule, rule_status(rule, n, x), trial=trial)


def bayes_stop_counts(n_max: int, *, p_max: float, prior: tuple[float, float], threshold: float) -> list[int]:
    """b(n) = smallest x with Pr(p > p_max | x of n) > threshold (scipy.stats.beta directly);
    n + 1 when no count at n crosses. Index 0 is n = 1."""
    a, b = prior
    counts = []
    for n in range(1, n_max + 1):
        counts.append(next((x for x in range(n + 1) if stats.beta.sf(p_max, a + x, b + n - x) > threshold), n + 1))
    return counts


# --------------------------------------------------------------------------------------------
# Operating characteristics by independent routes
# --------------------------------------------------------------------------------------------


def enumerated_oc(stop_counts: list[int], p: float) -> tuple[float, float]:
    """(P(stop), expected n) by enumerating all 2^N outcome sequences of a look-per-subject rule."""
    total = len(stop_counts)
    p_stop = expected_n = 0.0
    for code in range(2**total):
        outcome = [(code >> i) & 1 for i in range(total)]
        weight = p ** sum(outcome) * (1 - p) ** (total - sum(outcome))
        stopped_at = next((n for n in range(1, total + 1) if sum(outcome[:n]) >= stop_counts[n - 1]), None)
        if stopped_at is None:
            expected_n += weight * total
        else:
            p_stop += weight
            expected_n += weight * stopped_at
    return p_stop, expected_n


def test_small_bayes_rule_oc_match_full_enumeration(trial):
    """Prior Beta(0.7, 1.3), p_max 0.35, threshold 0.9, max_subjects 6, p_acceptable 0.2:
    stop counts from scipy (2 of 2, 3 of 3-4, 4 of 5-6); all 64 sequences enumerated."""
    rule = bayes_rule(max_subjects=6)
    counts = bayes_stop_counts(6, p_max=0.35, prior=(0.7, 1.3), threshold=0.9)
    assert counts == [2, 2, 3, 3, 4, 4]
    rows = explanation_at(rule, trial, 3, 1)["operating_characteristics"]["rows"]
    for row, rate in zip(rows, (0.2, 0.35)):
        p_stop, expected_n = enumerated_oc(counts, rate)
        assert row["true_rate"] == rate
        assert row["p_stop"] == pytest.approx(p_stop, abs=1e-12)
        assert row["expected_n"] == pytest.approx(expected_n, abs=1e-10)


def exact_chain_oc(stop_counts: list[int], p: float) -> tuple[float, float]:
    """(P(stop), expected n), one subject at a time: carry P(count = x, not stopped) in a dict."""
    running = {0: 1.0}
    p_stop = expected_n = 0.0
    for n, stop_at in enumerate(stop_counts, start=1):
        following: dict[int, float] = {}
        for x, mass in running.items():
            following[x] = following.get(x, 0.0) + mass * (1 - p)
            following[x + 1] = following.get(x + 1, 0.0) + mass * p
        stopped = sum(mass for x, mass in following.items() if x >= stop_at)
        p_stop += stopped
        expected_n += n * stopped
        running = {x: mass for x, mass in following.items() if x < stop_at}
    expected_n += len(stop_counts) * sum(running.values())
    return p_stop, expected_n


def simulated_oc(stop_counts: list[int], p: float, *, trials: int, seed: int) -> tuple[float, float, float, float]:
    """Monte Carlo (P(stop), its standard error, expected n, its standard error)."""
    rng = np.random.default_rng(seed)
    thresholds = np.asarray(stop_counts)
    stopped_parts, n_parts = [], []
    for _ in range(trials // 50_000):
        counts = np.cumsum(rng.random((50_000, len(stop_counts)), dtype=np.float32) < p, axis=1)
        crossed = counts >= thresholds
        stopped = crossed.any(axis=1)
        first = np.where(stopped, crossed.argmax(axis=1) + 1, len(stop_counts))
        stopped_parts.append(stopped)
        n_parts.append(first)
    stopped = np.concatenate(stopped_parts)
    sizes = np.concatenate(n_parts)
    return (
        stopped.mean(),
        stopped.std() / np.sqrt(stopped.size),
        sizes.mean(),
        sizes.std() / np.sqrt(sizes.size),
    )


def test_bundled_rule_oc_match_an_exact_chain_and_monte_carlo(trial):
    """The bundled rule (prior [0.7, 1.3], p_max 0.35, threshold 0.9, a look after each of 60
    subjects), at the acceptable 20% and the unacceptable 35%:

    about P(stop) 0.064 and expected n 56.4 at 20%; P(stop) 0.392 and expected n 41.7 at 35%
    (a fixed threshold of 0.9 stops a trial at the unacceptable rate only 4 times in 10).
    Checked against a per-subject exact chain (1e-12) and 200,000 simulated trials per rate
    (within 4 standard errors), both using stop counts from scipy.stats.beta directly.
    """
    rule = next(r for r in trial.stopping_rules if r.id == "severe_trae_rate")
    assert (rule.p_max, rule.threshold, tuple(rule.prior), rule.max_subjects, rule.p_acceptable) == (0.35, 0.9, (0.7, 1.3), 60, 0.2)
    counts = bayes_stop_counts(60, p_max=0.35, prior=(0.7, 1.3), threshold=0.9)
    oc = explanation_at(rule, trial, 4, 2)["operating_characteristics"]
    assert oc["applicable"] and oc["over"] == "planned looks n = 1–60"
    expected_rounded = {0.2: (0.064, 56.4), 0.35: (0.392, 41.7)}
    for seed, row in enumerate(oc["rows"]):
        rate = row["true_rate"]
        p_stop, expected_n = exact_chain_oc(counts, rate)
        assert row["p_stop"] == pytest.approx(p_stop, abs=1e-12)
        assert row["expected_n"] == pytest.approx(expected_n, abs=1e-9)
        simulated_p, se_p, simulated_n, se_n = simulated_oc(counts, rate, trials=200_000, seed=2024 + seed)
        assert abs(row["p_stop"] - simulated_p) < 4 * se_p
        assert abs(row["expected_n"] - simulated_n) < 4 * se_n
        assert (round(row["p_stop"], 3), round(row["expected_n"], 1)) == expected_rounded[rate]


def test_toxbdry_oc_reproduce_the_published_crossing_probabilities(trial):
    """clinfun's toxbdry(0.2, 0.35, c(20, 40, 60, 75)) documents the hi boundary's crossing
    probability as .088 at pLo = 0.2 and .911 at pHi = 0.35."""
    rows = explanation_at(toxbdry_rule(), trial, 30, 3)["operating_characteristics"]["rows"]
    assert [(row["scenario"], row["true_rate"], round(row["p_stop"], 3)) for row in rows] == [
        ("acceptable", 0.2, 0.088), ("unacceptable", 0.35, 0.911),
    ]


def test_oc_rows_follow_the_configured_rates(trial):
    """Pocock without p1: only the acceptable rate, and the note says to set p1; Bayes without
    p_acceptable: only p_max, and the note says to set p_acceptable; event counts: none."""
    pocock_oc = explanation_at(pocock_rule(), trial, 10, 1)["operating_characteristics"]
    assert [row["true_rate"] for row in pocock_oc["rows"]] == [0.2]
    assert "Set p1" in pocock_oc["note"]
    with_p1 = explanation_at(pocock_rule(p1=0.4), trial, 10, 1)["operating_characteristics"]
    assert [row["true_rate"] for row in with_p1["rows"]] == [0.2, 0.4]
    bayes_oc = explanation_at(bayes_rule(p_acceptable=None), trial, 10, 1)["operating_characteristics"]
    assert [row["true_rate"] for row in bayes_oc["rows"]] == [0.35]
    assert "Set p_acceptable" in bayes_oc["note"]
    count_oc = explanation_at(event_count_rule(), trial, 10, 1)["operating_characteristics"]
    assert (count_oc["applicable"], count_oc["rows"]) == (False, [])


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def test_what_counts_and_who_is_evaluable_in_words(trial):
    """Every criterion of the event definition appears; the denominator follows the window."""
    rule = sprt_rule(event={"grade_min": 2, "aesi": ["hemorrhage"], "serious": True, "socs": ["Vascular disorders"],
                            "terms": ["Epistaxis"], "window": "first_days", "days": 42})
    explanation = explanation_at(rule, trial, 10, 1)
    what = explanation["what_counts"]
    for phrase in ("CTCAE grade ≥ 2", "regardless of attribution", "\"Other, specify\" text) Epistaxis", "Vascular disorders",
                   "Hemorrhage (Epistaxis", "reported as serious", "first 42 days"):
        assert phrase in what, phrase
    assert explanation["who_is_evaluable"] == "Treated subjects observed for at least 42 days after the first dose, or who had the event."
    assert "Every treated subject" in explanation_at(event_count_rule(), trial, 10, 1)["who_is_evaluable"]


def test_event_count_explanation_gives_the_count_needed(trial):
    explanation = explanation_at(event_count_rule(min_events=2, first_n_evaluable=6), trial, 10, 1)
    assert explanation["decision_rule"] == "Stop when at least 2 qualifying event(s) have occurred."
    assert "first 6 evaluable subjects" in explanation["counting_unit"]
    assert explanation["now"]["status"] == "WARN"
    assert explanation["stopping_counts"] is None


def test_past_the_planned_size_the_explanation_warns(trial):
    explanation = explanation_at(bayes_rule(), trial, 499, 127)
    assert explanation["now"]["beyond_planned_size"] is True
    assert any("planned size of 60" in warning for warning in explanation["warnings"])


@pytest.mark.parametrize("make", [bayes_rule, toxbdry_rule, pocock_rule, sprt_rule, event_count_rule])
def test_explanation_is_json_ready_with_every_key(make, trial):
    """flags.json is written with json.dumps; the explanation needs no default= to serialise, and
    every kind has the same keys (the template reads them under StrictUndefined)."""
    explanation = explanation_at(make(), trial, 61, 20)
    assert json.loads(json.dumps(explanation)) == explanation
    assert set(explanation) == {
        "rule_id", "kind", "kind_label", "what_counts", "counting_unit", "who_is_evaluable", "evaluable",
        "decision_rule", "stopping_counts", "parameters", "now", "operating_characteristics", "warnings",
    }


# --------------------------------------------------------------------------------------------
# Template partial
# --------------------------------------------------------------------------------------------


def render_rules(rules: list[dict]) -> str:
    """As the DSMB report will: autoescape, StrictUndefined, the partial included in a loop."""
    env = Environment(
        loader=FileSystemLoader(REPO_ROOT / "reports" / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page = env.from_string('{% for rule in rules %}{% include "_rule_explanation.html.j2" %}{% endfor %}')
    return page.render(rules=rules)


def test_partial_renders_every_kind(trial):
    makers = [bayes_rule, toxbdry_rule, pocock_rule, sprt_rule, event_count_rule]
    rules = []
    for make in makers:
        rule = make()
        rules.append({"rule_id": rule.id, "explanation": explanation_at(rule, trial, 30, 3)})
    html = render_rules(rules)
    assert html.count('<section class="rule-explanation"') == len(makers)
    for heading in ("What counts", "Who is evaluable", "Parameters", "Now", "Operating characteristics"):
        assert html.count(f"<dt>{heading}</dt>") == len(makers), heading
    # The bundled rule's OC table: 20% (acceptable) stops with probability 0.064, expected n 56.4.
    assert re.search(r"20% \(acceptable\)</th>\s*<td class=\"num\">0\.064</td>\s*<td class=\"num\">56\.4</td>", html)
    assert "Not applicable" in html
    assert "<script" not in html


def test_partial_escapes_configured_text():
    """Text from the configuration is escaped, never interpreted as HTML."""
    trial = load_trial_config(BUNDLED_CONFIG).model
    hostile = trial.model_copy(update={"agents": [a.model_copy(update={"name": "<script>alert(1)</script>"}) for a in trial.agents]})
    rule = bayes_rule()
    html = render_rules([{"rule_id": rule.id, "explanation": explain_rule(rule, rule_status(rule, 4, 2), trial=hostile)}])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_partial_renders_nothing_without_an_explanation():
    """flags.json written before explanations existed: the partial stays silent."""
    assert render_rules([{"rule_id": "old"}]).strip() == ""


# --------------------------------------------------------------------------------------------
# Configuration and documentation
# --------------------------------------------------------------------------------------------


def test_bundled_trial_sets_the_acceptable_rate(trial):
    rule = next(r for r in trial.stopping_rules if r.id == "severe_trae_rate")
    assert rule.p_acceptable == 0.20


@pytest.mark.parametrize(
    ("fields", "key", "problem"),
    [
        ({"p_acceptable": 0.35}, "p_acceptable", "below p_max"),
        ({"p_acceptable": 0.5}, "p_acceptable", "below p_max"),
        ({"p_acceptable": 0.0}, "p_acceptable", "greater than 0"),
        ({"p_acceptable": 1.0}, "p_acceptable", "less than 1"),
    ],
)
def test_p_acceptable_is_a_rate_below_p_max(fields, key, problem):
    with pytest.raises(pydantic.ValidationError) as caught:
        bayes_rule(**fields)
    error = caught.value.errors()[0]
    assert error["loc"] == (key,) and problem in error["msg"]


@pytest.mark.parametrize("make", [toxbdry_rule, sprt_rule, pocock_rule])
def test_p1_must_be_above_p0(make):
    with pytest.raises(pydantic.ValidationError) as caught:
        make(p1=0.2)
    assert caught.value.errors()[0]["loc"] == ("p1",)


def test_every_stopping_rule_key_is_documented():
    """docs/trial-config.md must name every key of every rule kind (datasette: docs held to code)."""
    text = (REPO_ROOT / "docs" / "trial-config.md").read_text()
    section = text[text.index("## `[[stopping_rules]]`"):]
    section = section[: section.index("\n## ", 1)]
    for model in (EventCountRule, BayesRule, ToxbdryRule, PocockRule, SprtRule):
        for key in model.model_fields:
            if key in {"id", "title", "kind", "event"}:
                assert f"`{key}`" in section, key
            else:
                assert f"`{key}`" in section or f"`{key} =" in section, f"{model.__name__}.{key}"
