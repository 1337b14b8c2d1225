"""Validation of the optional tumour-assessment source (RECIST 1.1 time-point responses).

The mini trial's subjects S1-S6 (tests/data/mini; S1, S2, S4 enrolled 2025-01-01, S5 and S6
2025-04-20; there is no S9) with these assessments, validated on 2025-07-01:

  line  row                                      what it is                          ends
  2     S1 Week 8  2025-03-07 SD                 clean                               clean
  3     S1 Week 16 2025-05-02 PR                 clean                               clean
  4     S1 Week 24 2025-06-27 "pr"               not a RECIST code as written        counted, read as PR
  5     S2 Week 8  2025-03-07 SD                 same subject and date as line 6,    counted, as given
  6     S2 Week 8  2025-03-07 PD                   another response: both queried   counted, as given
  7     S4 Week 8  2025-03-07 SD                 entered twice with one response:    clean
  8     S4 Week 8  2025-03-07 SD                   no disagreement, no query         clean
  9     S9 Week 8  2025-03-07 PR                 unknown subject                     excluded
  10    S5 Screening 2025-04-10 SD               before S5's enrolment (2025-04-20)  excluded
  11    S5 Week 8  2099-06-15 PR                 after the day of the run            excluded
  12    S1 (no visit) 2025-06-30, no response    response missing                    counted, read as NE
  13    S4 Week 16 2025-05-02 SD maybe X-ray     new_lesions and method not allowed  counted: lesions Y, method missing

rows in 12 = clean 4 (lines 2, 3, 7, 8) + counted with queries 5 (4, 5, 6, 12, 13) + excluded 3 (9, 10, 11).
"""

from datetime import date

import polars as pl
import pytest

from ctcae.terms import load_curated_dictionary
from tests.conftest import make_mini_trial
from trial.config import load_trial_config
from validators.validate import validate_trial

RUN_DATE = date(2025, 7, 1)
ASSESSMENTS = """\
subject_id,visit,assessment_date,overall_response,new_lesions,method
S1,Week 8,2025-03-07,SD,N,MRI
S1,Week 16,2025-05-02,PR,N,MRI
S1,Week 24,2025-06-27,pr,N,MRI
S2,Week 8,2025-03-07,SD,N,CT
S2,Week 8,2025-03-07,PD,Y,CT
S4,Week 8,2025-03-07,SD,N,CT
S4,Week 8,2025-03-07,SD,N,CT
S9,Week 8,2025-03-07,PR,N,CT
S5,Screening,2025-04-10,SD,,MRI
S5,Week 8,2099-06-15,PR,N,MRI
S1,,2025-06-30,,,
S4,Week 16,2025-05-02,SD,maybe,X-ray
"""


def validate(folder, text: str = ASSESSMENTS, *, config_text: str | None = None):
    config = make_mini_trial(folder, config_text=config_text)
    (config.parent / "tumour_assessments.csv").write_text(text)
    return validate_trial(load_trial_config(config), load_curated_dictionary("5.0"), run_date=RUN_DATE)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return validate(tmp_path_factory.mktemp("tumour") / "mini").sources["tumour_assessments"]


def test_every_row_is_clean_counted_with_queries_or_excluded(result):
    assert result.accounting == {"rows_in": 12, "clean": 4, "counted_with_queries": 5, "excluded": 3}


def test_a_response_that_is_no_recist_code_or_missing_is_kept_as_not_evaluable(result):
    """Line 12 (empty): counted, overall_response NE; nothing is assumed. Line 4 ("pr") names the
    code PR in another case: queried, and counted as PR (tests/validators/test_tumour_readings.py)."""
    records = result.records.sort("_row")
    by_row = {row["_row"]: row for row in records.iter_rows(named=True)}
    assert by_row[4]["overall_response"] == "PR"
    assert by_row[12]["overall_response"] == "NE"
    assert by_row[3]["overall_response"] == "PR"  # a valid code is kept
    queries = result.queries
    bad_code = queries.filter(pl.col("row") == 4).row(0, named=True)
    assert (bad_code["field"], bad_code["value"], bad_code["check"], bad_code["effect"]) == ("overall_response", "pr", "isin", "counted")
    assert bad_code["reading"] == "counted as PR: 'pr' read as the RECIST code PR"
    missing = queries.filter(pl.col("row") == 12).row(0, named=True)
    assert (missing["field"], missing["check"], missing["effect"]) == ("overall_response", "not_nullable", "counted")


def test_two_responses_on_one_date_are_both_kept_and_queried(result):
    """Lines 5 and 6 (S2, 2025-03-07, SD and PD): both counted, both queried; lines 7 and 8 agree: no query."""
    kept = result.records.filter((pl.col("subject_id") == "S2") & (pl.col("assessment_date") == date(2025, 3, 7)))
    assert sorted(kept["overall_response"].to_list()) == ["PD", "SD"]
    duplicate = result.queries.filter(pl.col("check") == "one_response_per_assessment_date")
    assert sorted(duplicate["row"].to_list()) == [5, 6]
    assert set(duplicate["record_key"]) == {"S2/2025-03-07"}
    assert set(duplicate["effect"]) == {"counted"}
    assert duplicate["query_id"].n_unique() == 2  # the second record with the key is told apart
    assert result.queries.filter(pl.col("row").is_in([7, 8])).is_empty()


def test_assessments_that_cannot_be_placed_are_excluded_with_their_reason(result):
    """Line 9: S9 is no subject; line 10: before S5's enrolment; line 11: a date after the run."""
    assert sorted(result.excluded["_row"].to_list()) == [9, 10, 11]
    checks = dict(result.queries.filter(pl.col("effect") == "excluded").select("row", "check").iter_rows())
    assert checks == {9: "subject_known", 10: "assessment_not_before_enrolment", 11: "date_not_after_run"}
    assert not result.records["_row"].is_in([9, 10, 11]).any()


def test_optional_fields_that_are_not_allowed_are_read_as_missing(result):
    """Line 13: new_lesions "maybe" and method "X-ray" are queried; the method is kept empty, the
    new lesions are read as present (Y: anything but N or No), the response stands as written."""
    row = result.records.filter(pl.col("_row") == 13).row(0, named=True)
    assert (row["overall_response"], row["new_lesions"], row["method"]) == ("SD", "Y", None)
    fields = sorted(result.queries.filter(pl.col("row") == 13)["field"].to_list())
    assert fields == ["method", "new_lesions"]


def test_the_optional_columns_may_be_left_out(tmp_path):
    text = "subject_id,assessment_date,overall_response\nS1,2025-03-07,SD\nS1,2025-05-02,PR\n"
    result = validate(tmp_path / "mini", text).sources["tumour_assessments"]
    assert result.accounting == {"rows_in": 2, "clean": 2, "counted_with_queries": 0, "excluded": 0}
    assert result.records["visit"].null_count() == 2


def test_a_trial_without_the_source_still_validates(tmp_path):
    config_text = make_mini_trial(tmp_path / "first").read_text()
    start = config_text.index("[sources.tumour_assessments]")
    without = config_text[:start] + config_text[config_text.index("\n\n", start) + 2 :]
    assert "tumour_assessments" not in without
    config = load_trial_config(make_mini_trial(tmp_path / "second", config_text=without))
    assert config.model.sources.tumour_assessments is None
    assert config.source_path("tumour_assessments") is None
    validation = validate_trial(config, load_curated_dictionary("5.0"), run_date=RUN_DATE)
    assert "tumour_assessments" not in validation.sources
    assert set(validation.sources) == {"subjects", "exposure", "adverse_events", "labs", "vitals"}
