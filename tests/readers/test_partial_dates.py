"""Partial ISO 8601 dates imputed by the documented rule (readers/partial_dates.py).

Every expectation below is worked out by hand from the rule (admiral's ``derive_vars_dt`` with
``highest_imputation = "M"``): a start date takes the first day its given parts allow, moved up
to the reference date (first dose) when that lies in the same month (day missing) or year (month
missing); an end date takes the last day its given parts allow, moved back to the cap when that
lies inside the range; a missing year is never imputed; text that is not an ISO 8601 date is
left as given for validation to query. The flag is D (day imputed) or M (month and day).
"""

from __future__ import annotations

import polars as pl
import pytest

from readers.partial_dates import ImputationRule, describe, impute

RULE = ImputationRule()


def _start(given: str | None, reference: str | None = None, cap: str | None = None, rule: ImputationRule = RULE):
    columns = {"onset": [given], "first_dose": [reference], "cut": [cap]}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    row = impute(frame, "onset", kind="start", rule=rule, reference="first_dose", cap="cut").row(0, named=True)
    return row["onset"], row["onset_imputed"]


def _end(given: str | None, cap: str | None = None):
    frame = pl.DataFrame({"resolved": [given], "cut": [cap]}, schema=dict.fromkeys(["resolved", "cut"], pl.String))
    row = impute(frame, "resolved", kind="end", rule=RULE, cap="cut").row(0, named=True)
    return row["resolved"], row["resolved_imputed"]


def test_complete_date_is_kept_without_flag():
    """2014-03-05 is complete: kept, no flag, even with a reference later in the month."""
    assert _start("2014-03-05", reference="2014-03-17") == ("2014-03-05", None)
    assert _end("2014-03-05", cap="2014-03-01") == ("2014-03-05", None)


def test_date_time_is_truncated_to_its_date_without_flag():
    """2014-03-05T10:30 -> 2014-03-05; the time is dropped and the date is complete, so no flag."""
    assert _start("2014-03-05T10:30") == ("2014-03-05", None)
    assert _start("2014-03-05T10:30:15+08:00") == ("2014-03-05", None)
    assert _end("2014-03-05T23") == ("2014-03-05", None)


def test_start_without_day_is_the_first_of_the_month():
    """2014-03, no reference -> 2014-03-01, flag D."""
    assert _start("2014-03") == ("2014-03-01", "D")


def test_start_without_day_is_the_first_dose_in_the_same_month():
    """2014-03 with first dose 2014-03-17: the range is 03-01..03-31 and holds the first dose,
    so the start is 2014-03-17 (flag D: the day was still imputed). First dose 2014-04-02 lies
    outside March: 2014-03-01. First dose 2014-03-01 is the 1st itself: 2014-03-01."""
    assert _start("2014-03", reference="2014-03-17") == ("2014-03-17", "D")
    assert _start("2014-03", reference="2014-04-02") == ("2014-03-01", "D")
    assert _start("2014-03", reference="2014-03-01") == ("2014-03-01", "D")
    assert _start("2014-03", reference="2014-02-20") == ("2014-03-01", "D")


def test_start_with_only_a_year_is_january_first_or_the_first_dose_that_year():
    """2014 -> 2014-01-01 flag M; with first dose 2014-06-05 (inside 2014) -> 2014-06-05 flag M;
    with first dose 2015-01-10 (another year) -> 2014-01-01."""
    assert _start("2014") == ("2014-01-01", "M")
    assert _start("2014", reference="2014-06-05") == ("2014-06-05", "M")
    assert _start("2014", reference="2015-01-10") == ("2014-01-01", "M")


def test_reference_given_as_a_date_time_is_read_by_its_date():
    """First dose 2014-03-17T08:00 is 2014-03-17: 2014-03 -> 2014-03-17."""
    assert _start("2014-03", reference="2014-03-17T08:00") == ("2014-03-17", "D")


def test_a_partial_or_missing_reference_is_not_used():
    """A first dose of 2014-03 (partial) or none: 2014-03 -> 2014-03-01."""
    assert _start("2014-03", reference="2014-03") == ("2014-03-01", "D")
    assert _start("2014-03", reference=None) == ("2014-03-01", "D")


def test_rule_first_ignores_the_reference():
    """start_day = first: 2014-03 with first dose 2014-03-17 -> 2014-03-01 (the 1st regardless),
    and 2014 with first dose 2014-06-05 -> 2014-01-01 (the reference rule on the year follows
    start_day)."""
    first = ImputationRule(start_day="first")
    assert _start("2014-03", reference="2014-03-17", rule=first) == ("2014-03-01", "D")
    assert _start("2014", reference="2014-06-05", rule=first) == ("2014-01-01", "M")


def test_end_without_day_is_the_last_day_of_the_month():
    """2014-02 -> 2014-02-28 (2014 is not a leap year); 2016-02 -> 2016-02-29 (leap year);
    2014-04 -> 2014-04-30; flag D."""
    assert _end("2014-02") == ("2014-02-28", "D")
    assert _end("2016-02") == ("2016-02-29", "D")
    assert _end("2014-04") == ("2014-04-30", "D")


def test_end_with_only_a_year_is_december_31st():
    """2014 -> 2014-12-31, flag M."""
    assert _end("2014") == ("2014-12-31", "M")


def test_end_is_capped_only_by_a_cap_inside_its_range():
    """2014 with cap 2014-12-10 (inside 2014) -> 2014-12-10, flag M. A cap of 2013-05-01 lies
    outside 2014, so it is ignored (the given year is never changed): 2014-12-31. 2014-02 with
    cap 2014-02-14 -> 2014-02-14 (flag D)."""
    assert _end("2014", cap="2014-12-10") == ("2014-12-10", "M")
    assert _end("2014", cap="2013-05-01") == ("2014-12-31", "M")
    assert _end("2014-02", cap="2014-02-14") == ("2014-02-14", "D")


def test_start_cap_applies_after_the_reference():
    """admiral applies min_dates, then max_dates: 2014-03 with first dose 2014-03-17 and cap
    (death) 2014-03-10 -> 03-17 by the reference, then 03-10 by the cap."""
    assert _start("2014-03", reference="2014-03-17", cap="2014-03-10") == ("2014-03-10", "D")


def test_missing_stays_missing():
    """No value, an empty text or blanks: the date stays missing, no flag."""
    assert _start(None) == (None, None)
    assert _start("") == (None, None)
    assert _end("   ") == (None, None)


def test_missing_year_is_never_imputed():
    """--03-05 (year unknown) and ----- (nothing known): missing, no flag, even with a reference."""
    assert _start("--03-05", reference="2014-03-17") == (None, None)
    assert _end("-----") == (None, None)


def test_text_that_is_not_an_iso_date_is_left_as_given():
    """03/05/2014, UNK, 2014-3-5 (no leading zeros), 05MAR2014: not ISO 8601, left as given with
    no flag, so validation queries it. 2014-02-30, 2014-13 and 0000-01-01 are ISO in form but
    not on the calendar: left as given too."""
    for text in ["03/05/2014", "UNK", "2014-3-5", "05MAR2014", "2014-02-30", "2014-13", "0000-01-01"]:
        assert _start(text, reference="2014-03-17") == (text, None), text
        assert _end(text, cap="2014-12-10") == (text, None), text


def test_unknown_parts_written_as_dashes():
    """2014-03-- (day unknown) is 2014-03: start 2014-03-01 / end 2014-03-31, flag D.
    2014---05 (month unknown, day 5): as admiral (preserve = FALSE) the day is not kept without
    its month, so it is the year 2014: start 2014-01-01 / end 2014-12-31, flag M."""
    assert _start("2014-03--") == ("2014-03-01", "D")
    assert _end("2014-03--") == ("2014-03-31", "D")
    assert _start("2014---05") == ("2014-01-01", "M")
    assert _end("2014---05") == ("2014-12-31", "M")


def test_given_text_is_kept_exactly_and_other_columns_are_untouched():
    """The _given column holds the text exactly as given (blanks included); the other columns,
    the row order and the row count do not change."""
    frame = pl.DataFrame(
        {"_row": [1, 2, 3, 4], "onset": [" 2014-03 ", "2014-03-05T10:30", None, "UNK"], "note": ["a", "b", "c", "d"]}
    )
    out = impute(frame, "onset", kind="start", rule=RULE)
    assert out.columns == ["_row", "onset", "note", "onset_given", "onset_imputed"]
    assert out["_row"].to_list() == [1, 2, 3, 4]
    assert out["note"].to_list() == ["a", "b", "c", "d"]
    assert out["onset_given"].to_list() == [" 2014-03 ", "2014-03-05T10:30", None, "UNK"]
    assert out["onset"].to_list() == ["2014-03-01", "2014-03-05", None, "UNK"]
    assert out["onset_imputed"].to_list() == ["D", None, None, None]
    assert out.schema["onset"] == pl.String and out.schema["onset_imputed"] == pl.String


def test_each_row_uses_its_own_reference():
    """Two subjects with the same partial onset 2014-03 and first doses 2014-03-17 and
    2014-04-02: 2014-03-17 and 2014-03-01."""
    frame = pl.DataFrame({"onset": ["2014-03", "2014-03"], "first_dose": ["2014-03-17", "2014-04-02"]})
    out = impute(frame, "onset", kind="start", rule=RULE, reference="first_dose")
    assert out["onset"].to_list() == ["2014-03-17", "2014-03-01"]


def test_arguments_are_checked_and_named():
    frame = pl.DataFrame({"onset": ["2014-03"], "n": [1], "onset_given": ["x"]})
    with pytest.raises(ValueError, match="'missing'"):
        impute(frame, "missing", kind="start", rule=RULE)
    with pytest.raises(TypeError, match="'n'"):
        impute(frame, "n", kind="start", rule=RULE)
    with pytest.raises(ValueError, match="kind"):
        impute(frame.drop("onset_given"), "onset", kind="middle", rule=RULE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'onset_given'"):
        impute(frame, "onset", kind="start", rule=RULE)
    with pytest.raises(ValueError, match="reference column 'first_dose'"):
        impute(frame.drop("onset_given"), "onset", kind="start", rule=RULE, reference="first_dose")
    with pytest.raises(ValueError, match="start_day"):
        ImputationRule(start_day="mid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start_month"):
        ImputationRule(start_month="first_or_reference")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="end_month"):
        ImputationRule(end_month="first")  # type: ignore[arg-type]


def test_describe_says_each_part_of_the_rule():
    """One sentence per part (start day, start month, end day, end month, missing year, flag)."""
    text = describe(RULE)
    assert text.count(". ") + 1 == 6
    assert "1st of its month, or as the first dose date" in text
    assert "January 1st, or as the first dose date" in text
    assert "last day of its month" in text and "December 31st" in text
    assert "without its year is not imputed" in text
    plain = describe(ImputationRule(start_day="first"))
    assert "first dose" not in plain


def test_pharmaverse_ae_start_dates_agree_with_admiral():
    """pharmaversesdtm AE has 15 AESTDTC of the form YYYY-MM and 11 of the form YYYY (README of
    the reference folder). pharmaverseadam ADAE derived ASTDT/ASTDTF with admiral's
    derive_vars_dt(highest_imputation = "M", date_imputation = "first", min_dates = TRTSDT):
    the same rule as ours with first dose = ADSL.TRTSDT. Compared record by record on
    (USUBJID, AESEQ), by a plain Polars join, for all 1191 records: every date and flag agrees
    (15 D, 11 M, 1165 complete). None of the 26 partial dates lies in the month or year of the
    subject's first dose, so the reference moves none of them."""
    from tests.conftest import reference_path

    ae = pl.read_parquet(reference_path("sdtm", "pharmaversesdtm", "ae.parquet"))
    adsl = pl.read_parquet(reference_path("sdtm", "pharmaverseadam", "adsl.parquet"))
    adae = pl.read_parquet(reference_path("sdtm", "pharmaverseadam", "adae.parquet"))

    shapes = ae["AESTDTC"].str.len_chars().value_counts().sort("AESTDTC")
    assert dict(shapes.iter_rows()) == {4: 11, 7: 15, 10: 1165}

    source = ae.select("USUBJID", "AESEQ", "AESTDTC").join(
        adsl.select("USUBJID", pl.col("TRTSDT").cast(pl.String)), on="USUBJID", how="left"
    )
    ours = impute(source, "AESTDTC", kind="start", rule=RULE, reference="TRTSDT")
    admiral = adae.select("USUBJID", "AESEQ", pl.col("ASTDT").cast(pl.String), "ASTDTF")
    compared = ours.join(admiral, on=["USUBJID", "AESEQ"], how="full", coalesce=True)
    assert compared.height == 1191
    differing = compared.filter(
        pl.col("AESTDTC").ne_missing(pl.col("ASTDT")) | pl.col("AESTDTC_imputed").ne_missing(pl.col("ASTDTF"))
    )
    assert differing.height == 0, differing
    assert compared["AESTDTC_imputed"].value_counts().sort("AESTDTC_imputed", nulls_last=True).rows() == [
        ("D", 15),
        ("M", 11),
        (None, 1165),
    ]
