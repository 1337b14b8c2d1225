"""The baseline a pre-treatment result is graded with: CTCAE v5.0 reads it as a normal baseline.

v5.0 conditions ALT, AST, ALP and bilirubin on the baseline (x ULN if normal, x baseline if
abnormal, abnormal = baseline > ULN); creatinine has an x baseline rule whatever the baseline;
the other tests use no baseline.
"""

import polars as pl

from ctcae.baseline import baseline_as_normal
from ctcae.grade_value import grade


def test_stand_in_baseline_per_test():
    rows = pl.DataFrame(
        {
            "test_code": ["ALT", "AST", "ALP", "BILI", "CREAT", "PLT"],
            "value": [100.0, 30.0, 300.0, 35.0, 200.0, 40.0],
            "lln": [None, None, 40.0, 3.4, 60.0, 150.0],
            "uln": [40.0, 40.0, 125.0, 20.5, 100.0, 400.0],
        }
    )
    stand_in = rows.select(baseline_as_normal(version="5.0").alias("baseline"))["baseline"].to_list()
    # ALT/AST/ALP/BILI: ULN (baseline == ULN is normal); CREAT and PLT: the value itself.
    assert stand_in == [40.0, 40.0, 125.0, 20.5, 200.0, 40.0]


def test_alt_baseline_of_2_5_x_uln_is_grade_1_with_the_stand_in():
    # ALT 100 U/L, ULN 40: 2.5 x ULN -> grade 1 (>ULN - 3.0 x ULN, baseline normal); against itself 0.
    assert grade("ALT", 100, uln=40, baseline=40, unit="U/L").grade == 1
    assert grade("ALT", 100, uln=40, baseline=100, unit="U/L").grade == 0
