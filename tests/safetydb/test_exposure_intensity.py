"""Exposure tables: dose intensity (int_agent_exposure, t_dose_intensity), time to the first dose
reduction or hold (t_time_to_modification) and exposure-adjusted incidence (int_eair, t_eair).

Hand-made exposure (rows as stg_exposure gives them, cut 2025-03-31; apatinib QD 250 mg and
anti-PD-1 Q2W 200 mg from the bundled config, plus an agent "extra" given PRN, a frequency
data/dosing/frequencies.csv does not know):

- E1 apatinib: 01-01..01-14 250 mg, 01-15..01-21 held (0), 01-22..01-28 250 mg. Period 28 days;
  cumulative 21 x 250 = 5250 mg; planned 28 x 250 = 7000 mg; RDI 75%; 187.5 mg/day; first
  modification 01-15 = day 15.
- E1 anti-PD-1: 01-01 200, 01-15 200, 01-29 held (0), 02-12 200. Period 01-01..02-12 (42 days
  apart): planned administrations 42 // 14 + 1 = 4, planned 800 mg; cumulative 600 mg; RDI 75%;
  150 mg/administration; first modification 01-29 = day 29.
- E2 apatinib: 02-01..02-15 250 mg, 02-16..02-20 125 mg (reduced). Period 20 days; cumulative
  15 x 250 + 5 x 125 = 4375 mg; planned 5000 mg; RDI 87.5%; 218.75 mg/day; modification day 16.
- E2 anti-PD-1: 02-01, 02-15, 03-01 at 200 mg: 28 days apart, planned 3, RDI 100%; no
  modification: censored at its last dose, day 29.
- E3 apatinib: 03-01..03-31 with its dose missing (counted as the planned 250 mg): 31 days,
  7750 mg, RDI 100%; censored day 31. E3 extra: 03-01 100 mg: no planned dose over time, so no
  cumulative dose or RDI.
- E4 apatinib: held 03-10..03-12 before any dose (not a modification: it is before the first
  dose), then 03-13..03-20 250 mg: 8 days, 2000 mg, RDI 100%; censored day 8.
- E5 anti-PD-1: one discontinued row at 0 mg: never dosed, no row.

Per agent: apatinib 4 dosed, RDI 75, 87.5, 100, 100: median 93.75 (93.8), range 75-100, 1 below
80% (25.0%); cumulative 2000, 4375, 5250, 7750: median 4812.5; mg/day 187.5, 218.75, 250, 250:
median 234.375 (234.4); 1 with a missing dose. Anti-PD-1 2 dosed: RDI 75, 100, median 87.5, 1
below 80% (50.0%); 150 and 200 mg/administration, median 175. Extra: 1 dosed, no RDI.

Time to modification: apatinib events E1 day 15, E2 day 16; censored E4 day 8, E3 day 31.
Kaplan-Meier: day 15, 3 at risk, S = 2/3; day 16, 2 at risk, S = 1/3 <= 0.5: median 16; median
(range) of the days 15.5 (15-16). Anti-PD-1: E1 event day 29 and E2 censored day 29: 2 at risk,
S = 1/2, the first day it falls to 0.5 or below: median 29.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta

import polars as pl
import pytest

from safetydb.exposure_rates import exact_poisson_interval, exposure_adjusted_rates
from safetydb.store import ModelParameters, SafetyStore, model_grain
from safetydb.study_tables import register_study_tables
from safetydb.time_to_modification import kaplan_meier_median, time_to_modification, time_to_modification_table
from tests.conftest import BUNDLED_CONFIG
from trial.config import load_trial_config

CUT = date(2025, 3, 31)
EXTRA_AGENT = '\n[[agents]]\nid = "extra"\nname = "Extra agent"\ndose_mg = 100\nroute = "PO"\nfrequency = "PRN"\n'


def d(text: str) -> date:
    return date.fromisoformat(f"2025-{text}")


EXPOSURE = [
    # subject, agent, start, end, dose (None: missing, counted as planned), planned, adjustment
    ("E1", "apatinib", "01-01", "01-14", 250, 250, "none"),
    ("E1", "apatinib", "01-15", "01-21", 0, 250, "held"),
    ("E1", "apatinib", "01-22", "01-28", 250, 250, "none"),
    ("E1", "anti_pd1", "01-01", "01-01", 200, 200, "none"),
    ("E1", "anti_pd1", "01-15", "01-15", 200, 200, "none"),
    ("E1", "anti_pd1", "01-29", "01-29", 0, 200, "held"),
    ("E1", "anti_pd1", "02-12", "02-12", 200, 200, "none"),
    ("E2", "apatinib", "02-01", "02-15", 250, 250, "none"),
    ("E2", "apatinib", "02-16", "02-20", 125, 250, "reduced"),
    ("E2", "anti_pd1", "02-01", "02-01", 200, 200, "none"),
    ("E2", "anti_pd1", "02-15", "02-15", 200, 200, "none"),
    ("E2", "anti_pd1", "03-01", "03-01", 200, 200, "none"),
    ("E3", "apatinib", "03-01", "03-31", None, 250, "none"),
    ("E3", "extra", "03-01", "03-01", 100, 100, "none"),
    ("E4", "apatinib", "03-10", "03-12", 0, 250, "held"),
    ("E4", "apatinib", "03-13", "03-20", 250, 250, "none"),
    ("E5", "anti_pd1", "03-05", "03-05", 0, 200, "discontinued"),
]


def stg_exposure() -> pl.DataFrame:
    rows = [
        {
            "subject_id": s, "agent": a, "start_date": d(start), "end_date": d(end),
            "dose_mg": float(planned if dose is None else dose), "dose_recorded": dose is not None,
            "planned_dose_mg": float(planned), "adjustment": adjustment, "adjustment_reason": None,
            # no placebo here: a dose is given when it is above 0 mg
            "administered": (planned if dose is None else dose) > 0,
        }
        for s, a, start, end, dose, planned, adjustment in EXPOSURE
    ]
    return pl.DataFrame(rows, schema_overrides={"adjustment_reason": pl.String})


@pytest.fixture(scope="module")
def exposure_models(tmp_path_factory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("exposure")
    config_path = folder / "trial.toml"
    config_path.write_text(BUNDLED_CONFIG.read_text(encoding="utf-8") + EXTRA_AGENT, encoding="utf-8")
    config = load_trial_config(config_path)
    parameters = ModelParameters(cut_id="x", cut_date=CUT, cycle_days=28, teae_end_days=30, acute_days=90, related_levels=[]).as_dict()
    with SafetyStore(folder / "store.duckdb") as store:
        store.register_table("stg_exposure", stg_exposure())
        register_study_tables(store, config)
        for name in ("int_agent_exposure", "t_dose_intensity"):
            store.run_model_into(name, parameters)
        models = {name: store.model(name) for name in ("int_agent_exposure", "t_dose_intensity", "agent_dosing")}
        models["t_time_to_modification"] = time_to_modification(store)
        return models


def subject_row(models, subject: str, agent: str) -> dict:
    frame = models["int_agent_exposure"].filter((pl.col("subject_id") == subject) & (pl.col("agent") == agent))
    assert frame.height == 1, (subject, agent)
    return frame.row(0, named=True)


def test_agent_dosing_reads_the_frequency_table(exposure_models):
    dosing = {row["agent"]: row for row in exposure_models["agent_dosing"].iter_rows(named=True)}
    assert (dosing["apatinib"]["records"], dosing["apatinib"]["administrations_per_day"], dosing["apatinib"]["planned_dose_mg"]) == ("interval", 1, 250)
    assert (dosing["anti_pd1"]["records"], dosing["anti_pd1"]["interval_days"]) == ("administration", 14)
    assert dosing["extra"]["records"] is None  # PRN is not in data/dosing/frequencies.csv


def test_rdi_of_a_daily_agent_with_a_hold(exposure_models):
    """One subject, QD 250 mg, 28 days from the first to the last dose, 7 days held: 75%."""
    row = subject_row(exposure_models, "E1", "apatinib")
    assert (row["treatment_days"], row["cumulative_dose_mg"], row["planned_cumulative_dose_mg"]) == (28, 5250, 7000)
    assert row["rdi_percent"] == pytest.approx(75.0)
    assert (row["dose_intensity"], row["dose_intensity_unit"]) == (pytest.approx(187.5), "mg/day")
    assert (row["first_modification_date"], row["modification_day"]) == (d("01-15"), 15)


def test_rdi_of_an_agent_given_every_two_weeks_with_a_held_infusion(exposure_models):
    row = subject_row(exposure_models, "E1", "anti_pd1")
    assert (row["planned_administrations"], row["cumulative_dose_mg"], row["planned_cumulative_dose_mg"]) == (4, 600, 800)
    assert row["rdi_percent"] == pytest.approx(75.0)
    assert (row["dose_intensity"], row["dose_intensity_unit"]) == (pytest.approx(150.0), "mg/administration")
    assert row["modification_day"] == 29


def test_reduction_missing_dose_hold_before_first_dose_and_unknown_frequency(exposure_models):
    reduced = subject_row(exposure_models, "E2", "apatinib")
    assert (reduced["cumulative_dose_mg"], reduced["rdi_percent"], reduced["modification_day"]) == (4375, pytest.approx(87.5), 16)
    full = subject_row(exposure_models, "E2", "anti_pd1")
    assert (full["planned_administrations"], full["rdi_percent"], full["modified"], full["censor_day"]) == (3, pytest.approx(100.0), False, 29)
    missing = subject_row(exposure_models, "E3", "apatinib")
    assert (missing["cumulative_dose_mg"], missing["dose_missing"], missing["censor_day"]) == (7750, True, 31)
    late_start = subject_row(exposure_models, "E4", "apatinib")
    assert (late_start["first_dose_date"], late_start["treatment_days"], late_start["modified"]) == (d("03-13"), 8, False)
    unknown = subject_row(exposure_models, "E3", "extra")
    assert (unknown["cumulative_dose_mg"], unknown["rdi_percent"], unknown["dose_intensity"]) == (None, None, None)
    assert exposure_models["int_agent_exposure"].filter(pl.col("subject_id") == "E5").height == 0  # never dosed


def test_dose_intensity_table(exposure_models):
    table = {row["agent"]: row for row in exposure_models["t_dose_intensity"].iter_rows(named=True)}
    assert list(table) == ["apatinib", "anti_pd1", "extra"]  # the config's order
    apatinib = table["apatinib"]
    assert (apatinib["subjects_dosed"], apatinib["subjects_dose_missing"]) == (4, 1)
    assert (apatinib["cumulative_dose_median_mg"], apatinib["cumulative_dose_min_mg"], apatinib["cumulative_dose_max_mg"]) == (4812.5, 2000, 7750)
    assert (apatinib["dose_intensity_median"], apatinib["dose_intensity_min"], apatinib["dose_intensity_max"]) == (234.4, 187.5, 250)
    assert (apatinib["rdi_median_percent"], apatinib["rdi_min_percent"], apatinib["rdi_max_percent"]) == (93.8, 75, 100)
    assert (apatinib["subjects_low_rdi"], apatinib["percent_low_rdi"], apatinib["low_rdi_percent"]) == (1, 25.0, 80)
    anti_pd1 = table["anti_pd1"]
    assert (anti_pd1["subjects_dosed"], anti_pd1["rdi_median_percent"], anti_pd1["subjects_low_rdi"], anti_pd1["percent_low_rdi"]) == (2, 87.5, 1, 50.0)
    assert (anti_pd1["dose_intensity_median"], anti_pd1["dose_intensity_unit"]) == (175, "mg/administration")
    extra = table["extra"]
    assert (extra["subjects_dosed"], extra["subjects_with_rdi"], extra["rdi_median_percent"], extra["percent_low_rdi"]) == (1, 0, None, None)


def test_time_to_first_modification(exposure_models):
    table = {row["agent"]: row for row in exposure_models["t_time_to_modification"].iter_rows(named=True)}
    apatinib = table["apatinib"]
    assert (apatinib["subjects_dosed"], apatinib["subjects_modified"], apatinib["percent_modified"]) == (4, 2, 50.0)
    assert (apatinib["median_day"], apatinib["min_day"], apatinib["max_day"]) == (15.5, 15, 16)
    assert apatinib["km_median_day"] == 16
    anti_pd1 = table["anti_pd1"]
    assert (anti_pd1["subjects_modified"], anti_pd1["km_median_day"]) == (1, 29)
    extra = table["extra"]
    assert (extra["subjects_dosed"], extra["subjects_modified"], extra["median_day"], extra["km_median_day"]) == (1, 0, None, None)


def test_kaplan_meier_median_by_hand():
    """Events on days 10 and 20, censored on 15 and 30: S(10) = 3/4, S(20) = 3/4 x 1/2 = 3/8:
    median 20. With no event the median is not reached."""
    import numpy as np

    median, lower, upper = kaplan_meier_median(np.array([10, 15, 20, 30]), np.array([True, False, True, False]))
    assert median == 20
    assert lower is None or lower <= 20
    assert kaplan_meier_median(np.array([5, 9]), np.array([False, False]))[0] is None
    assert kaplan_meier_median(np.array([]), np.array([], dtype=bool)) == (None, None, None)


def test_an_agent_nobody_received_has_a_row_of_zeros():
    agents = pl.DataFrame({"agent": ["a", "b"], "agent_name": ["A", "B"], "ord": [1, 2]})
    exposure = pl.DataFrame(
        {"agent": ["a"], "modified": [True], "modification_day": [5], "censor_day": [10]},
    )
    table = time_to_modification_table(exposure, agents)
    assert table["agent"].to_list() == ["a", "b"]
    assert table.row(1, named=True)["subjects_dosed"] == 0


# --- exposure-adjusted incidence ----------------------------------------------------------------


def chi2_quantile(probability: float, degrees: int) -> float:
    """Quantile of a chi-square with an even number of degrees of freedom, by bisection on its
    closed-form CDF: 1 - exp(-x/2) sum_{k < degrees/2} (x/2)^k / k! (no scipy)."""

    def cdf(x: float) -> float:
        half = x / 2
        return 1 - math.exp(-half) * sum(half**k / math.factorial(k) for k in range(degrees // 2))

    low, high = 0.0, 200.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < probability else (low, middle)
    return (low + high) / 2


def test_exact_poisson_interval_two_events_over_four_patient_years():
    """x = 2 over T = 4 patient-years: rate 50 per 100 patient-years. Lower: chi2(0.025; 4 df) =
    0.4844, / 2 = 0.2422, / 4 x 100 = 6.06. Upper: chi2(0.975; 6 df) = 14.4494, / 2 = 7.2247,
    / 4 x 100 = 180.62."""
    lower, upper = exact_poisson_interval(2, 4.0)
    assert lower == pytest.approx(chi2_quantile(0.025, 4) / 2 / 4 * 100, rel=1e-9)
    assert upper == pytest.approx(chi2_quantile(0.975, 6) / 2 / 4 * 100, rel=1e-9)
    assert (round(lower, 2), round(upper, 2)) == (6.06, 180.62)


def test_exact_poisson_interval_without_events_and_without_time():
    """x = 0: lower 0; upper chi2(0.975; 2 df) / 2 = -ln(0.025) = 3.6889 per patient-year."""
    lower, upper = exact_poisson_interval(0, 1.0)
    assert (lower, upper) == (0.0, pytest.approx(-math.log(0.025) * 100))
    assert all(math.isnan(v) for v in exact_poisson_interval(0, 0.0))


def eair_frames() -> dict[str, pl.DataFrame]:
    """Three treated subjects, cut 2025-12-31, TEAE window last dose + 30 days.

    - A: first dose 01-01, last dose 03-31, alive, last contact 12-31. TEAE on 01-10: grade 2,
      not serious, related.
    - B: first dose 02-01, last dose 02-28, died 03-10 (last contact 03-10). TEAE on 02-05:
      grade 3, serious, not related, an Epistaxis (AESI hemorrhage).
    - C: first dose 06-01, last dose 12-20, no last contact recorded (stg_subjects gives the
      cut). No AE.
    """
    dosing = pl.DataFrame(
        {
            "subject_id": ["A", "B", "C", "U"],
            "treated": [True, True, True, False],
            "first_dose_date": [d("01-01"), d("02-01"), d("06-01"), None],
            "last_dose_date": [d("03-31"), d("02-28"), d("12-20"), None],
            "death_date": [None, d("03-10"), None, None],
            "last_contact_date": [d("12-31"), d("03-10"), d("12-31"), d("12-31")],
            "last_contact_recorded": [True, True, False, True],
        }
    )
    adverse_events = pl.DataFrame(
        {
            "ae_id": ["AE1", "AE2", "AE3"],
            "subject_id": ["A", "B", "U"],
            "onset_date": [d("01-10"), d("02-05"), d("03-01")],
            "teae": [True, True, False],
            "grade": [2, 3, 4],
            "serious": ["N", "Y", "Y"],
            "related_any": [True, False, True],
        }
    )
    ae_aesi = pl.DataFrame({"ae_id": ["AE2"], "aesi": ["hemorrhage"], "label": ["Hemorrhage"]})
    aesi_terms = pl.DataFrame(
        {"aesi": ["hemorrhage", "rccep"], "label": ["Hemorrhage", "RCCEP"], "match_on": ["term", "other_specify"], "value": ["Epistaxis", "RCCEP"]}
    )
    return {"int_subject_dosing": dosing, "int_adverse_events": adverse_events, "int_ae_aesi": ae_aesi, "aesi_terms": aesi_terms}


def eair(tmp_path, teae_end_days: int | None) -> pl.DataFrame:
    with SafetyStore(tmp_path / f"eair-{teae_end_days}.duckdb") as store:
        for name, frame in eair_frames().items():
            store.register_table(name, frame)
        store.run_model_into("int_eair", {"teae_end_days": teae_end_days, "cut_date": date(2025, 12, 31), "grading": "ctcae"})
        return exposure_adjusted_rates(store)


def test_eair_time_at_risk_by_hand(tmp_path):
    """Days counting both ends, from the first dose. End of the TEAE window: A 04-30 (03-31 + 30),
    120 days; B 03-10 (death before 03-30), 38 days; C 12-20 (no last contact recorded: the last
    dose), 203 days. Subjects with an event stop at its onset: A day 10, B day 5.
    - any TEAE: A and B: 10 + 5 + 203 = 218 days; grade >= 3: B: 120 + 5 + 203 = 328; serious:
      the same; related: A: 10 + 38 + 203 = 251; hemorrhage: B: 328; RCCEP: none, 120 + 38 + 203
      = 361. U (never dosed) is not at risk. Rate: x / (days / 365.25) x 100."""
    table = eair(tmp_path, 30)
    assert table["category"].to_list() == ["any_teae", "grade_3_plus", "serious", "related", "aesi_hemorrhage", "aesi_rccep"]
    by_category = {row["category"]: row for row in table.iter_rows(named=True)}
    expected = {"any_teae": (2, 218), "grade_3_plus": (1, 328), "serious": (1, 328), "related": (1, 251), "aesi_hemorrhage": (1, 328), "aesi_rccep": (0, 361)}
    for category, (events, days) in expected.items():
        row = by_category[category]
        assert (row["subjects_with_event"], row["subjects"], row["subject_days"]) == (events, 3, days), category
        years = days / 365.25
        assert row["patient_years"] == pytest.approx(round(years, 2), abs=0.005)
        assert row["rate_per_100_patient_years"] == pytest.approx(100 * events / years, abs=0.005)
    lower, upper = exact_poisson_interval(2, 218 / 365.25)
    assert (by_category["any_teae"]["ci_lower"], by_category["any_teae"]["ci_upper"]) == (pytest.approx(lower, abs=0.005), pytest.approx(upper, abs=0.005))
    assert by_category["aesi_rccep"]["ci_lower"] == 0
    assert model_grain("int_eair") == ["category"]


def test_eair_without_an_end_window(tmp_path):
    """teae_end_days "none": A's window ends at its last contact 12-31 (365 days), B's at death
    (38), C's at its last dose (203): grade >= 3 = 365 + 5 + 203 = 573 days."""
    by_category = {row["category"]: row for row in eair(tmp_path, None).iter_rows(named=True)}
    assert by_category["grade_3_plus"]["subject_days"] == 573


# --- the bundled trial ---------------------------------------------------------------------------

BUNDLED_CUT = date(2026, 6, 30)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, pl.DataFrame]:
    from flows.stages import ingest
    from safetydb.models import build_cut_models

    folder = tmp_path_factory.mktemp("bundled")
    for path in BUNDLED_CONFIG.parent.iterdir():
        if path.is_file() and path.suffix in (".csv", ".toml"):
            shutil.copy(path, folder / path.name)
    loaded = ingest(folder / "trial.toml", cut_date=BUNDLED_CUT, out_root=folder / "out", database=folder / "store.duckdb")
    names = ("stg_exposure", "int_subject_dosing", "int_adverse_events", "int_agent_exposure", "t_dose_intensity", "t_overview", "t_aesi", "agent_dosing")
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, loaded.config, loaded.cut_id, BUNDLED_CUT)
        models = {name: store.model(name) for name in names}
        models["t_eair"] = exposure_adjusted_rates(store)
        models["t_time_to_modification"] = time_to_modification(store)
        return models


@pytest.mark.slow  # loads the bundled trial: a few seconds
def test_bundled_rdi_against_a_polars_computation(bundled):
    """Per subject and agent, from the stored exposure rows: apatinib (QD) sums dose x days, plans
    250 mg a day from first to last dose; anti-PD-1 (Q2W) sums the doses, plans 200 mg per 14 days."""
    rows = bundled["stg_exposure"].filter(pl.col("dose_mg") > 0)
    per_subject = rows.group_by("subject_id", "agent").agg(
        pl.col("start_date").min().alias("first"),
        pl.col("end_date").max().alias("last"),
        (pl.col("dose_mg") * ((pl.col("end_date") - pl.col("start_date")).dt.total_days() + 1)).sum().alias("dose_days"),
        pl.col("dose_mg").sum().alias("dose_sum"),
    ).with_columns((pl.col("last") - pl.col("first")).dt.total_days().alias("span"))
    expected = per_subject.with_columns(
        pl.when(pl.col("agent") == "apatinib")
        .then(100 * pl.col("dose_days") / (250 * (pl.col("span") + 1)))
        .otherwise(100 * pl.col("dose_sum") / (200 * (pl.col("span") // 14 + 1)))
        .alias("expected_rdi")
    )
    joined = expected.join(bundled["int_agent_exposure"], on=["subject_id", "agent"], how="full", coalesce=True)
    assert joined.height == bundled["int_agent_exposure"].height == expected.height
    assert (joined["expected_rdi"] - joined["rdi_percent"]).abs().max() < 1e-9
    table = {row["agent"]: row for row in bundled["t_dose_intensity"].iter_rows(named=True)}
    for agent in ("apatinib", "anti_pd1"):
        rdi = expected.filter(pl.col("agent") == agent)["expected_rdi"]
        assert table[agent]["subjects_dosed"] == rdi.len() == 60
        assert table[agent]["rdi_median_percent"] == pytest.approx(rdi.median(), abs=0.05)
        assert table[agent]["subjects_low_rdi"] == (rdi < 80).sum()


@pytest.mark.slow
def test_bundled_eair_agrees_with_the_overview_and_a_polars_computation(bundled):
    """Subjects with an event are those of t_overview and t_aesi; the any-TEAE and serious
    patient-days recomputed in Polars from the derived models."""
    by_category = {row["category"]: row for row in bundled["t_eair"].iter_rows(named=True)}
    overview = dict(bundled["t_overview"].select("category", "subjects").iter_rows())
    assert by_category["any_teae"]["subjects_with_event"] == overview["Any TEAE"]
    assert by_category["grade_3_plus"]["subjects_with_event"] == overview["Grade >= 3 TEAE"]
    assert by_category["serious"]["subjects_with_event"] == overview["Serious TEAE"]
    assert by_category["related"]["subjects_with_event"] == overview["Treatment-related TEAE"]
    for aesi, subjects in bundled["t_aesi"].select("aesi", "subjects").iter_rows():
        assert by_category[f"aesi_{aesi}"]["subjects_with_event"] == subjects, aesi

    treated = bundled["int_subject_dosing"].filter(pl.col("treated"))
    cut = BUNDLED_CUT
    ends = {}
    for row in treated.iter_rows(named=True):
        candidates = [row["last_dose_date"] + timedelta(days=30), cut]
        if row["death_date"] is not None:
            candidates.append(row["death_date"])
        candidates.append(row["last_contact_date"] if row["last_contact_recorded"] else row["last_dose_date"])
        ends[row["subject_id"]] = (row["first_dose_date"], max(min(candidates), row["first_dose_date"]))
    teae = bundled["int_adverse_events"].filter(pl.col("teae"))
    for category, events in (("any_teae", teae), ("serious", teae.filter(pl.col("serious") == "Y"))):
        first = dict(events.group_by("subject_id").agg(pl.col("onset_date").min()).iter_rows())
        days = sum(((first.get(s) or end) - start).days + 1 for s, (start, end) in ends.items())
        assert by_category[category]["subject_days"] == days, category


@pytest.mark.slow
def test_bundled_time_to_modification_counts(bundled):
    """Subjects with a reduction or hold, from the stored rows: a held or reduced row, or a dose
    below the planned one (not a discontinuation), on or after the agent's first dose."""
    rows = bundled["stg_exposure"]
    first = rows.filter(pl.col("dose_mg") > 0).group_by("subject_id", "agent").agg(pl.col("start_date").min().alias("first"))
    modified = (
        rows.join(first, on=["subject_id", "agent"])
        .filter(pl.col("start_date") >= pl.col("first"))
        .filter(pl.col("adjustment").is_in(["held", "reduced"]) | ((pl.col("dose_mg") < pl.col("planned_dose_mg")) & (pl.col("adjustment") != "discontinued")))
    )
    counts = dict(modified.group_by("agent").agg(pl.col("subject_id").n_unique()).iter_rows())
    table = {row["agent"]: row for row in bundled["t_time_to_modification"].iter_rows(named=True)}
    for agent in ("apatinib", "anti_pd1"):
        assert table[agent]["subjects_modified"] == counts.get(agent, 0), agent
