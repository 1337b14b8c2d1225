"""LBT14-style lab shift on the mini trial with hand-made lab results, graded by hand.

First doses: S1 2025-01-10, S2 2025-01-15 (last dose 2025-03-15, TEAE window to 2025-04-14),
S3 2025-02-01, S5 2025-05-01. Baseline = the last result on or before the first dose.
"""

from pathlib import Path

import polars as pl
import pytest

from flows.stages import analyse, ingest
from safetydb.export import read_tables
from tests.conftest import make_mini_trial

LABS = """subject_id,collection_date,test_code,value,unit,lln,uln
S1,2025-01-02,ALT,60,U/L,,40
S1,2025-01-08,ALT,30,U/L,,40
S1,2025-02-07,ALT,130,U/L,,40
S1,2025-03-07,ALT,50,U/L,,40
S2,2025-01-14,ALT,35,U/L,,40
S2,2025-02-12,ALT,45,U/L,,40
S2,2025-05-01,ALT,300,U/L,,40
S3,2025-01-30,PLT,140,10^9/L,150,400
S3,2025-02-10,PLT,40,10^9/L,150,400
S2,2025-02-12,PLT,100,10^9/L,150,400
S5,2025-04-28,K,4.0,mmol/L,3.5,5.3
S5,2025-05-20,K,3.2,mmol/L,3.5,5.3
S5,2025-06-10,K,5.8,mmol/L,3.5,5.3
"""


@pytest.fixture(scope="module")
def shift(tmp_path_factory) -> pl.DataFrame:
    config = make_mini_trial(tmp_path_factory.mktemp("labs"))
    (config.parent / "labs.csv").write_text(LABS)
    loaded = ingest(config)
    analyse(loaded)
    return read_tables(Path(loaded.out_dir) / "tables")["t_lab_shift"]


def counts(shift: pl.DataFrame, term: str, baseline: int | None) -> list[int]:
    rows = shift.filter((pl.col("ctcae_term") == term) & (pl.col("baseline_grade").eq_missing(baseline)))
    assert rows.height == 1, (term, baseline)
    row = rows.row(0, named=True)
    return [row[f"worst_grade_{g}"] for g in range(5)] + [row["denominator"]]


def test_alt_baseline_normal_worst_on_treatment(shift):
    # S1: baseline 30 (the 01-02 value 60 is not the last before dosing), worst 130 = 3.25 x ULN -> 2.
    # S2: baseline 35, worst in window 45 -> 1; 300 on 2025-05-01 is after the TEAE window.
    assert counts(shift, "Alanine aminotransferase increased", 0) == [0, 1, 1, 0, 0, 2]


def test_platelets_with_and_without_baseline(shift):
    # S3: baseline 140 (< LLN 150, >= 75) -> 1; 40 (< 50, >= 25) -> 3. S2: no baseline; 100 -> 1.
    assert counts(shift, "Platelet count decreased", 1) == [0, 0, 0, 1, 0, 2]
    assert counts(shift, "Platelet count decreased", None) == [0, 1, 0, 0, 0, 2]


def test_potassium_counts_each_direction(shift):
    # S5: baseline 4.0 normal; 3.2 < LLN -> hypokalemia 1; 5.8 (> 5.5 - 6.0) -> hyperkalemia 2.
    assert counts(shift, "Hypokalemia", 0) == [0, 1, 0, 0, 0, 1]
    assert counts(shift, "Hyperkalemia", 0) == [0, 0, 1, 0, 0, 1]
