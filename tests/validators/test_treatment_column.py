"""The optional adverse-event column `treatment`: ;-separated values of data/ctcae/ae_treatments.csv,
`none` only alone. A bad value is queried and the record is counted, its value kept as given."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from ctcae.home import data_path
from ctcae.terms import load_curated_dictionary
from tests.safetydb.aesi_trial import make_aesi_trial
from trial.config import load_trial_config
from validators.contract import optional_columns
from validators.treatments import ae_treatments
from validators.validate import validate_trial

HEADER = (
    "ae_id,subject_id,verbatim_term,ctcae_term,other_specify,grade,onset_date,resolution_date,serious,serious_criteria,"
    "outcome,attribution_apatinib,attribution_anti_pd1,action_apatinib,action_anti_pd1,awareness_date"
)
ROW = "P1,fatigue,Fatigue,,1,2025-02-10,2025-02-12,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,"


def _validate(tmp_path, treatments: dict[str, str] | None):
    """The hand-made AESI trial with one Fatigue AE per given treatment (no column when None)."""
    config = make_aesi_trial(tmp_path / "trial")
    if treatments is None:
        lines = [HEADER, f"T1,{ROW}"]
    else:
        lines = [HEADER + ",treatment"] + [f"{ae_id},{ROW},{value}" for ae_id, value in treatments.items()]
    (tmp_path / "trial" / "adverse_events.csv").write_text("\n".join(lines) + "\n")
    result = validate_trial(load_trial_config(config), load_curated_dictionary("5.0"))
    return result.sources["adverse_events"], result.queries


def test_the_vocabulary_is_the_shipped_list():
    with data_path("ctcae", "ae_treatments.csv").open(encoding="utf-8", newline="") as handle:
        listed = [row["value"] for row in csv.DictReader(handle)]
    assert ae_treatments() == tuple(listed) == ("none", "corticosteroid", "hormone_replacement", "antihypertensive", "other")
    assert "treatment" in optional_columns("adverse_events")


def test_listed_values_alone_or_combined_are_clean(tmp_path):
    source, queries = _validate(tmp_path, {
        "T1": "none", "T2": "corticosteroid", "T3": "corticosteroid;hormone_replacement", "T4": " antihypertensive ; other ",
        "T5": "",
    })
    assert source.accounting["clean"] == 5
    assert queries.filter(pl.col("field") == "treatment").is_empty()
    treatments = dict(source.records.select("ae_id", "treatment").iter_rows())
    assert treatments["T3"] == "corticosteroid;hormone_replacement"
    assert treatments["T5"] is None  # empty: not recorded


@pytest.mark.parametrize(
    "value",
    ["steroids", "Corticosteroid", "none;corticosteroid", "corticosteroid;", "levothyroxine;hormone_replacement"],
)
def test_a_value_outside_the_list_is_queried_and_the_record_counted_as_given(tmp_path, value):
    """Unknown word, wrong case, none with another value, an empty part: each a treatment_valid
    query; the AE stays counted (never excluded) with the treatment as given."""
    source, queries = _validate(tmp_path, {"T1": value, "T2": "none"})
    assert (source.accounting["rows_in"], source.accounting["counted_with_queries"], source.accounting["excluded"]) == (2, 1, 0)
    query = queries.filter(pl.col("field") == "treatment").row(0, named=True)
    assert (query["record_key"], query["check"], query["effect"], query["value"]) == ("T1", "treatment_valid", "counted", value)
    assert "counts as other treatment" in query["reading"]
    assert dict(source.records.select("ae_id", "treatment").iter_rows())["T1"] == value


def test_a_file_without_the_column_reads_it_as_not_recorded(tmp_path):
    source, queries = _validate(tmp_path, None)
    assert source.accounting["clean"] == 1
    assert source.records["treatment"].to_list() == [None]
    assert queries.filter(pl.col("field") == "treatment").is_empty()
