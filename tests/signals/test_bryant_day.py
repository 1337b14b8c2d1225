"""Bryant-Day two-stage design (signals/bryant_day.py): exact operating characteristics, the
design search, and the decision at a data cut.

A design stops after stage 1 when responders <= r1 or subjects without the toxic event
("non-toxic") <= t1, and is acceptable at the end only when responders > r and non-toxic > t;
response and toxicity are independent binomials (Bryant & Day, Biometrics 1995;51:1372-83).
"""

from __future__ import annotations

import functools
import itertools
from datetime import date

import polars as pl
import pytest
from scipy.stats import binom

from signals.bryant_day import (
    OC_SCHEMA,
    STATUS_SCHEMA,
    Design,
    StageCounts,
    design_subjects,
    find_design,
    monitor,
    operating_characteristics,
    pass_probability,
    stage_status,
)
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config


def enumerated(design: Design, p: float, q: float) -> dict[str, float]:
    """An independent route: walk every outcome (x1, x2, y1, y2) of the two stages and add up
    the probability of passing stage 1 and of being declared acceptable."""
    n2 = design.n - design.n1
    x1_pmf, y1_pmf = _pmf(design.n1, p), _pmf(design.n1, q)
    x2_pmf, y2_pmf = _pmf(n2, p), _pmf(n2, q)
    passes, acceptable = 0.0, 0.0
    for x1, y1 in itertools.product(range(design.n1 + 1), repeat=2):
        if x1 <= design.r1 or y1 <= design.t1:
            continue
        first = x1_pmf[x1] * y1_pmf[y1]
        passes += first
        for x2, y2 in itertools.product(range(n2 + 1), repeat=2):
            if x1 + x2 > design.r and y1 + y2 > design.t:
                acceptable += first * x2_pmf[x2] * y2_pmf[y2]
    return {"early_termination": 1 - passes, "acceptable": acceptable, "expected_subjects": design.n1 + n2 * passes}


@functools.cache
def _pmf(size: int, rate: float) -> list[float]:
    return [float(binom.pmf(k, size, rate)) for k in range(size + 1)]


def oc_rows(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["hypothesis"]: row for row in frame.iter_rows(named=True)}


def test_small_design_worked_by_hand():
    """n1 = 2, n = 4, r1 = 0, r = 1, t1 = 0, t = 1; p0 = q0 = 0.5, p1 = q1 = 0.8.

    P(X1 > 0) = 1 - (1 - p)^2: 0.75 at 0.5, 0.96 at 0.8.
    P(X1 > 0, X > 1) = P(X1 = 1) P(X2 >= 1) + P(X1 = 2) = 2p(1-p)(1 - (1-p)^2) + p^2:
      p = 0.5: 0.5 * 0.75 + 0.25 = 0.625;  p = 0.8: 0.32 * 0.96 + 0.64 = 0.9472.
    (p0, q0): PET = 1 - 0.75 * 0.75 = 0.4375, acceptable 0.625^2 = 0.390625, E(N) = 2 + 2 * 0.5625 = 3.125
    (p0, q1): PET = 1 - 0.75 * 0.96 = 0.28, acceptable 0.625 * 0.9472 = 0.592, E(N) = 2 + 2 * 0.72 = 3.44
    (p1, q0): the same by symmetry
    (p1, q1): PET = 1 - 0.96^2 = 0.0784, acceptable 0.9472^2 = 0.89718784, E(N) = 2 + 2 * 0.9216 = 3.8432
    """
    design = Design(n1=2, n=4, r1=0, r=1, t1=0, t=1)
    assert pass_probability(2, 4, 0, 1, 0.5) == pytest.approx(0.625)
    assert pass_probability(2, 4, 0, 1, 0.8) == pytest.approx(0.9472)
    frame = operating_characteristics(design, p0=0.5, p1=0.8, q0=0.5, q1=0.8)
    assert frame.schema == pl.Schema(OC_SCHEMA)
    rows = oc_rows(frame)
    expected = {
        "p0, q0": (0.4375, 0.390625, 3.125),
        "p0, q1": (0.28, 0.592, 3.44),
        "p1, q0": (0.28, 0.592, 3.44),
        "p1, q1": (0.0784, 0.89718784, 3.8432),
    }
    for hypothesis, (pet, acceptable, size) in expected.items():
        row = rows[hypothesis]
        assert (row["early_termination"], row["acceptable"], row["expected_subjects"]) == pytest.approx((pet, acceptable, size))
    for row in rows.values():
        assert row == row | {key: pytest.approx(value) for key, value in enumerated(design, row["response_rate"], row["no_toxicity_rate"]).items()}


# The worked design of Bryant & Day 1995 (p. 1379): p0 0.3, p1 0.5 (response), q0 0.6, q1 0.8
# (no toxicity); n1 19, n 33, r1 5, r 12, t1 11, t 22.
PAPER = {"p0": 0.3, "p1": 0.5, "q0": 0.6, "q1": 0.8}
PAPER_DESIGN = Design(n1=19, n=33, r1=5, r=12, t1=11, t=22)


def test_published_design_operating_characteristics_by_enumeration():
    """Every row against the enumeration of all outcomes; the design meets alpha_R, alpha_T <=
    0.15 and power >= 0.85 (0.1447, 0.1458 and 0.8542), the bounds under which the search below
    finds it."""
    frame = operating_characteristics(PAPER_DESIGN, **PAPER, alpha_response=0.15, alpha_toxicity=0.15, power=0.85)
    for row in frame.iter_rows(named=True):
        independent = enumerated(PAPER_DESIGN, row["response_rate"], row["no_toxicity_rate"])
        assert row["early_termination"] == pytest.approx(independent["early_termination"])
        assert row["acceptable"] == pytest.approx(independent["acceptable"])
        assert row["expected_subjects"] == pytest.approx(independent["expected_subjects"])
    assert frame.filter(pl.col("requirement").is_not_null())["met"].to_list() == [True, True, True]
    rows = oc_rows(frame)
    assert round(rows["p0, q1"]["acceptable"], 4) == 0.1447
    assert round(rows["p1, q0"]["acceptable"], 4) == 0.1458
    assert round(rows["p1, q1"]["acceptable"], 4) == 0.8542


@pytest.mark.slow
def test_search_reproduces_the_published_design():
    """Minimising the larger expected size under (p0, q1) and (p1, q0), with alpha_R = alpha_T =
    0.15 and power 0.85, over n = 25..36: no design exists below n = 33, and the best is the paper's."""
    found = find_design(**PAPER, alpha_response=0.15, alpha_toxicity=0.15, power=0.85, n_min=25, n_max=36)
    assert found is not None
    assert found.design == PAPER_DESIGN
    assert found.expected_subjects == pytest.approx(19 + 14 * max(
        binom.sf(5, 19, 0.3) * binom.sf(11, 19, 0.8), binom.sf(5, 19, 0.5) * binom.sf(11, 19, 0.6)
    ))
    assert find_design(**PAPER, alpha_response=0.15, alpha_toxicity=0.15, power=0.85, n_min=25, n_max=32) is None


@pytest.mark.parametrize("criterion", ["worst_unacceptable", "doubly_bad"])
def test_search_finds_the_best_design_among_all_small_ones(criterion):
    """n up to 6, by an independent route: every (n, n1, r1 <= r, t1 <= t) enumerated outcome by
    outcome, the feasible ones kept, the smallest expected size taken (ties: smaller n, n1, r1, r, t1, t)."""
    rates = {"p0": 0.2, "p1": 0.7, "q0": 0.3, "q1": 0.8}
    bounds = {"alpha_response": 0.2, "alpha_toxicity": 0.2, "power": 0.5}
    best = None
    for n in range(2, 7):
        for n1 in range(1, n):
            for r1, r, t1, t in itertools.product(range(n1), range(n), range(n1), range(n)):
                if r1 > r or t1 > t:
                    continue
                design = Design(n1, n, r1, r, t1, t)
                oc = {h: enumerated(design, p, q) for h, p, q in (
                    ("00", rates["p0"], rates["q0"]), ("01", rates["p0"], rates["q1"]),
                    ("10", rates["p1"], rates["q0"]), ("11", rates["p1"], rates["q1"]),
                )}
                if oc["01"]["acceptable"] > bounds["alpha_response"] or oc["10"]["acceptable"] > bounds["alpha_toxicity"]:
                    continue
                if oc["11"]["acceptable"] < bounds["power"]:
                    continue
                size = oc["00"]["expected_subjects"] if criterion == "doubly_bad" else max(
                    oc["01"]["expected_subjects"], oc["10"]["expected_subjects"]
                )
                key = (round(size, 12), n, n1, r1, r, t1, t)
                if best is None or key < best:
                    best = key
    assert best is not None
    found = find_design(**rates, **bounds, n_max=6, criterion=criterion)
    assert found is not None
    assert (found.design.n, found.design.n1, found.design.r1, found.design.r, found.design.t1, found.design.t) == best[1:]
    assert found.expected_subjects == pytest.approx(best[0])


def test_bundled_design_meets_its_bounds():
    """The bundled trial's design for its planned 60 subjects (n1 20, n 60, r1 5, r 14, t1 14, t 42;
    ORR 0.20 / 0.40, no toxicity 0.65 / 0.85) meets alpha_R, alpha_T <= 0.10 and power >= 0.80,
    by enumeration."""
    settings = load_trial_config(BUNDLED_CONFIG).model.efficacy.bryant_day
    design = Design.from_config(settings)
    assert design == Design(n1=20, n=60, r1=5, r=14, t1=14, t=42)
    assert enumerated(design, settings.p0, settings.q1)["acceptable"] <= settings.alpha_response
    assert enumerated(design, settings.p1, settings.q0)["acceptable"] <= settings.alpha_toxicity
    assert enumerated(design, settings.p1, settings.q1)["acceptable"] >= settings.power


@pytest.mark.slow
def test_bundled_design_is_the_search_result():
    """find_design(0.20, 0.40, 0.65, 0.85, n_min=60, n_max=60) with the default bounds (the best
    design of the trial's planned size) is the bundled design."""
    found = find_design(0.20, 0.40, 0.65, 0.85, n_min=60, n_max=60)
    assert found is not None and found.design == Design(n1=20, n=60, r1=5, r=14, t1=14, t=42)


def test_design_rejects_bounds_that_cannot_be_used():
    with pytest.raises(ValueError, match="n1 < n"):
        Design(n1=5, n=5, r1=0, r=0, t1=0, t=0)
    with pytest.raises(ValueError, match="r1"):
        Design(n1=5, n=10, r1=5, r=6, t1=0, t=0)
    with pytest.raises(ValueError, match="p1"):
        operating_characteristics(PAPER_DESIGN, p0=0.5, p1=0.3, q0=0.6, q1=0.8)


# ---- the decision at a cut -------------------------------------------------------------------
def test_stage_status_decides_only_what_is_certain():
    """Stage of 10 subjects, fail if responders <= 2 or non-toxic <= 6:

    - 6 evaluable for response with 0 responders: at most 0 + 4 = 4 > 2, undecided; toxic 3 of
      10: at most 7 non-toxic > 6, undecided -> PENDING
    - toxic 4: at most 6 non-toxic <= 6 -> STOP whatever the responses
    - 9 evaluable, 1 responder: at most 2 <= 2 -> STOP
    - 3 responders, 7 non-toxic among 8 evaluable -> MET before everyone is evaluable
    """
    def counts(response_evaluable, responders, toxicity_evaluable, toxic):
        return StageCounts(10, 10, response_evaluable, responders, toxicity_evaluable, toxic)

    bounds = {"response_bound": 2, "toxicity_bound": 6}
    assert stage_status(counts(6, 0, 8, 3), **bounds)[0] == "PENDING"
    assert stage_status(counts(6, 0, 8, 4), **bounds) == ("STOP", "subjects without the toxic event cannot exceed 6")
    assert stage_status(counts(9, 1, 8, 0), **bounds) == ("STOP", "responders cannot exceed 2")
    assert stage_status(counts(5, 3, 8, 1), **bounds)[0] == "MET"
    assert stage_status(counts(0, 0, 8, 1), **bounds, responses_known=False)[0] == "NOT EVALUABLE"
    assert stage_status(counts(0, 0, 8, 4), **bounds, responses_known=False)[0] == "STOP"


def subjects_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"subject_id": s, "first_dose_date": date(2025, 1, day), "responder": resp, "response_evaluable": resp_eval,
             "toxicity_evaluable": tox_eval, "had_event": event}
            for s, day, resp, resp_eval, tox_eval, event in rows
        ]
    )


def test_monitor_takes_the_subjects_in_order_of_first_dose():
    """Design n1 = 2, n = 4, r1 = 0, r = 1, t1 = 0, t = 2. By first dose: A (day 1) responder,
    non-toxic; B (day 2) toxic, progressed; C (day 3) toxic, not yet evaluable for response;
    D (day 5) non-toxic, not yet evaluable for response. E (day 9) is beyond n.

    Stage 1 (A, B): 1 responder > 0 and 1 non-toxic > 0: MET, so the final stage is current.
    Final (A-D): responders 1 of 2 evaluable, at most 3 > 1: not decided on response; toxic 2, at
    most 2 non-toxic <= 2: STOP (not acceptable whatever comes).
    """
    subjects = subjects_frame([
        ("D", 5, False, False, True, False),
        ("B", 2, False, True, True, True),
        ("A", 1, True, True, True, False),
        ("E", 9, True, True, True, False),
        ("C", 3, False, False, True, True),
    ])
    status = monitor(Design(n1=2, n=4, r1=0, r=1, t1=0, t=2), subjects)
    assert status.schema == pl.Schema(STATUS_SCHEMA)
    stage1, final = status.row(0, named=True), status.row(1, named=True)
    assert (stage1["status"], stage1["current"], stage1["responders"], stage1["non_toxic"]) == ("MET", False, 1, 1)
    assert (final["status"], final["current"], final["treated"], final["responders"], final["response_evaluable"]) == ("STOP", True, 4, 1, 2)
    assert (final["non_toxic"], final["with_toxic_event"]) == (2, 2)
    assert final["statement"].startswith("The regimen cannot be declared acceptable")


def test_a_stage_1_stop_leaves_the_final_stage_not_reached():
    """Stage 1 (A, B) has no responder among 2 evaluable: at most 0 <= r1 = 0, STOP."""
    subjects = subjects_frame([
        ("A", 1, False, True, True, False),
        ("B", 2, False, True, True, False),
        ("C", 3, True, True, True, False),
    ])
    status = monitor(Design(n1=2, n=4, r1=0, r=1, t1=0, t=1), subjects)
    assert status["status"].to_list() == ["STOP", "NOT REACHED"]
    assert status["current"].to_list() == [True, False]
    assert status["treated"].to_list() == [2, 3]


def test_response_evaluable_by_follow_up_progression_or_response():
    """Cut 2025-07-01, 168 days: S1 a PR first seen 2025-03-07 (study day 66: a responder); S2
    SD, first dose 2025-01-01 (day 182 at the cut: followed long enough, a non-responder); S3 SD
    from 2025-05-01 (day 62: not yet); S4 PD (pfs event); S5 treated but with no efficacy row:
    unsettled, not a responder; S6 a PR first seen 2025-06-30 (study day 181, after day 168: a
    non-responder for the design, settled at day 168)."""
    toxicity = pl.DataFrame({
        "subject_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
        "first_dose_date": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 5, 1), date(2025, 6, 1), date(2025, 6, 2), date(2025, 1, 1)],
        "toxicity_evaluable": [True] * 6,
        "had_event": [False] * 6,
    })
    efficacy = pl.DataFrame({
        "subject_id": ["S1", "S2", "S3", "S4", "S6"],
        "origin_date": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 5, 1), date(2025, 6, 1), date(2025, 1, 1)],
        "best_response": ["PR", "SD", "SD", "PD", "PR"],
        "first_response_date": [date(2025, 3, 7), None, None, None, date(2025, 6, 30)],
        "pfs_event": [False, False, False, True, False],
    })
    subjects = design_subjects(toxicity, efficacy, cut_date=date(2025, 7, 1), response_evaluable_days=168)
    flags = {row["subject_id"]: (row["responder"], row["response_evaluable"]) for row in subjects.iter_rows(named=True)}
    assert flags == {"S1": (True, True), "S2": (False, True), "S3": (False, False), "S4": (False, True), "S5": (False, False), "S6": (False, True)}


# ---- through the store -----------------------------------------------------------------------
ASSESSMENTS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 8,2025-03-07,SD,N,MRI
S1,Week 16,2025-05-02,PR,N,MRI
S1,Week 24,2025-06-27,PR,N,MRI
S2,Week 8,2025-03-07,SD,N,CT
S2,Week 8,2025-03-07,PD,Y,CT
S4,,2025-04-01,SD,N,CT
S5,Week 8,2025-06-20,SD,N,CT
"""
DESIGN = """
[efficacy.bryant_day]
n1 = 2
n = 4
r1 = 0
r = 1
t1 = 0
t = 2
p0 = 0.2
p1 = 0.4
q0 = 0.5
q1 = 0.8
event = { grade_min = 3, window = "cycle1" }
"""


@pytest.mark.slow
def test_efficacy_and_bryant_day_on_the_mini_trial(tmp_path):
    """The mini trial (tests/data/mini), cut 2025-07-01. Treated: S1 (first dose 01-10), S2
    (01-15), S3 (02-01, died 02-20), S5 (05-01); S4 and S6 have no dose and are not in the
    population (S4's assessment is ignored).

    Best response: S1 PR (05-02 confirmed by 06-27, 56 days on); S2 PD (the 03-07 date reads as
    PD: new lesions); S3 NE (no assessment; died); S5 SD (06-20 is 50 days after the first dose).
    ORR 1/4 = 25.0% (0.6-80.6), DCR 2/4 = 50.0% (6.8-93.2).
    PFS days: S1 censored 06-27 = day 169; S2 event 03-07 = day 52; S3 event (death) day 20; S5
    censored day 51. OS: S3 event day 20; S1 censored 07-01 = day 173, S2 day 168, S5 day 62.

    Bryant-Day (n1 2, n 4, r1 0, r 1, t1 0, t 2; event grade >= 3 in cycle 1): S2's grade 3
    hand-foot syndrome on 02-10 (day 27) and S3's grade 5 bleed (day 18) are toxic; S1 and S5 are
    not. Stage 1 (S1, S2): 1 responder > 0, 1 non-toxic > 0: MET. Final (all four): 2 toxic, at
    most 2 non-toxic <= 2: STOP.
    """
    from flows.stages import ingest
    from safetydb.efficacy import efficacy_tables
    from safetydb.models import build_cut_models
    from safetydb.store import SafetyStore
    from signals.bryant_day import evaluate_bryant_day
    from tests.conftest import make_mini_trial

    config_text = BUNDLED_CONFIG.read_text()
    start = config_text.index("[efficacy.bryant_day]")
    end = config_text.index("\n[", start + 1)
    config_path = make_mini_trial(tmp_path / "mini", config_text=config_text[:start] + DESIGN.lstrip() + config_text[end:])
    (config_path.parent / "tumour_assessments.csv").write_text(ASSESSMENTS)
    cut = date(2025, 7, 1)
    loaded = ingest(config_path, cut_date=cut, run_date=cut)
    config = load_trial_config(config_path)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, cut)
        tables = efficacy_tables(store, config.model.efficacy)
        bryant_day = evaluate_bryant_day(store, config, tables["efficacy_subjects"], cut_date=cut)
    subjects = tables["efficacy_subjects"]
    assert subjects["subject_id"].to_list() == ["S1", "S2", "S3", "S5"]
    rows = {row["subject_id"]: row for row in subjects.iter_rows(named=True)}
    assert {s: row["best_response"] for s, row in rows.items()} == {"S1": "PR", "S2": "PD", "S3": "NE", "S5": "SD"}
    assert {s: (row["pfs_days"], row["pfs_event"]) for s, row in rows.items()} == {
        "S1": (169, False), "S2": (52, True), "S3": (20, True), "S5": (51, False),
    }
    assert {s: (row["os_days"], row["os_event"]) for s, row in rows.items()} == {
        "S1": (173, False), "S2": (168, False), "S3": (20, True), "S5": (62, False),
    }
    best = {row["category"]: row for row in tables["t_best_response"].iter_rows(named=True)}
    assert (best["ORR"]["subjects"], best["ORR"]["percent"], best["ORR"]["ci_lower"], best["ORR"]["ci_upper"]) == (1, 25.0, 0.6, 80.6)
    assert (best["DCR"]["subjects"], best["DCR"]["percent"], best["DCR"]["ci_lower"], best["DCR"]["ci_upper"]) == (2, 50.0, 6.8, 93.2)
    status = bryant_day["bryant_day_status"]
    assert status["status"].to_list() == ["MET", "STOP"]
    assert status["with_toxic_event"].to_list() == [1, 2]
    assert status["responders"].to_list() == [1, 1]
    assert bryant_day["bryant_day_oc"].height == 4
