"""Cross-check of our CTCAE v5.0 grading against pharmaverse admiral's v5 lab-grading criteria.

admiral (Apache-2.0) keeps its grading rules as R code in ``GRADE_CRITERIA_CODE`` of
``atoxgr_criteria_ctcv5.csv`` (SI units) and ``atoxgr_criteria_ctcv5_uscv.csv`` (US
conventional units). Each case below is one cut-point read off that code: the code fragment
that defines it (checked to be present in admiral's file, so the hand-typed numbers cannot drift
from the source), the measurement context, and admiral's grade just below, at and just above the
cut-point. Our evaluator is then run at the same three values.

Where our grade differs from admiral's because of a documented judgement call, the case carries
our own expected grades and a note saying why. admiral does not cover hypertension or proteinuria.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

import pytest

from ctcae.grade_value import grade
from tests.conftest import reference_path

ADMIRAL_SI_FILE = "atoxgr_criteria_ctcv5.csv"
ADMIRAL_USCV_FILE = "atoxgr_criteria_ctcv5_uscv.csv"
RELATIVE_STEP = 1e-6  # well above our 1e-9 rounding tolerance and admiral's 15 significant digits


@dataclass(frozen=True)
class AdmiralCut:
    term: str  # admiral TERM
    fragment: str  # R code in admiral's GRADE_CRITERIA_CODE for that term that sets the cut-point
    test: str  # our test code
    cut: float  # the cut-point value in the unit below, for the context given
    admiral_grades: tuple  # admiral's grade just below, at and just above the cut-point
    context: dict = field(default_factory=dict)  # uln / lln / baseline / unit passed to grade()
    our_grades: tuple | None = None  # only when we differ on purpose
    note: str = ""
    admiral_file: str = ADMIRAL_SI_FILE
    admiral_unit: str | None = None  # UNIT_CHECK of the admiral row when the term has several

    def expected(self) -> tuple:
        return self.our_grades if self.our_grades is not None else self.admiral_grades


def cut(term, fragment, test, cut_point, admiral_grades, **options) -> AdmiralCut:
    context = options.pop("context", {})
    return AdmiralCut(term, fragment, test, cut_point, admiral_grades, context, **options)


ALT = "Alanine aminotransferase increased"
AST = "Aspartate aminotransferase increased"
ALP = "Alkaline phosphatase increased"
BILI = "Blood bilirubin increased"
CREAT = "Creatinine increased"
HIGH_BASELINE_NOTE = (
    "admiral chooses the branch from BNRIND (baseline range indicator); we use baseline > ULN, "
    "which is what BNRIND = HIGH means"
)

ADMIRAL_CUTS = [
    # Liver enzymes, baseline normal (ULN 40, baseline 20)
    cut(ALT, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(ANRHI, signif_dig) ~ "1"',
        "ALT", 40, (0, 0, 1), context={"uln": 40, "baseline": 20}),
    cut(ALT, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(3*ANRHI, signif_dig) ~ "2"',
        "ALT", 120, (1, 1, 2), context={"uln": 40, "baseline": 20}),
    cut(ALT, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(5*ANRHI, signif_dig) ~ "3"',
        "ALT", 200, (2, 2, 3), context={"uln": 40, "baseline": 20}),
    cut(ALT, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(20*ANRHI, signif_dig) ~ "4"',
        "ALT", 800, (3, 3, 4), context={"uln": 40, "baseline": 20}),
    # Liver enzymes, baseline abnormal (ULN 40, baseline 100)
    cut(ALT, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) >= signif(1.5*BASE, signif_dig) ~ "1"',
        "ALT", 150, (0, 1, 1), context={"uln": 40, "baseline": 100}, note=HIGH_BASELINE_NOTE),
    cut(ALT, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) > signif(3*BASE, signif_dig) ~ "2"',
        "ALT", 300, (1, 1, 2), context={"uln": 40, "baseline": 100}),
    cut(ALT, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) > signif(20*BASE, signif_dig) ~ "4"',
        "ALT", 2000, (3, 3, 4), context={"uln": 40, "baseline": 100}),
    cut(AST, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(3*ANRHI, signif_dig) ~ "2"',
        "AST", 105, (1, 1, 2), context={"uln": 35, "baseline": 20}),
    cut(AST, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) > signif(5*BASE, signif_dig) ~ "3"',
        "AST", 250, (2, 2, 3), context={"uln": 35, "baseline": 50}),
    cut(ALP, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(2.5*ANRHI, signif_dig) ~ "2"',
        "ALP", 250, (1, 1, 2), context={"uln": 100, "baseline": 80}),
    cut(ALP, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) >= signif(2*BASE, signif_dig) ~ "1"',
        "ALP", 400, (0, 1, 1), context={"uln": 100, "baseline": 200}),
    cut(ALP, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) > signif(2.5*BASE, signif_dig) ~ "2"',
        "ALP", 500, (1, 1, 2), context={"uln": 100, "baseline": 200}),
    cut(BILI, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(1.5*ANRHI, signif_dig) ~ "2"',
        "BILI", 30, (1, 1, 2), context={"uln": 20, "baseline": 10, "unit": "umol/L"}),
    cut(BILI, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(10*ANRHI, signif_dig) ~ "4"',
        "BILI", 200, (3, 3, 4), context={"uln": 20, "baseline": 10, "unit": "umol/L"}),
    cut(BILI, 'BNRIND %in% high_indicator & signif(AVAL, signif_dig) > signif(BASE, signif_dig) ~ "1"',
        "BILI", 30, (0, 0, 1), context={"uln": 20, "baseline": 30, "unit": "umol/L"}),
    # Liver enzyme above ULN with no baseline at all
    cut(ALT, '!(BNRIND %in% high_indicator) & signif(AVAL, signif_dig) > signif(3*ANRHI, signif_dig) ~ "2"',
        "ALT", 120, (1, 1, 2), context={"uln": 40}, our_grades=(None, None, None),
        note="admiral treats a missing BNRIND as a normal baseline; we do not guess the branch and "
             "report not gradable (baseline missing) above ULN"),
    # Creatinine: x ULN and x baseline rules, worst grade wins (same judgement in admiral)
    cut(CREAT, '!is.na(BASE) & signif(AVAL, signif_dig) > signif(1.5*BASE, signif_dig) ~ "2"',
        "CREAT", 60, (0, 0, 2), context={"uln": 100, "baseline": 40, "unit": "umol/L"}),
    cut(CREAT, '!is.na(BASE) & signif(AVAL, signif_dig) > signif(3*BASE, signif_dig) ~ "3"',
        "CREAT", 120, (2, 2, 3), context={"uln": 100, "baseline": 40, "unit": "umol/L"}),
    cut(CREAT, '!is.na(ANRHI) & signif(AVAL, signif_dig) > signif(1.5*ANRHI, signif_dig) ~ "2"',
        "CREAT", 150, (1, 1, 2), context={"uln": 100, "baseline": 100, "unit": "umol/L"}),
    cut(CREAT, '!is.na(ANRHI) & signif(AVAL, signif_dig) > signif(6*ANRHI, signif_dig) ~ "4"',
        "CREAT", 600, (3, 3, 4), context={"uln": 100, "baseline": 100, "unit": "umol/L"}),
    cut(CREAT, 'is.na(ANRHI) ~ NA_character_, signif(AVAL, signif_dig) > signif(ANRHI, signif_dig) ~ "1"',
        "CREAT", 100, (0, 0, 1), context={"uln": 100, "unit": "umol/L"}, our_grades=(None, None, None),
        note="without a baseline admiral skips the x baseline rule; we report not gradable because "
             "v5.0 grades 2-3 also apply to x baseline, which could raise the grade"),
    # CPK
    cut("CPK increased", 'signif(AVAL, signif_dig) > signif(ANRHI, signif_dig) ~ "1"',
        "CK", 200, (0, 0, 1), context={"uln": 200}),
    cut("CPK increased", 'signif(AVAL, signif_dig) > signif(2.5*ANRHI, signif_dig) ~ "2"',
        "CK", 500, (1, 1, 2), context={"uln": 200}),
    cut("CPK increased", 'signif(AVAL, signif_dig) > signif(5*ANRHI, signif_dig) ~ "3"',
        "CK", 1000, (2, 2, 3), context={"uln": 200}),
    cut("CPK increased", 'signif(AVAL, signif_dig) > signif(10*ANRHI, signif_dig) ~ "4"',
        "CK", 2000, (3, 3, 4), context={"uln": 200}),
    # Counts, SI (10^9/L)
    cut("Platelet count decreased", 'signif(AVAL, signif_dig) < 25 ~ "4"', "PLT", 25, (4, 3, 3),
        context={"lln": 150, "unit": "10^9/L"}),
    cut("Platelet count decreased", 'signif(AVAL, signif_dig) < 50 ~ "3"', "PLT", 50, (3, 2, 2),
        context={"lln": 150, "unit": "10^9/L"}),
    cut("Platelet count decreased", 'signif(AVAL, signif_dig) < 75 ~ "2"', "PLT", 75, (2, 1, 1),
        context={"lln": 150, "unit": "10^9/L"}),
    cut("Platelet count decreased", 'signif(AVAL, signif_dig) < signif(ANRLO, signif_dig) ~ "1"', "PLT", 150,
        (1, 0, 0), context={"lln": 150, "unit": "10^9/L"}),
    cut("Platelet count decreased", 'is.na(ANRLO) ~ NA_character_', "PLT", 75, (2, None, None),
        context={"unit": "10^9/L"}, note="both: grades 2-4 need no LLN, grade 0/1 does"),
    cut("Neutrophil count decreased", 'signif(AVAL, signif_dig) < 0.5 ~ "4"', "NEUT", 0.5, (4, 3, 3),
        context={"lln": 2.0, "unit": "10^9/L"}),
    cut("Neutrophil count decreased", 'signif(AVAL, signif_dig) < 1 ~ "3"', "NEUT", 1.0, (3, 2, 2),
        context={"lln": 2.0, "unit": "10^9/L"}),
    cut("Neutrophil count decreased", 'signif(AVAL, signif_dig) < 1.5 ~ "2"', "NEUT", 1.5, (2, 1, 1),
        context={"lln": 2.0, "unit": "10^9/L"}),
    cut("White blood cell decreased", 'signif(AVAL, signif_dig) < 1 ~ "4"', "WBC", 1.0, (4, 3, 3),
        context={"lln": 4.0, "unit": "10^9/L"}),
    cut("White blood cell decreased", 'signif(AVAL, signif_dig) < 3 ~ "2"', "WBC", 3.0, (2, 1, 1),
        context={"lln": 4.0, "unit": "10^9/L"}),
    cut("Lymphocyte count decreased", 'signif(AVAL, signif_dig) < 0.2 ~ "4"', "LYMPH", 0.2, (4, 3, 3),
        context={"lln": 1.1, "unit": "10^9/L"}),
    cut("Lymphocyte count decreased", 'signif(AVAL, signif_dig) < 0.5 ~ "3"', "LYMPH", 0.5, (3, 2, 2),
        context={"lln": 1.1, "unit": "10^9/L"}),
    cut("Lymphocyte count decreased", 'signif(AVAL, signif_dig) < 0.8 ~ "2"', "LYMPH", 0.8, (2, 1, 1),
        context={"lln": 1.1, "unit": "10^9/L"}),
    cut("Lymphocyte count increased", 'signif(AVAL, signif_dig) > 4 ~ "2"', "Lymphocyte count increased", 4,
        (0, 0, 2), context={"lln": 1.1, "uln": 3.5, "unit": "10^9/L"}),
    cut("Lymphocyte count increased", 'signif(AVAL, signif_dig) > 20 ~ "3"', "LYMPH", 20, (2, 2, 3),
        context={"lln": 1.1, "uln": 3.5, "unit": "10^9/L"}),
    cut("Leukocytosis", 'signif(AVAL, signif_dig) > 100 ~ "3"', "Leukocytosis", 100, (0, 0, 3),
        context={"lln": 4.0, "unit": "10^9/L"}),
    # Counts in per-mm3 and 10^3/uL (admiral's US conventional file; its "10^3/mL" rows carry
    # per-mm3 numbers, which we accept as cells/mm3)
    cut("Platelet count decreased", 'signif(AVAL, signif_dig) < 75000 ~ "2"', "PLT", 75000, (2, 1, 1),
        context={"lln": 150000, "unit": "cells/mm3"}, admiral_file=ADMIRAL_USCV_FILE, admiral_unit="10^3/mL"),
    cut("Neutrophil count decreased", 'signif(AVAL, signif_dig) < 500 ~ "4"', "NEUT", 500, (4, 3, 3),
        context={"lln": 2000, "unit": "/mm3"}, admiral_file=ADMIRAL_USCV_FILE, admiral_unit="10^3/mL"),
    cut("Neutrophil count decreased", 'signif(AVAL, signif_dig) < 1.5 ~ "2"', "NEUT", 1.5, (2, 1, 1),
        context={"lln": 2.0, "unit": "10^3/uL"}, admiral_file=ADMIRAL_USCV_FILE, admiral_unit="10^3/uL"),
    # Anemia, g/L and g/dL
    cut("Anemia", 'signif(AVAL, signif_dig) < 80 ~ "3"', "HGB", 80, (3, 2, 2), context={"lln": 130, "unit": "g/L"}),
    cut("Anemia", 'signif(AVAL, signif_dig) < 100 ~ "2"', "HGB", 100, (2, 1, 1), context={"lln": 130, "unit": "g/L"}),
    cut("Anemia", 'signif(AVAL, signif_dig) < signif(ANRLO, signif_dig) ~ "1"', "HGB", 130, (1, 0, 0),
        context={"lln": 130, "unit": "g/L"}),
    cut("Anemia", 'signif(AVAL, signif_dig) < 8 ~ "3"', "HGB", 8, (3, 2, 2), context={"lln": 13, "unit": "g/dL"},
        admiral_file=ADMIRAL_USCV_FILE),
    cut("Anemia", 'signif(AVAL, signif_dig) < 10 ~ "2"', "HGB", 10, (2, 1, 1), context={"lln": 13, "unit": "g/dL"},
        admiral_file=ADMIRAL_USCV_FILE),
    # Potassium
    cut("Hyperkalemia", 'signif(AVAL, signif_dig) > signif(ANRHI, signif_dig) ~ "1"', "K", 5.1, (0, 0, 1),
        context={"lln": 3.5, "uln": 5.1}),
    cut("Hyperkalemia", 'signif(AVAL, signif_dig) > 5.5 ~ "2"', "K", 5.5, (1, 1, 2), context={"lln": 3.5, "uln": 5.1}),
    cut("Hyperkalemia", 'signif(AVAL, signif_dig) > 6 ~ "3"', "K", 6.0, (2, 2, 3), context={"lln": 3.5, "uln": 5.1}),
    cut("Hyperkalemia", 'signif(AVAL, signif_dig) > 7 ~ "4"', "K", 7.0, (3, 3, 4), context={"lln": 3.5, "uln": 5.1}),
    cut("Hypokalemia", 'signif(AVAL, signif_dig) < 2.5 ~ "4"', "K", 2.5, (4, 3, 3), context={"lln": 3.5, "uln": 5.1}),
    cut("Hypokalemia", 'signif(AVAL, signif_dig) < 3 ~ "3"', "K", 3.0, (3, 2, 2), context={"lln": 3.5, "uln": 5.1},
        our_grades=(3, 1, 1),
        note="admiral assumes the worst case (symptomatic) and grades <LLN - 3.0 as 2; we grade the value "
             "alone, which gives 1 (grade 2 needs symptoms)"),
    cut("Hypokalemia", 'signif(AVAL, signif_dig) < signif(ANRLO, signif_dig) ~ "2"', "K", 3.5, (2, 0, 0),
        context={"lln": 3.5, "uln": 5.1}, our_grades=(1, 0, 0), note="same judgement call as above"),
    # Sodium
    cut("Hypernatremia", 'signif(AVAL, signif_dig) > signif(ANRHI, signif_dig) ~ "1"', "SODIUM", 145, (0, 0, 1),
        context={"lln": 135, "uln": 145}),
    cut("Hypernatremia", 'signif(AVAL, signif_dig) > 150 ~ "2"', "SODIUM", 150, (1, 1, 2),
        context={"lln": 135, "uln": 145}),
    cut("Hypernatremia", 'signif(AVAL, signif_dig) > 155 ~ "3"', "SODIUM", 155, (2, 2, 3),
        context={"lln": 135, "uln": 145}),
    cut("Hypernatremia", 'signif(AVAL, signif_dig) > 160 ~ "4"', "SODIUM", 160, (3, 3, 4),
        context={"lln": 135, "uln": 145}),
    cut("Hyponatremia", 'signif(AVAL, signif_dig) < 120 ~ "4"', "SODIUM", 120, (4, 3, 3),
        context={"lln": 135, "uln": 145}),
    cut("Hyponatremia", 'signif(AVAL, signif_dig) <= 129 ~ "3"', "SODIUM", 129, (3, 3, 1),
        context={"lln": 135, "uln": 145}, our_grades=(2, 2, 2),
        note="admiral assumes the worst case (symptomatic): 120-129 all grade 3, and a value between 129 "
             "and 130 falls to grade 1. We grade the value alone (125-<130 is grade 2, grade 3 if "
             "symptomatic) and read the whole-number range 125-129 as >=125 and <130"),
    cut("Hyponatremia", 'signif(AVAL, signif_dig) < signif(ANRLO, signif_dig) ~ "1"', "SODIUM", 135, (1, 0, 0),
        context={"lln": 135, "uln": 145}),
]


def admiral_rules(file_name: str) -> dict[tuple[str, str], str]:
    """(TERM, UNIT_CHECK) -> GRADE_CRITERIA_CODE with whitespace runs collapsed."""
    return _read_admiral_rules(str(reference_path("ctcae", "admiral", file_name)))


@lru_cache(maxsize=None)
def _read_admiral_rules(path: str) -> dict[tuple[str, str], str]:
    rules = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rules[(row["TERM"], row["UNIT_CHECK"])] = collapse_spaces(row["GRADE_CRITERIA_CODE"])
    return rules


def collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def admiral_code(case: AdmiralCut) -> str:
    rules = admiral_rules(case.admiral_file)
    matching = [
        code for (term, unit), code in rules.items()
        if term == case.term and (case.admiral_unit is None or unit == case.admiral_unit)
    ]
    assert matching, f"{case.term} not in {case.admiral_file}"
    return " || ".join(matching)


def case_id(case: AdmiralCut) -> str:
    return f"{case.test}-{case.cut:g}-{'-'.join(f'{key}{value}' for key, value in case.context.items())}"


@pytest.mark.parametrize("case", ADMIRAL_CUTS, ids=case_id)
def test_cut_point_is_read_off_admiral(case):
    """The hand-typed fragment really is part of admiral's rule for the term."""
    assert collapse_spaces(case.fragment) in admiral_code(case)


@pytest.mark.parametrize("case", ADMIRAL_CUTS, ids=case_id)
def test_our_grades_around_admiral_cut_point(case):
    admiral_code(case)  # skips when the reference folder is absent
    step = abs(case.cut) * RELATIVE_STEP
    context = dict(case.context)
    values = (case.cut - step, case.cut, case.cut + step)
    ours = tuple(grade(case.test, value, **context).grade for value in values)
    assert ours == case.expected(), case.note or "should agree with admiral"


def test_differences_from_admiral_are_all_explained():
    for case in ADMIRAL_CUTS:
        if case.our_grades is not None:
            assert case.our_grades != case.admiral_grades
            assert case.note, case


def test_admiral_has_no_hypertension_or_proteinuria():
    """Our hypertension and proteinuria rows have no admiral counterpart to check against."""
    terms = {term for term, _ in admiral_rules(ADMIRAL_SI_FILE)}
    assert "Hypertension" not in terms and "Proteinuria" not in terms
    for term in ("Anemia", ALT, AST, ALP, BILI, CREAT, "CPK increased", "Platelet count decreased",
                 "Neutrophil count decreased", "White blood cell decreased", "Lymphocyte count decreased",
                 "Hypokalemia", "Hyperkalemia", "Hyponatremia", "Hypernatremia"):
        assert term in terms
