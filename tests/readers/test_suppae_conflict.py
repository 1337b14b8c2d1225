"""A SUPPAE qualifier given twice for one AE record with two values is ambiguous: the record is
kept once, the two values reach validation joined, no value map lists them, so the relationship
is queried and counted as related (not_assessed), never read from whichever row came first.

Hand-made: the test SDTM set of tests/readers/test_sdtm.py, with T1-001's AE 1 given a second
AERELB row, PROBABLE, beside its NOT RELATED. Expected for that record: attribution_drug_b
"NOT RELATED | PROBABLE" as read, then not_assessed after validation with one query on it; the
other records as before (AE 2 of T1-001: POSSIBLE -> possible).
"""

from __future__ import annotations

import polars as pl

from ctcae.terms import load_dictionary
from readers.sdtm import sdtm_source
from tests.readers.test_sdtm import DOMAINS, SUPPAE, write_trial
from trial.config import load_trial_config
from validators.validate import validate_trial

CONFLICT = SUPPAE + "T1,AE,T1-001,AESEQ,1,AERELB,Relationship to Drug B,PROBABLE\n"


def test_two_values_of_one_qualifier_are_queried_and_read_as_related(tmp_path):
    config = load_trial_config(write_trial(tmp_path, domains=DOMAINS | {"suppae": CONFLICT}))
    frame = sdtm_source(config, "adverse_events").frame
    assert frame.height == pl.read_csv(tmp_path / "sdtm" / "ae.csv").height  # no record repeated
    read = dict(frame.select("ae_id", "attribution_drug_b").iter_rows())
    assert read["T1-001-1"] == "NOT RELATED | PROBABLE"
    assert read["T1-001-2"] == "possible"

    result = validate_trial(config, load_dictionary("5.0"))
    events = result.sources["adverse_events"]
    counted = dict(events.records.select("ae_id", "attribution_drug_b").iter_rows())
    assert counted["T1-001-1"] == "not_assessed"
    queries = events.queries.filter((pl.col("record_key") == "T1-001-1") & (pl.col("field") == "attribution_drug_b"))
    assert queries.height == 1 and queries["value"].item() == "NOT RELATED | PROBABLE"
