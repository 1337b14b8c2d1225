"""CTCAE v5.0 grading from measurements: hand-typed cut-point tables, units, missing references.

Every cut-point is checked on both sides. The expected grades are typed from the CTCAE v5.0
grade text, not computed from the criteria file.
"""

from __future__ import annotations

import json

import pytest

from ctcae.criteria import SUPPORTED_TESTS, criteria_table, lab_test_catalogue
from ctcae.grade_value import GradeResult, grade, grade_blood_pressure

ALT_TERM = "Alanine aminotransferase increased"


def assert_grade(result: GradeResult, expected_grade: int, expected_term: str | None = "unchanged") -> None:
    assert result.gradable, result.reason
    assert result.reason is None
    assert result.grade == expected_grade, result.criterion
    if expected_term != "unchanged":
        assert result.ctcae_term == expected_term


# --- Liver enzymes and bilirubin: x ULN when baseline normal, x baseline when abnormal -------

# (test, uln, value, grade) with a normal baseline (baseline below ULN)
BASELINE_NORMAL_CASES = [
    # ALT, ULN 40: >ULN-3.0; >3.0-5.0; >5.0-20.0; >20.0 x ULN
    ("ALT", 40, 40, 0), ("ALT", 40, 40.01, 1), ("ALT", 40, 120, 1), ("ALT", 40, 120.01, 2),
    ("ALT", 40, 200, 2), ("ALT", 40, 200.01, 3), ("ALT", 40, 800, 3), ("ALT", 40, 800.01, 4),
    # AST, ULN 35: same factors as ALT
    ("AST", 35, 35, 0), ("AST", 35, 35.01, 1), ("AST", 35, 105, 1), ("AST", 35, 105.01, 2),
    ("AST", 35, 175, 2), ("AST", 35, 175.01, 3), ("AST", 35, 700, 3), ("AST", 35, 700.01, 4),
    # ALP, ULN 100: >ULN-2.5; >2.5-5.0; >5.0-20.0; >20.0 x ULN
    ("ALP", 100, 100, 0), ("ALP", 100, 100.01, 1), ("ALP", 100, 250, 1), ("ALP", 100, 250.01, 2),
    ("ALP", 100, 500, 2), ("ALP", 100, 500.01, 3), ("ALP", 100, 2000, 3), ("ALP", 100, 2000.01, 4),
    # Bilirubin, ULN 20 umol/L: >ULN-1.5; >1.5-3.0; >3.0-10.0; >10.0 x ULN
    ("BILI", 20, 20, 0), ("BILI", 20, 20.01, 1), ("BILI", 20, 30, 1), ("BILI", 20, 30.01, 2),
    ("BILI", 20, 60, 2), ("BILI", 20, 60.01, 3), ("BILI", 20, 200, 3), ("BILI", 20, 200.01, 4),
]


@pytest.mark.parametrize(("test", "uln", "value", "expected"), BASELINE_NORMAL_CASES)
def test_hepatic_baseline_normal_branch(test, uln, value, expected):
    result = grade(test, value, uln=uln, baseline=uln * 0.5)
    assert_grade(result, expected)
    if expected > 0:
        assert "baseline normal" in result.criterion


# (test, uln, baseline, value, grade) with an abnormal baseline (baseline > ULN)
BASELINE_ABNORMAL_CASES = [
    # ALT, ULN 40, baseline 100: 1.5-3.0 (1.5 inclusive); >3.0-5.0; >5.0-20.0; >20.0 x baseline
    ("ALT", 40, 100, 30, 0), ("ALT", 40, 100, 149.99, 0), ("ALT", 40, 100, 150, 1),
    ("ALT", 40, 100, 300, 1), ("ALT", 40, 100, 300.01, 2), ("ALT", 40, 100, 500, 2),
    ("ALT", 40, 100, 500.01, 3), ("ALT", 40, 100, 2000, 3), ("ALT", 40, 100, 2000.01, 4),
    # AST, ULN 35, baseline 50
    ("AST", 35, 50, 74.99, 0), ("AST", 35, 50, 75, 1), ("AST", 35, 50, 150, 1),
    ("AST", 35, 50, 150.01, 2), ("AST", 35, 50, 250, 2), ("AST", 35, 50, 250.01, 3),
    ("AST", 35, 50, 1000, 3), ("AST", 35, 50, 1000.01, 4),
    # ALP, ULN 100, baseline 200: 2.0-2.5 (2.0 inclusive); >2.5-5.0; >5.0-20.0; >20.0 x baseline
    ("ALP", 100, 200, 399.99, 0), ("ALP", 100, 200, 400, 1), ("ALP", 100, 200, 500, 1),
    ("ALP", 100, 200, 500.01, 2), ("ALP", 100, 200, 1000, 2), ("ALP", 100, 200, 1000.01, 3),
    ("ALP", 100, 200, 4000, 3), ("ALP", 100, 200, 4000.01, 4),
    # Bilirubin, ULN 20, baseline 30: >1.0-1.5; >1.5-3.0; >3.0-10.0; >10.0 x baseline
    ("BILI", 20, 30, 30, 0), ("BILI", 20, 30, 30.01, 1), ("BILI", 20, 30, 45, 1),
    ("BILI", 20, 30, 45.01, 2), ("BILI", 20, 30, 90, 2), ("BILI", 20, 30, 90.01, 3),
    ("BILI", 20, 30, 300, 3), ("BILI", 20, 30, 300.01, 4),
]


@pytest.mark.parametrize(("test", "uln", "baseline", "value", "expected"), BASELINE_ABNORMAL_CASES)
def test_hepatic_baseline_abnormal_branch(test, uln, baseline, value, expected):
    result = grade(test, value, uln=uln, baseline=baseline)
    assert_grade(result, expected)
    if expected > 0:
        assert "baseline abnormal" in result.criterion


def test_baseline_equal_to_uln_counts_as_normal():
    assert_grade(grade("ALT", 40.01, uln=40, baseline=40), 1)
    assert "baseline normal" in grade("ALT", 40.01, uln=40, baseline=40).criterion
    assert_grade(grade("ALT", 40.01, uln=40, baseline=40.01), 0)  # abnormal: 1.0 x baseline


@pytest.mark.parametrize("test", ["ALT", "AST", "ALP", "BILI"])
def test_hepatic_without_baseline_is_grade_0_at_or_below_uln(test):
    """A value <= ULN is grade 0 on both branches, so the baseline is not needed."""
    assert_grade(grade(test, 40, uln=40), 0)
    assert_grade(grade(test, 10, uln=40), 0)


@pytest.mark.parametrize(("test", "value"), [("ALT", 40.01), ("AST", 100), ("ALP", 1000), ("BILI", 500)])
def test_hepatic_without_baseline_above_uln_is_not_gradable(test, value):
    result = grade(test, value, uln=40)
    assert not result.gradable
    assert result.grade is None
    assert result.reason.startswith("baseline missing")


def test_hepatic_without_baseline_reports_possible_grades():
    # 1.2 x ULN: grade 1 if baseline normal; below 1.5 x baseline (grade 0) if abnormal
    assert grade("ALT", 48, uln=40).reason == (
        "baseline missing; Alanine aminotransferase increased could be grade 0 or 1"
    )


@pytest.mark.parametrize("test", ["ALT", "AST", "ALP", "BILI", "CK", "CREAT"])
def test_uln_missing_is_not_gradable(test):
    result = grade(test, 100, baseline=20)
    assert not result.gradable
    assert "ULN missing" in result.reason


# --- Creatinine: worse of the x ULN rule and the x baseline rule ------------------------------

CREATININE_CASES = [
    # (uln, baseline, value, grade, note)
    # x ULN chain; baseline = ULN so the x baseline rule never exceeds the x ULN rule
    (100, 100, 100, 0, ""), (100, 100, 100.01, 1, ""), (100, 100, 150, 1, ""),
    (100, 100, 150.01, 2, ""), (100, 100, 300, 2, ""), (100, 100, 300.01, 3, ""),
    (100, 100, 600, 3, ""), (100, 100, 600.01, 4, ""),
    # x baseline chain, baseline 40: >1.5-3.0 x baseline grade 2, >3.0 x baseline grade 3
    (100, 40, 60, 0, "1.5 x baseline exactly, below ULN"),
    (100, 40, 60.01, 2, "above 1.5 x baseline although below ULN"),
    (100, 40, 100, 2, "x ULN gives 0, x baseline gives 2"),
    (100, 40, 120, 2, "x ULN gives 1, x baseline 3.0 exactly gives 2"),
    (100, 40, 120.01, 3, "above 3 x baseline"),
    (100, 40, 600.01, 4, "x ULN grade 4 beats x baseline grade 3"),
    # baseline above ULN: x ULN rule is the worse one
    (100, 200, 310, 3, "1.55 x baseline (2) but 3.1 x ULN (3)"),
    (100, 200, 120, 1, "x baseline 0.6, x ULN grade 1"),
]


@pytest.mark.parametrize(("uln", "baseline", "value", "expected", "note"), CREATININE_CASES)
def test_creatinine(uln, baseline, value, expected, note):
    assert_grade(grade("CREAT", value, uln=uln, baseline=baseline, unit="umol/L"), expected)


@pytest.mark.parametrize(("value", "possible"), [(90, "0, 2 or 3"), (120, "1, 2 or 3"), (200, "2 or 3")])
def test_creatinine_without_baseline_is_not_gradable_below_3x_uln(value, possible):
    result = grade("CREAT", value, uln=100, unit="umol/L")
    assert not result.gradable
    assert result.reason == f"baseline missing; Creatinine increased could be grade {possible}"


@pytest.mark.parametrize(("value", "expected"), [(300.01, 3), (600, 3), (600.01, 4)])
def test_creatinine_without_baseline_is_gradable_from_3x_uln(value, expected):
    """The x baseline rule tops out at grade 3, so a x ULN grade of 3 or 4 is final."""
    assert_grade(grade("CREAT", value, uln=100, unit="umol/L"), expected)


def test_creatinine_without_uln_but_with_baseline():
    result = grade("CREAT", 130, baseline=40)  # 3.25 x baseline: grade 3, but x ULN could be 4
    assert not result.gradable
    assert result.reason == "ULN missing; Creatinine increased could be grade 3 or 4"


# --- CPK -------------------------------------------------------------------------------------

CK_CASES = [
    # ULN 200: >ULN-2.5; >2.5-5; >5-10; >10 x ULN
    (200, 0), (200.01, 1), (500, 1), (500.01, 2), (1000, 2), (1000.01, 3), (2000, 3), (2000.01, 4),
]


@pytest.mark.parametrize(("value", "expected"), CK_CASES)
def test_cpk(value, expected):
    assert_grade(grade("CK", value, uln=200, unit="U/L"), expected, "CPK increased")


# --- Blood counts and hemoglobin (absolute cut-points, grade 1 needs LLN) -------------------

COUNT_CASES = [
    # (test, lln, value, grade), values in 10^9/L
    # Platelets: <LLN-75; <75-50; <50-25; <25
    ("PLT", 150, 150, 0), ("PLT", 150, 149.99, 1), ("PLT", 150, 75, 1), ("PLT", 150, 74.99, 2),
    ("PLT", 150, 50, 2), ("PLT", 150, 49.99, 3), ("PLT", 150, 25, 3), ("PLT", 150, 24.99, 4),
    # Neutrophils: <LLN-1.5; <1.5-1.0; <1.0-0.5; <0.5
    ("NEUT", 2.0, 2.0, 0), ("NEUT", 2.0, 1.99, 1), ("NEUT", 2.0, 1.5, 1), ("NEUT", 2.0, 1.49, 2),
    ("NEUT", 2.0, 1.0, 2), ("NEUT", 2.0, 0.99, 3), ("NEUT", 2.0, 0.5, 3), ("NEUT", 2.0, 0.49, 4),
    # White cells: <LLN-3.0; <3.0-2.0; <2.0-1.0; <1.0
    ("WBC", 4.0, 4.0, 0), ("WBC", 4.0, 3.99, 1), ("WBC", 4.0, 3.0, 1), ("WBC", 4.0, 2.99, 2),
    ("WBC", 4.0, 2.0, 2), ("WBC", 4.0, 1.99, 3), ("WBC", 4.0, 1.0, 3), ("WBC", 4.0, 0.99, 4),
    # Lymphocytes: <LLN-0.8; <0.8-0.5; <0.5-0.2; <0.2
    ("LYMPH", 1.1, 1.1, 0), ("LYMPH", 1.1, 1.09, 1), ("LYMPH", 1.1, 0.8, 1), ("LYMPH", 1.1, 0.79, 2),
    ("LYMPH", 1.1, 0.5, 2), ("LYMPH", 1.1, 0.49, 3), ("LYMPH", 1.1, 0.2, 3), ("LYMPH", 1.1, 0.19, 4),
]
COUNT_TERMS = {
    "PLT": "Platelet count decreased",
    "NEUT": "Neutrophil count decreased",
    "WBC": "White blood cell decreased",
    "LYMPH": "Lymphocyte count decreased",
}


@pytest.mark.parametrize(("test", "lln", "value", "expected"), COUNT_CASES)
def test_blood_counts(test, lln, value, expected):
    result = grade(test, value, lln=lln, uln=lln * 3, unit="10^9/L")
    assert_grade(result, expected)
    if expected > 0:
        assert result.ctcae_term == COUNT_TERMS[test]


@pytest.mark.parametrize(
    ("test", "value", "expected_term", "expected"),
    [
        ("LYMPH", 4.0, None, 0), ("LYMPH", 4.01, "Lymphocyte count increased", 2),
        ("LYMPH", 20, "Lymphocyte count increased", 2), ("LYMPH", 20.01, "Lymphocyte count increased", 3),
        ("WBC", 100, None, 0), ("WBC", 100.01, "Leukocytosis", 3),
    ],
)
def test_counts_increased_direction(test, value, expected_term, expected):
    """v5.0 has no grade 1 for either term; below their first cut-point the value is grade 0."""
    assert_grade(grade(test, value, lln=1.0, uln=3.5, unit="10^9/L"), expected, expected_term)


def test_count_term_name_grades_only_that_term():
    assert_grade(grade("White blood cell decreased", 150, lln=4, unit="10^9/L"), 0, "White blood cell decreased")
    assert_grade(grade("leukocytosis", 150, lln=4, unit="10^9/L"), 3, "Leukocytosis")


@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [("PLT", 74.99, 2), ("PLT", 49.99, 3), ("PLT", 24.99, 4), ("NEUT", 1.49, 2), ("NEUT", 0.49, 4),
     ("WBC", 2.99, 2), ("LYMPH", 0.79, 2), ("LYMPH", 0.19, 4)],
)
def test_counts_without_lln_still_give_grades_2_to_4(test, value, expected):
    assert_grade(grade(test, value, unit="10^9/L"), expected)


@pytest.mark.parametrize(("test", "value"), [("PLT", 75), ("PLT", 300), ("NEUT", 1.5), ("WBC", 3.0), ("LYMPH", 0.8)])
def test_counts_without_lln_at_or_above_grade_2_cut_point_are_not_gradable(test, value):
    result = grade(test, value, unit="10^9/L")
    assert not result.gradable
    assert result.reason == f"LLN missing; {COUNT_TERMS[test]} could be grade 0 or 1"


def test_lln_below_grade_1_cut_point_leaves_grade_1_empty():
    """LLN 0.7: a lymphocyte count of 0.75 is within normal limits yet below 0.8 -> grade 2 as written."""
    assert_grade(grade("LYMPH", 0.75, lln=0.7, unit="10^9/L"), 2)
    assert_grade(grade("LYMPH", 0.8, lln=0.7, unit="10^9/L"), 0)


ANEMIA_CASES = [
    # Hb g/L, LLN 130: <LLN-100; <100-80; <80
    (130, 0), (129.9, 1), (100, 1), (99.9, 2), (80, 2), (79.9, 3), (30, 3),
]


@pytest.mark.parametrize(("value", "expected"), ANEMIA_CASES)
def test_anemia_g_per_l(value, expected):
    assert_grade(grade("HGB", value, lln=130, uln=175, unit="g/L"), expected, "Anemia")


def test_anemia_grade_3_is_the_highest_numeric_grade():
    result = grade("HGB", 40, lln=130, unit="g/L")
    assert_grade(result, 3)
    assert "grade 4 is clinical" in result.criterion


def test_anemia_without_lln():
    assert_grade(grade("HGB", 99.9, unit="g/L"), 2)
    result = grade("HGB", 100, unit="g/L")
    assert not result.gradable and result.reason == "LLN missing; Anemia could be grade 0 or 1"


# --- Electrolytes: two directions -------------------------------------------------------------

POTASSIUM_CASES = [
    # LLN 3.5, ULN 5.1. Hypokalemia: <LLN-3.0 (grade 1; grade 2 needs symptoms); <3.0-2.5; <2.5
    (3.5, None, 0), (3.49, "Hypokalemia", 1), (3.0, "Hypokalemia", 1), (2.99, "Hypokalemia", 3),
    (2.5, "Hypokalemia", 3), (2.49, "Hypokalemia", 4),
    # Hyperkalemia: >ULN-5.5; >5.5-6.0; >6.0-7.0; >7.0
    (5.1, None, 0), (5.11, "Hyperkalemia", 1), (5.5, "Hyperkalemia", 1), (5.51, "Hyperkalemia", 2),
    (6.0, "Hyperkalemia", 2), (6.01, "Hyperkalemia", 3), (7.0, "Hyperkalemia", 3), (7.01, "Hyperkalemia", 4),
]


@pytest.mark.parametrize(("value", "term", "expected"), POTASSIUM_CASES)
def test_potassium_both_directions(value, term, expected):
    assert_grade(grade("K", value, lln=3.5, uln=5.1, unit="mmol/L"), expected, term)


def test_hypokalemia_grade_2_is_not_reachable_from_the_value():
    result = grade("K", 3.2, lln=3.5, uln=5.1)
    assert_grade(result, 1, "Hypokalemia")
    assert "symptomatic with intervention indicated is grade 2" in result.criterion


SODIUM_CASES = [
    # LLN 135, ULN 145. Hyponatremia: <LLN-130; 125-129 (asymptomatic); 120-124; <120
    (135, None, 0), (134.9, "Hyponatremia", 1), (130, "Hyponatremia", 1), (129.9, "Hyponatremia", 2),
    (129, "Hyponatremia", 2), (125, "Hyponatremia", 2), (124.9, "Hyponatremia", 3), (124, "Hyponatremia", 3),
    (120, "Hyponatremia", 3), (119.9, "Hyponatremia", 4),
    # Hypernatremia: >ULN-150; >150-155; >155-160; >160
    (145, None, 0), (145.1, "Hypernatremia", 1), (150, "Hypernatremia", 1), (150.1, "Hypernatremia", 2),
    (155, "Hypernatremia", 2), (155.1, "Hypernatremia", 3), (160, "Hypernatremia", 3), (160.1, "Hypernatremia", 4),
]


@pytest.mark.parametrize(("value", "term", "expected"), SODIUM_CASES)
def test_sodium_both_directions(value, term, expected):
    assert_grade(grade("SODIUM", value, lln=135, uln=145, unit="mmol/L"), expected, term)


def test_hyponatremia_grade_2_notes_the_symptomatic_grade():
    assert "grade 3 if symptomatic" in grade("SODIUM", 127, lln=135, uln=145).criterion


@pytest.mark.parametrize(
    ("test", "value", "kwargs", "term", "expected"),
    [
        ("K", 2.9, {}, "Hypokalemia", 3),  # absolute bands need no limits
        ("K", 5.6, {}, "Hyperkalemia", 2),
        ("K", 5.3, {"uln": 5.1}, "Hyperkalemia", 1),  # LLN not needed above ULN
        ("K", 3.2, {"lln": 3.5}, "Hypokalemia", 1),  # ULN not needed below LLN
        ("SODIUM", 118, {}, "Hyponatremia", 4),
    ],
)
def test_electrolytes_with_missing_limits_when_the_grade_is_decided(test, value, kwargs, term, expected):
    assert_grade(grade(test, value, unit="mmol/L", **kwargs), expected, term)


@pytest.mark.parametrize(
    ("test", "value", "kwargs", "reason"),
    [
        ("K", 3.2, {}, "LLN, ULN missing; Hypokalemia could be grade 0 or 1; Hyperkalemia could be grade 0 or 1"),
        ("K", 4.0, {"lln": 3.5}, "ULN missing; Hyperkalemia could be grade 0 or 1"),
        ("SODIUM", 132, {"uln": 145}, "LLN missing; Hyponatremia could be grade 0 or 1"),
    ],
)
def test_electrolytes_with_missing_limits_when_the_grade_is_open(test, value, kwargs, reason):
    result = grade(test, value, unit="mmol/L", **kwargs)
    assert not result.gradable
    assert result.reason == reason


@pytest.mark.parametrize(
    ("term", "value", "expected"),
    [("Hypokalemia", 6.0, 0), ("hypokalemia", 2.4, 4), ("Hyperkalemia", 2.4, 0), ("HYPERKALEMIA", 6.1, 3)],
)
def test_potassium_by_term_name_grades_only_that_term(term, value, expected):
    result = grade(term, value, lln=3.5, uln=5.1)
    assert_grade(result, expected)
    assert result.ctcae_term.lower() == term.lower()
    assert result.test == "K"


# --- Proteinuria -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("plus_signs", "expected"),
    [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3)],  # 1+ grade 1; 2+ and 3+ grade 2; 4+ grade 3 (adult)
)
def test_proteinuria_dipstick(plus_signs, expected):
    assert_grade(grade("UPROT_DIP", plus_signs, unit="dipstick"), expected, "Proteinuria")
    assert_grade(grade("UPROT_DIP", plus_signs), expected)


@pytest.mark.parametrize("reading", [0.5, 5, -1])
def test_proteinuria_dipstick_reading_outside_the_scale_is_not_gradable(reading):
    result = grade("UPROT_DIP", reading, unit="dipstick")
    assert not result.gradable
    assert result.reason is not None


PROTEIN_24H_CASES = [
    # ULN 0.15 g/24h: >=ULN - <1.0; 1.0 - <3.5; >=3.5 (adult)
    (0.149, 0), (0.15, 1), (0.99, 1), (1.0, 2), (3.49, 2), (3.5, 3), (8, 3),
]


@pytest.mark.parametrize(("value", "expected"), PROTEIN_24H_CASES)
def test_proteinuria_24_hour(value, expected):
    assert_grade(grade("UPROT_24H", value, uln=0.15, unit="g/24h"), expected, "Proteinuria")


def test_proteinuria_24_hour_in_mg():
    assert_grade(grade("UPROT_24H", 999, uln=150, unit="mg/24h"), 1)
    assert_grade(grade("UPROT_24H", 1000, uln=150, unit="mg/24h"), 2)


def test_proteinuria_24_hour_without_uln():
    assert_grade(grade("UPROT_24H", 1.2, unit="g/24h"), 2)
    result = grade("UPROT_24H", 0.5, unit="g/24h")
    assert not result.gradable and result.reason == "ULN missing; Proteinuria could be grade 0 or 1"


# --- Hypertension -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("test", "value", "expected"),
    [
        # Systolic: 120-139 grade 1; 140-159 grade 2; >=160 grade 3
        ("SBP", 119, 0), ("SBP", 119.9, 0), ("SBP", 120, 1), ("SBP", 139, 1), ("SBP", 139.5, 1),
        ("SBP", 140, 2), ("SBP", 159, 2), ("SBP", 159.9, 2), ("SBP", 160, 3), ("SBP", 230, 3),
        # Diastolic: 80-89 grade 1; 90-99 grade 2; >=100 grade 3
        ("DBP", 79, 0), ("DBP", 80, 1), ("DBP", 89, 1), ("DBP", 89.5, 1), ("DBP", 90, 2),
        ("DBP", 99, 2), ("DBP", 100, 3), ("DBP", 130, 3),
    ],
)
def test_blood_pressure_component(test, value, expected):
    assert_grade(grade(test, value, unit="mmHg"), expected, "Hypertension")


@pytest.mark.parametrize(
    ("sbp", "dbp", "expected"),
    [
        (150, 85, 2), (119, 79, 0), (160, 80, 3), (120, 79, 1), (119, 80, 1), (139, 89, 1),
        (140, 89, 2), (139, 90, 2), (130, 95, 2), (110, 100, 3), (159, 99, 2), (165, 105, 3),
    ],
)
def test_blood_pressure_is_the_worse_component(sbp, dbp, expected):
    result = grade_blood_pressure(sbp, dbp)
    assert_grade(result, expected, "Hypertension")
    assert result.reference == {"unit": "mmHg", "systolic": sbp, "diastolic": dbp}


def test_blood_pressure_criterion_names_the_deciding_component():
    assert "systolic blood pressure >=140 mmHg and <160 mmHg" in grade_blood_pressure(150, 85).criterion
    assert "diastolic blood pressure >=100 mmHg" in grade_blood_pressure(110, 100).criterion
    assert grade_blood_pressure(119, 79).criterion == "Hypertension v5.0 grade 0: no grade band met"


@pytest.mark.parametrize(("sbp", "dbp", "expected"), [(165, None, 3), (None, 104, 3)])
def test_blood_pressure_one_component_at_grade_3_is_enough(sbp, dbp, expected):
    assert_grade(grade_blood_pressure(sbp, dbp), expected)


@pytest.mark.parametrize(
    ("sbp", "dbp", "reason"),
    [
        (150, None, "diastolic blood pressure missing; systolic alone gives grade 2, so Hypertension could be grade 2 or 3"),
        (None, 70, "systolic blood pressure missing; diastolic alone gives grade 0, so Hypertension could be grade 0, 1, 2 or 3"),
        (None, None, "systolic and diastolic blood pressure missing"),
        (80, 120, "diastolic (120) above systolic (80); reading is implausible"),
        (float("nan"), None, "systolic and diastolic blood pressure missing"),
    ],
)
def test_blood_pressure_not_gradable(sbp, dbp, reason):
    result = grade_blood_pressure(sbp, dbp)
    assert not result.gradable and result.grade is None
    assert result.reason == reason


def test_hypertension_term_needs_a_component():
    with pytest.raises(ValueError, match="grade_blood_pressure"):
        grade("Hypertension", 150)


# --- Units -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("test", "si", "conventional", "expected"),
    [
        # bilirubin: (value, uln, unit) in umol/L and the same in mg/dL (1 mg/dL = 17.1 umol/L)
        ("BILI", (30.78, 20.52, "umol/L"), (1.8, 1.2, "mg/dL"), 1),  # exactly 1.5 x ULN
        ("BILI", (30.95, 20.52, "umol/L"), (1.81, 1.2, "mg/dL"), 2),
        ("BILI", (61.56, 20.52, "umol/L"), (3.6, 1.2, "mg/dL"), 2),  # exactly 3 x ULN
        ("BILI", (17.1, 20.52, "umol/L"), (1.0, 1.2, "mg/dL"), 0),
        # creatinine (1 mg/dL = 88.4 umol/L)
        ("CREAT", (132.6, 88.4, "umol/L"), (1.5, 1.0, "mg/dL"), 1),
        ("CREAT", (141.44, 88.4, "umol/L"), (1.6, 1.0, "mg/dL"), 2),
        ("CREAT", (530.4, 88.4, "umol/L"), (6.0, 1.0, "mg/dL"), 3),
        ("CREAT", (539.24, 88.4, "umol/L"), (6.1, 1.0, "mg/dL"), 4),
    ],
)
def test_same_grade_in_si_and_conventional_units(test, si, conventional, expected):
    si_value, si_uln, si_unit = si
    conventional_value, conventional_uln, conventional_unit = conventional
    # baseline = ULN: a normal baseline for bilirubin, and no x baseline effect for creatinine
    si_result = grade(test, si_value, uln=si_uln, baseline=si_uln, unit=si_unit)
    conventional_result = grade(
        test, conventional_value, uln=conventional_uln, baseline=conventional_uln, unit=conventional_unit
    )
    assert_grade(si_result, expected)
    assert_grade(conventional_result, expected)


def test_conversion_rounding_does_not_cross_a_cut_point():
    """1.8 x 17.1 is 30.780000000000005 in floating point, a hair above 1.5 x (1.2 x 17.1)."""
    assert 1.8 * 17.1 > 1.5 * (1.2 * 17.1)
    assert_grade(grade("BILI", 1.8, uln=1.2, baseline=0.6, unit="mg/dL"), 1)


@pytest.mark.parametrize(
    ("test", "value", "unit", "lln", "expected"),
    [
        ("HGB", 10.0, "g/dL", 13.0, 1), ("HGB", 9.99, "g/dL", 13.0, 2), ("HGB", 8.0, "g/dL", 13.0, 2),
        ("HGB", 7.99, "g/dL", 13.0, 3),
        ("PLT", 75000, "cells/mm3", 150000, 1), ("PLT", 74999, "cells/mm3", 150000, 2),
        ("PLT", 74.99, "10^3/uL", 150, 2), ("PLT", 24999, "/uL", 150000, 4),
        ("NEUT", 1500, "/mm3", 2000, 1), ("NEUT", 1499, "/mm3", 2000, 2), ("NEUT", 0.49, "10^3/uL", 2.0, 4),
        ("WBC", 999, "cells/uL", 4000, 4), ("LYMPH", 799, "cells/mm3", 1100, 2),
        ("LYMPH", 0.79, "10*9/L", 1.1, 2), ("LYMPH", 0.79, " x10^9 / l ", 1.1, 2), ("LYMPH", 0.79, "K/uL", 1.1, 2),
        ("K", 2.99, "mEq/L", 3.5, 3), ("SODIUM", 119, "mEq/L", 135, 4),
    ],
)
def test_conventional_units_for_absolute_cut_points(test, value, unit, lln, expected):
    assert_grade(grade(test, value, lln=lln, unit=unit), expected)


def test_micro_sign_spellings():
    for unit in ("µmol/L", "μmol/L", "umol/L", "UMOL/L"):
        assert_grade(grade("BILI", 30.01, uln=20, baseline=10, unit=unit), 2)


def test_result_reports_numbers_after_conversion():
    result = grade("HGB", 9.5, lln=12.0, unit="g/dL")
    assert result.value == 9.5 and result.unit == "g/dL"
    assert result.reference == {"unit": "g/L", "value": 95.0, "lln": 120.0}


@pytest.mark.parametrize(
    ("test", "unit"),
    [("HGB", "mmol/L"), ("PLT", "10^3/mL"), ("BILI", "mmol/L"), ("ALT", "mg/dL"), ("K", "mg/dL")],
)
def test_unknown_unit_is_not_gradable(test, unit):
    result = grade(test, 1.0, lln=0.5, uln=2.0, baseline=1.0, unit=unit)
    assert not result.gradable
    assert result.reason.startswith(f"unit {unit!r} not recognised for {test}; accepted: ")


@pytest.mark.parametrize("test", ["PLT", "NEUT", "WBC", "LYMPH", "HGB", "UPROT_24H"])
def test_missing_unit_is_not_gradable_where_units_change_the_grade(test):
    result = grade(test, 1.0, lln=2.0, uln=5.0)
    assert not result.gradable
    assert result.reason.startswith("unit missing")


@pytest.mark.parametrize(
    ("test", "value", "kwargs", "expected"),
    [
        ("ALT", 130, {"uln": 40, "baseline": 20}, 2),  # ratio only: the unit cancels out
        ("BILI", 35, {"uln": 20, "baseline": 10}, 2),
        ("K", 6.5, {"uln": 5.1}, 3),  # mmol/L and mEq/L are the same number
        ("SBP", 141, {}, 2),
    ],
)
def test_unit_may_be_omitted_where_it_cannot_change_the_grade(test, value, kwargs, expected):
    assert_grade(grade(test, value, **kwargs), expected)


# --- Invalid or missing inputs --------------------------------------------------------------

@pytest.mark.parametrize(
    ("test", "value", "kwargs", "reason"),
    [
        ("ALT", None, {"uln": 40}, "value missing"),
        ("ALT", float("nan"), {"uln": 40}, "value missing"),
        ("ALT", -5, {"uln": 40, "baseline": 20}, "negative value (-5)"),
        ("ALT", 50, {"uln": 0, "baseline": 20}, "ULN is 0; a multiple of it is not a usable cut-point"),
        ("K", 4.0, {"lln": 5.5, "uln": 3.5}, "LLN (5.5) is greater than ULN (3.5)"),
        ("PLT", 100, {"lln": -1, "unit": "10^9/L"}, "LLN is negative (-1)"),
        ("ALT", "abc", {"uln": 40}, "value, ULN, LLN or baseline is not a number"),
    ],
)
def test_unusable_inputs_are_not_gradable(test, value, kwargs, reason):
    result = grade(test, value, **kwargs)
    assert not result.gradable and result.grade is None
    assert result.reason == reason


def test_unknown_test_raises_with_the_supported_tests():
    with pytest.raises(ValueError) as error:
        grade("TSH", 5.0)
    message = str(error.value)
    assert "'TSH'" in message
    for code in SUPPORTED_TESTS:
        assert code in message


def test_ambiguous_term_raises():
    with pytest.raises(ValueError, match="UPROT_DIP, UPROT_24H"):
        grade("Proteinuria", 2)


def test_unsupported_version_raises_with_the_supported_versions():
    with pytest.raises(ValueError, match=r"'4\.03'.*supported versions: 5\.0"):
        grade("ALT", 50, uln=40, version="4.03")
    with pytest.raises(ValueError, match="5.0"):
        criteria_table("6.0")
    with pytest.raises(ValueError, match="5.0"):
        grade_blood_pressure(120, 80, version="4.0")


@pytest.mark.parametrize(
    "name",
    ["ALT", "alt", " Alt ", "Alanine aminotransferase", "alanine aminotransferase increased",
     "ALANINE AMINOTRANSFERASE INCREASED"],
)
def test_test_codes_names_and_terms_are_case_insensitive(name):
    result = grade(name, 130, uln=40, baseline=20)
    assert result.test == "ALT"
    assert_grade(result, 2, ALT_TERM)


@pytest.mark.parametrize(
    ("term", "test_code"),
    [("Aspartate aminotransferase increased", "AST"), ("Alkaline phosphatase increased", "ALP"),
     ("Blood bilirubin increased", "BILI"), ("Creatinine increased", "CREAT"), ("CPK increased", "CK"),
     ("Platelet count decreased", "PLT"), ("Neutrophil count decreased", "NEUT"),
     ("Lymphocyte count decreased", "LYMPH"), ("Anemia", "HGB"), ("Hyponatremia", "SODIUM")],
)
def test_term_names_resolve_to_their_test(term, test_code):
    result = grade(term, 1.0, uln=2.0, lln=0.5, baseline=1.0, unit=lab_test_catalogue()[test_code].criterion_unit)
    assert result.test == test_code
    assert result.ctcae_term == term


# --- Result object -----------------------------------------------------------------------------

def test_result_to_dict_is_json_ready():
    result = grade("ALT", 130, uln=40, baseline=20, unit="U/L")
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "test": "ALT",
        "ctcae_term": ALT_TERM,
        "grade": 2,
        "gradable": True,
        "criterion": f"{ALT_TERM} v5.0 grade 2: >3 x ULN and <=5 x ULN (baseline normal: baseline <= ULN)",
        "reason": None,
        "value": 130.0,
        "unit": "U/L",
        "reference": {"unit": "U/L", "value": 130.0, "uln": 40.0, "baseline": 20.0},
    }


def test_not_gradable_result_to_dict_has_no_nan():
    data = grade("ALT", float("nan"), uln=40).to_dict()
    assert data["value"] is None and data["grade"] is None and data["gradable"] is False
    json.dumps(data, allow_nan=False)
    json.dumps(grade_blood_pressure(None, 104).to_dict(), allow_nan=False)
