"""Stopping rules evaluated on the mini trial (see tests/safetydb/test_tables.py for its story)."""

import json
from pathlib import Path

import pytest
from scipy.stats import beta

from flows.stages import analyse, ingest
from tests.conftest import make_mini_trial


@pytest.fixture(scope="module")
def flags(tmp_path_factory):
    loaded = ingest(make_mini_trial(tmp_path_factory.mktemp("rules")))
    analyse(loaded)
    return {rule["rule_id"]: rule for rule in json.loads((Path(loaded.out_dir) / "flags.json").read_text())["rules"]}


def test_any_treatment_related_death_stops(flags):
    rule = flags["related_death"]
    # AE6: grade 5 pharyngeal hemorrhage, probably related to apatinib.
    assert (rule["status"], rule["events"]) == ("STOP", 1)
    assert [e["ae_id"] for e in rule["qualifying_events"]] == ["AE6"]


def test_two_severe_hemorrhages_stop(flags):
    rule = flags["severe_hemorrhage"]
    # AE7 epistaxis grade 3 and AE6 pharyngeal hemorrhage grade 5, both AESI "hemorrhage".
    assert (rule["status"], rule["events"]) == ("STOP", 2)
    assert [e["ae_id"] for e in rule["qualifying_events"]] == ["AE7", "AE6"]


def test_bayesian_rate_rule_on_the_mini_trial_against_hand_computation(flags):
    """Rule severe_trae_rate: grade >= 3 related AE in cycle 1; prior Beta(0.7, 1.3), p_max 0.35,
    threshold 0.9.

    Cycle 1 (days 1-28), grade >= 3 and related: S2 (AE4, day 27) and S3 (AE6, AE7).
    Evaluable: S1, S2, S5 completed 28 days; S3 had the event. n = 4, x = 2.
    Posterior (scipy.stats.beta directly): Pr(p > 0.35 | 2 of 4) = beta.sf(0.35, 2.7, 3.3)
    = 0.6759, not above 0.9. One more subject with the event, 3 of 5:
    beta.sf(0.35, 3.7, 3.3) = 0.8279, still not above 0.9, so OK (not WARN).
    Boundary at n = 4: 3 of 4 gives beta.sf(0.35, 3.7, 2.3) = 0.9097 > 0.9, so stop when x > 2.
    """
    rule = flags["severe_trae_rate"]
    assert (rule["evaluable"], rule["events"]) == (4, 2)
    assert beta.sf(0.35, 2.7, 3.3) == pytest.approx(0.6759, abs=1e-4)
    assert beta.sf(0.35, 3.7, 3.3) == pytest.approx(0.8279, abs=1e-4)
    assert beta.sf(0.35, 3.7, 2.3) == pytest.approx(0.9097, abs=1e-4)
    assert rule["boundary"] == 2
    assert rule["status"] == "OK"
    assert rule["statistic"]["value"] == pytest.approx(beta.sf(0.35, 2.7, 3.3), rel=1e-9)
    assert rule["planned_size"] == 60 and rule["warnings"] == []
    assert rule["path"][-1]["n"] == 4 and rule["path"][-1]["x"] == 2


def test_status_boundary_and_statement_of_each_rule_by_hand(flags):
    """Worked from trial.toml and the mini trial. An event-count rule with min_events m stops when
    the events exceed m - 1: related_death (m = 1) has AE6, 1 event, boundary 0: STOP;
    severe_hemorrhage (m = 2) has AE7 and AE6, 2 events, boundary 1: STOP. severe_trae_rate
    (Bayes) at 2 of 4: Pr(rate > 35%) = beta.sf(0.35, 2.7, 3.3) = 0.676, boundary 2 (3 of 4 gives
    0.9097 > 0.9, see above): OK."""
    assert beta.sf(0.35, 2.7, 3.3) == pytest.approx(0.676, abs=5e-4)
    got = {rule_id: (rule["status"], rule["boundary"], rule["statement"]) for rule_id, rule in flags.items()}
    assert got == {
        "related_death": ("STOP", 0, "1 qualifying event(s); the rule stops at 1."),
        "severe_hemorrhage": ("STOP", 1, "2 qualifying event(s); the rule stops at 2."),
        "severe_trae_rate": (
            "OK",
            2,
            "2 of 4 evaluable subjects had the event; Pr(rate > 35% | data) = 0.676, not above the threshold 0.9; "
            "the rule stops at 3 or more of 4.",
        ),
    }


def test_each_rule_in_flags_explains_itself(flags):
    """Every rule says what counts, who is evaluable, its parameters, the statistic now and its
    operating characteristics (or that they do not apply), in JSON read back from flags.json."""
    trae = flags["severe_trae_rate"]["explanation"]
    assert "grade ≥ 3" in trae["what_counts"] and "cycle 1" in trae["what_counts"]
    assert "Apatinib mesylate" in trae["what_counts"] and "Anti-PD-1 antibody" in trae["what_counts"]
    assert trae["who_is_evaluable"] == "Treated subjects who completed cycle 1 (28 days) or had the event."
    assert trae["evaluable"] == 4
    assert {p["key"]: p["value"] for p in trae["parameters"]} == {
        "p_max": 0.35, "threshold": 0.9, "prior": [0.7, 1.3], "p_acceptable": 0.2, "max_subjects": 60,
    }
    assert trae["now"]["statistic"]["name"] == "posterior_probability"
    assert [(row["scenario"], row["true_rate"]) for row in trae["operating_characteristics"]["rows"]] == [
        ("acceptable", 0.2), ("unacceptable", 0.35),
    ]
    death = flags["related_death"]["explanation"]
    assert "grade 5 (fatal)" in death["what_counts"]
    assert death["operating_characteristics"]["applicable"] is False
    assert death["operating_characteristics"]["note"].startswith("Not applicable")


@pytest.mark.slow  # two data cuts through the pipeline: about 2 s
def test_history_accumulates_across_cuts(tmp_path):
    config = make_mini_trial(tmp_path / "history")
    from datetime import date

    for cut in (date(2025, 2, 10), date(2025, 7, 1)):
        loaded = ingest(config, cut_date=cut)
        analyse(loaded)
    flags = json.loads((Path(loaded.out_dir) / "flags.json").read_text())
    history = {r["rule_id"]: r["history"] for r in flags["rules"]}["related_death"]
    # On 2025-02-10 the fatal bleed (2025-02-18) had not happened.
    assert [(h["cut_date"], h["status"]) for h in history] == [("2025-02-10", "OK"), ("2025-07-01", "STOP")]


def test_monitoring_path_keeps_the_steps_of_x():
    from datetime import date

    import polars as pl

    from signals.rules import _monitoring_path

    evaluable = pl.DataFrame(
        {
            "subject_id": ["a", "b", "c", "d", "e"],
            "evaluable_date": [date(2025, 1, d) for d in (1, 2, 3, 4, 5)],
            "had_event": [False, True, False, False, True],
        }
    )
    # x by n: 0, 1, 1, 1, 2 -> kept at n = 1 (start), 2 (step), 5 (step and last)
    assert [(p["n"], p["x"]) for p in _monitoring_path(evaluable)] == [(1, 0), (2, 1), (5, 2)]
