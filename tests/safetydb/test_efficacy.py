"""Efficacy derivations (safetydb/efficacy.py): RECIST 1.1 best overall response, ORR with exact
intervals, PFS, OS, duration of response and the Kaplan-Meier estimates.

Fifteen hand-made treated subjects, all with the first dose (the origin, day 1) on 2025-01-01,
the last dose on d150 and last contact on d200 ("dN" = the origin + N days, which is day N + 1);
confirmation 28 days, SD minimum 42 days:

  S01  PR d42, PR d84                     -> PR confirmed (42 days apart); response from d42
  S02  PR d56, PD d112                    -> SD: the PR is unconfirmed (PD next) but d56 >= 42
  S03  CR d42, PR d84                     -> PR: a CR confirmed only by a PR (RECIST table 3)
  S04  PR d42, CR d84, CR d126            -> CR: the CR at d84 confirmed by d126; response from d42
  S05  SD d35                             -> NE: SD before the 42-day minimum, nothing after
  S06  PD d40                             -> PD
  S07  NE d42, NE d84                     -> NE (no adequate assessment)
  S08  no assessment, dies d100           -> NE
  S09  PR d42, PR d60, SD d100            -> SD: d60 is only 18 days on, then SD breaks it
  S10  PR d42, SD d70, PR d100, PR d140   -> PR: the first PR is broken by SD; d100 confirmed by d140
  S11  SD d42 with new lesions            -> PD (new lesions are progression)
  S12  SD d-5 (baseline, before the origin) -> NE: no post-baseline assessment
  S13  SD d42, then PR and PD both on d84 -> SD; the date reads as PD (worst), progression d84
  S14  CR d42, PR d70, CR d112            -> PR: the PR breaks the CR's confirmation, confirms a PR
  S15  PR d42, PR d84, PD d140            -> PR; the response ends at d140

Counts: CR 1 (S04); PR 5 (S01, S03, S10, S14, S15); SD 3 (S02, S09, S13); PD 2 (S06, S11);
NE 4 (S05, S07, S08, S12). N = 15. ORR 6/15 = 40.0%, exact 95% CI 16.3-67.7%; DCR 9/15 =
60.0%, 32.3-83.7% (Clopper-Pearson; checked below against scipy's binomtest, another route).

PFS days (date - origin + 1): events S02 113 (PD d112), S06 41, S08 101 (death), S11 43,
S13 85, S15 141; censored at the last adequate assessment: S01 85, S03 85, S04 127, S09 101,
S10 141, S14 113, and S05 36 (its SD at d35 is an adequate assessment, though too early to make
SD its best response); censored on day 1 without an adequate assessment: S07 and S12.
OS: S08 died d100 -> 101 event; everyone else censored at last contact d200 -> 201.
Duration of response (first response to PD or death, +1): S01 d42-d84 censored 43; S03 43
censored; S04 d42-d126 censored 85; S10 d100-d140 censored 41; S14 d42-d112 censored 71;
S15 d42 to PD d140: 99, event.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest, norm

from safetydb.efficacy import (
    BEST_RESPONSE_SCHEMA,
    CURVE_SCHEMA,
    SUBJECTS_SCHEMA,
    SURVIVAL_SCHEMA,
    best_response_table,
    clopper_pearson,
    compute_kaplan_meier,
    derive_analysis_subjects,
    derive_efficacy_subjects,
    efficacy_tables,
    survival_tables,
)
from trial.config import Efficacy

ORIGIN = date(2025, 1, 1)


def d(days: int) -> date:
    return ORIGIN + timedelta(days=days)


ASSESSMENTS = [
    ("S01", 42, "PR", "N"), ("S01", 84, "PR", "N"),
    ("S02", 56, "PR", "N"), ("S02", 112, "PD", "N"),
    ("S03", 42, "CR", "N"), ("S03", 84, "PR", "N"),
    ("S04", 42, "PR", "N"), ("S04", 84, "CR", "N"), ("S04", 126, "CR", "N"),
    ("S05", 35, "SD", "N"),
    ("S06", 40, "PD", "Y"),
    ("S07", 42, "NE", "N"), ("S07", 84, "NE", "N"),
    ("S09", 42, "PR", "N"), ("S09", 60, "PR", "N"), ("S09", 100, "SD", "N"),
    ("S10", 42, "PR", "N"), ("S10", 70, "SD", "N"), ("S10", 100, "PR", "N"), ("S10", 140, "PR", "N"),
    ("S11", 42, "SD", "Y"),
    ("S12", -5, "SD", "N"),
    ("S13", 42, "SD", "N"), ("S13", 84, "PR", "N"), ("S13", 84, "PD", "N"),
    ("S14", 42, "CR", "N"), ("S14", 70, "PR", "N"), ("S14", 112, "CR", "N"),
    ("S15", 42, "PR", "N"), ("S15", 84, "PR", "N"), ("S15", 140, "PD", "N"),
]
SUBJECT_IDS = [f"S{number:02d}" for number in range(1, 16)]


def assessments_frame(rows=ASSESSMENTS) -> pl.DataFrame:
    return pl.DataFrame(
        [{"subject_id": s, "assessment_date": d(day), "overall_response": response, "new_lesions": lesions} for s, day, response, lesions in rows],
        schema={"subject_id": pl.String, "assessment_date": pl.Date, "overall_response": pl.String, "new_lesions": pl.String},
    )


def dosing_frame(extra: list[dict] | None = None) -> pl.DataFrame:
    rows = [
        {
            "subject_id": subject_id,
            "enrolment_date": d(-7),
            "first_dose_date": ORIGIN,
            "last_dose_date": d(150),
            "treated": True,
            "death_date": d(100) if subject_id == "S08" else None,
            "last_contact_date": d(100) if subject_id == "S08" else d(200),
        }
        for subject_id in SUBJECT_IDS
    ] + (extra or [])
    return pl.DataFrame(
        rows,
        schema={
            "subject_id": pl.String, "enrolment_date": pl.Date, "first_dose_date": pl.Date, "last_dose_date": pl.Date,
            "treated": pl.Boolean, "death_date": pl.Date, "last_contact_date": pl.Date,
        },
    )


@pytest.fixture(scope="module")
def subjects() -> pl.DataFrame:
    population = derive_analysis_subjects(dosing_frame())
    return derive_efficacy_subjects(assessments_frame(), population)


def by_subject(frame: pl.DataFrame, column: str) -> dict[str, object]:
    return dict(frame.select("subject_id", column).iter_rows())


def test_best_overall_response_follows_recist_with_confirmation(subjects):
    assert subjects.schema == pl.Schema(SUBJECTS_SCHEMA)
    assert subjects["subject_id"].to_list() == SUBJECT_IDS
    assert by_subject(subjects, "best_response") == {
        "S01": "PR", "S02": "SD", "S03": "PR", "S04": "CR", "S05": "NE", "S06": "PD", "S07": "NE", "S08": "NE",
        "S09": "SD", "S10": "PR", "S11": "PD", "S12": "NE", "S13": "SD", "S14": "PR", "S15": "PR",
    }
    confirmed = {s: c for s, c in by_subject(subjects, "confirmed").items() if c is not None}
    assert confirmed == {"S01": True, "S03": True, "S04": True, "S10": True, "S14": True, "S15": True}
    first_response = {s: v for s, v in by_subject(subjects, "first_response_date").items() if v is not None}
    assert first_response == {"S01": d(42), "S03": d(42), "S04": d(42), "S10": d(100), "S14": d(42), "S15": d(42)}
    assert by_subject(subjects, "assessments")["S12"] == 0  # the baseline assessment is not post-baseline
    assert by_subject(subjects, "assessments")["S13"] == 2  # two assessments on one date are one time point


def test_progression_free_and_overall_survival_and_response_duration(subjects):
    pfs = {s: (days, event) for s, days, event in subjects.select("subject_id", "pfs_days", "pfs_event").iter_rows()}
    assert pfs == {
        "S01": (85, False), "S02": (113, True), "S03": (85, False), "S04": (127, False), "S05": (36, False),
        "S06": (41, True), "S07": (1, False), "S08": (101, True), "S09": (101, False), "S10": (141, False),
        "S11": (43, True), "S12": (1, False), "S13": (85, True), "S14": (113, False), "S15": (141, True),
    }
    os_ = {s: (days, event) for s, days, event in subjects.select("subject_id", "os_days", "os_event").iter_rows()}
    assert os_ == {s: ((101, True) if s == "S08" else (201, False)) for s in SUBJECT_IDS}
    duration = {
        s: (days, event)
        for s, days, event in subjects.select("subject_id", "response_duration_days", "response_duration_event").iter_rows()
        if days is not None
    }
    assert duration == {"S01": (43, False), "S03": (43, False), "S04": (85, False), "S10": (41, False), "S14": (71, False), "S15": (99, True)}


def test_without_confirmation_the_first_response_counts():
    """confirmation_required = false: S02 (unconfirmed PR) and S09 are PR, S14 is CR (a CR at d42
    and d112 never confirmed by a CR in a row), each flagged unconfirmed; S01 stays confirmed."""
    population = derive_analysis_subjects(dosing_frame())
    unconfirmed = derive_efficacy_subjects(assessments_frame(), population, confirmation_required=False)
    best = by_subject(unconfirmed, "best_response")
    confirmed = by_subject(unconfirmed, "confirmed")
    assert (best["S02"], confirmed["S02"]) == ("PR", False)
    assert (best["S09"], confirmed["S09"]) == ("PR", False)
    assert (best["S14"], confirmed["S14"]) == ("CR", False)
    assert (best["S01"], confirmed["S01"]) == ("PR", True)
    assert best["S05"] == "NE"  # SD before the minimum is still not SD


def test_response_table_counts_every_subject_and_gives_exact_intervals(subjects):
    table = best_response_table(subjects)
    assert table.schema == pl.Schema(BEST_RESPONSE_SCHEMA)
    rows = {row["category"]: row for row in table.iter_rows(named=True)}
    assert [row["category"] for row in table.iter_rows(named=True)] == ["CR", "PR", "SD", "PD", "NE", "ORR", "DCR"]
    assert {c: rows[c]["subjects"] for c in rows} == {"CR": 1, "PR": 5, "SD": 3, "PD": 2, "NE": 4, "ORR": 6, "DCR": 9}
    assert {row["denominator"] for row in rows.values()} == {15}
    assert (rows["ORR"]["percent"], rows["ORR"]["ci_lower"], rows["ORR"]["ci_upper"]) == (40.0, 16.3, 67.7)
    assert (rows["DCR"]["percent"], rows["DCR"]["ci_lower"], rows["DCR"]["ci_upper"]) == (60.0, 32.3, 83.7)
    assert rows["NE"]["percent"] == 26.7 and rows["NE"]["ci_lower"] is None
    for category, successes in (("ORR", 6), ("DCR", 9)):
        exact = binomtest(successes, 15).proportion_ci(confidence_level=0.95, method="exact")
        assert rows[category]["ci_lower"] == pytest.approx(100 * exact.low, abs=0.051)
        assert rows[category]["ci_upper"] == pytest.approx(100 * exact.high, abs=0.051)


@pytest.mark.parametrize(
    ("successes", "trials", "lower", "upper"),
    [
        (3, 10, 0.0667, 0.6525),  # the textbook example (e.g. Agresti, Categorical Data Analysis)
        (0, 10, 0.0, 0.3085),  # upper = 1 - 0.025 ** (1 / 10)
        (10, 10, 0.6915, 1.0),  # lower = 0.025 ** (1 / 10)
        (1, 4, 0.0063, 0.8059),
    ],
)
def test_clopper_pearson_interval(successes, trials, lower, upper):
    low, high = clopper_pearson(successes, trials)
    assert (round(low, 4), round(high, 4)) == (lower, upper)


def test_clopper_pearson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        clopper_pearson(3, 0)
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)


# ---- Kaplan-Meier ----------------------------------------------------------------------------
TIMES = np.array([3, 5, 5, 8, 10, 12, 15, 20])
EVENTS = np.array([1, 1, 0, 1, 0, 1, 1, 0])


def test_kaplan_meier_steps_and_median_by_hand():
    """Eight subjects; at each event time S *= (1 - d/n):

      t=3: 8 at risk, 1 event -> 7/8 = 0.875
      t=5: 7 at risk, 1 event, 1 censored -> 0.875 * 6/7 = 0.75
      t=8: 5 at risk, 1 event -> 0.75 * 4/5 = 0.6
      t=10: 1 censored -> 0.6
      t=12: 3 at risk, 1 event -> 0.6 * 2/3 = 0.4   (first time <= 0.5: the median is 12)
      t=15: 2 at risk, 1 event -> 0.2
      t=20: censored -> 0.2
    """
    estimate = compute_kaplan_meier(TIMES, EVENTS)
    assert estimate.times.tolist() == [0, 3, 5, 8, 10, 12, 15, 20]
    assert estimate.survival == pytest.approx([1, 0.875, 0.75, 0.6, 0.6, 0.4, 0.2, 0.2])
    assert estimate.at_risk.tolist() == [8, 8, 7, 5, 4, 3, 2, 1]
    assert estimate.events.tolist() == [0, 1, 1, 1, 0, 1, 1, 0]
    assert estimate.censored.tolist() == [0, 0, 1, 0, 1, 0, 0, 1]
    assert estimate.median == 12


def greenwood_log_log(times: np.ndarray, events: np.ndarray, confidence: float = 0.95):
    """An independent route: the product-limit estimate, Greenwood's variance and the interval
    S ** exp(+-z * sqrt(V) / log S) at each distinct event time, in plain numpy."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    out = []
    survival, greenwood = 1.0, 0.0
    for time in np.unique(times):
        at_risk = np.count_nonzero(times >= time)
        died = np.count_nonzero((times == time) & (events == 1))
        if died:
            survival *= 1 - died / at_risk
            greenwood += died / (at_risk * (at_risk - died)) if at_risk > died else math.inf
        if 0 < survival < 1:
            spread = z * math.sqrt(greenwood) / abs(math.log(survival))
            out.append((time, survival, survival ** math.exp(spread), survival ** math.exp(-spread)))
        else:
            out.append((time, survival, math.nan, math.nan))
    return out


def median_from(rows, column):
    """The first time the column is 0.5 or below; at exactly 0.5 (to 1e-9), the midpoint with the
    next time it is below 0.5 (SAS PROC LIFETEST, R's survfit)."""
    for position, row in enumerate(rows):
        value = row[column]
        if math.isnan(value) or value > 0.5 + 1e-9:
            continue
        if abs(value - 0.5) <= 1e-9:
            later = [r[0] for r in rows[position + 1 :] if not math.isnan(r[column]) and r[column] < 0.5 - 1e-9]
            if later:
                return (row[0] + later[0]) / 2
        return row[0]
    return math.inf


@pytest.mark.parametrize(
    ("times", "events"),
    [
        (TIMES, EVENTS),
        # 20 subjects, one event a day on days 1..16, 4 censored on day 16: the upper bound crosses 0.5.
        (np.array(list(range(1, 17)) + [16] * 4), np.array([1] * 16 + [0] * 4)),
        # ties of events and censoring on the same days
        (np.array([2, 2, 2, 4, 4, 6, 6, 6, 9, 11, 11, 14]), np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0])),
    ],
)
def test_kaplan_meier_interval_and_median_interval_match_greenwood_log_log(times, events):
    estimate = compute_kaplan_meier(times, events)
    expected = greenwood_log_log(times, events)
    for time, survival, lower, upper in expected:
        index = int(np.flatnonzero(estimate.times == time)[0])
        assert estimate.survival[index] == pytest.approx(survival)
        if not math.isnan(lower):
            assert estimate.ci_lower[index] == pytest.approx(lower)
            assert estimate.ci_upper[index] == pytest.approx(upper)
    assert estimate.median == median_from(expected, 1)
    assert estimate.median_ci_lower == median_from(expected, 2)
    assert estimate.median_ci_upper == median_from(expected, 3)


def test_a_curve_exactly_at_one_half_takes_the_midpoint():
    """20 subjects, one event a day on days 1..16, 4 censored on day 16: S(10) = 10/20 = 0.5
    exactly until day 11 (S = 0.45), so the median is (10 + 11) / 2 = 10.5 (SAS, R); the first
    time at or below 0.5 alone would say 10, and lifelines 0.30's float product says 11."""
    estimate = compute_kaplan_meier(np.array(list(range(1, 17)) + [16] * 4), np.array([1] * 16 + [0] * 4))
    assert estimate.median == 10.5


def test_survival_tables_from_the_subjects(subjects):
    """PFS: 15 subjects, 6 events (S02, S06, S08, S11, S13, S15), 9 censored; the last time is
    day 141, so 6 months (day 183) is beyond it and not estimable. OS: 1 event (S08, day 101),
    follow-up to day 201: at 6 months (day 183) the estimate is 14/15 = 93.3%; the median is not
    reached; 12 months (day 365) is beyond the follow-up."""
    table, curves = survival_tables(subjects)
    assert table.schema == pl.Schema(SURVIVAL_SCHEMA)
    assert curves.schema == pl.Schema(CURVE_SCHEMA)
    pfs, os_ = table.row(0, named=True), table.row(1, named=True)
    assert (pfs["endpoint"], pfs["subjects"], pfs["events"], pfs["censored"]) == ("pfs", 15, 6, 9)
    assert pfs["survival_6m"] is None
    assert (os_["endpoint"], os_["events"], os_["censored"]) == ("os", 1, 14)
    assert os_["median_days"] is None and os_["median_months"] is None
    assert os_["survival_6m"] == 93.3
    assert os_["survival_12m"] is None
    first = curves.filter(pl.col("endpoint") == "os").row(0, named=True)
    assert (first["time_days"], first["survival"], first["at_risk"]) == (0, 1.0, 15)


def test_pfs_median_in_days_and_months(subjects):
    """PFS by hand (times with events marked *): 1, 1, 36, 41*, 43*, 85, 85, 85*, 101*, 101,
    113*, 113, 127, 141*, 141. At risk and steps: day 41: 13 at risk -> 12/13 = 0.9231; day 43:
    12 -> 0.8462; day 85: 10 at risk, 1 event -> 0.7615; day 101: 7 at risk, 1 event (S08; S09
    censored the same day) -> 0.6527; day 113: 5 at risk, 1 event -> 0.5222; day 141: 2 at risk,
    1 event -> 0.2611: the median is day 141 = 141 / 30.4375 = 4.6 months."""
    table, _ = survival_tables(subjects)
    pfs = table.row(0, named=True)
    assert pfs["median_days"] == 141
    assert pfs["median_months"] == 4.6


def test_no_tumour_assessments_gives_empty_tables_with_their_columns():
    class Store:
        def model(self, name):
            return {"stg_tumour_assessments": assessments_frame([]), "int_subject_dosing": dosing_frame()}[name]

    tables = efficacy_tables(Store())
    assert set(tables) == {"efficacy_subjects", "t_best_response", "t_survival", "km_curves"}
    assert all(frame.is_empty() for frame in tables.values())
    assert tables["t_best_response"].schema == pl.Schema(BEST_RESPONSE_SCHEMA)


def test_population_and_time_origin():
    """An untreated subject U1 (enrolled d-7, no dose) is outside the treated population and
    inside the enrolled one, where the origin is enrolment: S01's PFS is then censored at d84 -
    d-7 + 1 = 92 days; U1 has no assessment and is NE, censored on day 1."""
    untreated = [{"subject_id": "U1", "enrolment_date": d(-7), "first_dose_date": None, "last_dose_date": None,
                  "treated": False, "death_date": None, "last_contact_date": d(30)}]
    dosing = dosing_frame(untreated)
    assert "U1" not in derive_analysis_subjects(dosing)["subject_id"].to_list()
    enrolled = derive_analysis_subjects(dosing, population="enrolled", time_origin="enrolment")
    result = derive_efficacy_subjects(assessments_frame(), enrolled)
    assert by_subject(result, "pfs_days")["S01"] == 92
    assert (by_subject(result, "best_response")["U1"], by_subject(result, "pfs_days")["U1"]) == ("NE", 1)
    assert best_response_table(result)["denominator"][0] == 16


def test_efficacy_settings_defaults_and_entry_point():
    class Store:
        def model(self, name):
            return {"stg_tumour_assessments": assessments_frame(), "int_subject_dosing": dosing_frame()}[name]

    tables = efficacy_tables(Store(), Efficacy(sd_min_days=56))
    best = by_subject(tables["efficacy_subjects"], "best_response")
    # With a 56-day SD minimum, S13 (SD at d42, PD at d84) becomes PD, S02 (PR at d56) stays SD.
    assert best["S13"] == "PD" and best["S02"] == "SD"


def test_each_table_has_the_grain_it_documents(subjects):
    """docs/outputs.md: efficacy_subjects by subject_id, t_best_response by category, t_survival by
    endpoint, km_curves by (endpoint, time_days)."""
    table, curves = survival_tables(subjects)
    assert not subjects["subject_id"].is_duplicated().any()
    assert not best_response_table(subjects)["category"].is_duplicated().any()
    assert not table["endpoint"].is_duplicated().any()
    assert not curves.select("endpoint", "time_days").is_duplicated().any()
