"""What the SDTM and ADaM readers share (readers/cdisc.py): the value maps of data/cdisc/, and
the helpers that turn CDISC values into the contract's."""

from __future__ import annotations

import polars as pl
import pytest

from ctcae.criteria import lab_test_catalogue
from readers.cdisc import (
    AE_ACTIONS,
    AE_OUTCOMES,
    DISPOSITION_REASONS,
    LAB_TEST_CODES,
    OTHER_DISPOSITION,
    SEVERITY_GRADES,
    VALUE_MAPS,
    date_part,
    map_shipped,
    map_values,
    serious_criteria,
    value_map,
    whole_number_text,
    with_dose_adjustment,
)
from validators import contract


def allowed(source: str, column: str) -> set[str]:
    return next(set(item.allowed_values) for item in contract.source_columns(source) if item.name == column)


def test_value_maps_name_only_contract_values():
    """Each map translates into values the contract accepts (an empty target reads as missing);
    severity into the grades 1 (mild) to 3 (severe)."""
    targets = {
        AE_OUTCOMES: allowed("adverse_events", "outcome"),
        AE_ACTIONS: allowed("adverse_events", "action_<agent>"),
        DISPOSITION_REASONS: allowed("subjects", "end_of_treatment_reason"),
        LAB_TEST_CODES: set(lab_test_catalogue()),
        SEVERITY_GRADES: {"1", "2", "3"},
    }
    assert set(targets) == set(VALUE_MAPS)
    for file, values in targets.items():
        assert {value for value in value_map(file).values() if value is not None} <= values, file
    assert OTHER_DISPOSITION in allowed("subjects", "end_of_treatment_reason")


def test_value_maps_cover_the_cdisc_terms():
    """CDISC controlled terminology: every AEOUT (C66768) and AEACN (C66767) term is listed; the
    severities are mild 1, moderate 2, severe 3; the five named dispositions as the brief says."""
    assert value_map(AE_OUTCOMES) == {
        "RECOVERED/RESOLVED": "recovered",
        "RECOVERING/RESOLVING": "recovering",
        "NOT RECOVERED/NOT RESOLVED": "not_recovered",
        "RECOVERED/RESOLVED WITH SEQUELAE": "recovered_with_sequelae",
        "FATAL": "fatal",
        "UNKNOWN": "unknown",
    }
    assert set(value_map(AE_ACTIONS)) == {
        "DOSE NOT CHANGED", "DOSE REDUCED", "DOSE RATE REDUCED", "DRUG INTERRUPTED", "DRUG WITHDRAWN",
        "NOT APPLICABLE", "DOSE INCREASED", "UNKNOWN", "NOT EVALUABLE", "MULTIPLE",
    }
    assert value_map(AE_ACTIONS)["UNKNOWN"] is None and value_map(AE_ACTIONS)["NOT EVALUABLE"] is None
    assert value_map(SEVERITY_GRADES) == {"MILD": "1", "MODERATE": "2", "SEVERE": "3"}
    dispositions = value_map(DISPOSITION_REASONS)
    assert [dispositions[key] for key in ("COMPLETED", "ADVERSE EVENT", "DEATH", "PROGRESSIVE DISEASE", "WITHDRAWAL BY SUBJECT")] == [
        "completed", "toxicity", "death", "progression", "withdrawal",
    ]


def test_lab_codes_reach_the_graded_tests():
    """The SDTM test codes of the CTCAE-graded lab tests: PLAT is the platelet count, LYM the
    lymphocyte count; the others are spelled alike. Every graded lab test is reachable except
    the urine protein tests (SDTM PROT needs its specimen and method to say which) and the blood
    pressures (VS, not LB)."""
    codes = value_map(LAB_TEST_CODES)
    assert codes["PLAT"] == "PLT" and codes["LYM"] == "LYMPH"
    unreachable = set(lab_test_catalogue()) - set(codes.values())
    assert unreachable == {"UPROT_DIP", "UPROT_24H", "SBP", "DBP"}


def test_map_values_matches_trimmed_upper_case_and_passes_the_rest_on():
    """" recovered/resolved " is RECOVERED/RESOLVED; a value not listed (RESOLVED) stays as given
    (trimmed) for validation to query; a missing value stays missing; UNKNOWN action maps to missing."""
    frame = pl.DataFrame({"value": [" recovered/resolved ", "RESOLVED ", None, "FATAL"]})
    assert frame.select(map_shipped(pl.col("value"), AE_OUTCOMES))["value"].to_list() == ["recovered", "RESOLVED", None, "fatal"]
    actions = pl.DataFrame({"value": ["unknown", "Dose Increased", "DOSE HALVED"]})
    assert actions.select(map_shipped(pl.col("value"), AE_ACTIONS))["value"].to_list() == [None, "dose_not_changed", "DOSE HALVED"]
    dispositions = pl.DataFrame({"value": ["LOST TO FOLLOW-UP", "death", None]})
    mapped = dispositions.select(map_shipped(pl.col("value"), DISPOSITION_REASONS, otherwise=pl.lit(OTHER_DISPOSITION)))
    assert mapped["value"].to_list() == ["other", "death", None]
    assert pl.DataFrame({"value": ["a"]}).select(map_values(pl.col("value"), {}))["value"].to_list() == ["a"]


def test_serious_criteria_from_flags_in_contract_order():
    """Y flags become criteria, in the contract's order (death before hospitalisation whatever
    the column order); no Y is missing; a flag the domain lacks (AESMIE here) is not needed."""
    frame = pl.DataFrame(
        {
            "AESHOSP": ["Y", "N", None, "y"],
            "AESDTH": ["Y", "N", None, "N"],
            "AESLIFE": ["N", "N", None, "N"],
            "AESDISAB": ["N", "N", None, "N"],
            "AESCONG": ["N", "N", None, "N"],
        }
    )
    assert frame.select(serious_criteria(frame).alias("criteria"))["criteria"].to_list() == [
        "death;hospitalisation", None, None, "hospitalisation",
    ]
    assert pl.DataFrame({"X": ["Y"]}).select(serious_criteria(pl.DataFrame({"X": ["Y"]})).alias("c"))["c"].to_list() == [None]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2014-07-02T11:45", "2014-07-02"), ("2014-07-02", "2014-07-02"), ("2014-07", "2014-07"), ("UNK", "UNK"), (None, None)],
)
def test_date_part(given, expected):
    """The date of a date-time; a partial or unreadable date as given, for validation to query."""
    assert pl.DataFrame({"d": [given]}, schema={"d": pl.String}).select(date_part(pl.col("d")))["d"][0] == expected


@pytest.mark.parametrize(("given", "expected"), [("63.0", "63"), ("63", "63"), ("-2.00", "-2"), ("63.5", "63.5"), ("x", "x")])
def test_whole_number_text(given, expected):
    assert pl.DataFrame({"n": [given]}).select(whole_number_text(pl.col("n")))["n"][0] == expected


def test_dose_adjustment_per_subject_and_agent_in_start_order():
    """Subject 1, agent a (planned 100): 100 (first: none), 50 (below 100: reduced), 50 (none),
    0 (held), 100 (none). Agent b of the same subject starts its own sequence: 20 (none).
    Subject 2, placebo planned 0: 0 (a dose given: none)."""
    frame = pl.DataFrame(
        {
            "_row": [2, 3, 4, 5, 6, 7, 8],
            "subject_id": ["1", "1", "1", "1", "1", "1", "2"],
            "agent": ["a", "a", "b", "a", "a", "a", "placebo"],
            "start_date": ["2024-01-05", "2024-01-01", "2024-01-03", "2024-01-09", "2024-01-07", "2024-01-11", "2024-01-01"],
            "dose_mg": ["50", "100", "20", "0", "50", "100", "0"],
            "planned_dose_mg": ["100", "100", "40", "100", "100", "100", "0"],
        }
    )
    adjusted = with_dose_adjustment(frame, order=["subject_id", "agent", "start_date", "_row"])
    assert adjusted["_row"].to_list() == [2, 3, 4, 5, 6, 7, 8]
    assert adjusted["adjustment"].to_list() == ["reduced", "none", "none", "held", "none", "none", "none"]
