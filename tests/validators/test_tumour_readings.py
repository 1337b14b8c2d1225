"""How a tumour assessment's response and new-lesion values written off the code are read.

A value off the code is always queried; it is counted as the code it names without doubt
(validators/recist.py, data/recist/overall_response_synonyms.csv), otherwise as NE; a new-lesion
value other than N or No (any case) is new lesions present. The mini trial's subjects (tests/data/mini:
S1, S2, S4 enrolled 2025-01-01; S5, S6 2025-04-20; there is no S9), validated on 2025-07-01,
with these assessments (worked by hand; the reader strips the spaces around a value):

  line  subject date        overall_response       new_lesions  counted as                query
  2     S1 2025-03-07       Progressive disease    N            PD (synonym)              isin
  3     S1 2025-05-02       pd                     N            PD (the code, lower case) isin
  4     S2 2025-03-07       progression            N            PD (synonym)              isin
  5     S2 2025-05-02       Partial response       N            PR (synonym)              isin
  6     S4 2025-03-07       stable                 N            SD (synonym)              isin
  7     S4 2025-05-02       Complete response      N            CR (synonym)              isin
  8     S5 2025-06-15       "  PR  "               N            PR (spaces are not data)  none: clean
  9     S6 2025-06-15       Partial  Response      N            PR (spacing and case)     isin
  10    S1 2025-06-27       PR or SD               N            NE (names no one code)    isin
  11    S2 2025-06-27       Not evaluated          N            NE (synonym)              isin
  12    S4 2025-06-27       SD                     y            SD, new lesions Y         isin (new_lesions)
  13    S5 2025-06-20       SD                     Yes          SD, new lesions Y         isin (new_lesions)
  14    S6 2025-06-20       SD                     U            SD, new lesions Y         isin (new_lesions)
  15    S6 2025-06-29       SD                     No           SD, no new lesions (N)    isin (new_lesions)
  16    S5 2025-06-29       SD                     (empty)      SD, new lesions missing   none: clean
  17    S9 2025-03-07       PR                     N            excluded: no such subject subject_known
  18    S1 2025-06-30       (empty)                (empty)      NE (missing)              not_nullable

rows in 17 = clean 2 (lines 8, 16) + counted with queries 14 (lines 2-7, 9-15, 18) + excluded 1 (line 17).
"""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest

from ctcae.home import data_path
from ctcae.terms import load_curated_dictionary
from tests.conftest import REPO_ROOT, make_mini_trial
from trial.config import load_trial_config
from validators.checks import SOURCE_CHECK_CONSEQUENCES, consequence_of
from validators.recist import read_new_lesions, read_response, response_synonyms
from validators.schemas import OVERALL_RESPONSES
from validators.validate import validate_trial

RUN_DATE = date(2025, 7, 1)
ASSESSMENTS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 8,2025-03-07,Progressive disease,N,CT
S1,Week 16,2025-05-02,pd,N,CT
S2,Week 8,2025-03-07,progression,N,CT
S2,Week 16,2025-05-02,Partial response,N,CT
S4,Week 8,2025-03-07,stable,N,CT
S4,Week 16,2025-05-02,Complete response,N,CT
S5,Week 8,2025-06-15,"  PR  ",N,CT
S6,Week 8,2025-06-15,Partial  Response,N,CT
S1,Week 24,2025-06-27,PR or SD,N,CT
S2,Week 24,2025-06-27,Not evaluated,N,CT
S4,Week 24,2025-06-27,SD,y,CT
S5,Week 16,2025-06-20,SD,Yes,CT
S6,Week 16,2025-06-20,SD,U,CT
S6,Week 24,2025-06-29,SD,No,CT
S5,Week 24,2025-06-29,SD,,CT
S9,Week 8,2025-03-07,PR,N,CT
S1,,2025-06-30,,,
"""
# line -> (overall_response counted, new_lesions counted)
COUNTED = {
    2: ("PD", "N"), 3: ("PD", "N"), 4: ("PD", "N"), 5: ("PR", "N"), 6: ("SD", "N"), 7: ("CR", "N"),
    8: ("PR", "N"), 9: ("PR", "N"), 10: ("NE", "N"), 11: ("NE", "N"), 12: ("SD", "Y"), 13: ("SD", "Y"),
    14: ("SD", "Y"), 15: ("SD", "N"), 16: ("SD", None), 18: ("NE", None),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    config = make_mini_trial(tmp_path_factory.mktemp("tumour-readings") / "mini")
    (config.parent / "tumour_assessments.csv").write_text(ASSESSMENTS)
    validation = validate_trial(load_trial_config(config), load_curated_dictionary("5.0"), run_date=RUN_DATE)
    return validation.sources["tumour_assessments"]


def test_every_row_is_clean_counted_with_queries_or_excluded(result):
    assert result.accounting == {"rows_in": 17, "clean": 2, "counted_with_queries": 14, "excluded": 1}


def test_each_response_and_new_lesion_value_is_counted_as_worked_out(result):
    counted = {row["_row"]: (row["overall_response"], row["new_lesions"]) for row in result.records.iter_rows(named=True)}
    assert counted == COUNTED
    assert not any(column.startswith("_") and column != "_row" for column in result.records.columns)


def test_a_value_off_the_code_is_still_queried_with_the_reading_used(result):
    queries = result.queries.filter(pl.col("field") == "overall_response")
    by_row = {row["row"]: row for row in queries.iter_rows(named=True)}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7, 9, 10, 11, 18]  # line 8 is "PR" once its spaces are stripped
    assert {row["effect"] for row in by_row.values()} == {"counted"}
    assert by_row[2]["value"] == "Progressive disease" and by_row[2]["check"] == "isin"
    assert by_row[2]["reading"] == "counted as PD: 'Progressive disease' read as the RECIST code PD"
    assert by_row[3]["reading"] == "counted as PD: 'pd' read as the RECIST code PD"
    assert by_row[4]["reading"] == "counted as PD: 'progression' read as the RECIST code PD"
    assert by_row[5]["reading"] == "counted as PR: 'Partial response' read as the RECIST code PR"
    assert by_row[6]["reading"] == "counted as SD: 'stable' read as the RECIST code SD"
    assert by_row[7]["reading"] == "counted as CR: 'Complete response' read as the RECIST code CR"
    assert by_row[9]["reading"] == "counted as PR: 'Partial  Response' read as the RECIST code PR"
    assert by_row[10]["reading"] == (
        "counted as not evaluable (NE): 'PR or SD' names no RECIST 1.1 code and is no listed synonym, so no response is assumed"
    )
    assert by_row[11]["reading"] == "counted as not evaluable (NE): 'Not evaluated' read as the RECIST code NE"
    assert (by_row[18]["check"], by_row[18]["reading"]) == (
        "not_nullable", "counted as not evaluable (NE): the response is missing, so no response is assumed"
    )


def test_new_lesions_other_than_n_or_no_are_read_as_present(result):
    queries = result.queries.filter(pl.col("field") == "new_lesions")
    readings = dict(queries.select("row", "reading").iter_rows())
    assert readings == {
        12: "counted as new lesions present (PD): 'y' read as Y (only N or No reads as no new lesions)",
        13: "counted as new lesions present (PD): 'Yes' read as Y (only N or No reads as no new lesions)",
        14: "counted as new lesions present (PD): 'U' read as Y (only N or No reads as no new lesions)",
        15: "counted as no new lesions: 'No' read as N",
    }
    assert set(queries["check"]) == {"isin"} and set(queries["effect"]) == {"counted"}


def test_an_assessment_of_an_unknown_subject_is_excluded_from_the_response_counts(result):
    """Line 17 (S9): excluded, and the query says it is the response counts it is left out of."""
    (query,) = result.queries.filter(pl.col("row") == 17).iter_rows(named=True)
    assert (query["check"], query["effect"]) == ("subject_known", "excluded")
    assert query["reading"] == "excluded from the response counts: the subject is not in the subjects file"
    assert result.excluded["_row"].to_list() == [17]


def test_the_shared_subject_check_keeps_its_safety_text_for_the_other_sources():
    assert consequence_of("adverse_events", "subject_known", "subject_id").reading == (
        "excluded from safety counts: the subject is not in the subjects file"
    )
    assert consequence_of("tumour_assessments", "subject_known", "subject_id").reading == (
        "excluded from the response counts: the subject is not in the subjects file"
    )


def test_two_responses_of_one_date_say_how_efficacy_reads_them(tmp_path):
    """S1 on 2025-03-07: NE and PR, both kept and both queried; the query says efficacy reads the
    date's worst adequate response (here PR: NE only when the date has no other)."""
    config = make_mini_trial(tmp_path / "mini")
    (config.parent / "tumour_assessments.csv").write_text(
        "subject_id,visit,assessment_date,overall_response,new_lesions,method\n"
        "S1,Week 8,2025-03-07,NE,N,CT\nS1,Week 8,2025-03-07,PR,N,CT\n"
    )
    result = validate_trial(load_trial_config(config), load_curated_dictionary("5.0"), run_date=RUN_DATE).sources["tumour_assessments"]
    queries = result.queries.filter(pl.col("check") == "one_response_per_assessment_date")
    assert sorted(queries["row"].to_list()) == [2, 3]
    assert set(queries["reading"]) == {
        "counted as given: both kept; efficacy reads the date's worst adequate response "
        "(PD over SD over PR over CR; NE only when no other)"
    }
    assert sorted(result.records["overall_response"].to_list()) == ["NE", "PR"]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("pd", "PD"), (" PR ", "PR"), ("Progressive disease", "PD"), ("progression", "PD"), ("Partial response", "PR"),
        ("stable", "SD"), ("Stable Disease", "SD"), ("Complete response", "CR"), ("NOT  EVALUABLE", "NE"), ("unknown", "NE"),
        ("Cr", "CR"), ("PR or SD", None), ("PD?", None), ("partial", None), ("", None), ("  ", None), (None, None),
    ],
)
def test_a_response_is_read_as_the_code_it_names_without_doubt(written, code):
    assert read_response(written) == code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Y", "Y"), ("N", "N"), ("y", "Y"), ("Yes", "Y"), ("U", "Y"), ("maybe", "Y"), ("n", "N"), ("No", "N"),
        (" NO ", "N"), ("no.", "Y"), ("", None), (None, None),
    ],
)
def test_new_lesions_other_than_n_or_no_are_present(written, code):
    assert read_new_lesions(written) == code


def test_the_synonym_table_is_data_naming_only_recist_codes():
    """data/recist/overall_response_synonyms.csv: the synonyms the reading promises, each naming
    one of the five codes, none listed twice."""
    with data_path("recist", "overall_response_synonyms.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {row["synonym"]: row["code"] for row in rows}
    assert len(table) == len(rows)
    assert set(table.values()) <= set(OVERALL_RESPONSES)
    assert {
        "progressive disease": "PD", "progression": "PD", "partial response": "PR", "complete response": "CR",
        "stable disease": "SD", "stable": "SD", "not evaluable": "NE", "not evaluated": "NE", "unknown": "NE",
    }.items() <= table.items()
    assert response_synonyms() == table


def test_source_specific_consequences_are_documented():
    text = (REPO_ROOT / "docs" / "validation.md").read_text()
    for (source, check), consequence in SOURCE_CHECK_CONSEQUENCES.items():
        assert f"| {source} | `{check}` | {consequence.effect} | {consequence.reading} |" in text, (source, check)
