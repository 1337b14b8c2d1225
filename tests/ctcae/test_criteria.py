"""The CTCAE grading criteria as data: the test catalogue, the grade bands and their sources."""

from __future__ import annotations

import csv
import math

import polars as pl

from ctcae.criteria import SUPPORTED_TESTS, criteria_table, lab_test_catalogue, supported_versions
from tests.conftest import reference_path


def test_supported_tests_match_the_catalogue_and_the_criteria():
    assert tuple(lab_test_catalogue()) == SUPPORTED_TESTS
    assert set(criteria_table()["test_code"].unique()) == set(SUPPORTED_TESTS)
    assert supported_versions() == ("5.0",)


def test_every_criteria_row_has_a_source_note_and_numeric_cut_points():
    table = criteria_table()
    assert table["source_note"].null_count() == 0
    assert table.filter(pl.col("lower_reference").is_null() & pl.col("upper_reference").is_null()).height == 0
    assert table.filter(pl.col("lower_reference").is_not_null() & pl.col("lower_factor").is_null()).height == 0
    assert table.filter(pl.col("upper_reference").is_not_null() & pl.col("upper_factor").is_null()).height == 0


def test_criteria_terms_and_grades_exist_in_ctcae_v5():
    path = reference_path("ctcae", "CTCAE_v5.0_terms.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        allowed = {row["ctcae_term"]: set(row["allowed_grades"].split(",")) for row in csv.DictReader(handle)}
    for row in criteria_table().iter_rows(named=True):
        assert row["ctcae_term"] in allowed, row["ctcae_term"]
        assert str(row["grade"]) in allowed[row["ctcae_term"]], row


def test_criteria_table_columns():
    table = criteria_table("5.0")
    assert table.columns[:3] == ["ctcae_term", "test_code", "grade"]
    assert set(table["direction"].unique()) == {"high", "low"}
    assert set(table["baseline_condition"].unique()) == {"any", "normal", "abnormal"}
    assert not math.isnan(table["lower_factor"].drop_nulls().sum())
