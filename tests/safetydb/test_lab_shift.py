"""LBT14-style lab shift on the mini trial with hand-made lab results, graded by hand (CTCAE v5.0).

First doses: S1 2025-01-10, S2 2025-01-15 (last dose 2025-03-15, TEAE window to 2025-04-14),
S3 2025-02-01, S5 2025-05-01. Baseline = the last result on or before the first dose; on
treatment = after the first dose, within the TEAE window.

The rule pinned here: a baseline result is graded against the normal range (x ULN / x LLN), as
if its own baseline were normal; CTCAE's "baseline abnormal" branches (x baseline) apply to the
results after it. Graded against itself, every baseline ALT, AST, ALP or bilirubin above ULN came
out grade 0 (1.0 x baseline meets no band).

ALT (ULN 40 U/L; grade 1 >ULN-3.0 x ULN, 2 >3.0-5.0 x ULN, 3 >5.0-20.0 x ULN if baseline normal;
grade 1 1.5-3.0 x baseline, 2 >3.0-5.0 x baseline if baseline abnormal, i.e. > ULN):

* S1: baseline 30 (the 01-02 value 60 is not the last before dosing) -> grade 0; on treatment 130
  = 3.25 x ULN -> 2, 50 -> 1: worst 2.
* S2: baseline 35 -> 0; 45 = 1.125 x ULN -> 1; 300 on 2025-05-01 is after the TEAE window: worst 1.
* S3: baseline 100 = 2.5 x ULN -> grade 1 (>ULN - 3.0 x ULN). On treatment 350 = 3.5 x baseline,
  baseline abnormal -> grade 2 (>3.0 - 5.0 x baseline; the x ULN branch would say 8.75 x ULN -> 3).
* S5: no ALT on or before the first dose -> baseline missing. 35 <= ULN is grade 0 on both
  branches; 90 > ULN without a baseline is not gradable (1-4 by branch) and not counted: worst 0.

Bilirubin (ULN 20.5 umol/L): S1 baseline 35 = 1.71 x ULN -> grade 2 (>1.5 - 3.0 x ULN); on treatment
80 = 2.29 x baseline, baseline abnormal -> grade 2 (>1.5 - 3.0 x baseline; 3.9 x ULN would be 3).
"""

from datetime import date

import polars as pl
import pytest

from flows.stages import ingest
from safetydb.lab_grades import derive_lab_grades, first_dose_dates
from safetydb.models import build_cut_models
from safetydb.store import SafetyStore
from tests.conftest import make_mini_trial
from trial.config import load_trial_config

LABS = """subject_id,collection_date,test_code,value,unit,lln,uln
S1,2025-01-02,ALT,60,U/L,,40
S1,2025-01-08,ALT,30,U/L,,40
S1,2025-02-07,ALT,130,U/L,,40
S1,2025-03-07,ALT,50,U/L,,40
S2,2025-01-14,ALT,35,U/L,,40
S2,2025-02-12,ALT,45,U/L,,40
S2,2025-05-01,ALT,300,U/L,,40
S3,2025-01-30,ALT,100,U/L,,40
S3,2025-02-10,ALT,350,U/L,,40
S5,2025-05-20,ALT,35,U/L,,40
S5,2025-06-10,ALT,90,U/L,,40
S1,2025-01-08,BILI,35,umol/L,3.4,20.5
S1,2025-02-07,BILI,80,umol/L,3.4,20.5
S3,2025-01-30,PLT,140,10^9/L,150,400
S3,2025-02-10,PLT,40,10^9/L,150,400
S2,2025-02-12,PLT,100,10^9/L,150,400
S5,2025-04-28,K,4.0,mmol/L,3.5,5.3
S5,2025-05-20,K,3.2,mmol/L,3.5,5.3
S5,2025-06-10,K,5.8,mmol/L,3.5,5.3
"""


@pytest.fixture(scope="module")
def shift(tmp_path_factory) -> pl.DataFrame:
    """The shift table as build_cut_models makes it from the stored cut (the analyse stage's models)."""
    config_path = make_mini_trial(tmp_path_factory.mktemp("labs"))
    (config_path.parent / "labs.csv").write_text(LABS)
    loaded = ingest(config_path)
    with SafetyStore(loaded.database_path) as store:
        build_cut_models(store, load_trial_config(config_path), loaded.cut_id, date.fromisoformat(loaded.cut_date))
        return store.model("t_lab_shift")


def counts(shift: pl.DataFrame, term: str, baseline: int | None) -> list[int]:
    rows = shift.filter((pl.col("ctcae_term") == term) & (pl.col("baseline_grade").eq_missing(baseline)))
    assert rows.height == 1, (term, baseline)
    row = rows.row(0, named=True)
    return [row[f"worst_grade_{g}"] for g in range(5)] + [row["denominator"]]


ALT = "Alanine aminotransferase increased"


def test_alt_has_a_row_for_each_baseline_grade_present(shift):
    # Baseline grades: S1 0, S2 0, S3 1, S5 missing. Grade 1 is the row the self-graded baseline lost.
    grades = shift.filter(pl.col("ctcae_term") == ALT)["baseline_grade"].to_list()
    assert grades == [None, 0, 1]


def test_alt_baseline_normal_worst_on_treatment(shift):
    # S1 worst 2, S2 worst 1 (its 300 U/L is after the TEAE window); N = 4 subjects with a gradable ALT on treatment.
    assert counts(shift, ALT, 0) == [0, 1, 1, 0, 0, 4]


def test_alt_baseline_above_uln_is_graded_against_uln_and_later_values_against_baseline(shift):
    # S3: baseline 100 = 2.5 x ULN -> 1; 350 = 3.5 x baseline -> 2 (not 3 by x ULN).
    assert counts(shift, ALT, 1) == [0, 0, 1, 0, 0, 4]


def test_alt_without_baseline_is_its_own_row(shift):
    # S5: no baseline; 35 U/L -> 0 on either branch, 90 U/L not gradable without a baseline.
    assert counts(shift, ALT, None) == [1, 0, 0, 0, 0, 4]


def test_bilirubin_baseline_grade_2(shift):
    # S1: baseline 35 = 1.71 x ULN -> 2; 80 = 2.29 x baseline -> 2.
    assert counts(shift, "Blood bilirubin increased", 2) == [0, 0, 1, 0, 0, 1]


def test_platelets_with_and_without_baseline(shift):
    # S3: baseline 140 (< LLN 150, >= 75) -> 1; 40 (< 50, >= 25) -> 3. S2: no baseline; 100 -> 1.
    assert counts(shift, "Platelet count decreased", 1) == [0, 0, 0, 1, 0, 2]
    assert counts(shift, "Platelet count decreased", None) == [0, 1, 0, 0, 0, 2]


def test_potassium_counts_each_direction(shift):
    # S5: baseline 4.0 normal; 3.2 < LLN -> hypokalemia 1; 5.8 (> 5.5 - 6.0) -> hyperkalemia 2.
    assert counts(shift, "Hypokalemia", 0) == [0, 1, 0, 0, 0, 1]
    assert counts(shift, "Hyperkalemia", 0) == [0, 0, 1, 0, 0, 1]


def test_shift_grain_is_unique(shift):
    assert shift.select("test_code", "ctcae_term", "baseline_grade").is_duplicated().sum() == 0


# ---- derive_lab_grades on frames: the grade stored for each result -----------------------------
#
# Subject A first dose 2025-01-10; subject U never dosed. Units U/L (ALT, AST), umol/L (BILI, CREAT).
#   A ALT 2025-01-02  60, ULN 40: before the baseline, pre-treatment -> x ULN: 1.5 x ULN -> grade 1
#   A ALT 2025-01-08 100, ULN 40: baseline, 2.5 x ULN -> grade 1 (was 0: 1.0 x itself)
#   A ALT 2025-02-07 160, ULN 40: 1.6 x baseline 100, baseline abnormal -> grade 1 (1.5 - 3.0 x baseline)
#   A BILI 2025-01-08 35, ULN 20.5: baseline, 1.71 x ULN -> grade 2
#   A CREAT 2025-01-08 200, ULN 100: baseline, 2.0 x ULN -> grade 2 (>1.5 - 3.0 x ULN); the x baseline
#     rule against itself (1.0 x) is never met
#   A CREAT 2025-02-07 350, ULN 100: 3.5 x ULN -> 3 (>3.0 - 6.0 x ULN); 1.75 x baseline -> 2; worse: 3
#   U AST 2025-01-08 100, ULN 40: never dosed, so never post-baseline -> x ULN: 2.5 x ULN -> grade 1
GRADED_BY_HAND = [
    # subject, date, test, value, uln, is_baseline, baseline, grade
    ("A", date(2025, 1, 2), "ALT", 60.0, 40.0, False, 100.0, 1),
    ("A", date(2025, 1, 8), "ALT", 100.0, 40.0, True, 100.0, 1),
    ("A", date(2025, 2, 7), "ALT", 160.0, 40.0, False, 100.0, 1),
    ("A", date(2025, 1, 8), "BILI", 35.0, 20.5, True, 35.0, 2),
    ("A", date(2025, 1, 8), "CREAT", 200.0, 100.0, True, 200.0, 2),
    ("A", date(2025, 2, 7), "CREAT", 350.0, 100.0, False, 200.0, 3),
    ("U", date(2025, 1, 8), "AST", 100.0, 40.0, False, None, 1),
]
UNITS = {"ALT": "U/L", "AST": "U/L", "BILI": "umol/L", "CREAT": "umol/L"}


def test_pre_treatment_results_are_graded_against_the_normal_range():
    labs = pl.DataFrame(
        {
            "subject_id": [row[0] for row in GRADED_BY_HAND],
            "collection_date": [row[1] for row in GRADED_BY_HAND],
            "test_code": [row[2] for row in GRADED_BY_HAND],
            "value": [row[3] for row in GRADED_BY_HAND],
            "unit": [UNITS[row[2]] for row in GRADED_BY_HAND],
            "lln": [None] * len(GRADED_BY_HAND),
            "uln": [row[4] for row in GRADED_BY_HAND],
            "_row": list(range(len(GRADED_BY_HAND))),
        },
        schema_overrides={"lln": pl.Float64},
    )
    exposure = pl.DataFrame({"subject_id": ["A"], "start_date": [date(2025, 1, 10)], "dose_mg": [250.0], "planned_dose_mg": [250.0]})
    graded = derive_lab_grades(labs, first_dose_dates(exposure), version="5.0").sort("_row")
    assert graded["is_baseline"].to_list() == [row[5] for row in GRADED_BY_HAND]
    assert graded["baseline"].to_list() == [row[6] for row in GRADED_BY_HAND]
    assert graded["toxicity_grade"].to_list() == [row[7] for row in GRADED_BY_HAND]
    assert graded["gradable"].all()
