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


def first_crossing_count(n: int, p_max: float, threshold: float, a: float, b: float) -> int:
    """Independent route: the smallest x with Pr(p > p_max | x of n) > threshold under Beta(a, b)."""
    for x in range(n + 1):
        if beta.sf(p_max, a + x, b + n - x) > threshold:
            return x
    return n + 1


def test_bayesian_rate_rule_against_hand_computation(flags):
    rule = flags["severe_trae_rate"]
    # Cycle 1 (days 1-28), grade >= 3 and related: S2 (AE4, day 27) and S3 (AE6, AE7).
    # Evaluable: S1, S2, S5 completed 28 days; S3 had the event. n = 4, x = 2.
    assert (rule["evaluable"], rule["events"]) == (4, 2)
    crossing = first_crossing_count(4, 0.35, 0.9, 0.7, 1.3)
    assert rule["boundary"] == crossing - 1
    expected_status = "STOP" if 2 > rule["boundary"] else ("WARN" if 2 == rule["boundary"] else "OK")
    assert rule["status"] == expected_status
    assert rule["path"][-1]["n"] == 4 and rule["path"][-1]["x"] == 2


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
    import polars as pl
    from datetime import date

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
