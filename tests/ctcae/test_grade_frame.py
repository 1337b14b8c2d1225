"""grade_frame (vectorised) against grade (one value at a time), field by field.

A hand-typed frame checks the columns grade_frame adds and their values. Then a random frame is
built from the criteria table itself: for every row a test, a unit, LLN / ULN / baseline
(sometimes missing), and a value just below, exactly at or just above one of the test's
cut-points for those references. Every row's result from grade_frame must be exactly what
grade() returns for that row.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import polars as pl
import pytest

from ctcae.criteria import SUPPORTED_TESTS, criteria_table, lab_test_catalogue
from ctcae.grade_frame import grade_frame
from ctcae.grade_value import grade

FIELDS = ("ctcae_term", "grade", "gradable", "reason", "criterion")
ALT_TERM = "Alanine aminotransferase increased"
VERSION = "5.0"
RELATIVE_STEPS = (-1e-6, 0.0, 1e-6)

# Typical LLN and ULN in the criterion unit of each test (jittered per row).
TYPICAL_LIMITS = {
    "ALT": (7.0, 40.0), "AST": (8.0, 35.0), "ALP": (40.0, 130.0), "BILI": (3.0, 21.0),
    "CREAT": (50.0, 110.0), "CK": (30.0, 200.0), "PLT": (150.0, 400.0), "NEUT": (2.0, 7.5),
    "WBC": (4.0, 11.0), "LYMPH": (1.0, 4.0), "HGB": (120.0, 160.0), "K": (3.5, 5.1),
    "SODIUM": (135.0, 145.0), "UPROT_DIP": (0.0, 0.0), "UPROT_24H": (0.0, 0.15),
    "SBP": (90.0, 120.0), "DBP": (60.0, 80.0),
}
# Other ways of naming a test: a test name, a CTCAE term of one test, other spellings.
TEST_ALIASES = ["alt", " ALT ", "Platelet count", "Hypokalemia", "Hyperkalemia", "Leukocytosis", "sodium"]
# Not gradable: unknown test, a term of several tests, no test code.
UNKNOWN_TESTS = ["TSH", "Hypertension", "", "  ", None]


# --- A hand-typed frame ------------------------------------------------------------------------

def labs_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject_id": ["S1", "S1", "S2", "S2", "S3", "S3", "S4", "S4", "S5"],
            "collection_date": ["2024-01-02"] * 9,
            "test_code": ["ALT", "PLT", "K", "K", "TSH", "BILI", "UPROT_DIP", "HGB", "NEUT"],
            "value": [130.0, 60.0, 3.2, 6.1, 5.0, 1.81, 2.0, 95.0, 1.8],
            "unit": ["U/L", "10^9/L", "mmol/L", "mmol/L", "mIU/L", "mg/dL", "dipstick", "g/L", "10^9/L"],
            "lln": [None, 150.0, 3.5, 3.5, 0.4, None, None, 120.0, None],
            "uln": [40.0, 400.0, 5.1, 5.1, 4.0, 1.2, None, 160.0, None],
            "baseline": [20.0, None, None, None, None, 0.6, None, None, None],
        }
    )


def test_grade_frame_adds_the_grading_columns():
    graded = grade_frame(labs_frame())
    assert graded.columns == labs_frame().columns + ["ctcae_term", "grade", "gradable", "reason", "criterion"]
    assert graded.schema["grade"] == pl.Int64
    assert graded.schema["gradable"] == pl.Boolean
    assert graded["grade"].to_list() == [2, 2, 1, 3, None, 2, 2, 2, None]
    assert graded["ctcae_term"].to_list() == [
        ALT_TERM, "Platelet count decreased", "Hypokalemia", "Hyperkalemia", None,
        "Blood bilirubin increased", "Proteinuria", "Anemia", "Neutrophil count decreased",
    ]
    assert graded["gradable"].to_list() == [True, True, True, True, False, True, True, True, False]
    assert graded["reason"][4] == "no CTCAE v5.0 grading criteria for test 'TSH'"
    assert graded["reason"][8] == "LLN missing; Neutrophil count decreased could be grade 0 or 1"


def test_grade_frame_agrees_with_grade_row_by_row():
    frame = labs_frame()
    graded = grade_frame(frame)
    for row in graded.iter_rows(named=True):
        if row["test_code"] == "TSH":
            continue
        single = grade(
            row["test_code"], row["value"], uln=row["uln"], lln=row["lln"], baseline=row["baseline"], unit=row["unit"]
        )
        assert (row["grade"], row["ctcae_term"], row["reason"], row["criterion"]) == (
            single.grade, single.ctcae_term, single.reason, single.criterion
        )


def test_grade_frame_without_baseline_column():
    graded = grade_frame(labs_frame().drop("baseline"))
    # 3.25 x ULN: grade 2 if the baseline was normal, 0 or 1 against an abnormal baseline
    assert graded["reason"][0] == "baseline missing; Alanine aminotransferase increased could be grade 0, 1 or 2"
    assert graded["grade"][1] == 2


def test_grade_frame_requires_test_code_and_value():
    with pytest.raises(ValueError, match="value"):
        grade_frame(labs_frame().drop("value"))


def test_grade_frame_empty():
    graded = grade_frame(labs_frame().head(0))
    assert graded.height == 0
    assert "grade" in graded.columns


# --- Random frames around every cut-point ------------------------------------------------------

def expected(row: dict) -> tuple:
    """What grade() says for a frame row; unknown or missing tests as grade_frame documents them."""
    code = row["test_code"]
    if code is None or code.strip() == "":
        return (None, None, False, "test code missing", f"CTCAE v{VERSION}: not gradable")
    try:
        result = grade(
            code, row["value"], uln=row["uln"], lln=row["lln"], baseline=row["baseline"],
            unit=row["unit"], version=VERSION,
        )
    except ValueError:
        return (
            None, None, False, f"no CTCAE v{VERSION} grading criteria for test {code!r}",
            f"CTCAE v{VERSION}: not gradable",
        )
    return (result.ctcae_term, result.grade, result.gradable, result.reason, result.criterion)


def assert_frame_matches_grade(labs: pl.DataFrame) -> pl.DataFrame:
    graded = grade_frame(labs, version=VERSION)
    assert graded.height == labs.height
    assert graded.columns == labs.columns + list(FIELDS)
    assert graded.select(labs.columns).equals(labs)
    mismatches = []
    for row in graded.iter_rows(named=True):
        got = tuple(row[name] for name in FIELDS)
        want = expected(row)
        for name, got_item, want_item in zip(FIELDS, got, want):
            if got_item != want_item:
                inputs = {key: row[key] for key in labs.columns}
                mismatches.append((inputs, name, got_item, want_item))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    return graded


@lru_cache(maxsize=None)
def criteria_rows(test_code: str) -> tuple[dict, ...]:
    return tuple(criteria_table(VERSION).filter(pl.col("test_code") == test_code).iter_rows(named=True))


def cut_points(test_code: str, references: dict) -> list[float]:
    """Cut-points of the test's bands in the criterion unit for these references (present ones).

    Besides each band's own cut-points: x ULN at the factors of the x baseline cut-points (the
    bound used when the baseline is missing), and the ULN / LLN themselves (baseline normal or
    abnormal is decided against them).
    """
    points = []

    def add(reference: str, factor: float) -> None:
        if reference == "absolute":
            points.append(factor)
        elif references.get(reference) is not None:
            points.append(factor * references[reference])

    for band in criteria_rows(test_code):
        for side in ("lower", "upper"):
            if band[f"{side}_reference"] is not None:
                add(band[f"{side}_reference"], band[f"{side}_factor"])
        if band["lower_reference"] == "baseline":
            add("uln", band["lower_factor"])
    for kind in ("uln", "lln"):
        add(kind, 1.0)
    return points


def random_labs(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    catalogue = lab_test_catalogue()
    records = []
    for index in range(rows):
        draw = rng.random()
        if draw < 0.03:
            test_code = UNKNOWN_TESTS[rng.integers(len(UNKNOWN_TESTS))]
        elif draw < 0.08:
            test_code = TEST_ALIASES[rng.integers(len(TEST_ALIASES))]
        else:
            test_code = SUPPORTED_TESTS[index % len(SUPPORTED_TESTS)]
        code = {
            "alt": "ALT", " ALT ": "ALT", "Platelet count": "PLT", "Hypokalemia": "K", "Hyperkalemia": "K",
            "Leukocytosis": "WBC", "sodium": "SODIUM",
        }.get(test_code, test_code)
        lab_test = catalogue.get(code, catalogue["ALT"])

        # unit: the criterion unit, another accepted unit (conventional), unknown, none, odd spelling
        draw = rng.random()
        spellings = lab_test.unit_spellings
        if draw < 0.55:
            unit = lab_test.criterion_unit
        elif draw < 0.85:
            unit = spellings[rng.integers(len(spellings))]
        elif draw < 0.9:
            unit = "furlongs/L"
        elif draw < 0.95:
            unit = None
        elif draw < 0.97:
            unit = ""
        else:
            unit = " " + spellings[rng.integers(len(spellings))].upper().replace("/", " / ")
        normalised = "".join((unit or "").split()).lower()
        unit_factor = lab_test.unit_factors.get(normalised, 1.0)

        # references in the criterion unit
        lln, uln = TYPICAL_LIMITS.get(code, (1.0, 10.0))
        jitter = float(rng.uniform(0.8, 1.25))
        lln, uln = lln * jitter, uln * jitter
        baseline_choice = rng.integers(6)
        if baseline_choice < 3:  # at the normal/abnormal boundary
            baseline = uln * (1 + RELATIVE_STEPS[baseline_choice])
        elif baseline_choice == 3:
            baseline = uln * float(rng.uniform(0.2, 1.0))
        else:
            baseline = uln * float(rng.uniform(1.0, 4.0))
        references = {"lln": lln, "uln": uln, "baseline": baseline}
        for kind in references:
            draw = rng.random()
            if draw < 0.15:
                references[kind] = None
            elif draw < 0.17:
                references[kind] = math.nan

        # value: at, just below or just above a cut-point, or anywhere
        present = {kind: number for kind, number in references.items() if number is not None and not math.isnan(number)}
        points = cut_points(code, present) if code in catalogue else [1.0, 10.0]
        if lab_test.allowed_values is not None and rng.random() < 0.5:
            value = float(rng.integers(0, 5))
        elif rng.random() < 0.85 and points:
            value = points[rng.integers(len(points))] * (1 + RELATIVE_STEPS[rng.integers(3)])
        else:
            value = float(rng.lognormal(math.log(max(uln, 1.0)), 1.0))

        # row numbers in the row's unit
        value /= unit_factor
        references = {
            kind: (number / unit_factor if number is not None and not math.isnan(number) else number)
            for kind, number in references.items()
        }

        # numbers that the evaluator refuses, with their own reasons
        draw = rng.random()
        if draw < 0.01:
            value = -value if value else -1.0
        elif draw < 0.015:
            value = math.inf
        elif draw < 0.02:
            value = math.nan
        elif draw < 0.03:
            value = None
        elif draw < 0.035:
            references["uln"] = 0.0
        elif draw < 0.04:
            references["lln"], references["uln"] = (uln * 1.5 / unit_factor, uln / unit_factor)
        elif draw < 0.045:
            references["baseline"] = -baseline / unit_factor
        elif draw < 0.05:
            references["uln"] = math.inf
        elif draw < 0.055:
            references["uln"] = 1e305
        elif draw < 0.06 and lab_test.allowed_values is not None:
            value = 1.5
        records.append(
            {
                "subject_id": f"S{rng.integers(1, 300):04d}",
                "collection_date": "2024-03-01",
                "test_code": test_code,
                "value": value,
                "unit": unit,
                "lln": references["lln"],
                "uln": references["uln"],
                "baseline": references["baseline"],
            }
        )
    return pl.DataFrame(
        records,
        schema={
            "subject_id": pl.String, "collection_date": pl.String, "test_code": pl.String, "value": pl.Float64,
            "unit": pl.String, "lln": pl.Float64, "uln": pl.Float64, "baseline": pl.Float64,
        },
    )


def test_random_rows_around_every_cut_point_match_grade():
    labs = random_labs(6000, seed=20240301)
    graded = assert_frame_matches_grade(labs)

    # the frame covers what it is meant to cover
    assert set(SUPPORTED_TESTS) <= set(graded["test_code"].drop_nulls())
    assert set(graded["grade"].drop_nulls()) == {0, 1, 2, 3, 4}
    reasons = graded["reason"].drop_nulls()
    for fragment in (
        "not recognised", "unit missing", "value missing", "not a finite number", "negative value",
        "is not one of", "is greater than ULN", "ULN is 0", "baseline missing", "LLN missing", "ULN missing",
        "no CTCAE v5.0 grading criteria", "test code missing",
    ):
        assert reasons.str.contains(fragment, literal=True).any(), fragment
    for term in ("Hypokalemia", "Hyperkalemia", "Hyponatremia", "Hypernatremia", "Leukocytosis",
                 "Lymphocyte count increased", "Lymphocyte count decreased"):
        assert (graded["ctcae_term"] == term).any(), term


@pytest.mark.parametrize("seed", [1, 2])
def test_random_rows_in_other_orders_and_chunks_match_grade(seed):
    labs = random_labs(1500, seed=seed)
    shuffled = labs.sample(fraction=1.0, shuffle=True, seed=seed)
    chunked = pl.concat([shuffled.head(700), shuffled.tail(800)], rechunk=False)
    assert_frame_matches_grade(chunked)


def test_frame_without_optional_columns_matches_grade():
    labs = random_labs(800, seed=3).select("test_code", "value")
    graded = grade_frame(labs)
    for row in graded.iter_rows(named=True):
        assert tuple(row[name] for name in FIELDS) == expected({**row, "unit": None, "lln": None, "uln": None, "baseline": None})


def test_hand_typed_rows():
    alt = "Alanine aminotransferase increased"
    cases = [
        # test_code, value, unit, lln, uln, baseline -> ctcae_term, grade, reason, criterion
        (("ALT", 130.0, "U/L", None, 40.0, 20.0),
         (alt, 2, None, f"{alt} v5.0 grade 2: >3 x ULN and <=5 x ULN (baseline normal: baseline <= ULN)")),
        # 2 ukat/L = 120 U/L, ULN 0.5 ukat/L = 30 U/L: 4 x ULN
        (("ALT", 2.0, "ukat/L", None, 0.5, 0.4),
         (alt, 2, None, f"{alt} v5.0 grade 2: >3 x ULN and <=5 x ULN (baseline normal: baseline <= ULN)")),
        # abnormal baseline 60 > ULN 40: 1.5 x baseline = 90 is grade 1 (inclusive)
        (("ALT", 90.0, "U/L", None, 40.0, 60.0),
         (alt, 1, None, f"{alt} v5.0 grade 1: >=1.5 x baseline and <=3 x baseline (baseline abnormal: baseline > ULN)")),
        (("ALT", 130.0, "U/L", None, 40.0, None),
         (alt, None, f"baseline missing; {alt} could be grade 0, 1 or 2", f"{alt} v5.0: not gradable")),
        (("ALT", 40.0, "U/L", None, 40.0, None), (alt, 0, None, f"{alt} v5.0 grade 0: no grade band met")),
        (("PLT", 60000.0, "cells/mm3", 150000.0, 400000.0, None),
         ("Platelet count decreased", 2, None,
          "Platelet count decreased v5.0 grade 2: >=50 10^9/L and <75 10^9/L")),
        (("NEUT", 1.8, "10^9/L", None, None, None),
         ("Neutrophil count decreased", None, "LLN missing; Neutrophil count decreased could be grade 0 or 1",
          "Neutrophil count decreased v5.0: not gradable")),
        (("K", 6.1, "mmol/L", 3.5, 5.1, None),
         ("Hyperkalemia", 3, None, "Hyperkalemia v5.0 grade 3: >6 mmol/L and <=7 mmol/L")),
        (("K", 4.0, "mmol/L", 5.5, 3.5, None),
         (None, None, "LLN (5.5) is greater than ULN (3.5)", "CTCAE v5.0: not gradable")),
        (("SODIUM", 150.0, "mmol/L", 135.0, 145.0, None),
         ("Hypernatremia", 1, None, "Hypernatremia v5.0 grade 1: >ULN and <=150 mmol/L")),
        (("SODIUM", 140.0, "mmol/L", 135.0, 145.0, None),
         (None, 0, None, "Hyponatremia / Hypernatremia v5.0 grade 0: no grade band met")),
        (("Hypokalemia", 6.1, "mmol/L", 3.5, 5.1, None),
         ("Hypokalemia", 0, None, "Hypokalemia v5.0 grade 0: no grade band met")),
        (("UPROT_DIP", 1.5, "dipstick", None, None, None),
         ("Proteinuria", None, "UPROT_DIP value 1.5 is not one of 0, 1, 2, 3, 4", "Proteinuria v5.0: not gradable")),
        (("ALT", -5.0, "U/L", None, 40.0, 20.0),
         (alt, None, "negative value (-5)", f"{alt} v5.0: not gradable")),
        (("ALT", 50.0, "mg", None, 40.0, 20.0),
         (alt, None, "unit 'mg' not recognised for ALT; accepted: U/L, IU/L, ukat/L", f"{alt} v5.0: not gradable")),
        (("ALT", None, "U/L", None, 40.0, 20.0), (alt, None, "value missing", f"{alt} v5.0: not gradable")),
        (("TSH", 5.0, "mIU/L", 0.4, 4.0, None),
         (None, None, "no CTCAE v5.0 grading criteria for test 'TSH'", "CTCAE v5.0: not gradable")),
    ]
    labs = pl.DataFrame(
        [inputs for inputs, _ in cases],
        schema={"test_code": pl.String, "value": pl.Float64, "unit": pl.String, "lln": pl.Float64,
                "uln": pl.Float64, "baseline": pl.Float64},
        orient="row",
    )
    graded = grade_frame(labs)
    for row, (inputs, (term, grade_number, reason, criterion)) in zip(graded.iter_rows(named=True), cases):
        assert (row["ctcae_term"], row["grade"], row["gradable"], row["reason"], row["criterion"]) == (
            term, grade_number, grade_number is not None, reason, criterion
        ), inputs
    assert_frame_matches_grade(labs)


def test_value_column_of_text_and_test_code_of_categories():
    labs = pl.DataFrame(
        {
            "test_code": pl.Series(["ALT", "ALT", "PLT"], dtype=pl.Categorical),
            "value": ["130", "not done", "60"],
            "unit": ["U/L", "U/L", "10^9/L"],
            "lln": [None, None, 150.0],
            "uln": [40.0, 40.0, 400.0],
            "baseline": [20.0, 20.0, None],
        }
    )
    graded = grade_frame(labs)
    assert graded["grade"].to_list() == [2, None, 2]
    assert graded["reason"].to_list() == [None, "value missing", None]


def tolerance_edges(threshold: float) -> list[float]:
    """The last values that still count as equal to the threshold and the first that do not, both sides."""
    edges = []
    for direction in (math.inf, -math.inf):
        inside, outside = threshold, threshold * (1 + math.copysign(4e-9, direction))
        while math.nextafter(inside, direction) != outside:
            middle = (inside + outside) / 2
            if middle in (inside, outside):
                break
            if math.isclose(middle, threshold, rel_tol=1e-9, abs_tol=1e-12):
                inside = middle
            else:
                outside = middle
        edges += [inside, outside]
    return edges


def test_values_at_the_edge_of_the_rounding_tolerance_match_grade():
    references = {"lln": 3.5, "uln": 40.0}
    records = []
    for test_code in SUPPORTED_TESTS:
        unit = lab_test_catalogue()[test_code].criterion_unit
        for baseline in (20.0, 80.0, None):
            present = {**references, "baseline": baseline} if baseline is not None else references
            for point in cut_points(test_code, present):
                for value in tolerance_edges(point):
                    records.append((test_code, value, unit, 3.5, 40.0, baseline))
        # baseline at the edge of ULN: baseline normal or abnormal
        for baseline in tolerance_edges(40.0):
            for value in (50.0, 130.0, 170.0, 500.0):
                records.append((test_code, value, unit, 3.5, 40.0, baseline))
    labs = pl.DataFrame(
        records,
        schema={"test_code": pl.String, "value": pl.Float64, "unit": pl.String, "lln": pl.Float64,
                "uln": pl.Float64, "baseline": pl.Float64},
        orient="row",
    )
    assert labs.height > 1000
    assert_frame_matches_grade(labs)


def test_reasons_that_quote_the_row_numbers_match_grade():
    # Rows that share everything but the number their reason quotes.
    records = []
    for test_code in SUPPORTED_TESTS:
        unit = lab_test_catalogue()[test_code].criterion_unit
        for number in (1.0, 2.5, 7.0, 1000.0):
            records += [
                (test_code, -number, unit, 3.5, 40.0, 20.0),  # negative value
                (test_code, 5.0, unit, 40.0 + number, 40.0, 20.0),  # LLN above ULN
                (test_code, 5.0, unit, -number, 40.0, 20.0),  # negative LLN
                (test_code, 5.0, unit, 3.5, -number, 20.0),  # negative ULN
                (test_code, 5.0, unit, 3.5, 40.0, -number),  # negative baseline
                (test_code, number / 2, unit, None, None, None),  # dipstick values that are not 0-4
                (test_code, 5.0 * number, unit, 3.5, 0.0, 20.0),  # ULN 0
                (test_code, 5.0 * number, unit, 3.5, 40.0, 0.0),  # baseline 0
                (test_code, 5.0 * number, unit, 3.5, math.inf, 20.0),  # infinite ULN
                (test_code, 5.0 * number, unit, 3.5, 1.7e308 / number, 20.0),  # a multiple of ULN overflows
                (test_code, 5.0 * number, unit, 3.5, 1e299 * number, 1e299),  # large but usable
                (test_code, 1.6e308, unit, 3.5, 1e290, 1.5e308 / number),  # 1.5 x baseline overflows
                (test_code, 1e306 * number, "mmol/L", 3.5, 40.0, 20.0),  # the conversion overflows (CREAT)
                (test_code, 1e306 * number, unit, 3.5, 40.0, 20.0),
            ]
    labs = pl.DataFrame(
        records,
        schema={"test_code": pl.String, "value": pl.Float64, "unit": pl.String, "lln": pl.Float64,
                "uln": pl.Float64, "baseline": pl.Float64},
        orient="row",
    )
    graded = assert_frame_matches_grade(labs)
    reasons = graded["reason"].drop_nulls()
    for fragment in ("negative value (-2.5)", "LLN (47) is greater than ULN (40)", "ULN is negative (-7)",
                     "baseline is negative (-1000)", "UPROT_DIP value 3.5 is not one of", "ULN is 0",
                     "baseline is 0", "ULN is not a finite number", "value is not a finite number"):
        assert reasons.str.contains(fragment, literal=True).any(), fragment
