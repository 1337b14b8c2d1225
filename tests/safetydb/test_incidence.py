"""Cumulative incidence of toxicity with death competing (Aalen-Johansen), against hand-worked values.

Hand-worked example: eight treated subjects, times in study days (day 1 = first dose), status
1 = the toxicity, 2 = death first (competing), 0 = censored; horizon 730 days.

    A 30 event   B 91 event   C 91 death   D 91 censored   E 150 death
    F 200 event  G 730 censored (reached the horizon)      H 400 event

With S the all-cause Kaplan-Meier survival and CIF(t) = sum over t_j <= t of S(t_j-) d_j / n_j:

    day  at risk  events  deaths  CIF increment          CIF      S after
     30     8       1       0     1 x 1/8                 1/8      7/8
     91     7       1       1     7/8 x 1/7 = 1/8         1/4      7/8 x 5/7 = 5/8
    150     4       0       1     -                       1/4      5/8 x 3/4 = 15/32
    200     3       1       0     15/32 x 1/3 = 5/32      13/32    15/32 x 2/3 = 5/16
    400     2       1       0     5/16 x 1/2 = 5/32       18/32    5/32
    730     1       0       0     (G censored)            18/32    5/32

Check: CIF of death = 1/8 + 5/8 x 1/4 = 9/32, and 18/32 + 9/32 + 5/32 = 1.

Ties on day 91: B's event and C's death are simultaneous (both among the 7 at risk), and D,
censored that day, is still at risk that day. Had D been removed first, the step would be
7/8 x 1/6 and CIF(91) 27.1% instead of 25.0%.

Confidence interval (Collett's delta-method variance, log(-log) scale, z = 1.95996):
- day 30: Var = S(t-)^2 d (n - d) / n^3 = 7/512 = 0.013672; SE = 0.11693; on the log(-log)
  scale SE / (F |log F|) = 0.44986 around log(-log 0.125) = 0.73210, so the interval is
  exp(-exp(0.73210 +/- 0.88171)) = 0.66% to 42.27%.
- day 91: Var = (1/8)^2 x 1/(8 x 7) [F(91) - F(30) squared, all-cause d/(n(n-d))]
  + 7/512 + (7/8)^2 x 6/343 [the event terms] - 2 x 1/8 x 1/64 [the cross term] = 3/128;
  SE = 0.15309; 0.44174 around log(-log 0.25) = 0.32663: 3.71% to 55.81%.

Months fall on days 30 (1 month), 91 (3), 183 (6), 365 (12) and 730 (24): 30.4375 x months,
a half day rounded down.
"""

import warnings
from datetime import date, timedelta

import polars as pl
import pytest

from safetydb.incidence import GRADE_3_PLUS, cumulative_incidence, month_to_day
from safetydb.store import SafetyStore, model_grain

HAND = pl.DataFrame(
    {
        "endpoint": "hypertension",
        "label": "Hypertension",
        "subject_id": list("ABCDEFGH"),
        "time": [30, 91, 91, 91, 150, 200, 730, 400],
        "status": [1, 1, 2, 0, 2, 1, 0, 1],
        "horizon_day": 730,
    }
)


def line(frame: pl.DataFrame, **where) -> dict:
    matches = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert matches.height == 1, where
    return matches.row(0, named=True)


def test_months_fall_on_the_documented_days():
    # 30.4375 days a month, a half day rounded down: 24 months is the 730-day horizon.
    assert [month_to_day(m) for m in (1, 3, 6, 12, 24)] == [30, 91, 183, 365, 730]


@pytest.mark.parametrize(
    ("month", "day", "at_risk", "events", "deaths", "percent"),
    [
        (1, 30, 8, 1, 0, 12.5),
        (3, 91, 7, 2, 1, 25.0),  # the tie: 1/8 + 7/8 x 1/7, with D still at risk
        (6, 183, 3, 2, 2, 25.0),
        (12, 365, 2, 3, 2, 40.6),  # 13/32 = 40.625%
        (24, 730, 1, 4, 2, 56.3),  # 18/32 = 56.25%, a half rounded away from zero
    ],
)
def test_hand_worked_aalen_johansen(month, day, at_risk, events, deaths, percent):
    table, _ = cumulative_incidence(HAND, horizon_months=(1, 3, 6, 12, 24))
    row = line(table, endpoint="hypertension", month=float(month))
    assert (row["day"], row["subjects"], row["at_risk"], row["events"], row["competing_deaths"]) == (
        day, 8, at_risk, events, deaths
    )
    assert row["cumulative_incidence"] == percent
    assert row["ci_lower"] < percent < row["ci_upper"]


def test_hand_worked_confidence_intervals():
    table, _ = cumulative_incidence(HAND, horizon_months=(1, 3))
    first, third = line(table, month=1.0), line(table, month=3.0)
    assert (first["ci_lower"], first["ci_upper"]) == (0.7, 42.3)
    assert (third["ci_lower"], third["ci_upper"]) == (3.7, 55.8)


def test_curve_steps_on_the_event_days_and_ends_at_the_last_day_observed():
    _, curves = cumulative_incidence(HAND)
    assert curves["day"].to_list() == [0, 30, 91, 200, 400, 730]
    assert curves["cumulative_incidence"].to_list() == pytest.approx([0, 12.5, 25, 40.625, 56.25, 56.25])


def test_ties_are_exact_and_the_same_on_every_run():
    # lifelines would jitter the day-91 event and death with random noise (and warn): it must not.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = [cumulative_incidence(HAND.sample(fraction=1, shuffle=True, seed=seed)) for seed in range(3)]
    assert not [w for w in caught if "jitter" in str(w.message)]
    for table, curves in runs[1:]:
        assert table.equals(runs[0][0])
        assert curves.equals(runs[0][1])


def test_no_estimate_on_a_day_nobody_was_followed_to():
    # Follow-up ends on day 400 for everyone: 24 months is not estimable, not the day-400 value.
    shorter = HAND.with_columns(pl.col("time").clip(upper_bound=400))
    table, _ = cumulative_incidence(shorter, horizon_months=(12, 24))
    assert line(table, month=12.0)["cumulative_incidence"] == 40.6
    late = line(table, month=24.0)
    assert (late["at_risk"], late["cumulative_incidence"], late["ci_lower"]) == (0, None, None)
    assert "Not estimable" in late["note"]


def test_months_beyond_the_horizon_are_left_out():
    within_a_year = HAND.with_columns(pl.col("time").clip(upper_bound=365), horizon_day=pl.lit(365))
    table, _ = cumulative_incidence(within_a_year)
    assert table["month"].to_list() == [3.0, 6.0, 12.0]


def test_note_states_population_window_and_method():
    table, _ = cumulative_incidence(HAND, horizon_months=(3,))
    note = table["note"][0]
    for words in ("Treated subjects (N = 8)", "day 730", "competing", "Aalen-Johansen", "delta method", "day 91"):
        assert words in note


def test_inputs_are_checked_first():
    with pytest.raises(ValueError, match="status"):
        cumulative_incidence(HAND.with_columns(status=pl.lit(3)))
    with pytest.raises(ValueError, match="lack columns"):
        cumulative_incidence(HAND.drop("horizon_day"))
    with pytest.raises(ValueError, match="before day 1"):
        cumulative_incidence(HAND.with_columns(time=pl.when(pl.col("subject_id") == "C").then(0).otherwise("time")))
    with pytest.raises(ValueError, match="horizon_months"):
        cumulative_incidence(HAND, horizon_months=(0,))


# ---- the SQL model -------------------------------------------------------------------------
# Hand-made derived tables; first dose 2024-01-01 (day 1) for the treated, horizon 730 days.
#   P1 grade 3 epistaxis day 10, dies day 40     -> grade >= 3: 10 event; pneumonitis: 40 death
#   P2 grade 2 hypertension day 15, dies day 30  -> grade >= 3: 30 death; hypertension: 15 event
#   P3 grade 5 hemorrhage day 25, dies day 25    -> event on the day of death: the event
#   P4 grade 3 on day 0 (before the first dose) and day 800 (after the horizon), contact day 900
#                                                -> censored at the horizon, 730
#   P5 never dosed, grade 3 AE                   -> not in the population
#   P6 no AE, last contact day 100               -> censored at 100
#   P7 no AE, dies day 750 (after the horizon)   -> censored at 730
#   P8 grade 3 on day 120, last contact day 100  -> event at 120: the record shows follow-up
# Pneumonitis is an AESI set with no events: its rows are there, its incidence 0.

FIRST_DOSE = date(2024, 1, 1)


def on_day(day: int | None) -> date | None:
    return None if day is None else FIRST_DOSE + timedelta(days=day - 1)


def time_to_toxicity(tmp_path) -> pl.DataFrame:
    subjects = [  # subject, treated, death day, last contact day
        ("P1", True, 40, 40), ("P2", True, 30, 30), ("P3", True, 25, 25), ("P4", True, None, 900),
        ("P5", False, None, 50), ("P6", True, None, 100), ("P7", True, 750, 750), ("P8", True, None, 100),
    ]
    dosing = pl.DataFrame(
        [
            {
                "subject_id": s,
                "treated": treated,
                "first_dose_date": FIRST_DOSE if treated else None,
                "death_date": on_day(death),
                "follow_up_end": on_day(death if death else contact),
            }
            for s, treated, death, contact in subjects
        ]
    )
    adverse_events = pl.DataFrame(
        [  # ae_id, subject, grade, study day (None when the subject was never dosed)
            ("AE1", "P1", 3, 10), ("AE2", "P2", 2, 15), ("AE3", "P3", 5, 25), ("AE4", "P4", 3, 0),
            ("AE5", "P4", 3, 800), ("AE6", "P5", 3, None), ("AE7", "P8", 3, 120),
        ],
        schema=["ae_id", "subject_id", "grade", "study_day"],
        orient="row",
    )
    ae_aesi = pl.DataFrame(
        [("AE1", "hemorrhage", "Hemorrhage"), ("AE2", "hypertension", "Hypertension"), ("AE3", "hemorrhage", "Hemorrhage")],
        schema=["ae_id", "aesi", "label"],
        orient="row",
    )
    aesi_terms = pl.DataFrame(
        [
            ("hemorrhage", "Hemorrhage", "term", "Epistaxis"),
            ("hemorrhage", "Hemorrhage", "term", "Pharyngeal hemorrhage"),
            ("hypertension", "Hypertension", "term", "Hypertension"),
            ("pneumonitis", "Pneumonitis", "term", "Pneumonitis"),
        ],
        schema=["aesi", "label", "match_on", "value"],
        orient="row",
    )
    with SafetyStore(tmp_path / "store.duckdb") as store:
        store.register_table("int_subject_dosing", dosing)
        store.register_table("int_adverse_events", adverse_events)
        store.register_table("int_ae_aesi", ae_aesi)
        store.register_table("aesi_terms", aesi_terms)
        store.run_model_into("int_time_to_toxicity", {"follow_up_days": 730, "grading": "ctcae"})
        return store.model("int_time_to_toxicity")


def test_time_to_toxicity_model(tmp_path):
    rows = time_to_toxicity(tmp_path)
    assert model_grain("int_time_to_toxicity") == ["endpoint", "subject_id"]
    assert rows.select("endpoint", "subject_id").is_duplicated().sum() == 0
    assert rows.height == 7 * 4  # seven treated subjects x (grade >= 3 and three AESI sets)
    assert set(rows["horizon_day"]) == {730}

    def time_status(endpoint: str) -> dict[str, tuple[int, int]]:
        subset = rows.filter(pl.col("endpoint") == endpoint).sort("subject_id")
        return {s: (t, st) for s, t, st in subset.select("subject_id", "time", "status").iter_rows()}

    assert time_status(GRADE_3_PLUS) == {
        "P1": (10, 1), "P2": (30, 2), "P3": (25, 1), "P4": (730, 0), "P6": (100, 0), "P7": (730, 0), "P8": (120, 1)
    }
    assert time_status("hypertension")["P2"] == (15, 1)  # an AESI counts at any grade
    assert time_status("hemorrhage")["P3"] == (25, 1)
    assert time_status("pneumonitis") == {
        "P1": (40, 2), "P2": (30, 2), "P3": (25, 2), "P4": (730, 0), "P6": (100, 0), "P7": (730, 0), "P8": (100, 0)
    }
    assert line(rows, endpoint=GRADE_3_PLUS, subject_id="P1")["label"] == "Any grade >= 3 AE"


def test_an_aesi_with_no_events_appears_with_incidence_zero(tmp_path):
    table, curves = cumulative_incidence(time_to_toxicity(tmp_path))
    assert table["endpoint"].unique(maintain_order=True).to_list() == [GRADE_3_PLUS, "hemorrhage", "hypertension", "pneumonitis"]
    pneumonitis = table.filter(pl.col("endpoint") == "pneumonitis")
    assert pneumonitis["month"].to_list() == [3.0, 6.0, 12.0, 24.0]
    assert pneumonitis["cumulative_incidence"].to_list() == [0.0] * 4
    assert pneumonitis["events"].to_list() == [0] * 4
    # Day 91: P4, P6, P7 and P8 still followed; P1, P2, P3 died first.
    assert line(pneumonitis, month=3.0)["at_risk"] == 4
    assert line(pneumonitis, month=3.0)["competing_deaths"] == 3
    assert curves.filter(pl.col("endpoint") == "pneumonitis")["cumulative_incidence"].to_list() == [0.0, 0.0]


# ---- on the mini trial -----------------------------------------------------------------------
# Treated S1 (first dose 2025-01-10, followed to day 173), S2 (day 168), S3 (dies day 20), S5
# (day 62). Grade >= 3: S3 day 5, S2 day 27, S1 day 112; S5 censored day 62. Day 91:
# CIF = 1/4 + 3/4 x 1/3 = 50%, S1 alone at risk. Thyroid: S3's death (day 20) competes; S1
# hypothyroidism day 96 with S1, S2 at risk: 3/4 x 1/2 = 37.5%. Month 5 = day 152.


@pytest.mark.slow  # ingests the mini trial: about 1.2 s
def test_mini_trial(tmp_path):
    from flows.stages import ingest
    from safetydb.models import build_cut_models, model_parameters
    from tests.conftest import make_mini_trial
    from trial.config import load_trial_config

    loaded = ingest(make_mini_trial(tmp_path / "mini"))
    config = load_trial_config(loaded.config_path)
    cut_date = date.fromisoformat(loaded.cut_date)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, config, loaded.cut_id, cut_date)
        store.run_model_into("int_time_to_toxicity", model_parameters(config, loaded.cut_id, cut_date).as_dict())
        table, _ = cumulative_incidence(store, horizon_months=(3, 5, 6))
    grade_3 = line(table, endpoint=GRADE_3_PLUS, month=3.0)
    assert (grade_3["subjects"], grade_3["at_risk"], grade_3["events"], grade_3["cumulative_incidence"]) == (4, 1, 2, 50.0)
    assert line(table, endpoint=GRADE_3_PLUS, month=5.0)["cumulative_incidence"] is None  # nobody left at day 152
    assert line(table, endpoint="thyroid", month=3.0)["cumulative_incidence"] == 0.0
    assert line(table, endpoint="thyroid", month=5.0)["cumulative_incidence"] == 37.5
    assert line(table, endpoint="necrosis", month=3.0)["cumulative_incidence"] == 0.0
    assert line(table, endpoint="necrosis", month=6.0)["cumulative_incidence"] is None  # follow-up ends day 173
    # every AESI set of the bundled config is an endpoint, with events or not: grade >= 3 first,
    # then the sixteen sets by id
    assert table["endpoint"].unique(maintain_order=True).to_list() == [
        GRADE_3_PLUS, "adrenal", "colitis", "diabetes", "hand_foot", "hemorrhage", "hepatitis", "hypertension", "hypophysitis",
        "myocarditis", "necrosis", "nephritis", "pneumonitis", "proteinuria", "rccep", "skin", "thyroid",
    ]
