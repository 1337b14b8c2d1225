"""Values against reports: graded lab results and blood pressure against the AEs of their CTCAE term.

Mini trial (tests/data/mini), cut 2025-07-01, CTCAE v5.0, TEAE window last dose + 30 days,
value_ae_window_days = 14 (the default). First doses: S1 2025-01-10, S2 2025-01-15 (last dose
2025-03-15, so on treatment up to 2025-04-14), S3 2025-02-01, S5 2025-05-01. On treatment = after
the first dose and within the TEAE window. A value and an AE match when they belong to the same
subject, the AE's CTCAE term is the value's graded term, and onset is within 14 days of the
value, before or after (14 included).

Hand-made labs (grades from the v5.0 text) and the AEs added to the mini trial (AE15-AE18):

* S1 ALT 250 U/L on 2025-02-07, ULN 40, baseline 30 (normal): 6.25 x ULN -> grade 3 (>5.0 - 20.0
  x ULN). S1 has no ALT AE -> value_without_ae "S1/ALT/2025-02-07".
* S3 PLT 40 x 10^9/L on 2025-02-10 -> grade 3 (<50 - 25). AE15 Platelet count decreased grade 1,
  onset 2025-02-15 (5 days later) -> the value has an AE, so no value_without_ae; AE15 is graded
  below it -> ae_grade_below_value "AE15". (The 140 on 2025-01-30 is S3's baseline: not on treatment.)
* S2 NEUT 0.8 x 10^9/L on 2025-02-20 -> grade 3 (<1.0 - 0.5); AE16 Neutrophil count decreased
  grade 3, onset 2025-02-22 -> no query.
* S1 PLT 45 on 2025-03-10 -> grade 3; AE17 Platelet count decreased grade 3 starts 2025-03-25,
  15 days later: outside the window -> value_without_ae "S1/PLT/2025-03-10"; AE17 has no value
  within 14 days -> no AE query. With a window of 15 days they match and neither query remains.
* S5 PLT 40 on 2025-06-01 -> grade 3; AE18 Platelet count decreased grade 3 starts 2025-05-18,
  exactly 14 days before -> matched, equal grades -> no query.
* S2 ALT 300 U/L on 2025-05-01 (baseline 35): 7.5 x ULN -> grade 3, but after S2's TEAE window
  (2025-04-14) -> not on treatment, no query.

Blood pressure (v5.0 Hypertension, adult: grade 1 SBP 120-139 or DBP 80-89, grade 2 140-159 or
90-99, grade 3 SBP >= 160 or DBP >= 100; the worse of the two):

* S1 128/82 on 2025-01-08 -> 1, before the first dose: not on treatment.
* S1 150/95 on 2025-01-18 -> 2; S1 162/98 on 2025-01-25 -> 3 (SBP >= 160). AE1 Hypertension grade 2
  starts 2025-01-20: the 2025-01-25 value has an AE (5 days) -> no value_without_ae; the worst value
  within 14 days of AE1 is grade 3 > 2 -> ae_grade_below_value "AE1".
* S1 170/100 on 2025-04-25 -> 3; AE2 Hypertension grade 3 starts 2025-05-01 (6 days) -> no query.
* S5 170/105 on 2025-04-28 -> 3, before S5's first dose: no query.
* S5 165/105 on 2025-05-20 -> 3; S5 has no Hypertension AE -> value_without_ae "S5/2025-05-20".

Expected: value_without_ae = {labs S1/ALT/2025-02-07, labs S1/PLT/2025-03-10,
vitals S5/2025-05-20}; ae_grade_below_value = {adverse_events AE1, adverse_events AE15}.
"""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from flows.stages import ingest
from safetydb.lab_grades import derive_vital_grades
from safetydb.models import build_cut_models, model_parameters, reconciliation_findings
from safetydb.store import RECONCILIATION_COLUMNS, SafetyStore, model_grain
from tests.conftest import make_mini_trial
from trial.config import load_trial_config

LABS = """subject_id,collection_date,test_code,value,unit,lln,uln
S1,2025-01-08,ALT,30,U/L,7,40
S1,2025-02-07,ALT,250,U/L,7,40
S2,2025-01-14,ALT,35,U/L,7,40
S2,2025-05-01,ALT,300,U/L,7,40
S3,2025-01-30,PLT,140,10^9/L,150,400
S3,2025-02-10,PLT,40,10^9/L,150,400
S2,2025-02-20,NEUT,0.8,10^9/L,2.0,7.5
S1,2025-03-10,PLT,45,10^9/L,150,400
S5,2025-06-01,PLT,40,10^9/L,150,400
"""
VITALS = """subject_id,measure_date,sbp_mmhg,dbp_mmhg,heart_rate_bpm,weight_kg
S1,2025-01-08,128,82,70,70
S1,2025-01-18,150,95,72,70
S1,2025-01-25,162,98,75,70
S1,2025-04-25,170,100,80,70
S5,2025-04-28,170,105,80,60
S5,2025-05-20,165,105,78,60
"""
ADVERSE_EVENTS = """AE15,S3,low platelets,Platelet count decreased,,1,2025-02-15,2025-02-18,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,
AE16,S2,neutropenia,Neutrophil count decreased,,3,2025-02-22,2025-03-01,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,
AE17,S1,thrombocytopenia,Platelet count decreased,,3,2025-03-25,2025-04-01,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,
AE18,S5,thrombocytopenia,Platelet count decreased,,3,2025-05-18,2025-05-25,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,
"""
CHECKS = ("value_without_ae", "ae_grade_below_value")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The mini trial plus the hand-made values and AEs, stored and modelled; yields (store, parameters)."""
    config_path = make_mini_trial(tmp_path_factory.mktemp("reconcile"))
    folder = config_path.parent
    (folder / "labs.csv").write_text(LABS)
    (folder / "vitals.csv").write_text(VITALS)
    with (folder / "adverse_events.csv").open("a") as handle:
        handle.write(ADVERSE_EVENTS)
    loaded = ingest(config_path)
    config = load_trial_config(config_path)
    cut_date = date.fromisoformat(loaded.cut_date)
    assert cut_date == date(2025, 7, 1)
    store = SafetyStore(loaded.database_path)
    build_cut_models(store, config, loaded.cut_id, cut_date)
    yield store, model_parameters(config, loaded.cut_id, cut_date)
    store.close()


@pytest.fixture(scope="module")
def findings(built) -> pl.DataFrame:
    store, _ = built
    return reconciliation_findings(store).filter(pl.col("check").is_in(CHECKS))


def keys(findings: pl.DataFrame, check: str) -> list[tuple[str, str]]:
    rows = findings.filter(pl.col("check") == check).sort("source", "record_key")
    return list(zip(rows["source"].to_list(), rows["record_key"].to_list()))


def test_vitals_are_graded_as_hypertension_when_stored():
    # 165/105 -> 3 (both >= 160 / >= 100); 150/95 -> 2; 128/82 -> 1; 118/75 -> 0;
    # 150/- -> not gradable (2 or 3 without the diastolic); -/105 -> 3 (diastolic alone reaches 3).
    vitals = pl.DataFrame(
        {"sbp_mmhg": [165, 150, 128, 118, 150, None], "dbp_mmhg": [105, 95, 82, 75, None, 105]},
        schema={"sbp_mmhg": pl.Int64, "dbp_mmhg": pl.Int64},
    )
    graded = derive_vital_grades(vitals, version="5.0")
    assert graded["toxicity_grade"].to_list() == [3, 2, 1, 0, None, 3]
    assert graded["gradable"].to_list() == [True, True, True, True, False, True]
    assert set(graded["toxicity_term"].to_list()) == {"Hypertension"}


def test_value_grade_3_without_an_ae_of_its_term(findings):
    # ALT 250 on 2025-02-07 (no ALT AE), PLT 45 on 2025-03-10 (AE17 15 days later), BP 165/105 of S5.
    assert keys(findings, "value_without_ae") == [
        ("labs", "S1/ALT/2025-02-07"),
        ("labs", "S1/PLT/2025-03-10"),
        ("vitals", "S5/2025-05-20"),
    ]


def test_ae_graded_below_the_worst_value_in_the_window(findings):
    # AE15 grade 1 vs PLT 40 (grade 3) 5 days before; AE1 grade 2 vs BP 162/98 (grade 3) 5 days after.
    assert keys(findings, "ae_grade_below_value") == [("adverse_events", "AE1"), ("adverse_events", "AE15")]


def test_problem_and_fix_state_the_numbers(findings):
    alt = findings.filter(pl.col("record_key") == "S1/ALT/2025-02-07").row(0, named=True)
    assert (alt["subject_id"], alt["field"], alt["value"]) == ("S1", "value", "250")
    assert alt["problem"] == (
        "ALT 250 U/L on 2025-02-07 grades 3 for Alanine aminotransferase increased (LLN 7, ULN 40, baseline 30)"
        " and no Alanine aminotransferase increased AE starts within 14 days of it"
    )
    assert alt["fix"] == "report the Alanine aminotransferase increased adverse event, or explain the value"
    pressure = findings.filter(pl.col("record_key") == "S5/2025-05-20").row(0, named=True)
    assert (pressure["field"], pressure["value"]) == ("sbp_mmhg/dbp_mmhg", "165/105")
    assert pressure["problem"] == (
        "BP 165/105 mmHg on 2025-05-20 grades 3 for Hypertension and no Hypertension AE starts within 14 days of it"
    )
    platelets = findings.filter(pl.col("record_key") == "AE15").row(0, named=True)
    assert (platelets["subject_id"], platelets["field"], platelets["value"]) == ("S3", "grade", "1")
    assert platelets["problem"] == (
        "Platelet count decreased grade 1 (onset 2025-02-15) is below PLT 40 10^9/L on 2025-02-10, which grades 3"
        " (LLN 150, ULN 400, baseline 140), 5 days before onset"
    )
    hypertension = findings.filter(pl.col("record_key") == "AE1").row(0, named=True)
    assert hypertension["problem"] == (
        "Hypertension grade 2 (onset 2025-01-20) is below BP 162/98 mmHg on 2025-01-25, which grades 3, 5 days after onset"
    )


def test_window_is_the_bound_parameter(built):
    # A 15-day window matches PLT 45 (2025-03-10) with AE17 (2025-03-25), both grade 3: no query left for either.
    store, parameters = built
    wider = replace(parameters, value_ae_window_days=15).as_dict()
    for name in ("q_value_without_ae", "q_ae_grade_below_value"):
        store.run_model_into(name, wider)
    try:
        widened = reconciliation_findings(store).filter(pl.col("check").is_in(CHECKS))
        assert keys(widened, "value_without_ae") == [("labs", "S1/ALT/2025-02-07"), ("vitals", "S5/2025-05-20")]
        assert keys(widened, "ae_grade_below_value") == [("adverse_events", "AE1"), ("adverse_events", "AE15")]
    finally:
        for name in ("q_value_without_ae", "q_ae_grade_below_value"):
            store.run_model_into(name, parameters.as_dict())


@pytest.mark.parametrize("model", ["q_value_without_ae", "q_ae_grade_below_value"])
def test_model_shape_and_grain(built, model):
    store, _ = built
    frame = store.model(model)
    assert tuple(frame.columns) == RECONCILIATION_COLUMNS
    assert frame.height > 0
    assert frame.select(model_grain(model)).is_duplicated().sum() == 0
